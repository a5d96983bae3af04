//! An in-memory fake of the slice of Alibaba Cloud the engine uses, shared by two accounts, with
//! the seed scenario's identifiers (SEED.md). Not the simulator: just enough state to check the
//! engine's calls, ordering, idempotency and connectivity logic. Async resources settle after one
//! read, so waiters are exercised.
#![allow(dead_code, clippy::result_large_err, clippy::collapsible_if)]

use dwlink_host::cloud::{BoxFuture, Call, Caller, CloudError};
use dwlink_host::engine::DataSource;
use dwlink_host::plugin::{
    ConnectionRequest, Endpoint, InstanceRef, Location, PluginInfo, WhitelistGroup,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const UID_A: &str = "1862710497302214";
pub const UID_B: &str = "1539826603711058";
pub const VPC_A: &str = "vpc-bp1simhzvpc000000001";
pub const VPC_B: &str = "vpc-uf6simshvpc000000001";
pub const RTB_A: &str = "vtb-bp1simhzrtb000000001";
pub const RTB_B: &str = "vtb-uf6simshrtb000000001";
pub const RG: &str = "Serverless_res_group_524257424564736_6831777003001";

#[derive(Clone, Debug)]
pub struct Res {
    pub kind: &'static str,
    pub account: String,
    pub region: String,
    pub id: String,
    pub status: String,
    pub attrs: HashMap<String, String>,
}

#[derive(Default)]
pub struct State {
    pub res: Vec<Res>,
    pub tokens: HashMap<String, String>,
    /// (account, action) of every call served.
    pub calls: Vec<(String, String)>,
    pub whitelist: Vec<WhitelistGroup>,
    /// Fail the next call of this action after performing it (a lost response).
    pub lose_response_of: Option<String>,
    /// Fail the next call of this action before performing it.
    pub fail: Option<String>,
    seq: u32,
}

impl State {
    pub fn seed() -> State {
        let mut s = State::default();
        let mut add =
            |kind, account: &str, region: &str, id: &str, status: &str, attrs: &[(&str, &str)]| {
                s.res.push(Res {
                    kind,
                    account: account.into(),
                    region: region.into(),
                    id: id.into(),
                    status: status.into(),
                    attrs: attrs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                })
            };
        add(
            "vpc",
            UID_A,
            "cn-hangzhou",
            VPC_A,
            "Available",
            &[("cidr", "192.168.0.0/16"), ("rtb", RTB_A)],
        );
        add(
            "vswitch",
            UID_A,
            "cn-hangzhou",
            "vsw-bp1simhzvsw00000000h",
            "Available",
            &[
                ("vpc", VPC_A),
                ("zone", "cn-hangzhou-h"),
                ("cidr", "192.168.6.0/24"),
                ("name", "Account_A_Switch_hz_h"),
            ],
        );
        add(
            "vpc",
            UID_B,
            "cn-shanghai",
            VPC_B,
            "Available",
            &[("cidr", "172.16.0.0/16"), ("rtb", RTB_B)],
        );
        add(
            "vswitch",
            UID_B,
            "cn-shanghai",
            "vsw-uf6simshvsw00000000e",
            "Available",
            &[
                ("vpc", VPC_B),
                ("zone", "cn-shanghai-e"),
                ("cidr", "172.16.66.0/24"),
                ("name", "Account_B_Switch_sh_e"),
            ],
        );
        add(
            "vswitch",
            UID_B,
            "cn-shanghai",
            "vsw-uf6simshvsw00000000f",
            "Available",
            &[
                ("vpc", VPC_B),
                ("zone", "cn-shanghai-f"),
                ("cidr", "172.16.67.0/24"),
                ("name", "Account_B_Switch_sh_f"),
            ],
        );
        s.whitelist = vec![
            WhitelistGroup {
                name: "default".into(),
                entries: vec!["10.20.0.0/16".into()],
                attribute: String::new(),
            },
            WhitelistGroup {
                name: "app".into(),
                entries: vec!["192.168.6.0/24".into(), "192.168.7.15".into()],
                attribute: String::new(),
            },
        ];
        s
    }

    pub fn of(&self, kind: &str) -> Vec<&Res> {
        self.res.iter().filter(|r| r.kind == kind).collect()
    }

    pub fn writes(&self) -> usize {
        self.calls
            .iter()
            .filter(|(_, a)| !dwlink_host::cloud::is_read(a))
            .count()
    }

    fn new_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}-fake{:06}", self.seq)
    }

    fn find(&mut self, kind: &str, id: &str) -> Option<&mut Res> {
        self.res.iter_mut().find(|r| r.kind == kind && r.id == id)
    }

    /// Async resources: a read moves them one step on.
    fn settle(&mut self, kind: &str) {
        for r in self.res.iter_mut().filter(|r| r.kind == kind) {
            r.status = match r.status.as_str() {
                "Pending" => "Available",
                "Updating" => "Activated",
                "Creating" if kind == "transit-router" => "Active",
                "Attaching" => "Attached",
                s => s,
            }
            .into();
        }
    }
}

fn err(code: &str, msg: &str, status: u16) -> CloudError {
    CloudError {
        http_status: status,
        code: code.into(),
        message: msg.into(),
        request_id: "fake".into(),
        recommend: String::new(),
        account: String::new(),
        region: String::new(),
        product: String::new(),
        action: String::new(),
    }
}

pub struct FakeCaller {
    pub uid: String,
    pub state: Arc<Mutex<State>>,
}

impl Caller for FakeCaller {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<Value, CloudError>> {
        let r = self.handle(&call).map_err(|mut e| {
            e.account = self.uid.clone();
            e.region = call.region.clone();
            e.product = call.product.clone();
            e.action = call.action.clone();
            e
        });
        Box::pin(async move { r })
    }
    fn account(&self) -> &str {
        &self.uid
    }
}

impl FakeCaller {
    fn handle(&self, call: &Call) -> Result<Value, CloudError> {
        let mut st = self.state.lock().unwrap();
        st.calls.push((self.uid.clone(), call.action.clone()));
        if st.fail.as_deref() == Some(call.action.as_str()) {
            st.fail = None;
            return Err(err("ServiceUnavailable", "injected failure", 503));
        }
        let p = |k: &str| call.params.get(k).unwrap_or("").to_string();
        // ClientToken idempotency: the same token returns the same resource.
        let token = p("ClientToken");
        if !token.is_empty() {
            if let Some(id) = st.tokens.get(&token).cloned() {
                return Ok(
                    json!({"RequestId": "fake", "InstanceId": id, "RouteEntryId": id, "CenId": id,
                    "TransitRouterId": id, "TransitRouterAttachmentId": id, "VSwitchId": id}),
                );
            }
        }
        let me = self.uid.clone();
        let region = call.region.clone();
        let v = match call.action.as_str() {
            "GetCallerIdentity" => {
                json!({"AccountId": me, "Arn": format!("acs:ram::{me}:root"), "IdentityType": "Account"})
            }
            "DescribeVpcAttribute" => {
                let id = p("VpcId");
                let r = st
                    .res
                    .iter()
                    .find(|r| r.kind == "vpc" && r.id == id && r.account == me)
                    .cloned()
                    .ok_or_else(|| err("InvalidVpcId.NotFound", "no such VPC", 404))?;
                let cens: Vec<Value> = st
                    .of("vpc-attachment")
                    .iter()
                    .filter(|a| a.attrs["vpc"] == id)
                    .map(|a| json!({"CenId": a.attrs["cen"], "CenStatus": "Attached"}))
                    .collect();
                json!({"VpcId": id, "CidrBlock": r.attrs["cidr"], "Status": "Available", "OwnerId": me.parse::<u64>().unwrap(),
                       "AssociatedCens": {"AssociatedCen": cens}})
            }
            // The instance's whitelist and status, as RDS shows them (the host reads them
            // itself to check the plugin).
            "DescribeDBInstanceIPArrayList" if me == UID_A => {
                let items: Vec<Value> = st
                    .whitelist
                    .iter()
                    .map(|g| json!({"DBInstanceIPArrayName": g.name, "DBInstanceIPArrayAttribute": g.attribute,
                                    "SecurityIPList": g.entries.join(",")}))
                    .collect();
                json!({"Items": {"DBInstanceIPArray": items}})
            }
            "DescribeDBInstanceAttribute" if me == UID_A => {
                json!({"Items": {"DBInstanceAttribute": [{"DBInstanceId": p("DBInstanceId"), "DBInstanceStatus": "Running"}]}})
            }
            "DescribeVSwitches" => {
                st.settle("vswitch");
                let list: Vec<Value> = st
                    .of("vswitch")
                    .iter()
                    .filter(|v| v.attrs["vpc"] == p("VpcId") && v.account == me)
                    .map(|v| vsw_json(v))
                    .collect();
                json!({"VSwitches": {"VSwitch": list}, "TotalCount": list.len()})
            }
            "DescribeVSwitchAttributes" => {
                st.settle("vswitch");
                let v = st
                    .of("vswitch")
                    .into_iter()
                    .find(|v| v.id == p("VSwitchId"))
                    .cloned()
                    .ok_or_else(|| err("InvalidVSwitchId.NotFound", "no such vSwitch", 404))?;
                vsw_json(&v)
            }
            "DescribeRouteEntryList" => {
                st.settle("route-entry");
                let list: Vec<Value> = st.of("route-entry").iter().filter(|e| e.attrs["table"] == p("RouteTableId"))
                    .map(|e| json!({"RouteEntryId": e.id, "RouteTableId": e.attrs["table"], "DestinationCidrBlock": e.attrs["dest"],
                        "Status": e.status, "NextHops": {"NextHop": [{"NextHopType": e.attrs["hop_type"], "NextHopId": e.attrs["hop"]}]}}))
                    .collect();
                json!({"RouteEntrys": {"RouteEntry": list}})
            }
            "CreateRouteEntry" => {
                let table = p("RouteTableId");
                let own = st
                    .of("vpc")
                    .iter()
                    .any(|v| v.account == me && v.attrs["rtb"] == table);
                if !own {
                    return Err(err("Forbidden", "route table of another account", 403));
                }
                if st.of("route-entry").iter().any(|e| {
                    e.attrs["table"] == table && e.attrs["dest"] == p("DestinationCidrBlock")
                }) {
                    return Err(err(
                        "RouterEntryConflict.Duplicated",
                        "duplicate route",
                        400,
                    ));
                }
                let id = st.new_id("rte");
                push(
                    &mut st,
                    "route-entry",
                    &me,
                    &region,
                    &id,
                    "Pending",
                    &[
                        ("table", &table),
                        ("dest", &p("DestinationCidrBlock")),
                        ("hop_type", &p("NextHopType")),
                        ("hop", &p("NextHopId")),
                    ],
                );
                json!({"RouteEntryId": id}).with_token(&mut st, &token, &id)
            }
            "DeleteRouteEntry" => remove(&mut st, "route-entry", &p("RouteEntryId"))?,
            "ListVpcPeerConnections" => {
                st.settle("peering");
                let list: Vec<Value> = st
                    .of("peering")
                    .iter()
                    .filter(|x| x.attrs["vpc"] == p("VpcId") || x.attrs["acc_vpc"] == p("VpcId"))
                    .map(|x| peer_json(x))
                    .collect();
                json!({"VpcPeerConnects": list})
            }
            "GetVpcPeerConnectionAttribute" => {
                st.settle("peering");
                let x = st
                    .of("peering")
                    .into_iter()
                    .find(|x| x.id == p("InstanceId"))
                    .cloned()
                    .ok_or_else(|| err("ResourceNotFound.InstanceId", "no such peering", 400))?;
                peer_json(&x)
            }
            "CreateVpcPeerConnection" => {
                if !st
                    .of("vpc")
                    .iter()
                    .any(|v| v.id == p("VpcId") && v.account == me)
                {
                    return Err(err("Forbidden.NoPermission", "not your VPC", 400));
                }
                let id = st.new_id("pcc");
                push(
                    &mut st,
                    "peering",
                    &me,
                    &region,
                    &id,
                    "Accepting",
                    &[
                        ("vpc", &p("VpcId")),
                        ("acc_uid", &p("AcceptingAliUid")),
                        ("acc_region", &p("AcceptingRegionId")),
                        ("acc_vpc", &p("AcceptingVpcId")),
                    ],
                );
                json!({"InstanceId": id}).with_token(&mut st, &token, &id)
            }
            "AcceptVpcPeerConnection" => {
                let x = st
                    .find("peering", &p("InstanceId"))
                    .ok_or_else(|| err("ResourceNotFound.InstanceId", "no such peering", 400))?;
                if x.attrs["acc_uid"] != me {
                    return Err(err(
                        "Forbidden.NoPermission",
                        "only the accepter accepts",
                        400,
                    ));
                }
                if x.status != "Accepting" {
                    return Err(err("IncorrectStatus.VpcPeer", "not Accepting", 400));
                }
                x.status = "Updating".into();
                json!({})
            }
            "DeleteVpcPeerConnection" => {
                let id = p("InstanceId");
                if st.of("route-entry").iter().any(|e| e.attrs["hop"] == id) {
                    return Err(err(
                        "OperationDenied.RouteEntryExist",
                        "routes still point at it",
                        400,
                    ));
                }
                remove(&mut st, "peering", &id)?
            }
            "GetResourceGroup" => {
                json!({"ResourceGroup": {"Id": RG, "Name": "dataworks_rg_sh", "Status": "Normal", "ResourceGroupType": "CommonV2",
                "DefaultVpcId": VPC_B, "DefaultVswitchId": "vsw-uf6simshvsw00000000e"}, "Success": true})
            }
            "ListNetworks" => {
                json!({"PagingInfo": {"NetworkList": [{"Id": 1001, "ResourceGroupId": RG, "VpcId": VPC_B, "VswitchId": "vsw-uf6simshvsw00000000e", "Status": "Running"}]}})
            }
            "ListRoutes" => {
                let list: Vec<Value> = st.of("dw-route").iter().map(|r| json!({"Id": r.id.parse::<u64>().unwrap(), "NetworkId": 1001, "DestinationCidr": r.attrs["dest"]})).collect();
                json!({"PagingInfo": {"RouteList": list}})
            }
            "CreateRoute" => {
                st.seq += 1;
                let id = (5000 + st.seq).to_string();
                push(
                    &mut st,
                    "dw-route",
                    &me,
                    &region,
                    &id,
                    "Available",
                    &[("dest", &p("DestinationCidr"))],
                );
                json!({"Id": id.parse::<u64>().unwrap(), "Success": true})
            }
            "DeleteRoute" => remove(&mut st, "dw-route", &p("Id"))?,
            "ListDataSources" => {
                let list: Vec<Value> = st.of("data-source").iter().filter(|d| d.attrs["name"] == p("Name"))
                    .map(|d| json!({"Name": d.attrs["name"], "Type": "mysql", "DataSource": [{"Id": d.id.parse::<u64>().unwrap()}]})).collect();
                json!({"PagingInfo": {"DataSources": list}})
            }
            "CreateDataSource" => {
                st.seq += 1;
                let id = (9000 + st.seq).to_string();
                push(
                    &mut st,
                    "data-source",
                    &me,
                    &region,
                    &id,
                    "",
                    &[("name", &p("Name")), ("props", &p("ConnectionProperties"))],
                );
                json!({"Id": id.parse::<u64>().unwrap()})
            }
            "DeleteDataSource" => remove(&mut st, "data-source", &p("Id"))?,
            "TestDataSourceConnectivity" => connectivity(&st),
            // CEN.
            "DescribeCens" => {
                let (k, val) = (p("Filter.1.Key"), p("Filter.1.Value.1"));
                let list: Vec<Value> = st
                    .of("cen")
                    .iter()
                    .filter(|c| {
                        if k == "CenId" {
                            c.id == val
                        } else {
                            c.attrs["name"] == val
                        }
                    })
                    .map(|c| json!({"CenId": c.id, "Name": c.attrs["name"], "Status": "Active"}))
                    .collect();
                json!({"Cens": {"Cen": list}})
            }
            "CreateCen" => {
                let id = st.new_id("cen");
                push(
                    &mut st,
                    "cen",
                    &me,
                    &region,
                    &id,
                    "Active",
                    &[("name", &p("Name"))],
                );
                json!({"CenId": id}).with_token(&mut st, &token, &id)
            }
            "DeleteCen" => {
                if st
                    .of("transit-router")
                    .iter()
                    .any(|t| t.attrs["cen"] == p("CenId"))
                {
                    return Err(err(
                        "InvalidOperation.CenInstanceStatus",
                        "transit routers remain",
                        400,
                    ));
                }
                remove(&mut st, "cen", &p("CenId"))?
            }
            "ListTransitRouters" => {
                st.settle("transit-router");
                let list: Vec<Value> = st.of("transit-router").iter().filter(|t| t.attrs["cen"] == p("CenId") && t.region == p("RegionId"))
                    .map(|t| json!({"TransitRouterId": t.id, "CenId": t.attrs["cen"], "RegionId": t.region, "Status": t.status})).collect();
                json!({"TransitRouters": list})
            }
            "CreateTransitRouter" => {
                let id = st.new_id("tr");
                push(
                    &mut st,
                    "transit-router",
                    &me,
                    &p("RegionId"),
                    &id,
                    "Creating",
                    &[("cen", &p("CenId"))],
                );
                json!({"TransitRouterId": id}).with_token(&mut st, &token, &id)
            }
            "DeleteTransitRouter" => {
                let id = p("TransitRouterId");
                if st
                    .of("vpc-attachment")
                    .iter()
                    .chain(st.of("peer-attachment").iter())
                    .any(|a| a.attrs["tr"] == id || a.attrs.get("peer_tr") == Some(&id))
                {
                    return Err(err("IncorrectStatus.Status", "attachments remain", 400));
                }
                remove(&mut st, "transit-router", &id)?
            }
            "ListTransitRouterAvailableResource" => {
                let zones: Vec<&str> = if p("RegionId") == "cn-hangzhou" {
                    vec!["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]
                } else {
                    vec!["cn-shanghai-e", "cn-shanghai-f"]
                };
                json!({"AvailableZones": zones})
            }
            "ListTransitRouterRouteTables" => {
                json!({"TransitRouterRouteTables": [{"TransitRouterRouteTableId": format!("vtb-{}", p("TransitRouterId")),
                "TransitRouterRouteTableType": "System", "TransitRouterRouteTableStatus": "Active"}]})
            }
            "ListTransitRouterRouteTableAssociations"
            | "ListTransitRouterRouteTablePropagations" => {
                let kind = if call.action.contains("Associations") {
                    "assoc"
                } else {
                    "prop"
                };
                let list: Vec<Value> = st.of(kind).iter().filter(|a| a.attrs["table"] == p("TransitRouterRouteTableId"))
                    .map(|a| json!({"TransitRouterAttachmentId": a.attrs["att"], "Status": "Active"})).collect();
                let field = if kind == "assoc" {
                    "TransitRouterAssociations"
                } else {
                    "TransitRouterPropagations"
                };
                json!({ field: list })
            }
            "AssociateTransitRouterAttachmentWithRouteTable"
            | "EnableTransitRouterRouteTablePropagation" => {
                let kind = if call.action.starts_with("Associate") {
                    "assoc"
                } else {
                    "prop"
                };
                let (att, table) = (
                    p("TransitRouterAttachmentId"),
                    p("TransitRouterRouteTableId"),
                );
                if st
                    .of(kind)
                    .iter()
                    .any(|a| a.attrs["att"] == att && a.attrs["table"] == table)
                {
                    return Err(err("Duplicated.Association", "already there", 400));
                }
                let id = format!("{kind}:{att}:{table}");
                push(
                    &mut st,
                    kind,
                    &me,
                    &region,
                    &id,
                    "Active",
                    &[("att", &att), ("table", &table)],
                );
                json!({})
            }
            "DissociateTransitRouterAttachmentFromRouteTable"
            | "DisableTransitRouterRouteTablePropagation" => {
                let kind = if call.action.starts_with("Dissociate") {
                    "assoc"
                } else {
                    "prop"
                };
                let id = format!(
                    "{kind}:{}:{}",
                    p("TransitRouterAttachmentId"),
                    p("TransitRouterRouteTableId")
                );
                remove(&mut st, kind, &id)?
            }
            "DescribeGrantRulesToCen" => {
                let list: Vec<Value> = st.of("grant").iter().filter(|g| g.attrs["vpc"] == p("InstanceId"))
                    .map(|g| json!({"CenInstanceId": g.attrs["cen"], "CenOwnerId": g.attrs["owner"].parse::<u64>().unwrap()})).collect();
                json!({"CenGrantRules": {"CbnGrantRule": list}})
            }
            "GrantInstanceToCen" => {
                if !st
                    .of("vpc")
                    .iter()
                    .any(|v| v.id == p("InstanceId") && v.account == me)
                {
                    return Err(err("Forbidden", "only the VPC owner grants", 403));
                }
                let id = format!("grant:{}:{}", p("InstanceId"), p("CenId"));
                push(
                    &mut st,
                    "grant",
                    &me,
                    &region,
                    &id,
                    "",
                    &[
                        ("vpc", &p("InstanceId")),
                        ("cen", &p("CenId")),
                        ("owner", &p("CenOwnerId")),
                    ],
                );
                json!({})
            }
            "RevokeInstanceFromCen" => remove(
                &mut st,
                "grant",
                &format!("grant:{}:{}", p("InstanceId"), p("CenId")),
            )?,
            "ListTransitRouterVpcAttachments" => {
                st.settle("vpc-attachment");
                let list: Vec<Value> = st.of("vpc-attachment").iter().filter(|a| a.attrs["cen"] == p("CenId") && a.region == p("RegionId"))
                    .map(|a| json!({"TransitRouterAttachmentId": a.id, "Status": a.status, "CenId": a.attrs["cen"], "TransitRouterId": a.attrs["tr"],
                        "VpcId": a.attrs["vpc"], "VpcOwnerId": a.attrs["owner"].parse::<u64>().unwrap(), "VpcRegionId": a.region})).collect();
                json!({"TransitRouterAttachments": list})
            }
            "CreateTransitRouterVpcAttachment" => {
                let vpc = p("VpcId");
                let owner = if p("VpcOwnerId").is_empty() {
                    me.clone()
                } else {
                    p("VpcOwnerId")
                };
                if !st
                    .of("vpc")
                    .iter()
                    .any(|v| v.id == vpc && v.account == owner)
                {
                    return Err(err(
                        "IncorrectStatus.Vpc",
                        "VPC not found for that owner (VpcOwnerId?)",
                        400,
                    ));
                }
                if owner != me
                    && !st
                        .of("grant")
                        .iter()
                        .any(|g| g.attrs["vpc"] == vpc && g.attrs["cen"] == p("CenId"))
                {
                    return Err(err(
                        "Forbidden.NotGranted",
                        "the VPC owner has not granted it to this CEN",
                        400,
                    ));
                }
                let zones: std::collections::BTreeSet<String> = (1..=10)
                    .map(|i| p(&format!("ZoneMappings.{i}.ZoneId")))
                    .filter(|z| !z.is_empty())
                    .collect();
                for i in 1..=10 {
                    let v = p(&format!("ZoneMappings.{i}.VSwitchId"));
                    if !v.is_empty() && !st.of("vswitch").iter().any(|s| s.id == v) {
                        return Err(err(
                            "InvalidVSwitchId.NotFound",
                            &format!("no vSwitch {v}"),
                            400,
                        ));
                    }
                }
                if zones.len() < 2 {
                    return Err(err(
                        "InvalidParameter.ZoneMappings",
                        "two zones needed",
                        400,
                    ));
                }
                let id = st.new_id("tr-attach");
                push(
                    &mut st,
                    "vpc-attachment",
                    &me,
                    &region,
                    &id,
                    "Attaching",
                    &[
                        ("cen", &p("CenId")),
                        ("tr", &p("TransitRouterId")),
                        ("vpc", &vpc),
                        ("owner", &owner),
                    ],
                );
                json!({"TransitRouterAttachmentId": id}).with_token(&mut st, &token, &id)
            }
            "DeleteTransitRouterVpcAttachment" => {
                remove(&mut st, "vpc-attachment", &p("TransitRouterAttachmentId"))?
            }
            "ListTransitRouterPeerAttachments" => {
                st.settle("peer-attachment");
                let list: Vec<Value> = st.of("peer-attachment").iter().filter(|a| a.attrs["cen"] == p("CenId"))
                    .map(|a| json!({"TransitRouterAttachmentId": a.id, "Status": a.status, "TransitRouterId": a.attrs["tr"],
                        "PeerTransitRouterId": a.attrs["peer_tr"], "PeerTransitRouterRegionId": a.attrs["peer_region"]})).collect();
                json!({"TransitRouterAttachments": list})
            }
            "CreateTransitRouterPeerAttachment" => {
                let id = st.new_id("tr-attach");
                push(
                    &mut st,
                    "peer-attachment",
                    &me,
                    &region,
                    &id,
                    "Attaching",
                    &[
                        ("cen", &p("CenId")),
                        ("tr", &p("TransitRouterId")),
                        ("peer_tr", &p("PeerTransitRouterId")),
                        ("peer_region", &p("PeerTransitRouterRegionId")),
                    ],
                );
                json!({"TransitRouterAttachmentId": id}).with_token(&mut st, &token, &id)
            }
            "DeleteTransitRouterPeerAttachment" => {
                remove(&mut st, "peer-attachment", &p("TransitRouterAttachmentId"))?
            }
            "CreateVSwitch" => {
                let id = st.new_id("vsw");
                push(
                    &mut st,
                    "vswitch",
                    &me,
                    &region,
                    &id,
                    "Pending",
                    &[
                        ("vpc", &p("VpcId")),
                        ("zone", &p("ZoneId")),
                        ("cidr", &p("CidrBlock")),
                        ("name", &p("VSwitchName")),
                    ],
                );
                json!({"VSwitchId": id}).with_token(&mut st, &token, &id)
            }
            "DeleteVSwitch" => remove(&mut st, "vswitch", &p("VSwitchId"))?,
            other => {
                return Err(err(
                    "InvalidApi.NotFound",
                    &format!("fake cloud does not know {other}"),
                    404,
                ));
            }
        };
        if st.lose_response_of.as_deref() == Some(call.action.as_str()) {
            st.lose_response_of = None;
            return Err(err(
                "dwlink.Transport",
                "connection reset (response lost)",
                0,
            ));
        }
        Ok(v)
    }
}

trait WithToken {
    fn with_token(self, st: &mut State, token: &str, id: &str) -> Value;
}
impl WithToken for Value {
    fn with_token(self, st: &mut State, token: &str, id: &str) -> Value {
        if !token.is_empty() {
            st.tokens.insert(token.into(), id.into());
        }
        self
    }
}

fn push(
    st: &mut State,
    kind: &'static str,
    account: &str,
    region: &str,
    id: &str,
    status: &str,
    attrs: &[(&str, &str)],
) {
    st.res.push(Res {
        kind,
        account: account.into(),
        region: region.into(),
        id: id.into(),
        status: status.into(),
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    });
}

fn remove(st: &mut State, kind: &str, id: &str) -> Result<Value, CloudError> {
    let before = st.res.len();
    st.res.retain(|r| !(r.kind == kind && r.id == id));
    if st.res.len() == before {
        return Err(err("ResourceNotFound", &format!("no {kind} {id}"), 404));
    }
    Ok(json!({}))
}

fn vsw_json(v: &Res) -> Value {
    let rtb = if v.account == UID_A { RTB_A } else { RTB_B };
    json!({"VSwitchId": v.id, "VSwitchName": v.attrs["name"], "VpcId": v.attrs["vpc"], "ZoneId": v.attrs["zone"],
           "CidrBlock": v.attrs["cidr"], "Status": v.status, "RouteTable": {"RouteTableId": rtb, "RouteTableType": "System"}})
}

fn peer_json(x: &Res) -> Value {
    json!({"InstanceId": x.id, "Status": x.status, "OwnerId": x.account.parse::<u64>().unwrap(), "RegionId": x.region,
           "Vpc": {"VpcId": x.attrs["vpc"]}, "AcceptingOwnerUid": x.attrs["acc_uid"].parse::<u64>().unwrap(),
           "AcceptingRegionId": x.attrs["acc_region"], "AcceptingVpc": {"VpcId": x.attrs["acc_vpc"]}})
}

/// The fake's verdict: every hop of the path must be in place.
fn connectivity(st: &State) -> Value {
    let route = |table: &str, dest: &str| {
        st.of("route-entry")
            .into_iter()
            .find(|e| e.attrs["table"] == table && e.attrs["dest"] == dest)
            .cloned()
    };
    let hop_ok = |e: &Res| match e.attrs["hop_type"].as_str() {
        "VpcPeer" => st
            .of("peering")
            .iter()
            .any(|p| p.id == e.attrs["hop"] && p.status == "Activated"),
        "Attachment" => {
            st.of("vpc-attachment").iter().any(|a| {
                a.id == e.attrs["hop"]
                    && a.status == "Attached"
                    && st.of("assoc").iter().any(|x| x.attrs["att"] == a.id)
                    && st.of("prop").iter().any(|x| x.attrs["att"] == a.id)
            }) && st
                .of("peer-attachment")
                .iter()
                .all(|p| p.status == "Attached")
        }
        _ => false,
    };
    let checks: Vec<(&str, bool)> = vec![
        (
            "dataworks route",
            st.of("dw-route")
                .iter()
                .any(|r| r.attrs["dest"] == "192.168.6.0/24"),
        ),
        (
            "route in B",
            route(RTB_B, "192.168.6.0/24").is_some_and(|e| hop_ok(&e)),
        ),
        (
            "route in A",
            route(RTB_A, "172.16.66.0/24").is_some_and(|e| hop_ok(&e)),
        ),
        (
            "whitelist",
            st.whitelist
                .iter()
                .any(|g| g.entries.iter().any(|e| e == "172.16.66.0/24")),
        ),
    ];
    match checks.iter().find(|(_, ok)| !ok) {
        None => {
            json!({"Connectivity": {"ConnectState": "Connectable", "ConnectMessage": "", "DetailLogs": []}})
        }
        Some((hop, _)) => {
            json!({"Connectivity": {"ConnectState": "Unreachable", "ConnectMessage": format!("{hop} missing"),
            "DetailLogs": [{"Code": "NetworkCheck", "Message": format!("{hop} missing")}]}})
        }
    }
}

/// An in-memory RDS MySQL plugin over the same state.
pub struct FakePlugin {
    pub info: PluginInfo,
    pub state: Arc<Mutex<State>>,
}

impl FakePlugin {
    pub fn new(state: Arc<Mutex<State>>) -> FakePlugin {
        FakePlugin {
            info: PluginInfo {
                name: "rds-mysql".into(),
                version: "0.1.0".into(),
                datasource_type: "mysql".into(),
                product: "Rds".into(),
                api_version: "2014-08-15".into(),
                actions: vec![],
                summary: String::new(),
                capabilities: vec![],
            },
            state,
        }
    }
}

impl DataSource for FakePlugin {
    fn info(&self) -> &PluginInfo {
        &self.info
    }
    fn discover(&self, instance: InstanceRef) -> BoxFuture<'_, anyhow::Result<Location>> {
        Box::pin(async move {
            anyhow::ensure!(
                instance.id == "rm-bp1simmysqlsource001",
                "no instance {}",
                instance.id
            );
            Ok(Location {
                region: "cn-hangzhou".into(),
                zone: "cn-hangzhou-h".into(),
                vpc_id: VPC_A.into(),
                vswitch_id: "vsw-bp1simhzvsw00000000h".into(),
                vswitch_cidr: "192.168.6.0/24".parse().unwrap(),
                endpoints: vec![Endpoint {
                    host: "rm-bp1simmysqlsource001.mysql.rds.aliyuncs.com".into(),
                    port: 3306,
                    role: "primary".into(),
                    address: None,
                }],
                status: "Running".into(),
                running: true,
            })
        })
    }
    fn whitelist_list(&self, _: InstanceRef) -> BoxFuture<'_, anyhow::Result<Vec<WhitelistGroup>>> {
        let st = self.state.lock().unwrap();
        let w = st.whitelist.clone();
        Box::pin(async move { Ok(w) })
    }
    fn whitelist_add(
        &self,
        _: InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> BoxFuture<'_, anyhow::Result<()>> {
        let mut st = self.state.lock().unwrap();
        st.calls.push((UID_A.into(), "ModifySecurityIps".into()));
        match st.whitelist.iter_mut().find(|g| g.name == group) {
            Some(g) => {
                for c in cidrs {
                    if !g.entries.contains(&c) {
                        g.entries.push(c);
                    }
                }
            }
            None => st.whitelist.push(WhitelistGroup {
                name: group,
                entries: cidrs,
                attribute: String::new(),
            }),
        }
        Box::pin(async { Ok(()) })
    }
    fn whitelist_remove(
        &self,
        _: InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> BoxFuture<'_, anyhow::Result<()>> {
        let mut st = self.state.lock().unwrap();
        st.calls.push((UID_A.into(), "ModifySecurityIps".into()));
        if let Some(g) = st.whitelist.iter_mut().find(|g| g.name == group) {
            g.entries.retain(|e| !cidrs.contains(e));
        }
        st.whitelist
            .retain(|g| g.name == "default" || !g.entries.is_empty());
        Box::pin(async { Ok(()) })
    }
    fn connection_properties(&self, r: ConnectionRequest) -> BoxFuture<'_, anyhow::Result<String>> {
        Box::pin(async move {
            Ok(json!({"envType": r.env_type, "regionId": r.instance.region, "instanceId": r.instance.id, "database": r.database,
                      "username": r.username, "crossAccountOwnerId": r.owner_uid, "crossAccountRoleName": r.role_name}).to_string())
        })
    }
}
