//! Accounts, access keys, RAM roles with trust policies, and STS sessions.

/// A main account with one access key (the simulator treats it as an admin RAM user).
#[derive(Debug, Clone)]
pub struct Account {
    /// Name in the scenario, e.g. `A`.
    pub name: String,
    pub uid: String,
    /// The account's home region (reported in the ready file).
    pub region: String,
    pub access_key_id: String,
    pub access_key_secret: String,
}

/// A RAM role: `acs:ram::<uid>:role/<name>`, assumable by the trusted accounts.
#[derive(Debug, Clone)]
pub struct RamRole {
    pub name: String,
    pub account_uid: String,
    /// UIDs whose principals (`acs:ram::<uid>:root`) the trust policy allows to `sts:AssumeRole`.
    pub trusted_uids: Vec<String>,
    pub max_session_seconds: u64,
    pub description: String,
}

impl RamRole {
    pub fn arn(&self) -> String {
        format!("acs:ram::{}:role/{}", self.account_uid, self.name)
    }

    /// The trust policy document, as RAM shows it.
    pub fn trust_policy(&self) -> serde_json::Value {
        let principals: Vec<String> = self
            .trusted_uids
            .iter()
            .map(|u| format!("acs:ram::{u}:root"))
            .collect();
        serde_json::json!({
            "Version": "1",
            "Statement": [{
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"RAM": principals}
            }]
        })
    }
}

/// Temporary credentials from `AssumeRole`; they act in the role's account.
#[derive(Debug, Clone)]
pub struct StsSession {
    /// `STS.` + 25 characters.
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: String,
    /// The role's account.
    pub account_uid: String,
    pub role_arn: String,
    pub role_name: String,
    pub session_name: String,
    /// `<role id>:<session name>`.
    pub assumed_role_id: String,
    /// The account that assumed the role.
    pub source_uid: String,
    /// Expiry on the wall clock (seconds since the epoch).
    pub expires_at: i64,
}

impl StsSession {
    pub fn arn(&self) -> String {
        format!(
            "acs:ram::{}:assumed-role/{}/{}",
            self.account_uid, self.role_name, self.session_name
        )
    }
}

/// Who is calling, once authentication succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account the call acts in.
    pub account_uid: String,
    /// The account's scenario name (for logs).
    pub account_name: String,
    pub access_key_id: String,
    pub principal: Principal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The account's own access key.
    Account,
    /// An assumed role session.
    AssumedRole {
        role_arn: String,
        role_name: String,
        session_name: String,
        assumed_role_id: String,
    },
}
