//! Fault injection: throttling, server errors, added latency and ambiguous timeouts (the write
//! happens, the response is lost), drawn from a seeded RNG so a run can be replayed.

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Fault settings (`--faults` and `POST /_sim/faults`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSettings {
    /// Probability of `Throttling.User` per API request.
    pub throttle: f64,
    /// Probability of a 5xx (`ServiceUnavailable` / `InternalError`) per API request.
    pub server_error: f64,
    /// Latency added to every authenticated API request, in milliseconds of simulated time
    /// (multiplied by the time scale, like lifecycle delays).
    pub latency_ms: u64,
    /// Probability that a write is performed but its response is dropped.
    pub ambiguous_timeout: f64,
    /// RNG seed; the same seed and the same request sequence give the same faults.
    pub seed: u64,
}

impl FaultSettings {
    /// Parses `throttle=0.1,5xx=0.05,latency=200ms,timeout=0.02,seed=7` (any subset; empty = none).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut f = FaultSettings::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("fault {part:?} must be key=value"))?;
            let rate = |v: &str| -> Result<f64, String> {
                let r: f64 = v
                    .parse()
                    .map_err(|_| format!("fault {k}: {v:?} is not a number"))?;
                if (0.0..=1.0).contains(&r) {
                    Ok(r)
                } else {
                    Err(format!(
                        "fault {k}: {r} is not a probability between 0 and 1"
                    ))
                }
            };
            match k.trim() {
                "throttle" => f.throttle = rate(v)?,
                "5xx" | "server_error" => f.server_error = rate(v)?,
                "timeout" | "ambiguous_timeout" => f.ambiguous_timeout = rate(v)?,
                "latency" | "latency_ms" => {
                    f.latency_ms = v
                        .trim_end_matches("ms")
                        .parse()
                        .map_err(|_| format!("fault latency: {v:?} is not milliseconds"))?
                }
                "seed" => {
                    f.seed = v
                        .parse()
                        .map_err(|_| format!("fault seed: {v:?} is not an integer"))?
                }
                other => {
                    return Err(format!(
                        "unknown fault {other:?}: use throttle, 5xx, latency, timeout or seed"
                    ));
                }
            }
        }
        Ok(f)
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Throttle,
    ServerError {
        unavailable: bool,
    },
    /// Perform the write, then drop the response.
    Ambiguous,
}

#[derive(Debug)]
pub struct Faults {
    settings: FaultSettings,
    rng: StdRng,
}

impl Faults {
    pub fn new(settings: FaultSettings) -> Self {
        let rng = StdRng::seed_from_u64(settings.seed);
        Faults { settings, rng }
    }

    pub fn settings(&self) -> &FaultSettings {
        &self.settings
    }

    /// Replaces the settings and reseeds.
    pub fn set(&mut self, settings: FaultSettings) {
        *self = Faults::new(settings);
    }

    /// Draws the fault for one request. Always draws the same number of values, so the
    /// sequence depends only on the seed and the number of requests.
    pub fn draw(&mut self, is_write: bool) -> (Duration, Fault) {
        let (a, b, c, d): (f64, f64, f64, bool) = (
            self.rng.random(),
            self.rng.random(),
            self.rng.random(),
            self.rng.random(),
        );
        let s = &self.settings;
        let fault = if a < s.throttle {
            Fault::Throttle
        } else if b < s.server_error {
            Fault::ServerError { unavailable: d }
        } else if is_write && c < s.ambiguous_timeout {
            Fault::Ambiguous
        } else {
            Fault::None
        };
        (Duration::from_millis(s.latency_ms), fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_and_rejects_nonsense() {
        let f =
            FaultSettings::parse("throttle=0.1, 5xx=0.2,latency=30ms,timeout=0.5,seed=9").unwrap();
        assert_eq!(
            f,
            FaultSettings {
                throttle: 0.1,
                server_error: 0.2,
                latency_ms: 30,
                ambiguous_timeout: 0.5,
                seed: 9
            }
        );
        assert_eq!(FaultSettings::parse("").unwrap(), FaultSettings::default());
        assert!(FaultSettings::parse("throttle=2").is_err());
        assert!(FaultSettings::parse("boom=1").is_err());
        assert!(FaultSettings::parse("latency=x").is_err());
    }

    #[test]
    fn draws_replay_with_the_seed_and_respect_rates() {
        let s = FaultSettings {
            throttle: 0.3,
            server_error: 0.3,
            ambiguous_timeout: 0.5,
            seed: 42,
            ..Default::default()
        };
        let run = || {
            let mut f = Faults::new(s.clone());
            (0..200).map(|i| f.draw(i % 2 == 0).1).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.contains(&Fault::Throttle));
        assert!(first.iter().any(|f| matches!(f, Fault::ServerError { .. })));
        // Ambiguous timeouts only hit writes.
        assert!(
            first
                .iter()
                .enumerate()
                .all(|(i, f)| *f != Fault::Ambiguous || i % 2 == 0)
        );
        let mut none = Faults::new(FaultSettings::default());
        assert!((0..100).all(|_| none.draw(true).1 == Fault::None));
    }
}
