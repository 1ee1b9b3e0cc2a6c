//! The retention plan: a pure function of the catalog, the policy and the time, so
//! `backup retention --dry-run` prints exactly what a real run deletes.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::RetentionPolicy;
use crate::catalog::CatalogEntry;
use crate::store::BackupLocation;

/// Why a backup is kept; a backup may have several reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeepReason {
    /// Finished less than the floor ago.
    Floor,
    /// Within the tier's daily days.
    Daily,
    /// The newest backup of its database that restored and passed verification.
    NewestVerified,
    /// The best backup of one of the last weeklies' ISO weeks.
    Weekly,
    /// The best backup of one of the last monthlies' calendar months.
    Monthly,
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Floor => "younger than the retention floor",
            Self::Daily => "daily",
            Self::NewestVerified => "newest verified",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
        })
    }
}

/// A backup the plan keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keep {
    /// The backup.
    pub location: BackupLocation,
    /// Why, in [`KeepReason`] order.
    pub reasons: Vec<KeepReason>,
}

/// A backup the plan deletes: none of the [`KeepReason`]s holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    /// The backup.
    pub location: BackupLocation,
    /// Why, for the report.
    pub reason: String,
}

/// What retention keeps and deletes, each by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionPlan {
    /// Kept backups, with their reasons.
    pub keep: Vec<Keep>,
    /// Backups to delete.
    pub delete: Vec<Delete>,
}

/// Plans retention per (environment, database). A group follows the highest tier among its
/// manifests, so a database that ever held production data keeps production's retention.
/// Weeklies, monthlies and the newest verified backup are chosen among complete backups
/// only (a dump with the manifest's size), preferring passed, then unverified, then failed
/// verification, then the newest.
pub fn plan(
    entries: &[CatalogEntry],
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> RetentionPlan {
    let mut groups: BTreeMap<_, Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        groups
            .entry((&e.location.environment, &e.location.database))
            .or_default()
            .push(i);
    }
    let mut reasons: Vec<Vec<KeepReason>> = vec![Vec::new(); entries.len()];
    let today = now.date_naive();
    for members in groups.values() {
        let tier = members.iter().map(|&i| entries[i].manifest.tier).max();
        let Some(tier) = tier else { continue };
        let (daily_days, monthlies) = (policy.daily_days.get(tier), policy.monthlies.get(tier));
        for &i in members {
            let e = &entries[i];
            if now - e.manifest.finished_at < policy.floor {
                reasons[i].push(KeepReason::Floor);
            }
            if (today - e.location.date).num_days() < i64::from(daily_days) {
                reasons[i].push(KeepReason::Daily);
            }
        }
        let verified = members
            .iter()
            .copied()
            .filter(|&i| entries[i].is_verified());
        if let Some(i) = verified.max_by_key(|&i| rank(&entries[i])) {
            reasons[i].push(KeepReason::NewestVerified);
        }
        let weeks_ago = |d: NaiveDate| (monday(today) - monday(d)).num_days() / 7;
        for i in best_per_bucket(entries, members, weeks_ago, policy.weeklies) {
            reasons[i].push(KeepReason::Weekly);
        }
        for i in best_per_bucket(
            entries,
            members,
            |d| month_index(today) - month_index(d),
            monthlies,
        ) {
            reasons[i].push(KeepReason::Monthly);
        }
    }
    let mut out = RetentionPlan::default();
    for (e, mut why) in entries.iter().zip(reasons) {
        let location = e.location.clone();
        if why.is_empty() {
            let reason = "past its daily window, not a kept weekly or monthly, not the newest verified, older than the floor".to_owned();
            out.delete.push(Delete { location, reason });
        } else {
            why.sort();
            out.keep.push(Keep {
                location,
                reasons: why,
            });
        }
    }
    out
}

/// Within each bucket `0..count` (buckets ago, from `bucket_of` a date), the index of the
/// best complete backup.
fn best_per_bucket(
    entries: &[CatalogEntry],
    members: &[usize],
    bucket_of: impl Fn(NaiveDate) -> i64,
    count: u32,
) -> Vec<usize> {
    let mut best: BTreeMap<i64, usize> = BTreeMap::new();
    for &i in members.iter().filter(|&&i| entries[i].is_complete()) {
        let bucket = bucket_of(entries[i].location.date);
        if (0..i64::from(count)).contains(&bucket) {
            let slot = best.entry(bucket).or_insert(i);
            if rank(&entries[i]) > rank(&entries[*slot]) {
                *slot = i;
            }
        }
    }
    best.into_values().collect()
}

/// Passed over unverified over failed, then the newest; the id breaks ties.
fn rank(e: &CatalogEntry) -> (u8, DateTime<Utc>, &str) {
    let verdict = match e.verified {
        Some(true) => 2,
        None => 1,
        Some(false) => 0,
    };
    (
        verdict,
        e.manifest.finished_at,
        e.location.backup_id.as_str(),
    )
}

/// The Monday of `d`'s ISO week.
fn monday(d: NaiveDate) -> NaiveDate {
    d - chrono::Duration::days(d.weekday().num_days_from_monday().into())
}

/// Months since year 0, so consecutive months differ by one across a year's end.
fn month_index(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn iso_weeks_start_on_monday_and_cross_the_year_end() {
        // 1 January 2026 is a Thursday of ISO week 2026-W01, which began on 29 December.
        assert_eq!(monday(day(2026, 1, 1)), day(2025, 12, 29));
        assert_eq!(monday(day(2026, 1, 4)), day(2025, 12, 29));
        assert_eq!(monday(day(2026, 1, 5)), day(2026, 1, 5));
    }

    #[test]
    fn months_ago_count_across_the_year_end() {
        assert_eq!(
            month_index(day(2026, 1, 15)) - month_index(day(2025, 12, 31)),
            1
        );
        assert_eq!(
            month_index(day(2026, 3, 1)) - month_index(day(2025, 3, 31)),
            12
        );
    }
}
