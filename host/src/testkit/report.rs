//! The outcome of `plugin test`: one line per check, the calls the plugin made, as text or JSON.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The checks, in the order they run and print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    Discovery,
    AddIdempotent,
    RemoveKeepsOthers,
    SecondRunWritesNothing,
    CallsDeclared,
    Throttling,
    ConnectionProperties,
}

impl CheckId {
    pub const ALL: [CheckId; 7] = [
        CheckId::Discovery,
        CheckId::AddIdempotent,
        CheckId::RemoveKeepsOthers,
        CheckId::SecondRunWritesNothing,
        CheckId::CallsDeclared,
        CheckId::Throttling,
        CheckId::ConnectionProperties,
    ];

    /// The name printed and accepted in messages, e.g. `add-idempotent`.
    pub fn name(self) -> &'static str {
        match self {
            CheckId::Discovery => "discovery",
            CheckId::AddIdempotent => "add-idempotent",
            CheckId::RemoveKeepsOthers => "remove-keeps-others",
            CheckId::SecondRunWritesNothing => "second-run-writes-nothing",
            CheckId::CallsDeclared => "calls-declared",
            CheckId::Throttling => "throttling",
            CheckId::ConnectionProperties => "connection-properties",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            CheckId::Discovery => "discovery matches the scenario",
            CheckId::AddIdempotent => "whitelist add is idempotent",
            CheckId::RemoveKeepsOthers => "whitelist remove leaves every other entry",
            CheckId::SecondRunWritesNothing => "a second add or remove writes nothing",
            CheckId::CallsDeclared => "every call was declared and in scope",
            CheckId::Throttling => "add and remove converge under throttling",
            CheckId::ConnectionProperties => "connection properties are DataWorks JSON",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Could not run because an earlier step failed (counts as not passed).
    Skip,
}

/// One check's result: why it failed (`problems`), what is worth knowing (`notes`), and
/// what is suspicious but allowed (`warnings`).
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub title: &'static str,
    pub status: Status,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Check {
    pub fn new(id: CheckId) -> Check {
        Check {
            id,
            title: id.title(),
            status: Status::Pass,
            problems: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn fail(&mut self, problem: impl Into<String>) {
        self.status = Status::Fail;
        self.problems.push(problem.into());
    }

    pub fn skip(&mut self, why: impl Into<String>) {
        if self.status == Status::Pass {
            self.status = Status::Skip;
        }
        self.problems.push(why.into());
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PluginSummary {
    pub name: String,
    pub version: String,
    pub file: String,
    pub product: String,
    pub datasource_type: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstanceSummary {
    pub id: String,
    pub kind: String,
    pub account: String,
    pub region: String,
}

/// Everything `plugin test` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub plugin: PluginSummary,
    /// The scenario's source: a path, or `examples/scenarios/seed.toml (embedded)`.
    pub scenario: String,
    pub instance: InstanceSummary,
    /// The fault settings of the throttling check's simulator.
    pub faults: String,
    pub checks: Vec<Check>,
    /// Calls that reached the cloud, `product:Action` -> count (both simulators).
    pub calls: BTreeMap<String, u64>,
    pub declared: Vec<String>,
    pub passed: bool,
    pub elapsed_ms: u64,
}

impl Report {
    pub fn failed(&self) -> Vec<&Check> {
        self.checks
            .iter()
            .filter(|c| c.status != Status::Pass)
            .collect()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    pub fn to_text(&self) -> String {
        let p = &self.plugin;
        let mut out = String::new();
        let _ = writeln!(out, "plugin test: {} {} ({})", p.name, p.version, p.file);
        let _ = writeln!(out, "  scenario  {}", self.scenario);
        let i = &self.instance;
        let _ = writeln!(
            out,
            "  instance  {} ({}, account {}, {})",
            i.id, i.kind, i.account, i.region
        );
        for c in &self.checks {
            let label = match c.status {
                Status::Pass => "PASS",
                Status::Fail => "FAIL",
                Status::Skip => "SKIP",
            };
            let _ = writeln!(out, "{label}  {:<26} {}", c.id.name(), c.title);
            for line in &c.problems {
                let _ = writeln!(out, "        {line}");
            }
            for line in &c.notes {
                let _ = writeln!(out, "        {line}");
            }
            for line in &c.warnings {
                let _ = writeln!(out, "        warning: {line}");
            }
        }
        let _ = writeln!(out, "calls made:");
        if self.calls.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for (action, n) in &self.calls {
            let _ = writeln!(out, "  {action:<44} {n}");
        }
        let failed = self.failed();
        let seconds = self.elapsed_ms as f64 / 1000.0;
        if failed.is_empty() {
            let _ = writeln!(
                out,
                "ok: plugin {} passed all {} checks ({seconds:.1} s)",
                p.name,
                self.checks.len()
            );
        } else {
            let names: Vec<&str> = failed.iter().map(|c| c.id.name()).collect();
            let _ = writeln!(
                out,
                "FAILED: plugin {} failed {} of {} checks: {} ({seconds:.1} s)",
                p.name,
                failed.len(),
                self.checks.len(),
                names.join(", ")
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(checks: Vec<Check>) -> Report {
        let passed = checks.iter().all(|c| c.status == Status::Pass);
        Report {
            plugin: PluginSummary {
                name: "cover-whitelist".into(),
                version: "0.1.0".into(),
                file: "x.wasm".into(),
                product: "Rds".into(),
                datasource_type: "mysql".into(),
            },
            scenario: "seed".into(),
            instance: InstanceSummary {
                id: "rm-1".into(),
                kind: "RDS instance".into(),
                account: "A".into(),
                region: "cn-hangzhou".into(),
            },
            faults: "throttle=0.3,seed=7".into(),
            checks,
            calls: BTreeMap::from([("rds:ModifySecurityIps".to_string(), 3)]),
            declared: vec!["rds:ModifySecurityIps".into()],
            passed,
            elapsed_ms: 1234,
        }
    }

    #[test]
    fn text_names_each_failed_check_and_the_plugin() {
        let mut bad = Check::new(CheckId::RemoveKeepsOthers);
        bad.fail("plugin cover-whitelist removed entry 10.0.0.1");
        let mut skipped = Check::new(CheckId::SecondRunWritesNothing);
        skipped.skip("not run: the first add failed");
        let text = report(vec![Check::new(CheckId::Discovery), bad, skipped]).to_text();
        assert!(text.contains("PASS  discovery"), "{text}");
        assert!(text.contains("FAIL  remove-keeps-others"), "{text}");
        assert!(text.contains("        plugin cover-whitelist removed entry 10.0.0.1"));
        assert!(
            text.contains(
                "FAILED: plugin cover-whitelist failed 2 of 3 checks: remove-keeps-others, second-run-writes-nothing"
            ),
            "{text}"
        );
    }

    #[test]
    fn json_lists_checks_by_id() {
        let mut warned = Check::new(CheckId::CallsDeclared);
        warned.warn("declared but never used: rds:DescribeDBInstanceNetInfo");
        let v: serde_json::Value = serde_json::from_str(&report(vec![warned]).to_json()).unwrap();
        assert_eq!(v["passed"], true);
        assert_eq!(v["checks"][0]["id"], "calls-declared");
        assert_eq!(v["checks"][0]["status"], "pass");
        assert!(v["checks"][0].get("problems").is_none());
        assert_eq!(v["calls"]["rds:ModifySecurityIps"], 3);
    }
}
