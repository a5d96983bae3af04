//! `dwlink-host plugin test`, run as the real binary against the embedded simulator: the
//! shipped plugins pass every check, the Cover fixture fails the right one and says so, bad
//! input exits 2. Needs `cargo xtask plugins` (it builds target/plugins and target/fixtures).

mod common;

use common::{cache_dir, fixture, js_plugin};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CHECKS: [&str; 7] = [
    "discovery",
    "add-idempotent",
    "remove-keeps-others",
    "second-run-writes-nothing",
    "calls-declared",
    "throttling",
    "connection-properties",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `target/plugins/<name>.wasm`, built by `cargo xtask plugins`.
fn plugin(name: &str) -> PathBuf {
    let path = root().join("target/plugins").join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask plugins` first",
        path.display()
    );
    path
}

fn dwlink(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dwlink-host"))
        .args(args)
        .env("DWLINK_CACHE_DIR", cache_dir())
        .env_remove("RUST_LOG")
        .env_remove("DWLINK_ENDPOINT")
        .output()
        .expect("run dwlink-host")
}

fn test_json(file: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let mut args = vec!["plugin", "test", file.to_str().unwrap(), "--output", "json"];
    args.extend_from_slice(extra);
    let out = dwlink(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}); stderr: {stderr}"));
    (out.status.code(), report, stderr)
}

fn statuses(report: &Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every check ran, in order, and passed; the calls seen are exactly the declared ones.
fn assert_all_pass(name: &str, code: Option<i32>, report: &Value, stderr: &str) {
    let got = statuses(report);
    let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, CHECKS, "{name}");
    for (id, status) in &got {
        assert_eq!(status, "pass", "{name}: check {id}: {report:#}");
    }
    assert_eq!(code, Some(0), "{name}: {stderr}");
    assert_eq!(report["passed"], true);
    assert_eq!(report["plugin"]["name"], name);
    let called: Vec<&str> = report["calls"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut declared: Vec<&str> = report["declared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    declared.sort();
    assert_eq!(called, declared, "{name}: every declared action is used");
    assert!(
        report["calls"]
            .as_object()
            .unwrap()
            .keys()
            .any(|a| a.contains("Modify"))
    );
}

#[test]
fn the_shipped_rust_plugins_pass_every_check() {
    for (name, instance) in [
        ("rds-mysql", "rm-bp1simmysqlsource001"),
        ("polardb", "pc-bp1simpolardbsrc0001"),
        ("mongodb", "dds-bp1simmongosrc00001"),
    ] {
        let (code, report, stderr) = test_json(&plugin(name), &[]);
        assert_all_pass(name, code, &report, &stderr);
        // Picked from the default scenario by the plugin's product.
        // Renamed for the run (a plugin must not recognise the test), same prefix.
        let prefix = instance.split('-').next().unwrap();
        let id = report["instance"]["id"].as_str().unwrap();
        assert!(
            id.starts_with(&format!("{prefix}-")) && id != instance,
            "{name}: {id}"
        );
        assert_eq!(report["instance"]["account"], "A");
        // The throttling check did meet throttling.
        let throttling = &report["checks"][5];
        assert!(throttling.get("warnings").is_none(), "{throttling}");
    }
}

#[test]
fn text_output_lists_each_check_and_ends_with_the_verdict() {
    let file = plugin("rds-mysql");
    let out = dwlink(&["plugin", "test", file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for id in CHECKS {
        assert!(
            text.lines()
                .any(|l| l.starts_with("PASS  ") && l.contains(id)),
            "{id}: {text}"
        );
    }
    assert!(text.contains("rds:ModifySecurityIps"), "{text}");
    assert!(
        text.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("ok: plugin rds-mysql passed all 7 checks"),
        "{text}"
    );
}

#[test]
fn a_plugin_that_covers_the_whitelist_fails_naming_the_check_and_the_plugin() {
    // Contract 0.2: the gate refuses the Cover write before it is sent, so the plugin fails the
    // scope check and every whitelist check, and the cloud never saw the write.
    let file = fixture("cover-whitelist");
    let (code, report, stderr) = test_json(&file, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(report["passed"], false);
    let got = statuses(&report);
    let status = |id: &str| got.iter().find(|(i, _)| i == id).unwrap().1.clone();
    for id in ["calls-declared", "add-idempotent", "throttling"] {
        assert_eq!(status(id), "fail", "check {id}: {report:#}");
    }
    for id in ["discovery", "connection-properties"] {
        assert_eq!(status(id), "pass", "check {id}: {report:#}");
    }
    let problems = report["checks"][4]["problems"].to_string();
    assert!(
        problems.contains("plugin cover-whitelist: whitelist-add: tried rds:ModifySecurityIps out of scope (ModifyMode = Cover"),
        "{problems}"
    );
    assert!(
        report["calls"].get("rds:ModifySecurityIps").is_none(),
        "the Cover write reached the cloud: {report:#}"
    );

    let out = dwlink(&["plugin", "test", file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  calls-declared"), "{text}");
    assert!(
        text.contains("FAILED: plugin cover-whitelist failed"),
        "{text}"
    );
}

#[test]
fn the_javascript_plugin_passes_with_its_scenario() {
    let Some(file) = js_plugin("rds-postgresql", "plugin_testkit") else {
        return;
    };
    let scenario = root().join("examples/scenarios/rds-postgresql.toml");
    let (code, report, stderr) = test_json(&file, &["--scenario", scenario.to_str().unwrap()]);
    assert_all_pass("rds-postgresql", code, &report, &stderr);
    assert!(
        report["instance"]["id"]
            .as_str()
            .unwrap()
            .starts_with("pgm-"),
        "{report:#}"
    );

    // The default scenario has no PostgreSQL instance: bad input, and the way out.
    let out = dwlink(&["plugin", "test", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no RDS instance with engine postgresql") && stderr.contains("--scenario"),
        "{stderr}"
    );
}

#[test]
fn bad_input_exits_2_in_one_line() {
    let mysql = plugin("rds-mysql");
    let mysql = mysql.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "name = \"x\"\n[[accounts]]\nname = 1\n").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "plugin",
                "test",
                mysql,
                "--instance",
                "pc-bp1simpolardbsrc0001",
            ],
            "is a PolarDB cluster",
        ),
        (
            &["plugin", "test", mysql, "--instance", "rm-nope"],
            "--instance rm-nope is not in scenario",
        ),
        (
            &[
                "plugin",
                "test",
                mysql,
                "--scenario",
                broken.to_str().unwrap(),
            ],
            "--scenario",
        ),
        (
            &["plugin", "test", mysql, "--faults", "throttle=2"],
            "--faults",
        ),
        (
            &["plugin", "test", "/nonexistent/plugin.wasm"],
            "cannot read the plugin file",
        ),
    ];
    for (args, needle) in cases {
        let out = dwlink(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn an_undeclared_call_fails_calls_declared() {
    // The hostile fixture calls vpc:DeleteVpc from `discover` for an instance with this id.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("undeclared.toml");
    let seed = std::fs::read_to_string(root().join("examples/scenarios/seed.toml")).unwrap();
    std::fs::write(
        &scenario,
        seed.replace("rm-bp1simmysqlsource001", "undeclared-action"),
    )
    .unwrap();
    let (code, report, stderr) = test_json(
        &fixture("hostile"),
        &[
            "--scenario",
            scenario.to_str().unwrap(),
            "--instance",
            "undeclared-action",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let declared = &report["checks"][4];
    assert_eq!(declared["id"], "calls-declared");
    assert_eq!(declared["status"], "fail", "{declared}");
    let problems = declared["problems"].to_string();
    assert!(
        problems
            .contains("plugin hostile: discover: called vpc:DeleteVpc, which it did not declare"),
        "{problems}"
    );
    // Refused before it was sent: it never reached the cloud.
    assert!(report["calls"].get("vpc:DeleteVpc").is_none(), "{report:#}");
}

#[test]
fn each_run_uses_fresh_names_so_a_plugin_cannot_recognise_the_test() {
    let file = plugin("rds-mysql");
    let (code, first, stderr) = test_json(&file, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, second, stderr) = test_json(&file, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let id = |r: &Value| r["instance"]["id"].as_str().unwrap().to_string();
    assert!(id(&first).starts_with("rm-"), "{first:#}");
    assert_ne!(
        id(&first),
        id(&second),
        "the instance id is the same in two runs"
    );
    assert_ne!(
        id(&first),
        "rm-bp1simmysqlsource001",
        "the seed's id is recognisable"
    );
    // The group and the entries differ too (the add-idempotent note names both).
    let note = |r: &Value| r["checks"][1]["notes"].to_string();
    assert_ne!(note(&first), note(&second));
    assert!(
        !note(&first).contains("group dataworks"),
        "{}",
        note(&first)
    );
}
