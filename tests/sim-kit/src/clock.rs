//! The simulators' clock: real (or fixed) time, optionally shifted, plus
//! whatever a test advanced it by.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// A clock tests can move forward. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// `Some`: the clock stands still except for [`Clock::advance`].
    base: Option<DateTime<Utc>>,
    shift: TimeDelta,
    advanced: TimeDelta,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::real()
    }
}

impl Clock {
    /// The wall clock (UTC).
    pub fn real() -> Clock {
        Clock {
            base: None,
            shift: TimeDelta::zero(),
            advanced: TimeDelta::zero(),
        }
    }

    /// The wall clock moved by `shift` (e.g. to start on a chosen day).
    pub fn shifted(shift: TimeDelta) -> Clock {
        Clock {
            shift,
            ..Clock::real()
        }
    }

    /// A clock standing still at `at`; only [`Clock::advance`] moves it.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock {
            base: Some(at),
            ..Clock::real()
        }
    }

    /// The wall clock, or with `Some(at)` a clock standing at `at`.
    pub fn real_or_fixed(at: Option<DateTime<Utc>>) -> Clock {
        at.map_or_else(Clock::real, Clock::fixed)
    }

    /// The simulated time.
    pub fn now(&self) -> DateTime<Utc> {
        self.base.unwrap_or_else(Utc::now) + self.shift + self.advanced
    }

    /// Moves the clock forward (saturating).
    pub fn advance(&mut self, by: Duration) {
        let delta = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        self.advanced = self.advanced.checked_add(&delta).unwrap_or(TimeDelta::MAX);
    }

    /// How far [`Clock::advance`] has moved it in all.
    pub fn advanced(&self) -> TimeDelta {
        self.advanced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_advanced() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut c = Clock::fixed(at);
        assert_eq!(c.now(), at);
        c.advance(Duration::from_secs(90));
        assert_eq!(c.now(), at + TimeDelta::seconds(90));
        assert_eq!(c.advanced(), TimeDelta::seconds(90));
        c.advance(Duration::MAX);
        assert_eq!(c.advanced(), TimeDelta::MAX);
    }

    #[test]
    fn shifted_clock_follows_the_wall_clock() {
        let c = Clock::shifted(TimeDelta::days(2));
        let expect = Utc::now() + TimeDelta::days(2);
        assert!((c.now() - expect).abs() < TimeDelta::seconds(5));
    }
}
