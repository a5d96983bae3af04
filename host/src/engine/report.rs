//! What a run, plan or destroy tells the user: text for people, one JSON object for machines.

use super::diagnose::Diagnosis;
use crate::network::dataworks::Connectivity;
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The connectivity test passed.
    Connected,
    /// Applied, but DataWorks cannot connect (exit 3).
    NotConnected,
    /// Something failed before the link was complete (exit 1).
    Failed,
    /// `destroy` removed everything dwlink created (exit 0).
    Destroyed,
    /// `plan` only: nothing was changed (exit 0).
    Planned,
}

impl Status {
    /// The process exit code for this outcome.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Connected | Status::Destroyed | Status::Planned => 0,
            Status::Failed => 1,
            Status::NotConnected => 3,
        }
    }
}

/// Cloud calls of a run: every call, the engine's, the plugin's and `AssumeRole`, once each
/// however often it was retried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    pub read: u64,
    pub write: u64,
    /// Per account (`A`, `B`), with retries and failures, when the run used the cloud client.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub by_account: std::collections::BTreeMap<String, crate::cloud::CallCounts>,
}

impl std::fmt::Display for Calls {
    /// `12 read, 3 write (A: 5 read, 1 write; B: 7 read, 2 write, 1 retry)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} read, {} write", self.read, self.write)?;
        if !self.by_account.is_empty() {
            let parts: Vec<String> = self
                .by_account
                .iter()
                .map(|(name, c)| {
                    let mut p = format!("{name}: {} read, {} write", c.reads, c.writes);
                    if c.retries > 0 {
                        p += &format!(", {} retried", c.retries);
                    }
                    if c.failures > 0 {
                        p += &format!(", {} failed", c.failures);
                    }
                    p
                })
                .collect();
            write!(f, " ({})", parts.join("; "))?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    pub name: String,
    /// `planned`, `done`, `adopted`, `failed`, `undone`; for `status`: `created`, `sent`,
    /// `missing`.
    pub status: String,
    pub account: String,
    pub region: String,
    pub action: String,
    pub resource_ids: Vec<String>,
    pub why: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub status: Status,
    pub link_id: String,
    pub mode: Option<String>,
    pub mode_reason: Option<String>,
    pub steps: Vec<StepReport>,
    pub calls: Calls,
    pub connectivity: Option<Connectivity>,
    /// Set by `run` when the connectivity test fails: the diagnosis, or why it could not run.
    #[serde(serialize_with = "diagnosis_json")]
    pub diagnosis: Option<Result<Diagnosis, String>>,
    pub notes: Vec<String>,
    pub error: Option<String>,
    /// The failure was the user's input (exit 2), e.g. an unset password variable.
    #[serde(skip)]
    pub bad_input: bool,
}

impl Report {
    pub fn new(link_id: String) -> Report {
        Report {
            status: Status::Failed,
            link_id,
            mode: None,
            mode_reason: None,
            steps: Vec::new(),
            calls: Calls::default(),
            connectivity: None,
            diagnosis: None,
            notes: Vec::new(),
            error: None,
            bad_input: false,
        }
    }

    pub fn exit_code(&self) -> u8 {
        if self.bad_input {
            return 2;
        }
        self.status.exit_code()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "link {}", self.link_id);
        if let (Some(m), Some(r)) = (&self.mode, &self.mode_reason) {
            let _ = writeln!(out, "mode: {m} ({r})");
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        if self.steps.is_empty() && self.status != Status::Failed {
            let _ = writeln!(out, "nothing to change");
        }
        for s in &self.steps {
            let ids = if s.resource_ids.is_empty() {
                String::new()
            } else {
                format!(" -> {}", s.resource_ids.join(", "))
            };
            let _ = writeln!(
                out,
                "  [{:<7}] {:<24} account {} {}: {}{ids}",
                s.status, s.name, s.account, s.region, s.action
            );
            if let Some(e) = &s.error {
                let _ = writeln!(out, "            error: {e}");
            }
        }
        if let Some(c) = &self.connectivity {
            // The simulator's and DataWorks' messages often start with the state itself.
            let message = c
                .message
                .strip_prefix(c.state.as_str())
                .unwrap_or(&c.message);
            let message = message.trim_start_matches([':', ' ']);
            let _ = writeln!(out, "connectivity: {}: {message}", c.state);
            for l in &c.detail_logs {
                let _ = writeln!(out, "  {}: {}", l.code, l.message);
            }
        }
        let _ = writeln!(out, "calls: {}", self.calls);
        match &self.diagnosis {
            Some(Ok(d)) => out.push_str(&d.to_text()),
            Some(Err(e)) => {
                let _ = writeln!(out, "diagnosis failed: {e}");
            }
            None => {}
        }
        if let Some(e) = &self.error {
            let _ = writeln!(out, "error: {e}");
        }
        let verdict = match self.status {
            Status::Connected => "connected",
            Status::NotConnected
                if self
                    .steps
                    .iter()
                    .any(|s| matches!(s.status.as_str(), "missing" | "deleted" | "stale")) =>
            {
                "incomplete: `dwlink-host run` takes the missing steps (and creates anew what was deleted)"
            }
            Status::NotConnected if self.diagnosis.is_none() => {
                "DataWorks cannot connect: `dwlink-host diagnose` names the broken hop"
            }
            Status::NotConnected => {
                "applied, but DataWorks cannot connect (see the diagnosis above)"
            }
            Status::Failed => "failed",
            Status::Destroyed => "destroyed: everything dwlink created for this link is gone",
            Status::Planned => "plan only: nothing was changed",
        };
        let _ = writeln!(out, "result: {verdict}");
        out
    }
}

/// `diagnosis` is the diagnosis object, `{"error": ...}` when it could not run, or null.
fn diagnosis_json<S: serde::Serializer>(
    d: &Option<Result<Diagnosis, String>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(Ok(d)) => d.serialize(s),
        Some(Err(e)) => serde_json::json!({ "error": e }).serialize(s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_documented_keys_and_exit_codes_follow_status() {
        let mut r = Report::new("dwl-0".into());
        r.status = Status::NotConnected;
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        for k in [
            "status",
            "mode",
            "steps",
            "calls",
            "connectivity",
            "diagnosis",
        ] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        assert_eq!(v["status"], "not_connected");
        assert_eq!(v["calls"]["read"], 0);
        assert_eq!(r.exit_code(), 3);
        r.status = Status::Connected;
        assert_eq!(r.exit_code(), 0);
        r.status = Status::Failed;
        assert_eq!(r.exit_code(), 1);
        r.bad_input = true;
        assert_eq!(r.exit_code(), 2);
        assert!(v.get("bad_input").is_none());
    }
}
