//! The planner: a pure function (desired link, observed facts) -> ordered actions.
//!
//! Each action names its account, region and API call, carries a deterministic ClientToken
//! (sha256 of link id and step name), and says why it is needed. A value produced by an earlier
//! action of the same plan is written `${step}` (its resource id) or `${step.rtb}` (a transit
//! router's system route table) and filled in by apply. A finished link plans nothing.

use super::Side;
use super::facts::{CenFacts, Facts, SideFacts};
use super::preflight::{self, Problem};
use crate::cloud::{Call, Method};
use crate::network::{cen, dataworks, peer, vpc};
use crate::spec::{LinkSpec, NetworkMode};
use dwlink_acs::Params;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A cloud call as planned and journaled (placeholders not yet filled in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSpec {
    pub product: String,
    pub version: String,
    pub action: String,
    pub region: String,
    pub get: bool,
    pub params: Vec<(String, String)>,
}

impl From<Call> for CallSpec {
    fn from(c: Call) -> Self {
        CallSpec {
            product: c.product,
            version: c.version,
            action: c.action,
            region: c.region,
            get: c.method == Method::Get,
            params: c.params.into_vec(),
        }
    }
}

impl CallSpec {
    /// The call with every `${...}` placeholder filled in by `resolve`.
    pub fn resolve(&self, resolve: &dyn Fn(&str) -> Option<String>) -> Result<Call, String> {
        let mut params = Params::new();
        for (k, v) in &self.params {
            params.insert(k.clone(), fill(v, resolve)?);
        }
        let mut call =
            Call::new(&self.product, &self.version, &self.action, &self.region).params(params);
        if self.get {
            call = call.get();
        }
        Ok(call)
    }
}

/// Fills a `${name}` placeholder (a whole value) from `resolve`.
pub fn fill(v: &str, resolve: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    match v.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
        Some(name) => {
            resolve(name).ok_or_else(|| format!("no resource id recorded for step {name}"))
        }
        None => Ok(v.to_string()),
    }
}

fn placeholder(step: &str) -> String {
    format!("${{{step}}}")
}

/// An async state an action waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Wait {
    /// A CEN instance becomes Active (transit routers cannot be created before).
    Cen {
        id: String,
    },
    /// A peering connection reaches one of `statuses`.
    Peering {
        id: String,
        statuses: Vec<String>,
    },
    /// A transit router becomes Active; apply then records its system route table as `step.rtb`.
    TransitRouter {
        cen: String,
        id: String,
    },
    VpcAttachment {
        cen: String,
        id: String,
    },
    PeerAttachment {
        cen: String,
        id: String,
    },
    RouteEntry {
        table: String,
        id: String,
    },
    VSwitch {
        id: String,
    },
    /// An attachment's association with (or propagation into) a transit router's route table
    /// becomes Active: until then the transit router does not route for it.
    TrRouteTable {
        table: String,
        attachment: String,
        propagation: bool,
    },
}

impl Wait {
    /// The awaited resource's id first, then the ids that locate it (CEN, route table).
    pub(crate) fn ids(&self) -> Vec<String> {
        match self {
            Wait::Cen { id } | Wait::Peering { id, .. } | Wait::VSwitch { id } => vec![id.clone()],
            Wait::TransitRouter { cen, id }
            | Wait::VpcAttachment { cen, id }
            | Wait::PeerAttachment { cen, id } => vec![id.clone(), cen.clone()],
            Wait::RouteEntry { table, id } => vec![id.clone(), table.clone()],
            // The awaited thing is the link itself, which no other step names.
            Wait::TrRouteTable {
                table,
                attachment,
                propagation,
            } => vec![
                format!("{table}/{attachment}/{propagation}"),
                table.clone(),
                attachment.clone(),
            ],
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Wait::Cen { id } => format!("CEN {id} to be Active"),
            Wait::Peering { id, statuses } => {
                format!("peering {id} to be {}", statuses.join(" or "))
            }
            Wait::TransitRouter { id, .. } => format!("transit router {id} to be Active"),
            Wait::VpcAttachment { id, .. } => format!("VPC attachment {id} to be Attached"),
            Wait::PeerAttachment { id, .. } => {
                format!("inter-region connection {id} to be Attached")
            }
            Wait::RouteEntry { id, .. } => format!("route entry {id} to be Available"),
            Wait::VSwitch { id } => format!("vSwitch {id} to be Available"),
            Wait::TrRouteTable {
                table,
                attachment,
                propagation: false,
            } => format!("association of {attachment} with {table} to be Active"),
            Wait::TrRouteTable {
                table,
                attachment,
                propagation: true,
            } => format!("propagation of {attachment} into {table} to be Active"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // plain data, built once per step
pub enum Op {
    /// One OpenAPI call; `output` is the response field holding the created resource's id.
    Cloud {
        call: CallSpec,
        output: Option<String>,
        wait: Option<Wait>,
        /// How destroy undoes it (placeholders allowed), and whether to wait until it is gone.
        undo: Option<CallSpec>,
        undo_waits: bool,
    },
    /// Wait for a resource another run created to settle.
    Wait { wait: Wait },
    /// Add the resource group's vSwitch CIDR to the instance whitelist, through the plugin.
    WhitelistAdd { group: String, cidr: String },
    /// Register the DataWorks data source (cross-account InstanceMode, plugin's properties).
    RegisterDataSource {
        project_id: u64,
        name: String,
        kind: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub step: String,
    pub side: Side,
    /// UID of the account the action runs in.
    pub account: String,
    pub region: String,
    pub op: Op,
    pub client_token: Option<String>,
    pub why: String,
}

impl Action {
    /// `Product:Action` for cloud calls, `plugin:whitelist-add` etc. otherwise.
    pub fn api(&self) -> String {
        match &self.op {
            Op::Cloud { call, .. } => format!("{}:{}", call.product, call.action),
            Op::Wait { .. } => "wait".into(),
            Op::WhitelistAdd { .. } => "plugin:whitelist-add".into(),
            Op::RegisterDataSource { .. } => "dataworks-public:CreateDataSource".into(),
        }
    }

    /// One line for people: account, region, call and its main parameters.
    pub fn summary(&self) -> String {
        let detail = match &self.op {
            Op::Cloud { call, .. } => call
                .params
                .iter()
                .filter(|(k, _)| k != "ClientToken" && k != "RegionId")
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            Op::Wait { wait } => wait.describe(),
            Op::WhitelistAdd { group, cidr } => format!("group={group} cidr={cidr}"),
            Op::RegisterDataSource { name, kind, .. } => format!("Name={name} Type={kind}"),
        };
        format!("{} {}", self.api(), detail)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Peering,
    Cen,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Peering => "peering",
            Mode::Cen => "cen",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub link_id: String,
    pub mode: Mode,
    pub mode_reason: String,
    pub actions: Vec<Action>,
    /// Things the plan decided that the user should know (e.g. a vSwitch it will create).
    pub notes: Vec<String>,
    /// Preflight failures: when not empty, nothing may be applied.
    #[serde(skip_deserializing)]
    pub problems: Vec<Problem>,
}

/// Steps that must be done before another may start, by a rule that holds whatever the plan:
/// an action waits for every earlier action that creates or settles a resource it names (a
/// `${step}` placeholder, or the literal id a wait step is waiting on), and the source VPC's
/// attachment waits for account A's grant. Everything else may run at the same time: the
/// DataWorks route, the whitelist entry and the data source do not wait for the network.
/// Returns, for each action, the indices of the earlier actions it waits for.
pub fn dependencies(actions: &[Action]) -> Vec<Vec<usize>> {
    const ORDERED: &[(&str, &str)] = &[("cen.attach.source", "cen.grant")];
    let settles: Vec<Vec<String>> = actions.iter().map(Action::settles).collect();
    actions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let names = a.names();
            (0..i)
                .filter(|&j| {
                    let before = &actions[j];
                    let named = names.iter().any(|n| {
                        settles[j].contains(n)
                            || n.strip_prefix("${").is_some_and(|r| {
                                r.strip_prefix(before.step.as_str())
                                    .is_some_and(|rest| rest == "}" || rest == ".rtb}")
                            })
                    });
                    named
                        || ORDERED
                            .iter()
                            .any(|(later, first)| a.step == *later && before.step == *first)
                        // A replaced resource goes before its replacement is made.
                        || before.step == format!("{}.stale", a.step)
                })
                .collect()
        })
        .collect()
}

impl Action {
    /// Every value the action is given: its call's parameters and what it waits on.
    pub(crate) fn names(&self) -> Vec<String> {
        match &self.op {
            Op::Cloud { call, wait, .. } => call
                .params
                .iter()
                .map(|(_, v)| v.clone())
                .chain(wait.iter().flat_map(Wait::ids))
                .collect(),
            Op::Wait { wait } => wait.ids(),
            Op::WhitelistAdd { .. } | Op::RegisterDataSource { .. } => Vec::new(),
        }
    }

    /// The resources that are ready once this action is done: what it creates (`${step}`)
    /// and what it waits for.
    fn settles(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.op {
            Op::Cloud { output, wait, .. } => {
                if output.is_some() {
                    out.push(placeholder(&self.step));
                }
                if let Some(w) = wait {
                    out.extend(w.ids().into_iter().take(1));
                }
            }
            Op::Wait { wait } => out.extend(wait.ids().into_iter().take(1)),
            Op::WhitelistAdd { .. } | Op::RegisterDataSource { .. } => {}
        }
        out
    }

    /// The resource a write changes that must not change twice at once (a route table, a
    /// transit router's route table, a peering connection, a whitelist group), if any.
    pub fn serial_key(&self) -> Option<String> {
        match &self.op {
            Op::Cloud { call, .. } => ["RouteTableId", "TransitRouterRouteTableId", "InstanceId"]
                .iter()
                .find_map(|k| call.params.iter().find(|(n, _)| n == k))
                .map(|(_, v)| format!("{}/{v}", self.account)),
            Op::WhitelistAdd { group, .. } => Some(format!("{}/whitelist/{group}", self.account)),
            Op::Wait { .. } | Op::RegisterDataSource { .. } => None,
        }
    }
}

/// The deterministic ClientToken of a step: hex sha256 of link id and step (64 chars).
pub fn client_token(link_id: &str, step: &str) -> String {
    hex::encode(Sha256::digest(format!("{link_id}/{step}").as_bytes()))
}

/// What ClientTokens are derived from: the link id, and the generation after a destroy.
pub fn token_scope(facts: &Facts) -> String {
    scope(&facts.link_id, facts.generation, &facts.token_salt)
}

/// The token scope of `link_id` in `generation`, salted by the journal that records it (a
/// journal started afresh, in a new or lost state dir, never reuses an old build's tokens).
pub fn scope(link_id: &str, generation: u32, salt: &str) -> String {
    let base = match generation {
        0 => link_id.to_string(),
        g => format!("{link_id}#{g}"),
    };
    if salt.is_empty() {
        base
    } else {
        format!("{base}~{salt}")
    }
}

/// The ClientToken of a step's `attempt`: a resource deleted since it was created is created
/// again with a new token (the cloud answers an old one with the deleted resource's id), and
/// the same attempt always sends the same token, so its retries stay idempotent.
pub fn attempt_token(base: &str, attempt: u32) -> String {
    match attempt {
        0 => base.to_string(),
        n => hex::encode(Sha256::digest(format!("{base}#{n}").as_bytes())),
    }
}

/// Picks the network mode and says why.
pub fn choose_mode(spec: &LinkSpec, facts: &Facts) -> (Mode, String) {
    match spec.network.mode {
        NetworkMode::Peering => (
            Mode::Peering,
            "network.mode = \"peering\" in the link file".into(),
        ),
        NetworkMode::Cen => (Mode::Cen, "network.mode = \"cen\" in the link file".into()),
        NetworkMode::Auto => {
            if let Some(c) = &facts.cen {
                (
                    Mode::Cen,
                    format!(
                        "auto: CEN {} {}, so the link joins it",
                        c.cen.id, c.found_by
                    ),
                )
            } else if let Some(p) = facts.peerings.first() {
                (
                    Mode::Peering,
                    format!(
                        "auto: peering connection {} already joins the two VPCs",
                        p.id
                    ),
                )
            } else {
                (
                    Mode::Peering,
                    "auto: one point-to-point link and no CEN joins either VPC, so a VPC peering connection (simpler; free within one region); set network.mode = \"cen\" to use CEN".into(),
                )
            }
        }
    }
}

struct Builder<'a> {
    spec: &'a LinkSpec,
    facts: &'a Facts,
    actions: Vec<Action>,
    notes: Vec<String>,
    problems: Vec<Problem>,
}

impl Builder<'_> {
    fn token(&self, step: &str) -> String {
        let attempt = self.facts.attempts.get(step).copied().unwrap_or(0);
        attempt_token(&client_token(&token_scope(self.facts), step), attempt)
    }

    fn name(&self) -> String {
        format!("dwlink-{}", self.facts.link_id)
    }

    fn side(&self, side: Side) -> &SideFacts {
        match side {
            Side::Source => &self.facts.source,
            Side::Dataworks => &self.facts.dataworks,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn cloud(
        &mut self,
        step: &str,
        side: Side,
        call: Call,
        output: Option<&str>,
        wait: Option<Wait>,
        undo: Option<Call>,
        undo_waits: bool,
        why: String,
    ) {
        let s = self.side(side);
        let client_token = call.params.get("ClientToken").map(str::to_string);
        self.actions.push(Action {
            step: step.into(),
            side,
            account: s.account_uid.clone(),
            region: call.region.clone(),
            op: Op::Cloud {
                call: call.into(),
                output: output.map(str::to_string),
                wait,
                undo: undo.map(Into::into),
                undo_waits,
            },
            client_token,
            why,
        });
    }

    fn wait(&mut self, step: &str, side: Side, region: &str, wait: Wait, why: String) {
        let account = self.side(side).account_uid.clone();
        self.actions.push(Action {
            step: step.into(),
            side,
            account,
            region: region.into(),
            op: Op::Wait { wait },
            client_token: None,
            why,
        });
    }

    /// A VPC route entry on `side` to `dest` through `hop_type`/`hop`, unless one exists.
    fn route(
        &mut self,
        step: &str,
        side: Side,
        dest: &str,
        hop_type: &str,
        hop: &str,
        hop_known: bool,
    ) {
        let s = self.side(side).clone();
        let existing = s.route_entries.iter().find(|e| e.destination == dest);
        if let Some(e) = existing.filter(|e| {
            let same = e.next_hop_type == hop_type && hop_known && e.next_hop_id == hop;
            !same
                && e.next_hop_type == hop_type
                && self
                    .facts
                    .owned
                    .get(&e.id)
                    .is_some_and(|owner| owner == step)
        }) {
            // dwlink's own entry, pointing at a connection of this mode that was deleted or
            // replaced since: it is replaced (deleted first, then created anew below). An entry
            // of the other mode is not: switching modes takes a destroy first.
            self.cloud(
                &format!("{step}.stale"),
                side,
                vpc::delete_route_entry_call(&s.region, &e.id),
                None,
                None,
                None,
                false,
                format!(
                    "route entry {} (made by dwlink) sends {dest} to {} {}, which this link no longer uses",
                    e.id, e.next_hop_type, e.next_hop_id
                ),
            );
        } else if let Some(e) = existing {
            // With the hop still to be created (`!hop_known`), an entry of the same type points
            // at some other connection (e.g. a peering deleted behind dwlink's back): using it
            // would report a link that cannot carry traffic.
            let same = e.next_hop_type == hop_type && hop_known && e.next_hop_id == hop;
            if !same && e.next_hop_type == hop_type && !hop_known {
                self.problems.push(Problem {
                    check: "route entries do not conflict".into(),
                    message: format!(
                        "route table {} (account {}, {}) already routes {dest} to {} {}, which is not the connection this link uses (it is being created)",
                        s.route_table_id, s.account_uid, s.region, e.next_hop_type, e.next_hop_id
                    ),
                    fix: format!(
                        "delete route entry {} (DeleteRouteEntry in account {}, {}) if {} is gone, then run again",
                        e.id, s.account_uid, s.region, e.next_hop_id
                    ),
                });
            } else if !same {
                self.problems.push(Problem {
                    check: "route entries do not conflict".into(),
                    message: format!(
                        "route table {} (account {}, {}) already routes {dest} to {} {}, not to {hop_type} {hop}",
                        s.route_table_id, s.account_uid, s.region, e.next_hop_type, e.next_hop_id
                    ),
                    fix: format!(
                        "if dwlink made it in the other network mode, run `dwlink-host destroy` with that link file first; otherwise delete route entry {} or set network.mode to the mode that uses it",
                        e.id
                    ),
                });
            } else if e.status != "Available" && !e.id.is_empty() {
                self.wait(
                    step,
                    side,
                    &s.region,
                    Wait::RouteEntry {
                        table: s.route_table_id.clone(),
                        id: e.id.clone(),
                    },
                    format!("route entry {} to {dest} is {}", e.id, e.status),
                );
            }
            return;
        }
        let token = self.token(step);
        let p = placeholder(step);
        self.cloud(
            step,
            side,
            vpc::create_route_entry_call(
                &s.region,
                &s.route_table_id,
                dest,
                hop_type,
                hop,
                &self.name(),
                &token,
            ),
            Some("RouteEntryId"),
            Some(Wait::RouteEntry {
                table: s.route_table_id.clone(),
                id: p.clone(),
            }),
            Some(vpc::delete_route_entry_call(&s.region, &p)),
            false,
            format!(
                "traffic from {} to {dest} goes through {hop_type} {hop}",
                s.vpc.id
            ),
        );
    }
}

/// The pure planner. `datasource_type` is the plugin's DataWorks type (e.g. `mysql`).
pub fn plan(spec: &LinkSpec, facts: &Facts, datasource_type: &str) -> Plan {
    let (mode, mode_reason) = choose_mode(spec, facts);
    let mut b = Builder {
        spec,
        facts,
        actions: Vec::new(),
        notes: Vec::new(),
        problems: preflight::check(facts),
    };
    // The data source's vSwitch CIDR as the host read it in account A (observe refused a plugin
    // whose claim differs): never the plugin's word.
    let src_cidr = facts.source_cidr();
    let dw_cidr = facts.dataworks.vswitch.cidr.clone();

    match mode {
        Mode::Peering => plan_peering(&mut b, &src_cidr, &dw_cidr),
        Mode::Cen => plan_cen(&mut b, &src_cidr, &dw_cidr),
    }

    // The resource group's custom route to the data source's vSwitch.
    let rb = &spec.dataworks.region;
    if !facts.dw_routes.iter().any(|r| r.destination == src_cidr) {
        let step = "dataworks.route";
        let p = placeholder(step);
        b.cloud(
            step,
            Side::Dataworks,
            dataworks::create_route_call(
                rb,
                &facts.dw_network.id,
                &src_cidr,
                &spec.dataworks.resource_group_id,
            ),
            Some("Id"),
            None,
            Some(dataworks::delete_route_call(rb, &p)),
            false,
            format!(
                "resource group {} sends traffic for {src_cidr} into its VPC {}",
                spec.dataworks.resource_group_id, facts.dw_network.vpc_id
            ),
        );
    }

    // The whitelist entry, through the plugin.
    if spec.whitelist.enabled {
        let present = facts
            .whitelist
            .iter()
            .any(|g| g.name == spec.whitelist.group && g.entries.contains(&dw_cidr));
        if !present {
            b.actions.push(Action {
                step: "whitelist.add".into(),
                side: Side::Source,
                account: facts.source.account_uid.clone(),
                region: spec.source.region.clone(),
                op: Op::WhitelistAdd {
                    group: spec.whitelist.group.clone(),
                    cidr: dw_cidr.clone(),
                },
                client_token: None,
                why: format!(
                    "instance {} accepts connections from the resource group's vSwitch {dw_cidr}",
                    spec.source.instance_id
                ),
            });
        }
    }

    // The DataWorks data source that proves the link.
    if facts.data_sources.is_empty() {
        b.actions.push(Action {
            step: "dataworks.data_source".into(),
            side: Side::Dataworks,
            account: facts.dataworks.account_uid.clone(),
            region: rb.clone(),
            op: Op::RegisterDataSource {
                project_id: spec.dataworks.workspace_id,
                name: spec.dataworks.data_source.name.clone(),
                kind: datasource_type.to_string(),
            },
            client_token: None,
            why: format!(
                "DataWorks workspace {} reaches {} in cross-account mode",
                spec.dataworks.workspace_id, spec.source.instance_id
            ),
        });
    }

    Plan {
        link_id: facts.link_id.clone(),
        mode,
        mode_reason,
        actions: b.actions,
        notes: b.notes,
        problems: b.problems,
    }
}

fn plan_peering(b: &mut Builder, src_cidr: &str, dw_cidr: &str) {
    let f = b.facts;
    let (ra, rb) = (f.source.region.clone(), f.dataworks.region.clone());
    let cross_account = f.source.account_uid != f.dataworks.account_uid;
    let (pcc, known) = match f.peerings.first() {
        Some(p) => {
            match p.status.as_str() {
                "Accepting" if cross_account => accept(b, &rb, &p.id),
                "Creating" => {
                    b.wait(
                        "peering.create",
                        Side::Source,
                        &ra,
                        Wait::Peering {
                            id: p.id.clone(),
                            statuses: vec!["Accepting".into(), "Activated".into()],
                        },
                        format!("peering {} is still being created", p.id),
                    );
                    if cross_account {
                        accept(b, &rb, &p.id);
                    }
                }
                "Updating" => b.wait(
                    "peering.accept",
                    Side::Dataworks,
                    &rb,
                    Wait::Peering {
                        id: p.id.clone(),
                        statuses: vec!["Activated".into()],
                    },
                    format!("peering {} is being activated", p.id),
                ),
                _ => {}
            }
            (p.id.clone(), true)
        }
        None => {
            let step = "peering.create";
            let p = placeholder(step);
            let token = b.token(step);
            let name = b.name();
            b.cloud(
                step,
                Side::Source,
                peer::create_call(
                    &ra,
                    &f.source.vpc.id,
                    &f.dataworks.account_uid,
                    &rb,
                    &f.dataworks.vpc.id,
                    &name,
                    &token,
                ),
                Some("InstanceId"),
                Some(Wait::Peering {
                    id: p.clone(),
                    statuses: vec!["Accepting".into(), "Activated".into()],
                }),
                Some(peer::delete_call(&ra, &p)),
                true,
                format!(
                    "account A's VPC {} asks account B's VPC {} ({rb}) to peer",
                    f.source.vpc.id, f.dataworks.vpc.id
                ),
            );
            if cross_account {
                accept(b, &rb, &p);
            }
            (p, false)
        }
    };
    b.route(
        "route.source",
        Side::Source,
        dw_cidr,
        "VpcPeer",
        &pcc,
        known,
    );
    b.route(
        "route.dataworks",
        Side::Dataworks,
        src_cidr,
        "VpcPeer",
        &pcc,
        known,
    );
}

fn accept(b: &mut Builder, rb: &str, pcc: &str) {
    let step = "peering.accept";
    let token = b.token(step);
    b.cloud(
        step,
        Side::Dataworks,
        peer::accept_call(rb, pcc, &token),
        None,
        Some(Wait::Peering {
            id: pcc.into(),
            statuses: vec!["Activated".into()],
        }),
        None,
        false,
        "account B accepts the peering request from account A".into(),
    );
}

/// The id of an existing resource, or the placeholder of the step that creates it.
fn known_or(existing: Option<&str>, step: &str) -> (String, bool) {
    match existing {
        Some(id) => (id.to_string(), true),
        None => (placeholder(step), false),
    }
}

fn plan_cen(b: &mut Builder, src_cidr: &str, dw_cidr: &str) {
    let f = b.facts;
    let spec = b.spec;
    let empty = CenFacts {
        cen: cen::Cen {
            id: String::new(),
            name: String::new(),
            status: String::new(),
        },
        transit_routers: vec![],
        vpc_attachments: vec![],
        peer_attachments: vec![],
        route_tables: Default::default(),
        found_by: String::new(),
    };
    let c = f.cen.as_ref().unwrap_or(&empty);
    let (ra, rb) = (f.source.region.clone(), f.dataworks.region.clone());
    let name = b.name();

    // The CEN instance, in account B.
    let (cen_id, _) = known_or(f.cen.as_ref().map(|c| c.cen.id.as_str()), "cen.create");
    if f.cen.is_none() {
        let step = "cen.create";
        let token = b.token(step);
        b.cloud(
            step,
            Side::Dataworks,
            cen::create_cen_call(&rb, &name, &token),
            Some("CenId"),
            Some(Wait::Cen {
                id: placeholder(step),
            }),
            Some(cen::delete_cen_call(&rb, &placeholder(step))),
            true,
            "no CEN joins the two VPCs yet; account B owns it (as the document recommends)".into(),
        );
    } else if c.cen.status != "Active" {
        // Found but still settling (e.g. an interrupted run created it a moment ago).
        b.wait(
            "cen.create",
            Side::Dataworks,
            &rb,
            Wait::Cen {
                id: c.cen.id.clone(),
            },
            format!("CEN {} is {}", c.cen.id, c.cen.status),
        );
    }

    // Transit routers: one per region.
    let tr = |b: &mut Builder, region: &str, step: &str| -> (String, String) {
        if let Some(t) = c.transit_router(region) {
            let rtb = c
                .route_tables
                .get(&t.id)
                .map(|r| r.id.clone())
                .unwrap_or_else(|| placeholder(&format!("{step}.rtb")));
            if t.status != "Active" {
                b.wait(
                    step,
                    Side::Dataworks,
                    region,
                    Wait::TransitRouter {
                        cen: cen_id.clone(),
                        id: t.id.clone(),
                    },
                    format!("transit router {} is {}", t.id, t.status),
                );
            }
            return (t.id.clone(), rtb);
        }
        let token = b.token(step);
        let p = placeholder(step);
        b.cloud(
            step,
            Side::Dataworks,
            cen::create_transit_router_call(region, &cen_id, &name, &token),
            Some("TransitRouterId"),
            Some(Wait::TransitRouter {
                cen: cen_id.clone(),
                id: p.clone(),
            }),
            Some(cen::delete_transit_router_call(region, &p)),
            true,
            format!("CEN {cen_id} needs a transit router in {region}"),
        );
        (p, placeholder(&format!("{step}.rtb")))
    };
    let (tr_b, rtb_b) = tr(b, &rb, "cen.tr.dataworks");
    let (tr_a, rtb_a) = if ra == rb {
        (tr_b.clone(), rtb_b.clone())
    } else {
        tr(b, &ra, "cen.tr.source")
    };

    // VPC attachments, each with vSwitches in two zones.
    let attach = |b: &mut Builder, side: Side, tr_id: &str| -> (String, bool) {
        let s = b.side(side).clone();
        let label = if side == Side::Source {
            "source"
        } else {
            "dataworks"
        };
        let step = format!("cen.attach.{label}");
        if let Some(a) = c.attachment_of(&s.vpc.id) {
            if a.status != "Attached" {
                b.wait(
                    &step,
                    Side::Dataworks,
                    &s.region,
                    Wait::VpcAttachment {
                        cen: cen_id.clone(),
                        id: a.id.clone(),
                    },
                    format!("attachment {} is {}", a.id, a.status),
                );
            }
            return (a.id.clone(), true);
        }
        // The attachment's vSwitches: in zones the transit router supports, the instance's (or
        // resource group's) own first, two zones in all.
        let mut zones = preflight::attachment_zones(&s);
        if zones.len() < 2 {
            let (z, cidr) = if side == Side::Source {
                (
                    spec.network.new_vswitch_zone.as_deref(),
                    spec.network.new_vswitch_cidr,
                )
            } else {
                (None, None)
            };
            match preflight::new_vswitch_for(&s, z, cidr) {
                Ok((zone, cidr)) => {
                    let vstep = format!("vswitch.{label}");
                    let token = b.token(&vstep);
                    let p = placeholder(&vstep);
                    b.notes.push(format!(
                        "VPC {} (account {}, {}) has vSwitches in {} zone(s) its transit router supports; CEN needs two, so dwlink creates vSwitch {cidr} in {zone}",
                        s.vpc.id, s.account_uid, s.region, zones.len()
                    ));
                    b.cloud(
                        &vstep,
                        side,
                        vpc::create_vswitch_call(&s.region, &s.vpc.id, &zone, &cidr.to_string(), &b.name(), &token),
                        Some("VSwitchId"),
                        Some(Wait::VSwitch { id: p.clone() }),
                        Some(vpc::delete_vswitch_call(&s.region, &p)),
                        false,
                        format!("a second zone ({zone}) for the transit-router attachment of {}", s.vpc.id),
                    );
                    zones.push((zone, p));
                }
                Err(message) => b.problems.push(Problem {
                    check: "two zones for CEN".into(),
                    message,
                    fix: "set network.new_vswitch_zone (a zone the transit router supports) and network.new_vswitch_cidr, or create a vSwitch in a second supported zone".into(),
                }),
            }
        }
        let cross = s.account_uid != b.facts.dataworks.account_uid;
        if cross && !s.cen_grants.iter().any(|g| g.cen_id == cen_id) {
            let gstep = "cen.grant";
            let token = b.token(gstep);
            b.cloud(
                gstep,
                Side::Source,
                vpc::grant_to_cen_call(
                    &s.region,
                    &s.vpc.id,
                    &cen_id,
                    &b.facts.dataworks.account_uid,
                    &token,
                ),
                None,
                None,
                Some(vpc::revoke_from_cen_call(
                    &s.region,
                    &s.vpc.id,
                    &cen_id,
                    &b.facts.dataworks.account_uid,
                )),
                false,
                format!(
                    "account A lets account B's CEN {cen_id} attach its VPC {}",
                    s.vpc.id
                ),
            );
        }
        let token = b.token(&step);
        let p = placeholder(&step);
        b.cloud(
            &step,
            Side::Dataworks,
            cen::create_vpc_attachment_call(
                &s.region,
                &cen_id,
                tr_id,
                &s.vpc.id,
                cross.then_some(s.account_uid.as_str()),
                &zones,
                &b.name(),
                &token,
            ),
            Some("TransitRouterAttachmentId"),
            Some(Wait::VpcAttachment {
                cen: cen_id.clone(),
                id: p.clone(),
            }),
            Some(cen::delete_vpc_attachment_call(&s.region, &p)),
            true,
            format!("VPC {} joins the transit router in {}", s.vpc.id, s.region),
        );
        (p, false)
    };
    let (att_b, att_b_known) = attach(b, Side::Dataworks, &tr_b);
    let (att_a, att_a_known) = attach(b, Side::Source, &tr_a);

    // The inter-region connection.
    let mut links = vec![
        (
            att_b.clone(),
            tr_b.clone(),
            rtb_b.clone(),
            rb.clone(),
            "dataworks",
        ),
        (
            att_a.clone(),
            tr_a.clone(),
            rtb_a.clone(),
            ra.clone(),
            "source",
        ),
    ];
    if ra != rb {
        let existing = c.peer_between(&tr_a, &tr_b).map(|p| p.id.clone());
        let step = "cen.peer";
        let (peer_id, _) = known_or(existing.as_deref(), step);
        if existing.is_none() {
            let token = b.token(step);
            b.cloud(
                step,
                Side::Dataworks,
                cen::create_peer_attachment_call(&rb, &cen_id, &tr_b, &tr_a, &ra, &name, &token),
                Some("TransitRouterAttachmentId"),
                Some(Wait::PeerAttachment {
                    cen: cen_id.clone(),
                    id: placeholder(step),
                }),
                Some(cen::delete_peer_attachment_call(&rb, &placeholder(step))),
                true,
                format!("the transit routers in {rb} and {ra} are connected (regions differ)"),
            );
        }
        links.push((
            peer_id.clone(),
            tr_b.clone(),
            rtb_b.clone(),
            rb.clone(),
            "peer.dataworks",
        ));
        links.push((
            peer_id,
            tr_a.clone(),
            rtb_a.clone(),
            ra.clone(),
            "peer.source",
        ));
    }

    // Route-table association and propagation (off by default for API-created attachments).
    for (att, tr_id, rtb, region, label) in links {
        let table = c.route_tables.get(&tr_id);
        for (kind, present) in [
            (
                "assoc",
                table.is_some_and(|t| t.associations.contains(&att)),
            ),
            ("prop", table.is_some_and(|t| t.propagations.contains(&att))),
        ] {
            let step = format!("cen.{kind}.{label}");
            let link = Wait::TrRouteTable {
                table: rtb.clone(),
                attachment: att.clone(),
                propagation: kind == "prop",
            };
            if present {
                // Sent by an interrupted run and still settling: wait for it.
                if table.is_some_and(|t| t.settling.contains(&(kind == "prop", att.clone()))) {
                    b.wait(
                        &step,
                        Side::Dataworks,
                        &region,
                        link.clone(),
                        format!("{} is still settling", link.describe()),
                    );
                }
                continue;
            }
            let token = b.token(&step);
            let (call, undo, why) = if kind == "assoc" {
                (
                    cen::associate_call(&region, &att, &rtb, &token),
                    cen::dissociate_call(&region, &att, &rtb),
                    format!("attachment {att} uses the transit router's route table in {region}"),
                )
            } else {
                (
                    cen::enable_propagation_call(&region, &att, &rtb, &token),
                    cen::disable_propagation_call(&region, &att, &rtb),
                    format!(
                        "attachment {att} publishes its routes to the transit router in {region}"
                    ),
                )
            };
            b.cloud(
                &step,
                Side::Dataworks,
                call,
                None,
                Some(link),
                Some(undo),
                false,
                why,
            );
        }
    }

    b.route(
        "route.source",
        Side::Source,
        dw_cidr,
        "Attachment",
        &att_a,
        att_a_known,
    );
    b.route(
        "route.dataworks",
        Side::Dataworks,
        src_cidr,
        "Attachment",
        &att_b,
        att_b_known,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_attempt_has_its_own_stable_client_token() {
        let base = client_token("dwl-1", "route.source");
        assert_eq!(attempt_token(&base, 0), base);
        let first = attempt_token(&base, 1);
        assert_ne!(first, base);
        assert_eq!(
            first,
            attempt_token(&base, 1),
            "the same attempt, the same token"
        );
        assert_ne!(first, attempt_token(&base, 2));
        assert_eq!(first.len(), 64);
        assert_eq!(scope("dwl-1", 0, ""), "dwl-1");
        assert_eq!(scope("dwl-1", 2, ""), "dwl-1#2");
        assert_eq!(scope("dwl-1", 2, "ab12"), "dwl-1#2~ab12");
    }
}
