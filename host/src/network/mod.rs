//! Host-owned product logic: typed functions over a [`Caller`] for VPC, VpcPeer, CEN (CBN),
//! DataWorks and STS, and the database products' whitelists and status (RDS, PolarDB, Dds). Readers return typed facts; writers are call builders (`*_call`) so the
//! planner can show and journal the exact call before the engine sends it.
//!
//! Responses are parsed leniently: ids may arrive as strings or numbers, lists may be missing.

pub mod cen;
pub mod dataworks;
pub mod json;
pub mod peer;
pub mod sts;
pub mod vpc;
pub mod whitelist;

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

pub(crate) async fn send(c: &dyn Caller, call: Call) -> Result<serde_json::Value, CloudError> {
    c.call(call).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::BoxFuture;
    use serde_json::{Value, json};
    use std::sync::Mutex;

    /// Answers every call with one canned body and remembers the calls.
    struct Canned(Value, Mutex<Vec<Call>>);

    impl Caller for Canned {
        fn call(&self, call: Call) -> BoxFuture<'_, Result<Value, CloudError>> {
            self.1.lock().unwrap().push(call);
            let v = self.0.clone();
            Box::pin(async move { Ok(v) })
        }
        fn account(&self) -> &str {
            "test"
        }
    }

    fn canned(v: Value) -> Canned {
        Canned(v, Mutex::new(Vec::new()))
    }

    #[tokio::test]
    async fn resource_group_vswitch_under_either_spelling() {
        for key in ["DefaultVswitchId", "DefaultVswicthId"] {
            let c = canned(
                json!({"ResourceGroup": {"Id": "Serverless_res_group_1_2", "DefaultVpcId": "vpc-b", key: "vsw-b"}}),
            );
            let g = dataworks::get_resource_group(&c, "cn-shanghai", "Serverless_res_group_1_2")
                .await
                .unwrap();
            assert_eq!(g.default_vswitch_id, "vsw-b", "{key}");
            let sent = c.1.lock().unwrap();
            assert_eq!(
                sent[0].method,
                crate::cloud::Method::Get,
                "Get* is a GET call"
            );
            assert_eq!(sent[0].product, "dataworks-public");
        }
    }

    #[tokio::test]
    async fn route_entries_parse_the_sic_spelling_and_next_hops() {
        let c = canned(
            json!({"RouteEntrys": {"RouteEntry": [{"RouteEntryId": "rte-1", "RouteTableId": "vtb-1",
            "DestinationCidrBlock": "172.16.66.0/24", "Status": "Pending",
            "NextHops": {"NextHop": [{"NextHopType": "VpcPeer", "NextHopId": "pcc-1"}]}}]}}),
        );
        let e = vpc::describe_route_entries(&c, "cn-hangzhou", "vtb-1", None)
            .await
            .unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].next_hop_type.as_str(), e[0].next_hop_id.as_str()),
            ("VpcPeer", "pcc-1")
        );
        assert_eq!(e[0].status, "Pending");
    }

    #[tokio::test]
    async fn numeric_ids_and_owner_uids_read_as_strings() {
        let c = canned(
            json!({"PagingInfo": {"NetworkList": [{"Id": 1001, "VpcId": "vpc-b", "VswitchId": "vsw-b", "Status": "Running"}]}}),
        );
        let n = dataworks::list_networks(&c, "cn-shanghai", "rg")
            .await
            .unwrap();
        assert_eq!(n[0].id, "1001");
        let c = canned(
            json!({"TransitRouterAttachments": [{"TransitRouterAttachmentId": "tr-attach-1", "VpcOwnerId": 1862710497302214u64,
            "Status": "Attached", "ZoneMappings": [{"ZoneId": "cn-hangzhou-h", "VSwitchId": "vsw-1"}]}]}),
        );
        let a = cen::list_vpc_attachments(&c, "cn-hangzhou", Some("cen-1"), None)
            .await
            .unwrap();
        assert_eq!(a[0].vpc_owner_id, "1862710497302214");
        assert_eq!(
            a[0].zones,
            [("cn-hangzhou-h".to_string(), "vsw-1".to_string())]
        );
    }

    #[test]
    fn call_builders_use_the_documented_names() {
        let c = cen::create_vpc_attachment_call(
            "cn-hangzhou",
            "cen-1",
            "tr-1",
            "vpc-a",
            Some("1862710497302214"),
            &[
                ("cn-hangzhou-h".into(), "vsw-1".into()),
                ("cn-hangzhou-i".into(), "vsw-2".into()),
            ],
            "n",
            "tok",
        );
        assert_eq!(c.params.get("VpcOwnerId"), Some("1862710497302214"));
        assert_eq!(c.params.get("ZoneMappings.2.VSwitchId"), Some("vsw-2"));
        assert_eq!(c.params.get("ZoneMappings.2.ZoneId"), Some("cn-hangzhou-i"));
        let p = peer::create_call(
            "cn-hangzhou",
            "vpc-a",
            "1539826603711058",
            "cn-shanghai",
            "vpc-b",
            "n",
            "tok",
        );
        assert_eq!(
            (p.product.as_str(), p.version.as_str()),
            ("VpcPeer", "2022-01-01")
        );
        assert_eq!(p.params.get("AcceptingAliUid"), Some("1539826603711058"));
        let d = dataworks::delete_data_source_call("cn-shanghai", "9001");
        assert_eq!(
            d.method,
            crate::cloud::Method::Get,
            "DeleteDataSource is GET"
        );
    }
}
