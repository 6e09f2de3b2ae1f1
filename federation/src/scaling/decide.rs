//! The autoscaler's decision for one function, as a pure state machine over observed load
//! (time is passed in, so it is unit-tested without I/O or sleeps).
//!
//! Modelled on Knative's autoscaler: the load is averaged over a *stable* window and over a
//! short *panic* window; the function is scaled up at once to the larger of the two needs, and
//! scaled down only to the highest need recommended over the whole scale-down window, so a
//! dip in load never removes replicas that the next burst would want back. A manual `scale`
//! call holds the autoscaler off for the scale-down window.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::policy::Policy;

/// The autoscaler's windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    /// Load is averaged over this window for the steady need.
    pub stable: Duration,
    /// Load is averaged over this (shorter) window too, so bursts scale up quickly.
    pub panic: Duration,
    /// Replicas are removed only when no recommendation in this window wanted them, and never
    /// within this long of a manual scale or of the start of tracking.
    pub scale_down: Duration,
}

impl Default for Windows {
    fn default() -> Self {
        Self {
            stable: Duration::from_secs(30),
            panic: Duration::from_secs(3),
            scale_down: Duration::from_secs(60),
        }
    }
}

/// One function's decision state.
#[derive(Debug)]
pub struct Tracker {
    samples: VecDeque<(Instant, f64)>,
    recommendations: VecDeque<(Instant, u64)>,
    since: Instant,
    hold_until: Option<Instant>,
}

impl Tracker {
    /// Starts tracking at `now`: nothing is scaled down before a whole scale-down window.
    pub fn new(now: Instant) -> Self {
        Self {
            samples: VecDeque::new(),
            recommendations: VecDeque::new(),
            since: now,
            hold_until: None,
        }
    }

    /// Records one load sample (in the policy's unit: requests per second, or in flight).
    pub fn observe(&mut self, now: Instant, load: f64, windows: &Windows) {
        self.samples.push_back((now, load));
        let keep = windows.stable.max(windows.panic);
        while let Some(&(at, _)) = self.samples.front() {
            if now.saturating_duration_since(at) > keep {
                self.samples.pop_front();
            } else {
                break;
            }
        }
    }

    /// A manual scale happened: the autoscaler keeps its hands off for the scale-down window.
    pub fn hold(&mut self, now: Instant, windows: &Windows) {
        self.hold_until = Some(now + windows.scale_down);
        self.recommendations.clear();
        self.since = now;
    }

    /// True when no load was seen over the stable window (the tracker can be forgotten once the
    /// function is back at its floor).
    pub fn quiet(&self) -> bool {
        self.samples.iter().all(|&(_, load)| load <= 0.0)
    }

    /// Mean load over the `window` ending at `now` (0 without samples).
    pub fn mean(&self, now: Instant, window: Duration) -> f64 {
        let (sum, count) = self
            .samples
            .iter()
            .filter(|(at, _)| now.saturating_duration_since(*at) <= window)
            .fold((0.0, 0u32), |(sum, count), (_, load)| {
                (sum + load, count + 1)
            });
        if count == 0 {
            0.0
        } else {
            sum / f64::from(count)
        }
    }

    /// The replica count to apply now, if any. `current` is the function's replica count,
    /// `cap` its backend's `max_replicas`. A function at zero is left to the wake-up path.
    pub fn decide(
        &mut self,
        now: Instant,
        policy: &Policy,
        cap: Option<u64>,
        current: u64,
        windows: &Windows,
    ) -> Option<u64> {
        if policy.fixed() || current == 0 {
            return None;
        }
        if let Some(until) = self.hold_until {
            if now < until {
                return None;
            }
            self.hold_until = None;
        }
        let stable = policy.desired(self.mean(now, windows.stable), cap);
        let panic = policy.desired(self.mean(now, windows.panic), cap);
        let need = stable.max(panic);
        self.recommendations.push_back((now, need));
        while let Some(&(at, _)) = self.recommendations.front() {
            if now.saturating_duration_since(at) > windows.scale_down {
                self.recommendations.pop_front();
            } else {
                break;
            }
        }
        if need > current {
            return Some(need);
        }
        let highest = self
            .recommendations
            .iter()
            .map(|&(_, need)| need)
            .max()
            .unwrap_or(need);
        let settled = now.saturating_duration_since(self.since) >= windows.scale_down;
        (highest < current && settled).then_some(highest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows() -> Windows {
        Windows {
            stable: Duration::from_secs(10),
            panic: Duration::from_secs(2),
            scale_down: Duration::from_secs(20),
        }
    }

    fn policy(min: u64, max: u64, target: f64) -> Policy {
        Policy {
            min,
            max,
            target,
            proportion: 1.0,
            ..Policy::default()
        }
    }

    /// Feeds `load` once a second for `seconds`, applying decisions to `current`.
    fn run(
        tracker: &mut Tracker,
        start: Instant,
        from: u64,
        seconds: u64,
        load: f64,
        policy: &Policy,
        current: &mut u64,
    ) -> Vec<(u64, u64)> {
        let mut changes = Vec::new();
        for second in from..from + seconds {
            let now = start + Duration::from_secs(second);
            tracker.observe(now, load, &windows());
            if let Some(replicas) = tracker.decide(now, policy, None, *current, &windows()) {
                *current = replicas;
                changes.push((second, replicas));
            }
        }
        changes
    }

    #[test]
    fn scales_up_at_once_and_down_after_the_window() {
        let start = Instant::now();
        let mut tracker = Tracker::new(start);
        let policy = policy(1, 4, 10.0);
        let mut current = 1;
        // 35 rps needs 4 (capped at max 4): the panic window reacts in the first second.
        let up = run(&mut tracker, start, 0, 30, 35.0, &policy, &mut current);
        assert_eq!(up.first(), Some(&(0, 4)), "{up:?}");
        assert_eq!(current, 4);
        // Load stops: replicas stay for the scale-down window, then fall to min.
        let down = run(&mut tracker, start, 30, 40, 0.0, &policy, &mut current);
        assert_eq!(current, 1, "{down:?}");
        let (second, _) = down.first().copied().unwrap();
        assert!(second >= 30 + 20, "scaled down too early: {down:?}");
    }

    #[test]
    fn a_dip_shorter_than_the_window_removes_nothing() {
        let start = Instant::now();
        let mut tracker = Tracker::new(start);
        let policy = policy(1, 10, 10.0);
        let mut current = 1;
        run(&mut tracker, start, 0, 30, 30.0, &policy, &mut current);
        assert_eq!(current, 3);
        let dip = run(&mut tracker, start, 30, 15, 0.0, &policy, &mut current);
        assert!(dip.is_empty(), "{dip:?}");
        let back = run(&mut tracker, start, 45, 10, 30.0, &policy, &mut current);
        assert!(back.is_empty(), "{back:?}");
        assert_eq!(current, 3);
    }

    #[test]
    fn min_equal_max_and_zero_replicas_are_left_alone() {
        let start = Instant::now();
        let mut tracker = Tracker::new(start);
        let mut current = 2;
        let fixed = run(
            &mut tracker,
            start,
            0,
            30,
            500.0,
            &policy(2, 2, 1.0),
            &mut current,
        );
        assert!(fixed.is_empty());
        let mut zero = 0;
        let idle = run(
            &mut tracker,
            start,
            30,
            5,
            500.0,
            &policy(1, 5, 1.0),
            &mut zero,
        );
        assert!(
            idle.is_empty(),
            "waking from zero is not the autoscaler's job"
        );
    }

    #[test]
    fn a_manual_scale_is_not_fought_within_the_window() {
        let start = Instant::now();
        let mut tracker = Tracker::new(start);
        let policy = policy(1, 10, 10.0);
        let mut current = 1;
        run(&mut tracker, start, 0, 25, 0.0, &policy, &mut current);
        // Someone scales to 6 by hand at second 25: held until 45, then brought back to 1.
        tracker.hold(start + Duration::from_secs(25), &windows());
        current = 6;
        let held = run(&mut tracker, start, 25, 20, 0.0, &policy, &mut current);
        assert!(held.is_empty(), "{held:?}");
        let after = run(&mut tracker, start, 45, 25, 0.0, &policy, &mut current);
        assert_eq!(current, 1, "{after:?}");
    }

    #[test]
    fn below_the_floor_is_raised() {
        let start = Instant::now();
        let mut tracker = Tracker::new(start);
        let mut current = 1;
        let changes = run(
            &mut tracker,
            start,
            0,
            2,
            0.0,
            &policy(3, 5, 10.0),
            &mut current,
        );
        assert_eq!(changes, vec![(0, 3)]);
    }

    #[test]
    fn mean_covers_the_window_only() {
        let start = Instant::now();
        let mut tracker = Tracker::new(start);
        for (second, load) in [(0, 100.0), (9, 10.0), (10, 20.0)] {
            tracker.observe(start + Duration::from_secs(second), load, &windows());
        }
        let now = start + Duration::from_secs(10);
        assert_eq!(tracker.mean(now, Duration::from_secs(2)), 15.0);
        assert_eq!(tracker.mean(now, Duration::from_secs(10)), 130.0 / 3.0);
        assert!(!tracker.quiet());
    }
}
