//! Credential sources, in the official order: link-file profile -> environment -> aliyun CLI
//! config (`ALIBABA_CLOUD_PROFILE` or `current`). Tests inject the environment and the config
//! path through `CredentialEnv`; one test reads the real process environment.

use dwlink_host::cloud::*;
use serde_json::json;
use std::path::PathBuf;

fn config(dir: &tempfile::TempDir, value: serde_json::Value) -> PathBuf {
    let path = dir.path().join("config.json");
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

fn cli_config() -> serde_json::Value {
    json!({"current": "ak", "profiles": [
        {"name": "ak", "mode": "AK", "access_key_id": "cfg-ak", "access_key_secret": "cfg-ak-secret",
         "region_id": "cn-shanghai", "output_format": "json"},
        {"name": "sts", "mode": "StsToken", "access_key_id": "STS.cfg", "access_key_secret": "cfg-sts-secret",
         "sts_token": "cfg-token"},
        {"name": "role", "mode": "RamRoleArn", "access_key_id": "cfg-role-ak", "access_key_secret": "cfg-role-secret",
         "ram_role_arn": "acs:ram::1000:role/dw", "ram_session_name": "sess", "expired_seconds": 1800},
        {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "x"},
        {"name": "broken", "mode": "AK", "access_key_id": "only-id"}
    ]})
}

fn env(vars: &[(&str, &str)], path: Option<PathBuf>) -> CredentialEnv {
    CredentialEnv {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        config_path: path,
    }
}

fn fixed(r: Resolved) -> Credentials {
    match r.credentials {
        SourceCredentials::Static(c) => c,
        other => panic!("expected static credentials, got {other:?}"),
    }
}

const ENV_AK: &[(&str, &str)] = &[
    (ENV_ACCESS_KEY_ID, "env-ak"),
    (ENV_ACCESS_KEY_SECRET, "env-secret"),
];

#[test]
fn environment_access_key_and_sts_token() {
    let c = fixed(env(ENV_AK, None).resolve(None).unwrap());
    assert_eq!(c.access_key_id, "env-ak");
    assert_eq!(c.access_key_secret.expose(), "env-secret");
    assert!(c.security_token.is_none());

    let mut vars = ENV_AK.to_vec();
    vars.push((ENV_SECURITY_TOKEN, "env-token"));
    let r = env(&vars, None).resolve(None).unwrap();
    assert_eq!(r.source, "environment");
    let c = fixed(r);
    assert_eq!(c.security_token.unwrap().expose(), "env-token");
}

#[test]
fn environment_with_an_id_but_no_secret_is_an_error() {
    let e = env(&[(ENV_ACCESS_KEY_ID, "env-ak")], None)
        .resolve(None)
        .unwrap_err();
    assert!(e.to_string().contains(ENV_ACCESS_KEY_SECRET), "{e}");
}

#[test]
fn environment_beats_the_config_file_and_an_explicit_profile_beats_both() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(&dir, cli_config());
    let e = env(ENV_AK, Some(path.clone()));
    assert_eq!(fixed(e.resolve(None).unwrap()).access_key_id, "env-ak");
    let r = e.resolve(Some("sts")).unwrap();
    assert!(r.source.contains("\"sts\""), "{}", r.source);
    assert_eq!(fixed(r).access_key_id, "STS.cfg");
}

#[test]
fn config_file_current_profile_and_alibaba_cloud_profile() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(&dir, cli_config());
    // `current` picks AK mode.
    let c = fixed(env(&[], Some(path.clone())).resolve(None).unwrap());
    assert_eq!(
        (c.access_key_id.as_str(), c.access_key_secret.expose()),
        ("cfg-ak", "cfg-ak-secret")
    );
    // ALIBABA_CLOUD_PROFILE overrides `current`: StsToken mode.
    let c = fixed(
        env(&[(ENV_PROFILE, "sts")], Some(path.clone()))
            .resolve(None)
            .unwrap(),
    );
    assert_eq!(c.access_key_id, "STS.cfg");
    assert_eq!(c.security_token.unwrap().expose(), "cfg-token");
    // RamRoleArn mode yields the role to assume and the keys to assume it with.
    match env(&[(ENV_PROFILE, "role")], Some(path))
        .resolve(None)
        .unwrap()
        .credentials
    {
        SourceCredentials::RamRoleArn {
            base,
            role_arn,
            session_name,
            duration_seconds,
        } => {
            assert_eq!(base.access_key_id, "cfg-role-ak");
            assert_eq!(base.access_key_secret.expose(), "cfg-role-secret");
            assert_eq!(role_arn, "acs:ram::1000:role/dw");
            assert_eq!(session_name.as_deref(), Some("sess"));
            assert_eq!(duration_seconds, Some(1800));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn config_file_errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(&dir, cli_config());
    let e = env(&[], Some(path.clone()))
        .resolve(Some("nope"))
        .unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("\"nope\"") && m.contains("ak, sts, role") && m.contains("aliyun configure"),
        "{m}"
    );
    let m = env(&[], Some(path.clone()))
        .resolve(Some("ecs"))
        .unwrap_err()
        .to_string();
    assert!(m.contains("EcsRamRole") && m.contains("RamRoleArn"), "{m}");
    let m = env(&[], Some(path))
        .resolve(Some("broken"))
        .unwrap_err()
        .to_string();
    assert!(m.contains("access_key_secret"), "{m}");
    // No env and no file.
    let missing = dir.path().join("absent.json");
    let m = env(&[], Some(missing.clone()))
        .resolve(None)
        .unwrap_err()
        .to_string();
    assert!(
        m.contains(ENV_ACCESS_KEY_ID) && m.contains("absent.json"),
        "{m}"
    );
    // A named profile needs the file.
    assert!(env(&[], Some(missing)).resolve(Some("ak")).is_err());
    // Not JSON.
    std::fs::write(dir.path().join("bad.json"), "{").unwrap();
    let m = env(&[], Some(dir.path().join("bad.json")))
        .resolve(None)
        .unwrap_err()
        .to_string();
    assert!(m.contains("not valid JSON"), "{m}");
}

#[test]
fn errors_and_debug_never_show_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(&dir, cli_config());
    let mut out = String::new();
    for profile in ["ak", "sts", "role"] {
        let r = env(&[], Some(path.clone())).resolve(Some(profile)).unwrap();
        out.push_str(&format!("{r:?}\n"));
    }
    out.push_str(&format!("{:?}", env(ENV_AK, None).resolve(None).unwrap()));
    for secret in [
        "cfg-ak-secret",
        "cfg-sts-secret",
        "cfg-token",
        "cfg-role-secret",
        "env-secret",
    ] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }
    assert!(out.contains("<redacted>"));
}

/// The one test that reads the real process environment (nothing else in this binary does).
#[test]
fn from_process_reads_the_real_environment() {
    // SAFETY: no other test in this binary reads or writes the environment.
    unsafe {
        std::env::set_var(ENV_ACCESS_KEY_ID, "proc-ak");
        std::env::set_var(ENV_ACCESS_KEY_SECRET, "proc-secret");
        std::env::remove_var(ENV_SECURITY_TOKEN);
    }
    let e = CredentialEnv::from_process();
    assert!(
        e.config_path
            .as_ref()
            .is_some_and(|p| p.ends_with(".aliyun/config.json"))
    );
    let c = fixed(e.resolve(None).unwrap());
    assert_eq!(c.access_key_id, "proc-ak");
    assert_eq!(c.access_key_secret.expose(), "proc-secret");
}
