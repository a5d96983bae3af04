//! `dwlink-host plugin validate` and `plugin inspect`, run as the real binary.

mod common;

use common::{cache_dir, fixture, plugin};
use sha2::{Digest, Sha256};
use std::process::{Command, Output};

fn dwlink(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dwlink-host"))
        .args(args)
        .env("DWLINK_CACHE_DIR", cache_dir())
        .env_remove("RUST_LOG")
        .output()
        .expect("run dwlink-host")
}

/// Exit code 2 and exactly one line on stderr, containing `needle`; nothing on stdout.
fn refused(args: &[&str], needle: &str) {
    let out = dwlink(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {stderr}"
    );
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn validate_refuses_a_text_file_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.wasm");
    std::fs::write(&path, "these are notes, not a plugin\n").unwrap();
    refused(
        &["plugin", "validate", path.to_str().unwrap()],
        "not a WebAssembly file",
    );
}

#[test]
fn validate_refuses_a_core_module_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("core.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    refused(
        &["plugin", "validate", path.to_str().unwrap()],
        "a core WebAssembly module, not a component",
    );
}

#[test]
fn validate_refuses_another_world_and_an_unsupported_version() {
    refused(
        &[
            "plugin",
            "validate",
            fixture("other-world").to_str().unwrap(),
        ],
        "a component of another world",
    );
    refused(
        &[
            "plugin",
            "validate",
            fixture("future-version").to_str().unwrap(),
        ],
        "built against plugin WIT 9.0.0, which this dwlink-host does not support (it supports 0.1.0, 0.2.0); rebuild the plugin against WIT 0.2.0",
    );
    refused(
        &["plugin", "validate", "/nonexistent/plugin.wasm"],
        "cannot read the plugin file",
    );
}

#[test]
fn validate_accepts_a_good_plugin() {
    let out = dwlink(&[
        "plugin",
        "validate",
        fixture("well-behaved").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("ok: "), "{stdout}");
    assert!(
        stdout.contains("plugin well-behaved 1.2.3 (WIT 0.1.0)"),
        "{stdout}"
    );
}

#[test]
fn inspect_prints_the_documented_json() {
    let path = fixture("well-behaved");
    let out = dwlink(&[
        "plugin",
        "inspect",
        path.to_str().unwrap(),
        "--output",
        "json",
        "--plugin-deadline-ms",
        "500",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "name",
        "version",
        "datasource_type",
        "product",
        "actions",
        "capabilities",
        "wit_version",
        "limits",
        "size_bytes",
        "sha256",
    ];
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(v["name"], "well-behaved");
    assert_eq!(v["wit_version"], "0.1.0");
    assert_eq!(v["limits"]["deadline_ms"], 500);
    assert_eq!(v["limits"]["memory_mib"], 64);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(v["size_bytes"], bytes.len() as u64);
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn inspect_describes_the_shipped_rds_mysql_plugin() {
    let path = plugin("rds-mysql");
    let out = dwlink(&[
        "plugin",
        "inspect",
        path.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    let mut expected = vec![
        "name",
        "version",
        "datasource_type",
        "product",
        "actions",
        "capabilities",
        "wit_version",
        "limits",
        "size_bytes",
        "sha256",
    ];
    expected.sort();
    assert_eq!(keys, expected, "{v:#}");
    assert_eq!(v["name"], "rds-mysql");
    assert_eq!(v["datasource_type"], "mysql");
    assert_eq!(v["wit_version"], "0.2.0");
    let modify = v["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "rds:ModifySecurityIps")
        .expect("the whitelist write is a capability");
    assert_eq!(modify["access"], "whitelist-write");
    assert_eq!(modify["instance_param"], "DBInstanceId");
    assert_eq!(modify["whitelist"]["group_param"], "DBInstanceIPArrayName");
    assert_eq!(modify["whitelist"]["append_mode"], "Append");
    let actions: Vec<&str> = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(actions.contains(&"rds:ModifySecurityIps"), "{actions:?}");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(v["size_bytes"], bytes.len() as u64);
    assert_eq!(v["sha256"], hex::encode(Sha256::digest(&bytes)));
}

#[test]
fn inspect_refuses_limits_above_the_host_maximum() {
    refused(
        &[
            "plugin",
            "inspect",
            fixture("well-behaved").to_str().unwrap(),
            "--plugin-memory-mib",
            "9999",
        ],
        "above the host maximum 512",
    );
}

#[test]
fn validate_refuses_a_component_above_the_size_cap_before_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.wasm");
    // A valid component header, then zeros up to 33 MiB (a sparse file: cheap to write).
    std::fs::write(&path, b"\0asm\x0d\0\x01\0").unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(33 << 20).unwrap();
    refused(
        &["plugin", "validate", path.to_str().unwrap()],
        "more than the 32 MiB a plugin component may have",
    );
    // The cap is a limit like the others: lowered on the command line, and bounded.
    let small = dir.path().join("small.wasm");
    std::fs::write(&small, b"\0asm\x0d\0\x01\0").unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&small)
        .unwrap();
    file.set_len((1 << 20) + 1).unwrap();
    refused(
        &[
            "plugin",
            "validate",
            small.to_str().unwrap(),
            "--plugin-max-component-mib",
            "1",
        ],
        "more than the 1 MiB a plugin component may have",
    );
    refused(
        &[
            "plugin",
            "validate",
            small.to_str().unwrap(),
            "--plugin-max-component-mib",
            "257",
        ],
        "above the host maximum 256",
    );
}
