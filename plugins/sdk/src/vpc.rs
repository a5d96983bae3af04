//! The one VPC read every data-source plugin needs: a vSwitch's zone and CIDR block
//! (`Vpc` 2016-04-28 `DescribeVSwitchAttributes`). A plugin that uses it declares
//! [`DESCRIBE_VSWITCH_ATTRIBUTES`].

use crate::{Api, Cloud, PluginError, Subject};
use serde::Deserialize;

/// The VPC API.
pub const VPC: Api = Api::new("Vpc", "2016-04-28");

/// The declared action, `vpc:DescribeVSwitchAttributes`.
pub const DESCRIBE_VSWITCH_ATTRIBUTES: &str = "vpc:DescribeVSwitchAttributes";

/// The capability [`vswitch`] needs: a read naming no instance.
pub fn describe_vswitch_attributes() -> crate::Capability {
    VPC.read("DescribeVSwitchAttributes", None)
}

/// The fields of a `DescribeVSwitchAttributes` response plugins use (a flat object).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VSwitch {
    #[serde(rename = "VSwitchId", default, deserialize_with = "crate::de::string")]
    pub vswitch_id: String,
    #[serde(rename = "VpcId", default, deserialize_with = "crate::de::string")]
    pub vpc_id: String,
    #[serde(rename = "ZoneId", default, deserialize_with = "crate::de::string")]
    pub zone_id: String,
    #[serde(rename = "CidrBlock", default, deserialize_with = "crate::de::string")]
    pub cidr_block: String,
}

/// Reads vSwitch `vswitch_id` in `region`; `owner` is the instance it serves, for messages.
pub fn vswitch(
    cloud: &dyn Cloud,
    region: &str,
    vswitch_id: &str,
    owner: &Subject<'_>,
) -> Result<VSwitch, PluginError> {
    let kind = format!("vSwitch of {} {}", owner.kind, owner.id);
    let s = Subject {
        kind: &kind,
        id: vswitch_id,
        region,
    };
    let v: VSwitch = cloud
        .call(
            VPC.request("DescribeVSwitchAttributes", region)
                .param("VSwitchId", vswitch_id),
        )
        .map_err(|e| s.cloud_error(DESCRIBE_VSWITCH_ATTRIBUTES, e))?;
    if v.cidr_block.is_empty() {
        return Err(PluginError::NotFound(format!(
            "{}: {DESCRIBE_VSWITCH_ATTRIBUTES} returned no CIDR block; check that the vSwitch \
             still exists",
            s.describe()
        )));
    }
    Ok(v)
}
