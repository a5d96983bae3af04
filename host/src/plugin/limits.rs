//! Resource limits of a plugin: per call guest time, wall time (cloud waits included), fuel and
//! linear memory (all memories together); per component the file size; and the fixed caps on
//! tables, instances, memories and the amount of code a component may ask the host to compile.
//!
//! Every call into a plugin gets a fresh store with these limits. The user may lower them freely
//! and raise them up to [`Limits::MAX`], in the link file's `[limits]` table or on the command line.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Effective limits for each call into a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock time the guest itself may run per call, in milliseconds. Time spent waiting
    /// on the host's cloud calls does not count (see `wall_ms` for that).
    pub deadline_ms: u64,
    /// Wall-clock time a whole call may take, in milliseconds, cloud waits included. When it is
    /// used up the guest is interrupted and a cloud call in flight is cut off.
    pub wall_ms: u64,
    /// Fuel per call (roughly one unit per WebAssembly instruction, instantiation included).
    pub fuel: u64,
    /// Linear-memory cap per call, in MiB, over all the memories of the call's instances
    /// together. It also caps the bytes of any one value lifted out of the guest (see
    /// [`Limits::lift_bytes`]).
    pub memory_mib: u32,
    /// Largest component file the host will compile, in MiB (checked before compiling).
    pub max_component_mib: u32,
}

/// Fixed caps that are not user-tunable: a plugin built with `wit-bindgen` needs a handful of
/// each; anything beyond is a plugin trying to multiply itself.
pub(crate) const MAX_INSTANCES: usize = 16;
pub(crate) const MAX_TABLES: usize = 16;
pub(crate) const MAX_MEMORIES: usize = 4;
pub(crate) const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Compile-cost caps, checked before compiling (wasmparser counts the code sections of every
/// core module in the component). Compiling costs about 5 s per MB of code on the 2-core build
/// machine. What ours have (`cargo xtask plugins`, the `plugin` profile): the Rust plugins about
/// 680 functions and 210 KB of code, largest function 6.4 KB; the JavaScript example
/// (componentize-qjs, a 1.2 MB file) 2,444 functions and 769 KB of code, largest function 37 KB.
/// The caps are about 10x, 20x and 28x the JavaScript plugin: no honest plugin reaches them.
pub(crate) const MAX_CODE_BYTES: u64 = 8 << 20;
pub(crate) const MAX_FUNCTIONS: u64 = 50_000;
pub(crate) const MAX_FUNCTION_BYTES: u64 = 1 << 20;

/// Upper bound on the bytes one value lifted out of the guest may take on the host, whatever
/// the memory cap (see [`Limits::lift_bytes`]).
pub(crate) const MAX_LIFT_BYTES: usize = 64 << 20;
impl Limits {
    /// Defaults: 2 s of guest time, 60 s of wall time, 1e9 fuel (a few hundred ms of pure
    /// compute, far more than parsing a few cloud answers needs), 64 MiB of linear memory,
    /// components up to 32 MiB.
    pub const DEFAULT: Limits = Limits {
        deadline_ms: 2_000,
        wall_ms: 60_000,
        fuel: 1_000_000_000,
        memory_mib: 64,
        max_component_mib: 32,
    };

    /// The host maximum: no override may go beyond 30 s of guest time, 600 s of wall time,
    /// 2e10 fuel, 512 MiB of memory, 256 MiB components.
    pub const MAX: Limits = Limits {
        deadline_ms: 30_000,
        wall_ms: 600_000,
        fuel: 20_000_000_000,
        memory_mib: 512,
        max_component_mib: 256,
    };

    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }

    pub fn wall(&self) -> Duration {
        Duration::from_millis(self.wall_ms)
    }

    pub fn memory_bytes(&self) -> usize {
        (self.memory_mib as usize) << 20
    }

    pub fn max_component_bytes(&self) -> u64 {
        u64::from(self.max_component_mib) << 20
    }

    /// The "hostcall fuel" of each call's store (wasmtime's `Store::set_hostcall_fuel`): the
    /// bytes wasmtime may copy out of the guest while lifting one value (a host import's
    /// arguments, an export's result; strings and lists count their bytes, lists also the host
    /// size of each element). A value beyond it traps instead of being allocated on the host.
    /// The guest's memory cap, at most [`MAX_LIFT_BYTES`]: a value lives in the guest's memory,
    /// but several strings may point at the same bytes, so without it one value could cost the
    /// host many times the guest's memory.
    pub fn lift_bytes(&self) -> usize {
        self.memory_bytes().min(MAX_LIFT_BYTES)
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
            wall_ms: pick(
                "wall_ms",
                self.wall_ms,
                overrides.wall_ms,
                Self::MAX.wall_ms,
            )?,
            fuel: pick("fuel", self.fuel, overrides.fuel, Self::MAX.fuel)?,
            memory_mib: pick(
                "memory_mib",
                self.memory_mib,
                overrides.memory_mib,
                Self::MAX.memory_mib,
            )?,
            max_component_mib: pick(
                "max_component_mib",
                self.max_component_mib,
                overrides.max_component_mib,
                Self::MAX.max_component_mib,
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
            "deadline {}, wall {}, fuel {}, memory {} MiB, component {} MiB",
            human_duration(self.deadline()),
            human_duration(self.wall()),
            self.fuel,
            self.memory_mib,
            self.max_component_mib
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
    pub wall_ms: Option<u64>,
    pub fuel: Option<u64>,
    pub memory_mib: Option<u32>,
    pub max_component_mib: Option<u32>,
}

impl LimitOverrides {
    /// `self` with every key `later` sets replacing it (the command line beats the link file).
    pub fn then(self, later: LimitOverrides) -> LimitOverrides {
        LimitOverrides {
            deadline_ms: later.deadline_ms.or(self.deadline_ms),
            wall_ms: later.wall_ms.or(self.wall_ms),
            fuel: later.fuel.or(self.fuel),
            memory_mib: later.memory_mib.or(self.memory_mib),
            max_component_mib: later.max_component_mib.or(self.max_component_mib),
        }
    }
}

/// Command-line overrides; engine commands `#[command(flatten)]` this.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LimitArgs {
    /// Guest time each plugin call may take, in milliseconds (default 2000, max 30000).
    #[arg(long = "plugin-deadline-ms", value_name = "MS")]
    pub plugin_deadline_ms: Option<u64>,
    /// Wall time each plugin call may take, cloud waits included, in milliseconds (default
    /// 60000, max 600000).
    #[arg(long = "plugin-wall-ms", value_name = "MS")]
    pub plugin_wall_ms: Option<u64>,
    /// Fuel (about one unit per wasm instruction) per plugin call (default 1e9, max 2e10).
    #[arg(long = "plugin-fuel", value_name = "UNITS")]
    pub plugin_fuel: Option<u64>,
    /// Linear-memory cap per plugin call, in MiB (default 64, max 512).
    #[arg(long = "plugin-memory-mib", value_name = "MIB")]
    pub plugin_memory_mib: Option<u32>,
    /// Largest plugin file the host compiles, in MiB (default 32, max 256).
    #[arg(long = "plugin-max-component-mib", value_name = "MIB")]
    pub plugin_max_component_mib: Option<u32>,
}

impl LimitArgs {
    pub fn overrides(&self) -> LimitOverrides {
        LimitOverrides {
            deadline_ms: self.plugin_deadline_ms,
            wall_ms: self.plugin_wall_ms,
            fuel: self.plugin_fuel,
            memory_mib: self.plugin_memory_mib,
            max_component_mib: self.plugin_max_component_mib,
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
                wall_ms: Some(200),
                fuel: Some(5),
                memory_mib: Some(1),
                max_component_mib: Some(2),
            })
            .unwrap();
        assert_eq!(
            lowered,
            Limits {
                deadline_ms: 100,
                wall_ms: 200,
                fuel: 5,
                memory_mib: 1,
                max_component_mib: 2,
            }
        );
        let at_max = Limits::DEFAULT
            .with_overrides(&LimitOverrides {
                deadline_ms: Some(Limits::MAX.deadline_ms),
                wall_ms: Some(Limits::MAX.wall_ms),
                fuel: Some(Limits::MAX.fuel),
                memory_mib: Some(Limits::MAX.memory_mib),
                max_component_mib: Some(Limits::MAX.max_component_mib),
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
        for (overrides, text) in [
            (
                LimitOverrides {
                    wall_ms: Some(600_001),
                    ..Default::default()
                },
                "plugin limit wall_ms = 600001 is above the host maximum 600000; use at most 600000",
            ),
            (
                LimitOverrides {
                    max_component_mib: Some(257),
                    ..Default::default()
                },
                "plugin limit max_component_mib = 257 is above the host maximum 256; use at most 256",
            ),
            (
                LimitOverrides {
                    wall_ms: Some(0),
                    ..Default::default()
                },
                "plugin limit wall_ms must be greater than 0",
            ),
        ] {
            let err = Limits::DEFAULT.with_overrides(&overrides).unwrap_err();
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn the_lift_cap_follows_the_memory_cap_up_to_a_bound() {
        assert_eq!(Limits::DEFAULT.lift_bytes(), 64 << 20);
        let small = Limits {
            memory_mib: 8,
            ..Limits::DEFAULT
        };
        assert_eq!(small.lift_bytes(), 8 << 20);
        assert_eq!(Limits::MAX.lift_bytes(), MAX_LIFT_BYTES);
    }

    #[test]
    fn link_file_table_parses_and_refuses_unknown_keys() {
        let o: LimitOverrides = toml::from_str(
            "deadline_ms = 500\nwall_ms = 9000\nmemory_mib = 32\nmax_component_mib = 8\n",
        )
        .unwrap();
        assert_eq!(o.deadline_ms, Some(500));
        assert_eq!(o.wall_ms, Some(9000));
        assert_eq!(o.fuel, None);
        assert_eq!(o.memory_mib, Some(32));
        assert_eq!(o.max_component_mib, Some(8));
        assert!(toml::from_str::<LimitOverrides>("deadline = 5\n").is_err());
    }

    #[test]
    fn command_line_beats_link_file() {
        let file = LimitOverrides {
            deadline_ms: Some(500),
            wall_ms: Some(5_000),
            fuel: Some(7),
            ..Default::default()
        };
        let cli = LimitArgs {
            plugin_deadline_ms: Some(900),
            plugin_wall_ms: Some(7_000),
            plugin_max_component_mib: Some(4),
            ..Default::default()
        };
        let merged = file.then(cli.overrides());
        assert_eq!(merged.deadline_ms, Some(900));
        assert_eq!(merged.wall_ms, Some(7_000));
        assert_eq!(merged.fuel, Some(7));
        assert_eq!(merged.max_component_mib, Some(4));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(2)), "2 s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
    }
}
