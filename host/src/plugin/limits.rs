//! Per-call resource limits of a plugin: wall-clock deadline, fuel, linear memory, and the
//! fixed table / instance / memory caps.
//!
//! Every call into a plugin gets a fresh store with these limits. The user may lower them freely
//! and raise them up to [`Limits::MAX`], in the link file's `[limits]` table or on the command line.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Effective limits for each call into a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock time the guest itself may run per call, in milliseconds. Time spent waiting
    /// on the host's cloud calls does not count (the cloud client has its own timeouts).
    pub deadline_ms: u64,
    /// Fuel per call (roughly one unit per WebAssembly instruction, instantiation included).
    pub fuel: u64,
    /// Linear-memory cap per call, in MiB.
    pub memory_mib: u32,
}

/// Fixed caps that are not user-tunable: a plugin built with `wit-bindgen` needs a handful of
/// each; anything beyond is a plugin trying to multiply itself.
pub(crate) const MAX_INSTANCES: usize = 16;
pub(crate) const MAX_TABLES: usize = 16;
pub(crate) const MAX_MEMORIES: usize = 4;
pub(crate) const MAX_TABLE_ELEMENTS: usize = 100_000;

impl Limits {
    /// Defaults: 2 s of guest time, 1e9 fuel (a few hundred ms of pure compute, far more than
    /// parsing a few cloud answers needs), 64 MiB of linear memory.
    pub const DEFAULT: Limits = Limits {
        deadline_ms: 2_000,
        fuel: 1_000_000_000,
        memory_mib: 64,
    };

    /// The host maximum: no override may go beyond 30 s, 2e10 fuel, 512 MiB.
    pub const MAX: Limits = Limits {
        deadline_ms: 30_000,
        fuel: 20_000_000_000,
        memory_mib: 512,
    };

    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }

    pub fn memory_bytes(&self) -> usize {
        (self.memory_mib as usize) << 20
    }

    /// These limits with `overrides` applied. Lowering is free; raising is allowed up to
    /// [`Limits::MAX`]; zero is refused.
    pub fn with_overrides(&self, overrides: &LimitOverrides) -> Result<Limits, LimitsError> {
        fn pick<T: Copy + PartialOrd + Default + std::fmt::Display>(
            key: &'static str,
            current: T,
            wanted: Option<T>,
            max: T,
        ) -> Result<T, LimitsError> {
            match wanted {
                None => Ok(current),
                Some(v) if v == T::default() => Err(LimitsError::Zero { key }),
                Some(v) if v > max => Err(LimitsError::AboveMax {
                    key,
                    wanted: v.to_string(),
                    max: max.to_string(),
                }),
                Some(v) => Ok(v),
            }
        }
        Ok(Limits {
            deadline_ms: pick(
                "deadline_ms",
                self.deadline_ms,
                overrides.deadline_ms,
                Self::MAX.deadline_ms,
            )?,
            fuel: pick("fuel", self.fuel, overrides.fuel, Self::MAX.fuel)?,
            memory_mib: pick(
                "memory_mib",
                self.memory_mib,
                overrides.memory_mib,
                Self::MAX.memory_mib,
            )?,
        })
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl std::fmt::Display for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "deadline {}, fuel {}, memory {} MiB",
            human_duration(self.deadline()),
            self.fuel,
            self.memory_mib
        )
    }
}

/// `2 s` for whole seconds, `250 ms` otherwise.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

/// A refused override.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitsError {
    #[error("plugin limit {key} = {wanted} is above the host maximum {max}; use at most {max}")]
    AboveMax {
        key: &'static str,
        wanted: String,
        max: String,
    },
    #[error("plugin limit {key} must be greater than 0")]
    Zero { key: &'static str },
}

/// Overrides as the link file's `[limits]` table spells them; absent keys keep the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    pub deadline_ms: Option<u64>,
    pub fuel: Option<u64>,
    pub memory_mib: Option<u32>,
}

impl LimitOverrides {
    /// `self` with every key `later` sets replacing it (the command line beats the link file).
    pub fn then(self, later: LimitOverrides) -> LimitOverrides {
        LimitOverrides {
            deadline_ms: later.deadline_ms.or(self.deadline_ms),
            fuel: later.fuel.or(self.fuel),
            memory_mib: later.memory_mib.or(self.memory_mib),
        }
    }
}

/// Command-line overrides; engine commands `#[command(flatten)]` this.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LimitArgs {
    /// Guest time each plugin call may take, in milliseconds (default 2000, max 30000).
    #[arg(long = "plugin-deadline-ms", value_name = "MS")]
    pub plugin_deadline_ms: Option<u64>,
    /// Fuel (about one unit per wasm instruction) per plugin call (default 1e9, max 2e10).
    #[arg(long = "plugin-fuel", value_name = "UNITS")]
    pub plugin_fuel: Option<u64>,
    /// Linear-memory cap per plugin call, in MiB (default 64, max 512).
    #[arg(long = "plugin-memory-mib", value_name = "MIB")]
    pub plugin_memory_mib: Option<u32>,
}

impl LimitArgs {
    pub fn overrides(&self) -> LimitOverrides {
        LimitOverrides {
            deadline_ms: self.plugin_deadline_ms,
            fuel: self.plugin_fuel,
            memory_mib: self.plugin_memory_mib,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowering_is_free_and_raising_stops_at_the_max() {
        let lowered = Limits::DEFAULT
            .with_overrides(&LimitOverrides {
                deadline_ms: Some(100),
                fuel: Some(5),
                memory_mib: Some(1),
            })
            .unwrap();
        assert_eq!(
            lowered,
            Limits {
                deadline_ms: 100,
                fuel: 5,
                memory_mib: 1
            }
        );
        let at_max = Limits::DEFAULT
            .with_overrides(&LimitOverrides {
                deadline_ms: Some(Limits::MAX.deadline_ms),
                fuel: Some(Limits::MAX.fuel),
                memory_mib: Some(Limits::MAX.memory_mib),
            })
            .unwrap();
        assert_eq!(at_max, Limits::MAX);
        let err = Limits::DEFAULT
            .with_overrides(&LimitOverrides {
                memory_mib: Some(513),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "plugin limit memory_mib = 513 is above the host maximum 512; use at most 512"
        );
        let err = Limits::DEFAULT
            .with_overrides(&LimitOverrides {
                fuel: Some(0),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err, LimitsError::Zero { key: "fuel" });
    }

    #[test]
    fn link_file_table_parses_and_refuses_unknown_keys() {
        let o: LimitOverrides = toml::from_str("deadline_ms = 500\nmemory_mib = 32\n").unwrap();
        assert_eq!(o.deadline_ms, Some(500));
        assert_eq!(o.fuel, None);
        assert_eq!(o.memory_mib, Some(32));
        assert!(toml::from_str::<LimitOverrides>("deadline = 5\n").is_err());
    }

    #[test]
    fn command_line_beats_link_file() {
        let file = LimitOverrides {
            deadline_ms: Some(500),
            fuel: Some(7),
            memory_mib: None,
        };
        let cli = LimitArgs {
            plugin_deadline_ms: Some(900),
            ..Default::default()
        };
        let merged = file.then(cli.overrides());
        assert_eq!(merged.deadline_ms, Some(900));
        assert_eq!(merged.fuel, Some(7));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(2)), "2 s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
    }
}
