//! STS 2015-04-01.

use super::{STS, json::s, send};
use crate::cloud::{Caller, CloudError};

/// Who a caller is: the account UID matters (AcceptingAliUid, CenOwnerId, role checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account_id: String,
    pub arn: String,
    pub identity_type: String,
}

pub async fn get_caller_identity(c: &dyn Caller, region: &str) -> Result<Identity, CloudError> {
    let v = send(c, STS.call("GetCallerIdentity", region)).await?;
    Ok(Identity {
        account_id: s(&v, "AccountId"),
        arn: s(&v, "Arn"),
        identity_type: s(&v, "IdentityType"),
    })
}
