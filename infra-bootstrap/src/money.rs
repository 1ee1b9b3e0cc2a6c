//! Decimal money amounts as Google's `Money` wants them: whole `units` plus `nanos`.
//! Parsed from a string so `250.50` never passes through a float.

/// An amount in a currency's major unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    /// Whole units.
    pub units: i64,
    /// Billionths of a unit, 0..1e9.
    pub nanos: i32,
}

impl Money {
    /// Parses `"250"`, `"250.5"`, `"250.50"` (at most nine decimals, not negative).
    pub fn parse(text: &str) -> Result<Self, String> {
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        let dot = text.contains('.');
        if !digits(whole) || (dot && !digits(frac)) || frac.len() > 9 {
            return Err(format!("`{text}` is not a decimal amount like 250.50"));
        }
        let units = whole.parse::<i64>().map_err(|e| format!("`{text}`: {e}"))?;
        let nanos = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<9}")
                .parse::<i32>()
                .map_err(|e| format!("`{text}`: {e}"))?
        };
        Ok(Self { units, nanos })
    }
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn cents_become_nanos() {
        assert_eq!(
            Money::parse("250.50"),
            Ok(Money {
                units: 250,
                nanos: 500_000_000
            })
        );
        assert_eq!(
            Money::parse("0.07"),
            Ok(Money {
                units: 0,
                nanos: 70_000_000
            })
        );
        assert_eq!(
            Money::parse("1000"),
            Ok(Money {
                units: 1000,
                nanos: 0
            })
        );
    }

    #[test]
    fn refuses_non_decimals() {
        for bad in ["", "-1", "1.", "1,5", "1e3", "0.1234567891"] {
            assert!(Money::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
