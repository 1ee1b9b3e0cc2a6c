//! Human durations on the wire: `"48h"`, `"30m"`, `"1h30m"`, `"2d"`, `"90s"`.
//!
//! Chosen over a number of seconds because people type these in CLI flags and JSON files
//! (`--ttl 48h`) and read them back in `env list`; the unit is never ambiguous.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A whole number of seconds, written as `<n><unit>` parts with units `d`, `h`, `m`, `s`.
/// Serialises in canonical form with `h`, `m` and `s` only (`"2d"` reads back as `"48h"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HumanDuration {
    secs: u64,
}

/// The largest accepted duration (100 years), so arithmetic on it never overflows.
const MAX_SECS: u64 = 100 * 365 * 86_400;

impl HumanDuration {
    /// A duration of `secs` seconds.
    pub fn from_secs(secs: u64) -> Self {
        Self {
            secs: secs.min(MAX_SECS),
        }
    }

    /// The length in seconds.
    pub fn as_secs(self) -> u64 {
        self.secs
    }

    /// The length as a [`std::time::Duration`].
    pub fn to_std(self) -> Duration {
        Duration::from_secs(self.secs)
    }

    /// The length as a [`chrono::TimeDelta`], for adding to timestamps.
    pub fn to_chrono(self) -> chrono::TimeDelta {
        // At most 100 years, far inside TimeDelta's range.
        chrono::TimeDelta::seconds(i64::try_from(self.secs).unwrap_or(i64::MAX / 1000))
    }
}

impl std::str::FromStr for HumanDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: String| {
            format!("invalid duration {s:?}: {why} (e.g. \"48h\", \"30m\", \"1h30m\")")
        };
        if s.is_empty() {
            return Err(bad("it is empty".into()));
        }
        let (mut total, mut digits) = (0u64, String::new());
        for ch in s.chars() {
            if ch.is_ascii_digit() {
                digits.push(ch);
                continue;
            }
            let unit = match ch {
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                's' => 1,
                other => return Err(bad(format!("unknown unit {other:?}; use d, h, m or s"))),
            };
            let n: u64 = digits
                .parse()
                .map_err(|_| bad(format!("no number before {ch:?}")))?;
            total = n
                .checked_mul(unit)
                .and_then(|part| total.checked_add(part))
                .filter(|t| *t <= MAX_SECS)
                .ok_or_else(|| bad("longer than 100 years".into()))?;
            digits.clear();
        }
        if !digits.is_empty() {
            return Err(bad(format!("{digits:?} has no unit")));
        }
        Ok(Self { secs: total })
    }
}

impl TryFrom<String> for HumanDuration {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl std::fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (h, m, s) = (self.secs / 3600, self.secs % 3600 / 60, self.secs % 60);
        if self.secs == 0 {
            return f.write_str("0s");
        }
        for (n, unit) in [(h, 'h'), (m, 'm'), (s, 's')] {
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl From<HumanDuration> for String {
    fn from(d: HumanDuration) -> String {
        d.to_string()
    }
}

impl schemars::JsonSchema for HumanDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HumanDuration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration as <n><unit> parts, units d, h, m, s: \"48h\", \"1h30m\".",
            "pattern": "^([0-9]+[dhms])+$",
        })
    }
}
