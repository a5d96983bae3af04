//! Signature verification, STS and cross-account isolation over HTTP.

mod common;
use common::*;
use dwlink_sim::Timing;

const STS: &str = "2015-04-01";
const ROLE: &str = "acs:ram::1862710497302214:role/dataworks-cross-account";

#[tokio::test]
async fn v3_and_v1_signatures_are_verified() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    let id = b.call(STS, "GetCallerIdentity", &[]).await.ok();
    assert_eq!(id["AccountId"], "1539826603711058");
    assert_eq!(id["IdentityType"], "Account");
    let id = b
        .call_v1(STS, "GetCallerIdentity", &[("Note", "a b+c")], None)
        .await
        .ok();
    assert_eq!(id["AccountId"], "1539826603711058");
    // Form body parameters are signed through the body hash.
    let id = b
        .call_with(
            STS,
            "GetCallerIdentity",
            &[("X", "1")],
            &Opts {
                form: true,
                ..Default::default()
            },
        )
        .await
        .ok();
    assert!(id["RequestId"].is_string());
}

#[tokio::test]
async fn each_signature_failure_has_its_code() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    let bad = Opts {
        tamper_signature: true,
        ..Default::default()
    };
    b.call_with(STS, "GetCallerIdentity", &[], &bad)
        .await
        .err(400, "SignatureDoesNotMatch");
    let wrong_secret = b.with_credentials(&b.key_id, "not-the-secret", None);
    wrong_secret
        .call(STS, "GetCallerIdentity", &[])
        .await
        .err(400, "SignatureDoesNotMatch");
    wrong_secret
        .call_v1(STS, "GetCallerIdentity", &[], None)
        .await
        .err(400, "SignatureDoesNotMatch");
    let unknown = b.with_credentials("LTAI5tNobody", "x", None);
    unknown
        .call(STS, "GetCallerIdentity", &[])
        .await
        .err(404, "InvalidAccessKeyId.NotFound");
    let stale = Opts {
        date: Some("2020-01-01T00:00:00Z".into()),
        ..Default::default()
    };
    b.call_with(STS, "GetCallerIdentity", &[], &stale)
        .await
        .err(400, "InvalidTimeStamp.Expired");
    b.call_v1(STS, "GetCallerIdentity", &[], Some("2020-01-01T00:00:00Z"))
        .await
        .err(400, "InvalidTimeStamp.Expired");
    let garbled = Opts {
        date: Some("yesterday".into()),
        ..Default::default()
    };
    b.call_with(STS, "GetCallerIdentity", &[], &garbled)
        .await
        .err(400, "InvalidTimeStamp.Format");
    let fixed = Opts {
        nonce: Some("fixed-nonce-1".into()),
        ..Default::default()
    };
    b.call_with(STS, "GetCallerIdentity", &[], &fixed)
        .await
        .ok();
    b.call_with(STS, "GetCallerIdentity", &[], &fixed)
        .await
        .err(400, "SignatureNonceUsed");
    // No signature at all.
    let resp = b
        .http
        .post(format!(
            "{}/?Action=GetCallerIdentity&Version={STS}",
            sim.endpoint()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["Code"], "IncompleteSignature");
    // Unknown action of a known product, unknown version.
    b.call(STS, "Nope", &[])
        .await
        .err(404, "InvalidAction.NotFound");
    b.call("1999-01-01", "Nope", &[])
        .await
        .err(404, "InvalidVersion");
    // Every failure is in the request log with its outcome.
    let log = sim.requests();
    assert!(
        log.iter()
            .any(|r| r.outcome == "SignatureNonceUsed" && r.account.is_empty())
    );
    assert!(
        log.iter()
            .any(|r| r.outcome == "OK" && r.account == "B" && r.action == "GetCallerIdentity")
    );
}

#[tokio::test]
async fn assume_role_acts_in_the_roles_account_and_needs_trust() {
    let sim = start(Timing::Immediate).await;
    let a = Client::new(&sim, "A");
    let b = Client::new(&sim, "B");
    let session = [("RoleArn", ROLE), ("RoleSessionName", "dwlink-test")];
    // A is not trusted by its own role (the trust policy names B only).
    a.call(STS, "AssumeRole", &session)
        .await
        .err(403, "NoPermission");
    b.call(
        STS,
        "AssumeRole",
        &[
            ("RoleArn", "acs:ram::1862710497302214:role/nope"),
            ("RoleSessionName", "x1"),
        ],
    )
    .await
    .err(404, "EntityNotExist.Role");
    b.call(STS, "AssumeRole", &[("RoleArn", ROLE)])
        .await
        .err(400, "MissingParameter");
    let creds = b.call(STS, "AssumeRole", &session).await.ok();
    let c = &creds["Credentials"];
    let key = c["AccessKeyId"].as_str().unwrap();
    assert!(key.starts_with("STS."));
    assert!(c["Expiration"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        creds["AssumedRoleUser"]["Arn"],
        "acs:ram::1862710497302214:assumed-role/dataworks-cross-account/dwlink-test"
    );
    let secret = c["AccessKeySecret"].as_str().unwrap();
    let token = c["SecurityToken"].as_str().unwrap();
    let role = b.with_credentials(key, secret, Some(token));
    let id = role.call(STS, "GetCallerIdentity", &[]).await.ok();
    assert_eq!(id["AccountId"], "1862710497302214");
    assert_eq!(id["IdentityType"], "AssumedRoleUser");
    let id = role.call_v1(STS, "GetCallerIdentity", &[], None).await.ok();
    assert_eq!(id["AccountId"], "1862710497302214");
    // The token must be presented, and must be the right one.
    b.with_credentials(key, secret, None)
        .call(STS, "GetCallerIdentity", &[])
        .await
        .err(400, "MissingSecurityToken");
    b.with_credentials(key, secret, Some("CAISwrong"))
        .call(STS, "GetCallerIdentity", &[])
        .await
        .err(400, "InvalidSecurityToken.MismatchWithAccessKey");
    // Expired sessions are refused.
    sim.with_world(|w| w.sessions.get_mut(key).unwrap().expires_at = 0);
    role.call(STS, "GetCallerIdentity", &[])
        .await
        .err(400, "InvalidSecurityToken.Expired");
}

#[tokio::test]
async fn ready_info_lists_accounts_and_roles() {
    let sim = start(Timing::Immediate).await;
    let info = sim.ready_info();
    assert_eq!(info.endpoint, sim.endpoint());
    assert_eq!(info.accounts.len(), 2);
    assert_eq!(info.roles.len(), 1);
    assert_eq!(info.roles[0].account, "A");
    assert_eq!(info.roles[0].trusted_account, "B");
    assert_eq!(info.roles[0].arn, ROLE);
    let dir = std::env::temp_dir().join(format!("dwlink-sim-ready-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("ready.json");
    sim.write_ready_file(&f).unwrap();
    let back: dwlink_sim::ReadyInfo =
        serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
    assert_eq!(back, info);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn v1_unknown_key_and_replayed_nonce_are_refused() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    b.with_credentials("LTAI5tNobody", "x", None)
        .call_v1(STS, "GetCallerIdentity", &[], None)
        .await
        .err(404, "InvalidAccessKeyId.NotFound");
    let fixed = Opts {
        nonce: Some("v1-fixed-nonce".into()),
        ..Default::default()
    };
    // A refused request does not use up its nonce...
    b.with_credentials(&b.key_id, "not-the-secret", None)
        .call_v1_with(STS, "GetCallerIdentity", &[], &fixed)
        .await
        .err(400, "SignatureDoesNotMatch");
    b.call_v1_with(STS, "GetCallerIdentity", &[], &fixed)
        .await
        .ok();
    // ...an accepted one does, even with other parameters.
    b.call_v1_with(STS, "GetCallerIdentity", &[("X", "1")], &fixed)
        .await
        .err(400, "SignatureNonceUsed");
    // V1 and V3 share the nonces of a key.
    let v3 = Opts {
        nonce: Some("shared-nonce".into()),
        ..Default::default()
    };
    b.call_with(STS, "GetCallerIdentity", &[], &v3).await.ok();
    b.call_v1_with(STS, "GetCallerIdentity", &[], &v3)
        .await
        .err(400, "SignatureNonceUsed");
    // Nonces are per access key: A may use B's.
    Client::new(&sim, "A")
        .call_v1_with(STS, "GetCallerIdentity", &[], &fixed)
        .await
        .ok();
}

#[tokio::test]
async fn v3_headers_that_must_be_signed_are_refused_unsigned() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    let unsigned = |name: &str, value: &str| Opts {
        unsigned_header: Some((name.into(), value.into())),
        ..Default::default()
    };
    for (name, value) in [
        ("x-acs-accesskey-id", b.key_id.as_str()),
        ("x-acs-extra", "1"),
        ("content-type", "application/x-www-form-urlencoded"),
    ] {
        let r = b
            .call_with(STS, "GetCallerIdentity", &[], &unsigned(name, value))
            .await;
        r.err(400, "IncompleteSignature");
        assert!(
            r.body["Message"].as_str().unwrap().contains(name),
            "the message names {name}: {}",
            r.body
        );
    }
    // Other headers need not be signed.
    b.call_with(STS, "GetCallerIdentity", &[], &unsigned("x-custom", "1"))
        .await
        .ok();
    b.call_with(STS, "GetCallerIdentity", &[], &unsigned("accept", "*/*"))
        .await
        .ok();
}

#[tokio::test]
async fn v3_timestamps_within_15_minutes_pass_and_beyond_fail() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    let at = |offset: i64| Opts {
        date: Some(iso_from_now(offset)),
        ..Default::default()
    };
    b.call_with(STS, "GetCallerIdentity", &[], &at(-14 * 60))
        .await
        .ok();
    b.call_with(STS, "GetCallerIdentity", &[], &at(-16 * 60))
        .await
        .err(400, "InvalidTimeStamp.Expired");
    // A clock ahead of the server's is bounded the same way.
    b.call_with(STS, "GetCallerIdentity", &[], &at(14 * 60))
        .await
        .ok();
    b.call_with(STS, "GetCallerIdentity", &[], &at(16 * 60))
        .await
        .err(400, "InvalidTimeStamp.Expired");
}
