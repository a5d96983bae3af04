//! Which plugins this machine may run: the operator's allow-list, for shared environments.
//!
//! A policy exists when `--allow-plugin sha256:HEX` is given, or a policy file is found
//! (`--plugin-policy FILE`, else `$DWLINK_PLUGIN_POLICY`, else `$XDG_CONFIG_HOME/dwlink/plugins.toml`
//! or `~/.config/dwlink/plugins.toml`). With a policy, a plugin whose sha256 is not listed is
//! refused before it is compiled (exit 2). Without one, every plugin may run, as before.
//!
//! ```toml
//! # plugins.toml
//! [[allow]]
//! sha256 = "3f1c..."        # the file's sha256, as `dwlink-host plugin inspect` shows it
//! name = "rds-mysql"        # for people; not checked
//! ```

use super::BadInput;
use clap::Args;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone, Default)]
pub struct ConsentArgs {
    /// Admit only plugins with this sha256 (repeatable), e.g. `sha256:3f1c...`; any other plugin
    /// is refused before it is compiled.
    #[arg(long = "allow-plugin", value_name = "sha256:HEX")]
    pub allow_plugin: Vec<String>,
    /// A policy file listing the plugins this machine may run (`[[allow]] sha256 = "..."`);
    /// also DWLINK_PLUGIN_POLICY; default ~/.config/dwlink/plugins.toml when it exists.
    #[arg(
        long = "plugin-policy",
        env = "DWLINK_PLUGIN_POLICY",
        value_name = "FILE"
    )]
    pub plugin_policy: Option<PathBuf>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    allow: Vec<Allowed>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Allowed {
    sha256: String,
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
}

/// The allow-list in force, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    allowed: BTreeSet<String>,
    /// Where it came from, for the refusal.
    source: String,
}

fn default_policy_file() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("XDG_CONFIG_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".config")))
        .map(|d| d.join("dwlink").join("plugins.toml"))
        .filter(|p| p.is_file())
}

fn parse_sha(text: &str, source: &str) -> Result<String, BadInput> {
    let hex = text.trim().strip_prefix("sha256:").unwrap_or(text.trim());
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(BadInput(format!(
            "{source}: {text:?} is not a sha256 (64 hex digits, optionally after `sha256:`); \
             `dwlink-host plugin inspect FILE` prints a plugin's sha256"
        )));
    }
    Ok(hex.to_ascii_lowercase())
}

impl ConsentArgs {
    /// The policy these arguments (and the environment's default file) set up.
    pub fn policy(&self) -> Result<Option<Policy>, BadInput> {
        let file = self.plugin_policy.clone().or_else(default_policy_file);
        let mut allowed = BTreeSet::new();
        let mut sources = Vec::new();
        for a in &self.allow_plugin {
            allowed.insert(parse_sha(a, "--allow-plugin")?);
        }
        if !self.allow_plugin.is_empty() {
            sources.push("--allow-plugin".to_string());
        }
        if let Some(path) = file {
            allowed.extend(read_policy_file(&path)?);
            sources.push(format!("policy file {}", path.display()));
        }
        if sources.is_empty() {
            return Ok(None);
        }
        Ok(Some(Policy {
            allowed,
            source: sources.join(" and "),
        }))
    }

    /// Refuses the plugin read from `path` (exit 2) unless the policy admits its bytes; the
    /// caller loads exactly these bytes, so the file that was checked is the file that runs.
    pub fn admit(&self, path: &Path, bytes: &[u8]) -> Result<(), BadInput> {
        match self.policy()? {
            Some(policy) => policy.admit(path, bytes),
            None => Ok(()),
        }
    }
}

fn read_policy_file(path: &Path) -> Result<BTreeSet<String>, BadInput> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        BadInput(format!(
            "plugin policy {}: cannot read it: {e}",
            path.display()
        ))
    })?;
    let file: PolicyFile = toml::from_str(&text).map_err(|e| {
        BadInput(format!(
            "plugin policy {}: {}; write one `[[allow]]` table per plugin with `sha256 = \"...\"`",
            path.display(),
            e.message()
        ))
    })?;
    let source = format!("plugin policy {}", path.display());
    file.allow
        .iter()
        .map(|a| parse_sha(&a.sha256, &source))
        .collect()
}

impl Policy {
    pub fn admit(&self, path: &Path, bytes: &[u8]) -> Result<(), BadInput> {
        let sha = hex::encode(Sha256::digest(bytes));
        if self.allowed.contains(&sha) {
            return Ok(());
        }
        Err(BadInput(format!(
            "plugin {} (sha256:{sha}) is not admitted by {}; nothing was compiled or run. Review \
             what it may do with `dwlink-host plugin inspect {}`, then add it with \
             `--allow-plugin sha256:{sha}` or an `[[allow]] sha256 = \"{sha}\"` entry",
            path.display(),
            self.source,
            path.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_policy_admits_everything_and_a_policy_admits_only_its_list() {
        let dir = tempfile::tempdir().unwrap();
        let plugin = dir.path().join("p.wasm");
        let bytes = b"plugin bytes";
        let sha = hex::encode(Sha256::digest(b"plugin bytes"));
        let none = ConsentArgs {
            plugin_policy: Some(dir.path().join("absent.toml")),
            ..Default::default()
        };
        // A named policy file that does not exist is an error, not "no policy".
        assert!(none.admit(&plugin, bytes).is_err());
        let flag = ConsentArgs {
            allow_plugin: vec![format!("sha256:{sha}")],
            plugin_policy: None,
        };
        assert!(flag.admit(&plugin, bytes).is_ok());
        let other = ConsentArgs {
            allow_plugin: vec![format!("sha256:{}", "0".repeat(64))],
            plugin_policy: None,
        };
        let err = other.admit(&plugin, bytes).unwrap_err().to_string();
        assert!(
            err.contains(&sha) && err.contains("not admitted by --allow-plugin"),
            "{err}"
        );
        let file = dir.path().join("plugins.toml");
        std::fs::write(
            &file,
            format!("[[allow]]\nsha256 = \"{sha}\"\nname = \"p\"\n"),
        )
        .unwrap();
        let by_file = ConsentArgs {
            plugin_policy: Some(file.clone()),
            ..Default::default()
        };
        assert!(by_file.admit(&plugin, bytes).is_ok());
        std::fs::write(&file, "[[allow]]\nsha = \"x\"\n").unwrap();
        let err = by_file.policy().unwrap_err().to_string();
        assert!(
            err.contains("plugins.toml") && err.contains("[[allow]]"),
            "{err}"
        );
        let bad = ConsentArgs {
            allow_plugin: vec!["sha256:xyz".into()],
            plugin_policy: None,
        };
        assert!(
            bad.policy()
                .unwrap_err()
                .to_string()
                .contains("64 hex digits")
        );
    }
}
