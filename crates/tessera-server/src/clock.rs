//! What time the service takes it to be. Every deadline the server keeps (a
//! session's, an SMS code's, a cryptogram's, a breaker's cool-down, a
//! maintenance window) is judged on this clock, so that tests move it past
//! a deadline instead of sleeping through it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system's clock.
    #[default]
    System,
    /// The system's clock moved forward by a test (`TestClock::advance`).
    Test(TestClock),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Test(clock) => clock.now(),
        }
    }
}

/// A clock tests move forward. It runs with the system's clock, ahead of it
/// by whatever it was advanced: records written one after the other keep
/// their order (lists sort by time, ties by random ids), and a test that
/// advances nothing sees the real time. Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct TestClock {
    ahead_ms: Arc<AtomicI64>,
}

impl TestClock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::milliseconds(self.ahead_ms.load(Ordering::SeqCst))
    }

    /// Moves the clock forward by `by` (whole milliseconds).
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ahead_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// The clock to hand to the server (`crate::open_with_clock`).
    pub fn clock(&self) -> Clock {
        Clock::Test(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_runs_with_the_system_and_jumps_when_advanced() {
        let test = TestClock::default();
        let clock = test.clock();
        let before = Utc::now();
        let read = clock.now();
        assert!(read >= before && read <= Utc::now());
        test.advance(std::time::Duration::from_secs(90));
        let ahead = clock.now() - Utc::now();
        assert!(
            (TimeDelta::seconds(89)..=TimeDelta::seconds(90)).contains(&ahead),
            "{ahead}"
        );
        let system = Clock::System.now() - Utc::now();
        assert!(system <= TimeDelta::zero());
    }
}
