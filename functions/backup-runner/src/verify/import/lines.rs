//! What each line of a plain SQL dump is, as psql numbers them: enough to tell, when psql
//! reports an error at a line, whether that line was an ownership or privilege statement or
//! the export's own `\restrict` guard. Only a bounded prefix of each line is kept.

/// How much of a line is kept to classify it. pg_dump writes ownership and privilege
/// statements on one line; a longer line is classified as what it starts with, strictly.
const PREFIX_MAX: usize = 8 * 1024;
/// How many statement lines of one kind are remembered; past that, an error at such a line
/// is not tolerated (a real schema has far fewer objects, and memory stays bounded).
const LINES_MAX: usize = 1 << 20;

/// Line numbers (psql's, 1-based) of the statements the import judges specially.
#[derive(Debug, Default)]
pub(super) struct SqlLines {
    /// Lines seen so far (the last one possibly incomplete).
    line: u64,
    /// The current line's first bytes.
    prefix: Vec<u8>,
    truncated: bool,
    /// Inside `COPY … FROM stdin;` data, which is rows, not statements.
    in_copy: bool,
    /// `ALTER … OWNER TO …`, `GRANT …`, `REVOKE …`, `ALTER DEFAULT PRIVILEGES …`.
    roles: Vec<u64>,
    /// The export's own `\restrict KEY` / `\unrestrict KEY` lines.
    guards: Vec<u64>,
}

impl SqlLines {
    /// Takes the next bytes of the stream psql reads.
    pub(super) fn update(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() {
            if self.prefix.is_empty() && !self.truncated {
                self.line += 1;
            }
            let (part, rest, ended) = match chunk.iter().position(|&b| b == b'\n') {
                Some(at) => (&chunk[..at], &chunk[at + 1..], true),
                None => (chunk, &chunk[chunk.len()..], false),
            };
            let room = PREFIX_MAX.saturating_sub(self.prefix.len());
            self.prefix.extend_from_slice(&part[..part.len().min(room)]);
            self.truncated |= part.len() > room;
            if ended {
                self.end_line();
            }
            chunk = rest;
        }
    }

    /// Whether psql's `line` was an ownership or privilege statement.
    pub(super) fn is_role_statement(&self, line: u64) -> bool {
        self.roles.binary_search(&line).is_ok()
    }

    /// Whether psql's `line` was the export's own `\restrict` or `\unrestrict`.
    pub(super) fn is_export_guard(&self, line: u64) -> bool {
        self.guards.binary_search(&line).is_ok()
    }

    /// Classifies a final line that has no newline.
    pub(super) fn finish(&mut self) {
        if !self.prefix.is_empty() || self.truncated {
            self.end_line();
        }
    }

    fn end_line(&mut self) {
        let text = String::from_utf8_lossy(&self.prefix);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let line = self.line;
        if self.in_copy {
            self.in_copy = text != "\\." || self.truncated;
        } else if text.starts_with("COPY ") {
            // A header too long to read to its end counts as one: data misread as
            // statements could only make the judgement more tolerant, never less.
            self.in_copy = self.truncated || text.ends_with(" FROM stdin;");
        } else if !self.truncated && is_role_statement(text) {
            push_bounded(&mut self.roles, line);
        } else if !self.truncated && is_guard(text) {
            push_bounded(&mut self.guards, line);
        }
        self.prefix.clear();
        self.truncated = false;
    }
}

fn push_bounded(lines: &mut Vec<u64>, line: u64) {
    if lines.len() < LINES_MAX {
        lines.push(line);
    }
}

/// A statement that only says who owns an object or who may use it.
fn is_role_statement(text: &str) -> bool {
    (text.starts_with("ALTER ") && text.contains(" OWNER TO "))
        || text.starts_with("GRANT ")
        || text.starts_with("REVOKE ")
        || text.starts_with("ALTER DEFAULT PRIVILEGES ")
}

/// `\restrict KEY` or `\unrestrict KEY` as pg_dump writes them (an alphanumeric key).
fn is_guard(text: &str) -> bool {
    let key = text
        .strip_prefix("\\restrict ")
        .or_else(|| text.strip_prefix("\\unrestrict "));
    key.is_some_and(|key| !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "\\restrict ours\n\
        \\restrict abc123\n\
        CREATE TABLE public.t (a text);\n\
        ALTER TABLE public.t OWNER TO app;\n\
        COPY public.t (a) FROM stdin;\n\
        GRANT ALL ON t TO x;\n\
        \\.\n\
        GRANT SELECT ON TABLE public.t TO reader;\n\
        REVOKE ALL ON SCHEMA public FROM PUBLIC;\n\
        \\unrestrict abc123\n\
        \\! echo no";

    fn classified(chunk_size: usize) -> SqlLines {
        let mut lines = SqlLines::default();
        for chunk in DUMP.as_bytes().chunks(chunk_size) {
            lines.update(chunk);
        }
        lines.finish();
        lines
    }

    #[test]
    fn ownership_and_privileges_are_found_outside_copy_data_in_any_chunking() {
        for size in [1, 3, 7, 64, 4096] {
            let lines = classified(size);
            assert_eq!(lines.roles, [4, 8, 9], "chunks of {size}");
            assert_eq!(lines.guards, [1, 2, 10], "chunks of {size}");
            assert_eq!(lines.line, 11, "chunks of {size}");
            assert!(!lines.is_role_statement(6), "a COPY row is data");
        }
    }

    #[test]
    fn a_line_too_long_to_read_whole_is_never_tolerated() {
        let mut lines = SqlLines::default();
        let long = format!("GRANT SELECT ON {} TO x;\n", "t".repeat(PREFIX_MAX));
        lines.update(long.as_bytes());
        lines.update(b"GRANT SELECT ON t TO x;\n");
        lines.finish();
        assert_eq!(lines.roles, [2]);
    }
}
