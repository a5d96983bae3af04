//! Credentials and where they come from, in the order the official tools use:
//! an explicit profile (named in the link file) -> environment variables -> the aliyun CLI
//! config file (`~/.aliyun/config.json`; `ALIBABA_CLOUD_PROFILE` or its `current` picks the
//! profile). Secrets are wrapped in [`Secret`] so no `Debug`/`Display` can leak them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub const ENV_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
pub const ENV_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
pub const ENV_SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
pub const ENV_PROFILE: &str = "ALIBABA_CLOUD_PROFILE";

/// A secret string (AccessKey secret, STS token). `Debug` and `Display` print `<redacted>`;
/// the value is reachable only through [`Secret::expose`], which only the signer calls.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A usable set of credentials: an AccessKey pair, plus a token and an expiry when they come
/// from STS.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    pub security_token: Option<Secret>,
    pub expiration: Option<jiff::Timestamp>,
}

impl Credentials {
    pub fn access_key(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials {
            access_key_id: id.into(),
            access_key_secret: Secret::new(secret),
            security_token: None,
            expiration: None,
        }
    }

    pub fn sts(id: impl Into<String>, secret: impl Into<String>, token: impl Into<String>) -> Self {
        Credentials {
            security_token: Some(Secret::new(token)),
            ..Credentials::access_key(id, secret)
        }
    }

    /// The secret strings, for scrubbing anything that might echo them (error messages).
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.access_key_secret.expose())
            .chain(self.security_token.as_ref().map(Secret::expose))
            .filter(|s| !s.is_empty())
    }
}

/// What a credential source yields: credentials to use as they are, or credentials to assume
/// a RAM role with (aliyun CLI mode `RamRoleArn`).
#[derive(Clone, Debug)]
pub enum SourceCredentials {
    Static(Credentials),
    RamRoleArn {
        base: Credentials,
        role_arn: String,
        session_name: Option<String>,
        duration_seconds: Option<u32>,
    },
}

/// Where credentials were found, for messages (never the values).
#[derive(Clone, Debug)]
pub struct Resolved {
    pub credentials: SourceCredentials,
    /// E.g. `environment`, `profile "b-admin" in /home/u/.aliyun/config.json`.
    pub source: String,
}

/// A credential failure: says which source was tried and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CredentialError(pub String);

/// The process environment and the CLI config path, injectable so tests need not touch the
/// real environment or home directory.
#[derive(Clone, Debug, Default)]
pub struct CredentialEnv {
    pub vars: BTreeMap<String, String>,
    pub config_path: Option<PathBuf>,
}

impl CredentialEnv {
    /// The real environment and `~/.aliyun/config.json`.
    pub fn from_process() -> Self {
        let vars = [
            ENV_ACCESS_KEY_ID,
            ENV_ACCESS_KEY_SECRET,
            ENV_SECURITY_TOKEN,
            ENV_PROFILE,
        ]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect();
        let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"));
        CredentialEnv {
            vars,
            config_path: home.map(|h| Path::new(&h).join(".aliyun").join("config.json")),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Resolves credentials: `profile` (from the link file) if given, else the environment,
    /// else the CLI config file's `ALIBABA_CLOUD_PROFILE` or `current` profile.
    pub fn resolve(&self, profile: Option<&str>) -> Result<Resolved, CredentialError> {
        if let Some(name) = profile {
            return self.config_profile(Some(name));
        }
        if let Some(id) = self.var(ENV_ACCESS_KEY_ID) {
            let secret = self.var(ENV_ACCESS_KEY_SECRET).ok_or_else(|| {
                CredentialError(format!(
                    "{ENV_ACCESS_KEY_ID} is set but {ENV_ACCESS_KEY_SECRET} is not; set both, or unset both to use the aliyun CLI config"
                ))
            })?;
            let mut creds = Credentials::access_key(id, secret);
            creds.security_token = self.var(ENV_SECURITY_TOKEN).map(Secret::new);
            return Ok(Resolved {
                credentials: SourceCredentials::Static(creds),
                source: "environment".into(),
            });
        }
        let name = self.var(ENV_PROFILE).map(str::to_string);
        self.config_profile(name.as_deref())
    }

    fn config_profile(&self, name: Option<&str>) -> Result<Resolved, CredentialError> {
        let path = self.config_path.as_ref().ok_or_else(|| {
            CredentialError(
                "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure the aliyun CLI (aliyun configure)".into(),
            )
        })?;
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && name.is_none() => {
                return Err(CredentialError(format!(
                    "no credentials: {ENV_ACCESS_KEY_ID}/{ENV_ACCESS_KEY_SECRET} are not set and {} does not exist; set them, or run `aliyun configure`",
                    path.display()
                )));
            }
            Err(e) => {
                return Err(CredentialError(format!(
                    "cannot read the aliyun CLI config {}: {e}",
                    path.display()
                )));
            }
        };
        let config: CliConfig = serde_json::from_str(&text).map_err(|e| {
            CredentialError(format!(
                "the aliyun CLI config {} is not valid JSON: {e}",
                path.display()
            ))
        })?;
        let name = name
            .map(str::to_string)
            .or_else(|| config.current.clone().filter(|c| !c.is_empty()))
            .unwrap_or_else(|| "default".into());
        let profile = config
            .profiles
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = config.profiles.iter().map(|p| p.name.as_str()).collect();
                CredentialError(format!(
                    "profile {name:?} is not in {} (profiles there: {}); create it with `aliyun configure --profile {name}` or name another",
                    path.display(),
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ))
            })?;
        let source = format!("profile {name:?} in {}", path.display());
        let missing = |field: &str| {
            CredentialError(format!(
                "profile {name:?} in {} (mode {}) has no {field}",
                path.display(),
                profile.mode
            ))
        };
        let base = || -> Result<Credentials, CredentialError> {
            let id = profile.access_key_id.as_deref().filter(|s| !s.is_empty());
            let secret = profile
                .access_key_secret
                .as_deref()
                .filter(|s| !s.is_empty());
            Ok(Credentials::access_key(
                id.ok_or_else(|| missing("access_key_id"))?,
                secret.ok_or_else(|| missing("access_key_secret"))?,
            ))
        };
        let credentials = match profile.mode.as_str() {
            "AK" => SourceCredentials::Static(base()?),
            "StsToken" => {
                let mut creds = base()?;
                let token = profile.sts_token.as_deref().filter(|s| !s.is_empty());
                creds.security_token =
                    Some(Secret::new(token.ok_or_else(|| missing("sts_token"))?));
                SourceCredentials::Static(creds)
            }
            "RamRoleArn" => SourceCredentials::RamRoleArn {
                base: base()?,
                role_arn: profile
                    .ram_role_arn
                    .clone()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| missing("ram_role_arn"))?,
                session_name: profile.ram_session_name.clone().filter(|s| !s.is_empty()),
                duration_seconds: profile.expired_seconds.filter(|s| *s > 0),
            },
            other => {
                return Err(CredentialError(format!(
                    "profile {name:?} in {} has mode {other:?}; dwlink supports AK, StsToken and RamRoleArn",
                    path.display()
                )));
            }
        };
        Ok(Resolved {
            credentials,
            source,
        })
    }
}

/// The parts of the aliyun CLI `config.json` dwlink reads.
#[derive(serde::Deserialize)]
struct CliConfig {
    current: Option<String>,
    #[serde(default)]
    profiles: Vec<CliProfile>,
}

#[derive(serde::Deserialize)]
struct CliProfile {
    name: String,
    #[serde(default)]
    mode: String,
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    sts_token: Option<String>,
    ram_role_arn: Option<String>,
    ram_session_name: Option<String>,
    expired_seconds: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted() {
        let c = Credentials::sts("STS.id", "very-secret", "tok-123");
        let dbg = format!("{c:?} {} {:?}", c.access_key_secret, c.security_token);
        assert!(
            !dbg.contains("very-secret") && !dbg.contains("tok-123"),
            "{dbg}"
        );
        assert!(dbg.contains("STS.id"));
        assert_eq!(c.access_key_secret.expose(), "very-secret");
    }
}
