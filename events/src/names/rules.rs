//! The character rules behind every validated name, with the precise error for each breach.

use super::NameError;

/// One kind of name: its limits and allowed characters.
pub(super) struct Rules {
    pub what: &'static str,
    pub hint: &'static str,
    pub max: usize,
    /// Whether ASCII uppercase is allowed at all (if not, it gets its own error).
    pub uppercase: bool,
    pub start: fn(char) -> bool,
    pub start_words: &'static str,
    pub rest: fn(char) -> bool,
    pub rest_words: &'static str,
    pub trailing_hyphen: bool,
}

/// Shortens and escapes a rejected value so the message stays one readable, loggable line.
fn shown(value: &str) -> String {
    const KEEP: usize = 40;
    if value.chars().count() <= KEEP {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(KEEP).collect();
        format!("{:?}…", head)
    }
}

impl Rules {
    /// Checks `value`, reporting the first problem a person would want to fix first:
    /// emptiness, then length, then the first bad character, then a trailing hyphen.
    pub fn check(&self, value: &str) -> Result<(), NameError> {
        let what = self.what;
        let Some(first) = value.chars().next() else {
            return Err(NameError::Empty {
                what,
                hint: self.hint,
            });
        };
        let len = value.chars().count();
        if len > self.max {
            let (value, max) = (shown(value), self.max);
            return Err(NameError::TooLong {
                what,
                value,
                len,
                max,
            });
        }
        for (index, ch) in value.chars().enumerate() {
            let position = index + 1;
            if ch.is_ascii_uppercase() && !self.uppercase {
                let value = shown(value);
                return Err(NameError::Uppercase {
                    what,
                    value,
                    ch,
                    position,
                });
            }
            if index == 0 && !(self.start)(ch) {
                let (value, expected) = (shown(value), self.start_words);
                return Err(NameError::BadStart {
                    what,
                    value,
                    ch: first,
                    expected,
                });
            }
            if !(self.rest)(ch) {
                let (value, allowed) = (shown(value), self.rest_words);
                return Err(NameError::BadChar {
                    what,
                    value,
                    ch,
                    position,
                    allowed,
                });
            }
        }
        if !self.trailing_hyphen && value.ends_with('-') {
            return Err(NameError::TrailingHyphen {
                what,
                value: shown(value),
            });
        }
        Ok(())
    }
}
