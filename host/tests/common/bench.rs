//! The end-to-end bench: one simulator on loopback, one state directory, and the real
//! `dwlink-host` binary run as account B's operator with the shipped link files and plugins.

use super::{cache_dir, plugin};
use dwlink_sim::{SimConfig, SimHandle, Simulator, StateView, Timing};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};

pub fn link(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/links/{name}.toml"))
}

/// One simulator and one state directory; `dwlink` runs the binary as account B's operator.
pub struct Bench {
    pub sim: SimHandle,
    pub state: tempfile::TempDir,
    pub home: tempfile::TempDir,
}

impl Bench {
    pub async fn start(timing: Timing, time_scale: f64) -> Bench {
        let sim = Simulator::start(SimConfig {
            timing,
            time_scale,
            ..SimConfig::default()
        })
        .await
        .expect("simulator");
        Bench {
            sim,
            state: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let b = self.sim.account("B").expect("account B");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dwlink-host"));
        cmd.args(args)
            .args([
                "--endpoint",
                &self.sim.endpoint(),
                "--poll-interval",
                "20ms",
            ])
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &b.access_key_id)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &b.access_key_secret)
            .env("DWLINK_DB_PASSWORD", "sim-password")
            .env("DWLINK_STATE_DIR", self.state.path())
            .env("DWLINK_CACHE_DIR", cache_dir())
            // Never pick up the developer's own aliyun profile.
            .env("HOME", self.home.path())
            .env_remove("ALIBABA_CLOUD_PROFILE")
            .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
            .env_remove("DWLINK_ENDPOINT")
            .env_remove("RUST_LOG");
        cmd
    }

    /// Runs `dwlink-host CMD PLUGIN --link FILE --output json` to the end on a blocking thread
    /// (the simulator serves from this process's runtime).
    pub async fn json(
        &self,
        cmd: &str,
        plugin_name: &str,
        link_name: &str,
    ) -> (i32, Value, String) {
        self.json_with(cmd, plugin_name, link_name, &[]).await
    }

    /// [`json`](Self::json) with `extra` arguments (e.g. `--max-wait 1s`).
    pub async fn json_with(
        &self,
        cmd: &str,
        plugin_name: &str,
        link_name: &str,
        extra: &[&str],
    ) -> (i32, Value, String) {
        let plugin = plugin(plugin_name);
        let link = link(link_name);
        let mut args = vec![
            cmd,
            plugin.to_str().unwrap(),
            "--link",
            link.to_str().unwrap(),
            "--output",
            "json",
        ];
        if cmd == "run" || cmd == "destroy" {
            args.push("--yes");
        }
        args.extend_from_slice(extra);
        let mut command = self.command(&args);
        let out: Output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{cmd}: {stderr}");
        let json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!("{cmd}: stdout is not one JSON object ({e}): {stdout}\n{stderr}")
        });
        (out.status.code().unwrap_or(-1), json, stderr)
    }

    pub fn state_view(&self) -> StateView {
        self.sim.state()
    }
}

/// What identifies the world's resources: (type, id) of everything, and every whitelist
/// group's entries.
#[derive(Debug, PartialEq)]
pub struct Inventory {
    pub resources: BTreeSet<(String, String)>,
    pub whitelists: BTreeMap<String, Vec<String>>,
}

pub fn inventory(view: &StateView) -> Inventory {
    let mut whitelists = BTreeMap::new();
    for g in view.of_type("whitelist-group") {
        let entries = g.attributes["entries"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        whitelists.insert(g.id.clone(), entries);
    }
    Inventory {
        resources: view
            .resources
            .iter()
            // A deleted resource may stay listed as `Deleted` for a while, as in the cloud.
            .filter(|r| r.kind != "whitelist-group" && !gone(&r.status))
            .map(|r| (r.kind.clone(), r.id.clone()))
            .collect(),
        whitelists,
    }
}

pub fn count(view: &StateView, kind: &str) -> usize {
    view.of_type(kind).count()
}

/// Every whitelist entry that existed at `before` still exists in `after`.
pub fn kept(before: &Inventory, after: &Inventory) {
    for (group, entries) in &before.whitelists {
        let now = after
            .whitelists
            .get(group)
            .unwrap_or_else(|| panic!("whitelist group {group} disappeared"));
        for e in entries {
            assert!(now.contains(e), "entry {e} of {group} disappeared: {now:?}");
        }
    }
}

/// Deleted resources the simulator (like the cloud) still lists for a while.
pub fn gone(status: &str) -> bool {
    matches!(status, "Deleted" | "Detached")
}
