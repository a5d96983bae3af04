//! The built plugin components carry the WIT version in a `dwlink:wit-version` custom section
//! of their core module, exactly once, even with `strip = true` in the `plugin` profile.
//!
//! Scans `target/plugins/*.wasm`, which `cargo xtask plugins` (and `.ci/run`) build first.
//! A plain `cargo test` without them skips with a message; with `DWLINK_REQUIRE_PLUGINS=1`
//! (which `cargo xtask test` sets, after building them) checking no plugin is a failure.

use std::path::Path;

/// Nothing to check: fails under `DWLINK_REQUIRE_PLUGINS=1`, else says why and skips.
fn nothing_checked(why: String) {
    assert!(
        std::env::var("DWLINK_REQUIRE_PLUGINS").as_deref() != Ok("1"),
        "DWLINK_REQUIRE_PLUGINS=1, but {why}"
    );
    println!("skipped: {why}");
}

#[test]
fn every_built_plugin_carries_the_wit_version_once() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return nothing_checked(format!(
            "{} does not exist; run `cargo xtask plugins` first",
            dir.display()
        ));
    };
    let mut checked = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("wasm") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            wasmparser::Parser::is_component(&bytes),
            "{} is not a component",
            path.display()
        );
        let mut found = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
            if let wasmparser::Payload::CustomSection(section) = payload.unwrap()
                && section.name() == "dwlink:wit-version"
            {
                found.push(section.data().to_vec());
            }
        }
        assert_eq!(
            found,
            vec![dwlink_plugin_sdk::WIT_VERSION.as_bytes().to_vec()],
            "{}",
            path.display()
        );
        checked += 1;
    }
    if checked == 0 {
        return nothing_checked(format!(
            "{} holds no plugin component; run `cargo xtask plugins` first",
            dir.display()
        ));
    }
    println!("checked {checked} plugin components in {}", dir.display());
}
