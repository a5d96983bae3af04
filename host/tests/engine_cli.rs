//! The link commands refuse a bad link file with exit code 2, the file, the line and a fix,
//! before any call.

use std::process::Command;

fn dwlink(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dwlink-host"))
        .args(args)
        .env_remove("DWLINK_ENDPOINT")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_link_file_exits_2_with_file_line_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let seed = include_str!("../../examples/links/seed-peering.toml");
    let cases = [
        (
            "unknown.toml",
            seed.replace("[whitelist]", "[whitelist]\ncolour = \"blue\""),
            "colour",
        ),
        (
            "arn.toml",
            seed.replace(
                "acs:ram::1862710497302214:role/",
                "acs:ram::1862710497302214:user/",
            ),
            "role_arn",
        ),
        (
            "id.toml",
            seed.replace("rm-bp1simmysqlsource001", "db-1"),
            "instance_id",
        ),
    ];
    for (name, text, key) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &text).unwrap();
        let line = text.lines().position(|l| l.contains(key)).unwrap() + 1;
        for cmd in ["plan", "run", "destroy"] {
            let (code, stderr) = dwlink(&[
                cmd,
                "target/plugins/rds-mysql.wasm",
                "--link",
                path.to_str().unwrap(),
            ]);
            assert_eq!(code, 2, "{cmd} {name}: {stderr}");
            assert!(
                stderr.contains(&format!("{name}:{line}:")),
                "{cmd} {name}: {stderr}"
            );
            assert!(stderr.contains("fix:"), "{stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
    let (code, stderr) = dwlink(&["plan", "x.wasm", "--link", "/nonexistent/link.toml"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("/nonexistent/link.toml"), "{stderr}");
    let (code, _) = dwlink(&["plan", "x.wasm"]);
    assert_eq!(code, 2);
}
