//! `cargo xtask build`: the release host and every plugin component.
//! `cargo xtask test`: build, then the whole test suite (Rust, then the SDK conformance suite).
//!
//! Plugins are the `cdylib` crates under `plugins/`, `tests/fixtures/` and `examples/plugins/`;
//! each is built for `wasm32-wasip2` with the `plugin` profile and copied to
//! `target/plugins/<dir>.wasm` (fixtures to `target/fixtures/<dir>.wasm`).
//! Plugins in JavaScript are the folders under `examples/plugins/` with a `build.mjs`; they are
//! built with node when node and npm are installed, and skipped with a message otherwise.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-wasip2";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("build") => build(&root),
        Some("plugins") => build_plugins(&root),
        Some("test") => {
            build(&root)?;
            test(&root, &args[1..])
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 build     build the release host (target/release/dwlink-host) and every plugin (target/plugins/*.wasm)\n  \
                 plugins   build only the plugins and test fixtures\n  \
                 test      build, then run every test: cargo test --workspace --release and the SDK conformance suite\n            \
                 (--no-python skips the conformance suite)"
            );
            std::process::exit(2);
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Where cargo writes its build output: `CARGO_TARGET_DIR` when set (relative to the workspace
/// root), else `<root>/target`. The copies in `target/plugins` and `target/fixtures` always go
/// under the workspace root, where the tests look for them.
fn cargo_target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn build(root: &Path) -> Result<()> {
    run(cargo().args(["build", "--release", "--package", "dwlink-host"]))?;
    build_plugins(root)
}

/// Makes sure the wasm target is installed, installing it with rustup when it is missing.
fn ensure_wasm_target() -> Result<()> {
    let sysroot = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .context("could not run rustc --print sysroot")?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    if Path::new(&sysroot)
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .exists()
    {
        return Ok(());
    }
    eprintln!("xtask: the {WASM_TARGET} target is missing; installing it with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => bail!(
            "`rustup target add {WASM_TARGET}` failed ({s}); plugins cannot be built without it. \
             Install the target for your toolchain and run `cargo xtask build` again."
        ),
        Err(e) => bail!(
            "rustup is not available ({e}); install the {WASM_TARGET} target for your toolchain \
             by hand (plugins cannot be built without it), then run `cargo xtask build` again."
        ),
    }
}

/// The plugin crates: (directory name, package name, output folder).
fn plugin_crates(root: &Path) -> Result<Vec<(String, String, &'static str)>> {
    let mut found = Vec::new();
    for (dir, out) in [
        ("plugins", "plugins"),
        ("examples/plugins", "plugins"),
        ("tests/fixtures", "fixtures"),
    ] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let manifest = entry.path().join("Cargo.toml");
            let Ok(text) = std::fs::read_to_string(&manifest) else {
                continue;
            };
            if !text.contains("cdylib") {
                continue;
            }
            let package = text
                .lines()
                .find_map(|l| {
                    let l = l.trim();
                    l.strip_prefix("name")
                        .map(|r| r.trim_start())
                        .and_then(|r| r.strip_prefix('='))
                        .map(|r| r.trim().trim_matches('"').to_string())
                })
                .with_context(|| format!("no package name in {}", manifest.display()))?;
            found.push((
                entry.file_name().to_string_lossy().into_owned(),
                package,
                out,
            ));
        }
    }
    Ok(found)
}

fn build_plugins(root: &Path) -> Result<()> {
    ensure_wasm_target()?;
    let crates = plugin_crates(root)?;
    let mut cmd = cargo();
    cmd.args(["build", "--profile", "plugin", "--target", WASM_TARGET]);
    for (_, package, _) in &crates {
        cmd.args(["--package", package]);
    }
    run(&mut cmd)?;
    let built = cargo_target_dir(root).join(WASM_TARGET).join("plugin");
    for (dir, package, out) in &crates {
        let from = built.join(format!("{}.wasm", package.replace('-', "_")));
        let to_dir = root.join("target").join(out);
        std::fs::create_dir_all(&to_dir)?;
        let to = to_dir.join(format!("{dir}.wasm"));
        std::fs::copy(&from, &to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        let size = std::fs::metadata(&to)?.len();
        eprintln!("xtask: {} ({size} bytes)", to.display());
    }
    build_js_plugins(root)
}

/// `examples/plugins/<dir>` folders holding a JavaScript plugin (a `build.mjs`).
fn js_plugin_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.join("examples/plugins")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|d| d.join("build.mjs").exists() && d.join("package.json").exists())
        .collect();
    dirs.sort();
    dirs
}

/// Whether `program --version` runs.
fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds each JavaScript plugin with its documented command (`npm ci`, then `node build.mjs`,
/// which writes `target/plugins/<dir>.wasm`). Without node and npm they are skipped, and the
/// tests that load them say so.
fn build_js_plugins(root: &Path) -> Result<()> {
    for dir in js_plugin_dirs(root) {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        if !have("node") || !have("npm") {
            eprintln!(
                "xtask: skipping the JavaScript plugin {name}: node and npm are not installed \
                 (install Node.js 20 or later to build target/plugins/{name}.wasm)"
            );
            continue;
        }
        if !dir.join("node_modules").exists() {
            run(Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir))?;
        }
        run(Command::new("node").arg("build.mjs").current_dir(&dir))?;
    }
    Ok(())
}

/// The JavaScript plugins' own unit tests (node's test runner), when node is installed.
fn test_js_plugins(root: &Path) -> Result<()> {
    for dir in js_plugin_dirs(root) {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        if !have("node") {
            eprintln!(
                "xtask: skipping the tests of the JavaScript plugin {name}: node is not installed"
            );
            continue;
        }
        run(Command::new("node")
            .args(["--test", "test/"])
            .current_dir(&dir))?;
    }
    Ok(())
}

fn test(root: &Path, args: &[String]) -> Result<()> {
    test_js_plugins(root)?;
    // The plugins were just built: a test that finds none must fail, not skip.
    run(cargo()
        .args(["test", "--workspace", "--release"])
        .env("DWLINK_REQUIRE_PLUGINS", "1"))?;
    if args.iter().any(|a| a == "--no-python") {
        eprintln!("xtask: skipping the SDK conformance suite (--no-python)");
        return Ok(());
    }
    conformance(root)
}

/// The official-SDK conformance suite, in a virtual environment under `target/pyenv`.
fn conformance(root: &Path) -> Result<()> {
    let suite = root.join("tests/conformance");
    if !suite.join("requirements.txt").exists() {
        eprintln!("xtask: no conformance suite yet (tests/conformance/requirements.txt)");
        return Ok(());
    }
    let venv = root.join("target/pyenv");
    let python = venv.join("bin/python");
    if !python.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv)).context(
            "creating a Python virtual environment for the SDK conformance suite needs python3 with venv",
        )?;
    }
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(suite.join("requirements.txt")))?;
    run(Command::new(&python)
        .args(["-m", "pytest", "-q"])
        .arg(&suite)
        .env("DWLINK_HOST_BIN", root.join("target/release/dwlink-host")))
}
