//! Host-owned product logic: typed functions over a [`Caller`] for VPC, VpcPeer, CEN (CBN),
//! DataWorks and STS. Readers return typed facts; writers are call builders (`*_call`) so the
//! planner can show and journal the exact call before the engine sends it.
//!
//! Responses are parsed leniently: ids may arrive as strings or numbers, lists may be missing.

pub mod cen;
pub mod dataworks;
pub mod json;
pub mod peer;
pub mod sts;
pub mod vpc;

use crate::cloud::{Call, Caller, CloudError};

/// Product code and API version of one OpenAPI product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    pub product: &'static str,
    pub version: &'static str,
}

pub const VPC: Api = Api {
    product: "Vpc",
    version: "2016-04-28",
};
pub const VPC_PEER: Api = Api {
    product: "VpcPeer",
    version: "2022-01-01",
};
pub const CBN: Api = Api {
    product: "Cbn",
    version: "2017-09-12",
};
pub const DATAWORKS: Api = Api {
    product: "dataworks-public",
    version: "2024-05-18",
};
pub const STS: Api = Api {
    product: "Sts",
    version: "2015-04-01",
};

impl Api {
    pub fn call(self, action: &str, region: &str) -> Call {
        Call::new(self.product, self.version, action, region)
    }
}

/// Whether an action only reads (for the run's read/write accounting).
pub fn is_read_action(action: &str) -> bool {
    ["Describe", "List", "Get", "Test"]
        .iter()
        .any(|p| action.starts_with(p))
}

pub(crate) async fn send(c: &dyn Caller, call: Call) -> Result<serde_json::Value, CloudError> {
    c.call(call).await
}
