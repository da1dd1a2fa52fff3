//! Cron expressions (5 fields, or 6 with seconds first), evaluated in UTC by
//! `croner`, the same parser the manifest check uses.

use chrono::{DateTime, Utc};
use croner::Cron;

/// Parses `expr`; the error reads well after "cron `expr`: ".
pub fn parse(expr: &str) -> Result<Cron, String> {
    Cron::new(expr)
        .with_seconds_optional()
        .parse()
        .map_err(|e| e.to_string())
}

/// The first occurrence strictly after `millis` (Unix milliseconds), in
/// Unix milliseconds; none if the expression never fires again.
pub fn next_after(cron: &Cron, millis: i64) -> Option<i64> {
    // Occurrences fall on whole seconds: start from the second `millis` is in.
    let start = DateTime::<Utc>::from_timestamp(millis.div_euclid(1000), 0)?;
    cron.find_next_occurrence(&start, false)
        .ok()
        .map(|next| next.timestamp_millis())
}

/// A fixed offset of whole seconds in `[0, spread]` for the task `name`:
/// the same in every process and release (SHA-256, not std's hasher), so
/// each company keeps its place in the spread.
pub fn offset(name: &str, spread: std::time::Duration) -> i64 {
    use sha2::{Digest as _, Sha256};
    let seconds = spread.as_secs();
    if seconds == 0 {
        return 0;
    }
    let digest = Sha256::digest(name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let shift = u64::from_be_bytes(first) % (seconds + 1);
    i64::try_from(shift).unwrap_or(0) * 1000
}

/// The first occurrence strictly after `millis` of the series shifted by
/// `offset` milliseconds.
pub fn next_shifted(cron: &Cron, millis: i64, offset: i64) -> Option<i64> {
    next_after(cron, millis - offset).map(|next| next.saturating_add(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn five_fields_fire_on_minutes_and_six_on_seconds() {
        let every_two_hours = parse("0 */2 * * *").unwrap();
        assert_eq!(
            next_after(&every_two_hours, at("2026-11-23T09:15:30.250Z")),
            Some(at("2026-11-23T10:00:00Z"))
        );
        let every_second = parse("* * * * * *").unwrap();
        assert_eq!(
            next_after(&every_second, at("2026-11-23T09:15:30.250Z")),
            Some(at("2026-11-23T09:15:31Z"))
        );
        // Exactly on an occurrence: the next one, not the same.
        assert_eq!(
            next_after(&every_two_hours, at("2026-11-23T10:00:00Z")),
            Some(at("2026-11-23T12:00:00Z"))
        );
    }

    #[test]
    fn offsets_are_whole_seconds_within_the_spread_and_differ_by_name() {
        let spread = std::time::Duration::from_secs(600);
        let offsets: Vec<i64> = (0..200)
            .map(|i| offset(&format!("bank/sync for company-{i}"), spread))
            .collect();
        assert!(
            offsets
                .iter()
                .all(|o| (0..=600_000).contains(o) && o % 1000 == 0)
        );
        let distinct: std::collections::BTreeSet<_> = offsets.iter().collect();
        assert!(
            distinct.len() > 150,
            "only {} distinct offsets",
            distinct.len()
        );
        assert_eq!(
            offset("bank/sync for acme", spread),
            offset("bank/sync for acme", spread)
        );
        assert_eq!(offset("bank/sync for acme", std::time::Duration::ZERO), 0);
    }

    #[test]
    fn a_shifted_series_fires_at_each_occurrence_plus_the_offset() {
        let daily = parse("0 3 * * *").unwrap();
        let offset = 125_000;
        assert_eq!(
            next_shifted(&daily, at("2026-11-23T03:01:00Z"), offset),
            Some(at("2026-11-23T03:02:05Z"))
        );
        assert_eq!(
            next_shifted(&daily, at("2026-11-23T03:02:05Z"), offset),
            Some(at("2026-11-24T03:02:05Z"))
        );
    }

    #[test]
    fn bad_expressions_say_why() {
        assert!(parse("61 * * * *").is_err());
        assert!(parse("every minute").is_err());
    }
}
