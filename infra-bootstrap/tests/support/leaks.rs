//! Issue 14, section 6: the scan for leaked secrets over a stack's logs and what a test saw,
//! shared by the tour test and the fault suite.
#![allow(clippy::unwrap_used, dead_code)] // test code: a panic is the failure report

/// The password of a connection URL (`scheme://user:password@host/...`).
pub fn password_of(url: &str) -> String {
    let userinfo = url.split("://").nth(1).unwrap().split('@').next().unwrap();
    userinfo.split_once(':').unwrap().1.to_owned()
}

/// Whether `line` holds a URL with a password in it (`://user:password@`).
pub fn has_url_with_password(line: &str) -> bool {
    line.match_indices("://").any(|(at, _)| {
        let rest = &line[at + 3..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '"' | '\\'))
            .unwrap_or(rest.len());
        rest[..end]
            .split_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
    })
}

/// Issue 14, section 6: no password the stack issued, and no connection URL with a password,
/// in any service's or component's log, in the tour's output, or in a dead letter.
pub fn assert_no_secret_leaked(dir: &std::path::Path, passwords: &[String], outputs: &[&str]) {
    let mut texts: Vec<(String, String)> = outputs
        .iter()
        .map(|o| ("output".to_owned(), (*o).to_owned()))
        .collect();
    for entry in std::fs::read_dir(dir.join("logs")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        texts.push((
            path.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    assert!(
        texts.len() > events::platform::built().count(),
        "every service logged"
    );
    for (source, text) in &texts {
        for (n, line) in text.lines().enumerate() {
            for password in passwords {
                assert!(
                    !line.contains(password.as_str()),
                    "a password in {source}:{}",
                    n + 1
                );
            }
            assert!(
                !has_url_with_password(line),
                "a URL with a password in {source}:{}: {line}",
                n + 1
            );
        }
    }
}
