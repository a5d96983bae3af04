//! Async lifecycles with configurable timing (moto's `ManagedState`, made explicit).
//!
//! A resource that changes status in the background holds a [`Lifecycle`]: its current status
//! plus the steps still to come. How a step completes is decided by the simulator's [`Pacer`]:
//! immediately, after a (scaled) delay, or after the resource has been read N times — the last
//! one lets tests drive waiters deterministically, without wall-clock time.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How async steps complete.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timing {
    /// Every step completes at once: a create returns and the next read sees the final status.
    Immediate,
    /// Each step takes its nominal duration multiplied by the pacer's `time_scale`.
    Delay,
    /// Each step completes after the resource has been read this many times.
    Polls(u32),
}

impl std::str::FromStr for Timing {
    type Err = String;
    /// `immediate`, `delay` or `polls:N`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "immediate" => Ok(Timing::Immediate),
            "delay" => Ok(Timing::Delay),
            other => other
                .strip_prefix("polls:")
                .and_then(|n| n.parse::<u32>().ok())
                .map(Timing::Polls)
                .ok_or_else(|| {
                    format!("unknown timing {other:?}: use `immediate`, `delay` or `polls:N`")
                }),
        }
    }
}

/// Turns nominal step durations into concrete waits, per the simulator configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacer {
    pub timing: Timing,
    /// Multiplies nominal delays in [`Timing::Delay`] mode, and injected fault latency in every
    /// mode: 1.0 = nominal, 0.1 = ten times faster.
    pub time_scale: f64,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            timing: Timing::Delay,
            time_scale: 1.0,
        }
    }
}

impl Pacer {
    pub fn immediate() -> Self {
        Pacer {
            timing: Timing::Immediate,
            time_scale: 1.0,
        }
    }

    fn wait(&self, nominal: Duration) -> Wait {
        match self.timing {
            Timing::Immediate => Wait::Now,
            Timing::Delay => Wait::For(nominal.mul_f64(self.time_scale.max(0.0))),
            Timing::Polls(0) => Wait::Now,
            Timing::Polls(n) => Wait::Polls(n),
        }
    }

    /// Scales a duration by `time_scale` whatever the timing mode. The server applies it to
    /// injected fault latency; STS expiry is never scaled.
    pub fn scale(&self, d: Duration) -> Duration {
        d.mul_f64(self.time_scale.max(0.0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Wait {
    Now,
    For(Duration),
    Polls(u32),
}

#[derive(Debug, Clone, PartialEq)]
struct Step<S> {
    to: S,
    wait: Wait,
}

/// A status that advances through queued steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Lifecycle<S> {
    status: S,
    pending: VecDeque<Step<S>>,
    /// When the current step started (for delays).
    since: Instant,
    /// Reads of this resource since the current step started (for `Polls`).
    reads: u32,
}

impl<S: Copy + PartialEq + std::fmt::Debug> Lifecycle<S> {
    /// A settled status with nothing pending.
    pub fn settled(status: S) -> Self {
        Lifecycle {
            status,
            pending: VecDeque::new(),
            since: Instant::now(),
            reads: 0,
        }
    }

    /// Starts at `initial` and then moves through `steps` (`(status, nominal duration)`).
    pub fn start(initial: S, steps: &[(S, Duration)], pacer: &Pacer, now: Instant) -> Self {
        let mut l = Lifecycle::settled(initial);
        l.begin(initial, steps, pacer, now);
        l
    }

    /// Replaces whatever was pending: the status becomes `now_status` and then follows `steps`.
    /// Used for a transition triggered by a call (accept a peering, delete an attachment).
    pub fn begin(&mut self, now_status: S, steps: &[(S, Duration)], pacer: &Pacer, now: Instant) {
        self.status = now_status;
        self.pending = steps
            .iter()
            .map(|&(to, d)| Step {
                to,
                wait: pacer.wait(d),
            })
            .collect();
        self.since = now;
        self.reads = 0;
        self.advance(now);
    }

    /// Forces a status and drops pending steps (admin tools, "break one hop" in tests).
    pub fn force(&mut self, status: S, now: Instant) {
        self.status = status;
        self.pending.clear();
        self.since = now;
        self.reads = 0;
    }

    /// The status as of `now`, without counting a read. Use for internal checks.
    pub fn peek(&mut self, now: Instant) -> S {
        self.advance(now);
        self.status
    }

    /// The status as a client read sees it: counts one read, which may complete a
    /// `Polls` step (the first N reads see the old status).
    pub fn poll(&mut self, now: Instant) -> S {
        self.advance(now);
        let status = self.status;
        self.reads += 1;
        status
    }

    /// The status without advancing anything.
    pub fn current(&self) -> S {
        self.status
    }

    /// Whether no step is pending (after advancing to `now`).
    pub fn is_settled(&mut self, now: Instant) -> bool {
        self.advance(now);
        self.pending.is_empty()
    }

    /// The status the lifecycle will end in.
    pub fn target(&self) -> S {
        self.pending.back().map(|s| s.to).unwrap_or(self.status)
    }

    fn advance(&mut self, now: Instant) {
        while let Some(step) = self.pending.front() {
            match step.wait {
                Wait::Now => {}
                Wait::For(d) => {
                    if now.saturating_duration_since(self.since) < d {
                        return;
                    }
                    self.since += d;
                }
                Wait::Polls(n) => {
                    if self.reads < n {
                        return;
                    }
                    self.since = now;
                }
            }
            self.status = step.to;
            self.reads = 0;
            self.pending.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum S {
        Creating,
        Accepting,
        Updating,
        Activated,
    }

    const STEP: Duration = Duration::from_secs(2);

    #[test]
    fn immediate_reaches_the_target_at_once() {
        let now = Instant::now();
        let mut l = Lifecycle::start(
            S::Creating,
            &[(S::Accepting, STEP)],
            &Pacer::immediate(),
            now,
        );
        assert_eq!(l.poll(now), S::Accepting);
        assert!(l.is_settled(now));
    }

    #[test]
    fn delay_is_scaled_and_chained() {
        let pacer = Pacer {
            timing: Timing::Delay,
            time_scale: 0.5,
        };
        let t0 = Instant::now();
        let mut l = Lifecycle::start(S::Updating, &[(S::Activated, STEP)], &pacer, t0);
        assert_eq!(l.peek(t0 + Duration::from_millis(999)), S::Updating);
        assert_eq!(l.peek(t0 + Duration::from_millis(1000)), S::Activated);

        let mut chain = Lifecycle::start(
            S::Creating,
            &[(S::Accepting, STEP), (S::Activated, STEP)],
            &pacer,
            t0,
        );
        assert_eq!(chain.peek(t0 + Duration::from_millis(1500)), S::Accepting);
        assert_eq!(chain.peek(t0 + Duration::from_millis(2000)), S::Activated);
    }

    #[test]
    fn polls_count_reads_not_peeks() {
        let pacer = Pacer {
            timing: Timing::Polls(2),
            time_scale: 1.0,
        };
        let now = Instant::now();
        let mut l = Lifecycle::start(S::Creating, &[(S::Accepting, STEP)], &pacer, now);
        assert_eq!(l.peek(now), S::Creating);
        assert_eq!(l.poll(now), S::Creating);
        assert_eq!(l.peek(now), S::Creating);
        assert_eq!(l.poll(now), S::Creating);
        assert_eq!(l.poll(now), S::Accepting);
        // A call-triggered transition restarts the count.
        l.begin(S::Updating, &[(S::Activated, STEP)], &pacer, now);
        assert_eq!(l.target(), S::Activated);
        assert_eq!(l.poll(now), S::Updating);
        assert_eq!(l.poll(now), S::Updating);
        assert_eq!(l.poll(now), S::Activated);
        assert!(l.is_settled(now));
    }

    #[test]
    fn force_drops_pending_steps() {
        let now = Instant::now();
        let pacer = Pacer {
            timing: Timing::Polls(1),
            time_scale: 1.0,
        };
        let mut l = Lifecycle::start(S::Creating, &[(S::Activated, STEP)], &pacer, now);
        l.force(S::Accepting, now);
        assert_eq!(l.poll(now), S::Accepting);
        assert_eq!(l.poll(now), S::Accepting);
    }

    #[test]
    fn timing_parses() {
        assert_eq!("immediate".parse::<Timing>(), Ok(Timing::Immediate));
        assert_eq!("delay".parse::<Timing>(), Ok(Timing::Delay));
        assert_eq!("polls:3".parse::<Timing>(), Ok(Timing::Polls(3)));
        assert!("polls:x".parse::<Timing>().is_err());
    }
}
