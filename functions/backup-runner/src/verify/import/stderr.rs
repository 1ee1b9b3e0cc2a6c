//! Judging psql's stderr line by line, by SQLSTATE and line number, never by message text
//! (which the server and psql translate).
//!
//! A Cloud SQL export names its owner and grantees (`ALTER … OWNER TO app`, `GRANT … TO
//! reader`, `cloudsqlsuperuser`): roles a scratch server lacks (SQLSTATE 42704,
//! undefined_object) or that its admin may not act for (42501, insufficient_privilege, when
//! the admin is not a superuser). Those statements only say who owns or may use an object;
//! the tables, their data and everything else import the same without them. So exactly
//! those two SQLSTATEs, at exactly a line that is such a statement, are tolerated and
//! counted; any other error fails the import, naming its SQLSTATE and line. Creating the
//! roles instead would need CREATEROLE and leave cluster-wide roles behind; `--no-owner`
//! does not exist for plain SQL.

use super::lines::SqlLines;

/// SQLSTATEs tolerated at an ownership or privilege statement; see the module comment.
const ROLE_SQLSTATES: [&str; 2] = ["42704", "42501"];

/// One line of psql's stderr.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Diagnostic<'a> {
    /// `psql:<stdin>:LINE: SEVERITY:  SQLSTATE` (a server message, `VERBOSITY=sqlstate`).
    Sql { line: u64, sqlstate: &'a str },
    /// `psql:<stdin>:LINE: …`: psql's own complaint about that line.
    Psql { line: u64, text: &'a str },
    /// Anything else (a connection failure before the first line).
    Other(&'a str),
}

/// Reads one stderr line.
pub(super) fn parse(text: &str) -> Diagnostic<'_> {
    let Some((line, rest)) = text
        .strip_prefix("psql:<stdin>:")
        .and_then(|rest| rest.split_once(": "))
        .and_then(|(line, rest)| Some((line.parse::<u64>().ok()?, rest)))
    else {
        return Diagnostic::Other(text);
    };
    let sqlstate = rest.split_once(':').map(|(_, code)| code.trim());
    match sqlstate {
        Some(code) if is_sqlstate(code) => Diagnostic::Sql {
            line,
            sqlstate: code,
        },
        _ => Diagnostic::Psql { line, text: rest },
    }
}

fn is_sqlstate(code: &str) -> bool {
    code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// What one stderr line means for the import.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// A notice or warning (classes 00, 01, 02).
    Harmless,
    /// An ownership or privilege statement refused for a role (see the module comment).
    Tolerated,
    /// psql refusing the export's own `\restrict` / `\unrestrict` inside ours.
    ExportGuard,
    /// The import fails: why, for a person (line numbers are the export's).
    Fatal(String),
}

/// Judges `text` given what the lines fed so far were. psql's line 1 is our `\restrict`,
/// so the export's line is psql's minus one.
pub(super) fn judge(text: &str, lines: &SqlLines) -> Verdict {
    match parse(text) {
        Diagnostic::Sql { sqlstate, .. } if ["00", "01", "02"].contains(&&sqlstate[..2]) => {
            Verdict::Harmless
        }
        Diagnostic::Sql { line, sqlstate }
            if ROLE_SQLSTATES.contains(&sqlstate) && lines.is_role_statement(line) =>
        {
            Verdict::Tolerated
        }
        Diagnostic::Sql { line, sqlstate } => Verdict::Fatal(format!(
            "the export does not import: SQLSTATE {sqlstate} at line {}",
            line.saturating_sub(1)
        )),
        // Our own guard first: the export's guards are tolerated, ours never.
        Diagnostic::Psql { line: 1, .. } => Verdict::Fatal(
            "psql refused \\restrict: it is too old to import an export safely".into(),
        ),
        Diagnostic::Psql { line, .. } if lines.is_export_guard(line) => Verdict::ExportGuard,
        Diagnostic::Psql { line, text } => Verdict::Fatal(format!(
            "psql refused line {} of the export: {text}",
            line.saturating_sub(1)
        )),
        Diagnostic::Other(text) => Verdict::Fatal(format!("psql: {text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(sql: &str) -> SqlLines {
        let mut lines = SqlLines::default();
        lines.update(sql.as_bytes());
        lines.finish();
        lines
    }

    #[test]
    fn stderr_lines_are_read_by_line_and_sqlstate() {
        assert_eq!(
            parse("psql:<stdin>:3: ERROR:  42704"),
            Diagnostic::Sql {
                line: 3,
                sqlstate: "42704"
            }
        );
        // Translated severities read the same: only the shape counts.
        assert_eq!(
            parse("psql:<stdin>:12: FEHLER:  42601"),
            Diagnostic::Sql {
                line: 12,
                sqlstate: "42601"
            }
        );
        assert_eq!(
            parse("psql:<stdin>:5: error: backslash commands are restricted"),
            Diagnostic::Psql {
                line: 5,
                text: "error: backslash commands are restricted"
            }
        );
        assert!(matches!(
            parse("psql: error: connection to server failed"),
            Diagnostic::Other(_)
        ));
    }

    #[test]
    fn only_a_role_sqlstate_at_a_role_statement_is_tolerated() {
        let sql = "\\restrict ours\nALTER TABLE t OWNER TO app;\nCREATE TABLE u (a nope);\n\
                   \\restrict theirs\n\\! touch /tmp/x\n";
        let lines = lines(sql);
        let at =
            |line: u64, code: &str| judge(&format!("psql:<stdin>:{line}: ERROR:  {code}"), &lines);
        assert_eq!(at(2, "42704"), Verdict::Tolerated);
        assert_eq!(at(2, "42501"), Verdict::Tolerated);
        assert_eq!(
            at(3, "42704"),
            Verdict::Fatal("the export does not import: SQLSTATE 42704 at line 2".into())
        );
        assert!(matches!(at(2, "42601"), Verdict::Fatal(_)));
        assert_eq!(at(3, "01000"), Verdict::Harmless);
        let psql = |line: u64| judge(&format!("psql:<stdin>:{line}: error: refused"), &lines);
        assert_eq!(psql(4), Verdict::ExportGuard);
        assert!(matches!(psql(5), Verdict::Fatal(reason) if reason.contains("line 4")));
        assert!(matches!(psql(1), Verdict::Fatal(reason) if reason.contains("too old")));
    }
}
