//! STS 2015-04-01: `AssumeRole` (RAM roles whose trust policy names the caller's account) and
//! `GetCallerIdentity`.

use crate::error::{ApiError, ApiResult};
use crate::registry::{Product, Registry};
use crate::request::Ctx;
use crate::state::{Principal, StsSession};
use serde_json::{Value, json};

pub static PRODUCT: Product = Product {
    code: "Sts",
    version: "2015-04-01",
    host: "sts.aliyuncs.com",
};

pub fn register(r: &mut Registry) {
    r.add(&PRODUCT, "AssumeRole", assume_role);
    r.add(&PRODUCT, "GetCallerIdentity", get_caller_identity);
}

/// A stable numeric role id derived from the ARN (RAM role ids are 19 digits).
fn role_id(arn: &str) -> String {
    let h = dwlink_acs::sha256_hex(arn.as_bytes());
    let n = u64::from_str_radix(&h[..15], 16).unwrap_or(0);
    format!("3{:018}", n % 1_000_000_000_000_000_000)
}

fn assume_role(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let arn = ctx.req("RoleArn")?;
    let session = ctx.req("RoleSessionName")?;
    if !(2..=64).contains(&session.len())
        || !session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_'))
    {
        return Err(ApiError::bad(
            "InvalidParameter.RoleSessionName",
            "The parameter RoleSessionName must be 2 to 64 characters: letters, digits, '.', '@', '-' or '_'.",
        ));
    }
    let (uid, name) = arn
        .strip_prefix("acs:ram::")
        .and_then(|r| r.split_once(":role/"))
        .filter(|(u, n)| !u.is_empty() && !n.is_empty())
        .ok_or_else(|| {
            ApiError::bad(
                "InvalidParameter.RoleArn",
                format!("The parameter RoleArn {arn:?} is not acs:ram::<account>:role/<name>."),
            )
        })?;
    let role = ctx
        .world
        .globals
        .get(uid)
        .and_then(|g| g.roles.values().find(|r| r.name.eq_ignore_ascii_case(name)))
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(
                "EntityNotExist.Role",
                format!("The role not exists: {arn}."),
            )
        })?;
    if !role
        .trusted_uids
        .iter()
        .any(|u| *u == ctx.caller.account_uid)
    {
        return Err(ApiError::forbidden(
            "NoPermission",
            format!(
                "You are not authorized to do this action: the trust policy of {arn} does not allow account {}.",
                ctx.caller.account_uid
            ),
        ));
    }
    let duration: u64 = ctx.parse("DurationSeconds")?.unwrap_or(3600);
    if duration < 900 || duration > role.max_session_seconds {
        return Err(ApiError::bad(
            "InvalidParameter.DurationSeconds",
            format!(
                "DurationSeconds must be between 900 and the role's maximum session duration {}.",
                role.max_session_seconds
            ),
        ));
    }
    let ids = &mut ctx.world.ids;
    let key_id = format!("STS.{}", ids.alnum(25).to_uppercase());
    let secret = ids.alnum(44);
    let token = format!("CAIS{}", ids.alnum(380));
    let expires_at = jiff::Timestamp::now().as_second() + duration as i64;
    let expiration = jiff::Timestamp::from_second(expires_at)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let assumed_role_id = format!("{}:{session}", role_id(&role.arn()));
    let s = StsSession {
        access_key_id: key_id.clone(),
        access_key_secret: secret.clone(),
        security_token: token.clone(),
        account_uid: role.account_uid.clone(),
        role_arn: role.arn(),
        role_name: role.name.clone(),
        session_name: session.to_string(),
        assumed_role_id: assumed_role_id.clone(),
        source_uid: ctx.caller.account_uid.clone(),
        expires_at,
    };
    let user_arn = s.arn();
    ctx.world.sessions.insert(key_id.clone(), s);
    Ok(json!({
        "Credentials": {
            "AccessKeyId": key_id,
            "AccessKeySecret": secret,
            "SecurityToken": token,
            "Expiration": expiration,
        },
        "AssumedRoleUser": {"Arn": user_arn, "AssumedRoleId": assumed_role_id},
    }))
}

fn get_caller_identity(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let uid = ctx.caller.account_uid.clone();
    Ok(match &ctx.caller.principal {
        Principal::Account => json!({
            "AccountId": uid,
            "Arn": format!("acs:ram::{uid}:root"),
            "IdentityType": "Account",
            "PrincipalId": uid,
            "UserId": uid,
        }),
        Principal::AssumedRole {
            role_name,
            session_name,
            assumed_role_id,
            ..
        } => {
            let role_id = assumed_role_id
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string();
            json!({
                "AccountId": uid,
                "Arn": format!("acs:ram::{uid}:assumed-role/{role_name}/{session_name}"),
                "IdentityType": "AssumedRoleUser",
                "PrincipalId": assumed_role_id,
                "RoleId": role_id,
            })
        }
    })
}
