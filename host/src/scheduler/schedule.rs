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
    fn bad_expressions_say_why() {
        assert!(parse("61 * * * *").is_err());
        assert!(parse("every minute").is_err());
    }
}
