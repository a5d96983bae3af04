//! Observe: read both accounts (and the plugin) into [`Facts`]. Only reads. What the plugin
//! claims about the instance's network is checked against the host's own reads first.

use super::facts::{CenFacts, Facts, SideFacts};
use super::{Engine, EngineError};
use crate::cloud::Caller;
use crate::network::{cen, dataworks, peer, sts, vpc};
use crate::plugin::InstanceRef;
use crate::spec::{Access, NetworkMode};
use std::collections::BTreeMap;

impl Engine {
    pub(crate) fn instance(&self) -> InstanceRef {
        InstanceRef {
            id: self.spec.source.instance_id.clone(),
            region: self.spec.source.region.clone(),
        }
    }

    pub(crate) fn plugin_err(&self, call: &str, e: anyhow::Error) -> EngineError {
        EngineError::Plugin {
            plugin: self.ds.info().name.clone(),
            call: call.into(),
            message: format!("{e:#}"),
        }
    }

    /// Account A's vSwitch `id` in the link's region, as the host reads it (not through the
    /// plugin); `None` when it does not exist there.
    pub(crate) async fn source_vswitch(
        &self,
        id: &str,
    ) -> Result<Option<vpc::VSwitch>, EngineError> {
        match vpc::describe_vswitch(self.a.as_ref(), &self.spec.source.region, id).await {
            Ok(v) if v.id.is_empty() && v.vpc_id.is_empty() => Ok(None),
            Ok(v) => Ok(Some(v)),
            Err(e) if super::apply::is_not_found(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Gathers the facts the planner needs from both accounts and the plugin.
    pub async fn observe(&self) -> Result<Facts, EngineError> {
        let spec = &self.spec;
        let (ra, rb) = (&spec.source.region, &spec.dataworks.region);
        let a: &dyn Caller = self.a.as_ref();
        let b: &dyn Caller = self.b.as_ref();

        // Who we are in each account; in A this proves the role can be assumed.
        let id_b = sts::get_caller_identity(b, rb).await?;
        let id_a = sts::get_caller_identity(a, ra).await.map_err(|e| {
            let how = match &spec.source.access {
                Access::RoleArn { arn, .. } => format!(
                    "assuming {arn} from account B failed; check that the role's trust policy allows account {} and that the caller has sts:AssumeRole",
                    id_b.account_id
                ),
                Access::Profile(p) => format!("profile {p:?} does not work in account A"),
            };
            EngineError::Preflight(format!("cannot act in account A: {how}: {e}"))
        })?;
        if !id_a.account_id.is_empty() && id_a.account_id != spec.source.account_uid {
            return Err(EngineError::Preflight(format!(
                "the credentials for account A act in account {}, but the link says source.account_uid = {}; fix the role ARN or the profile",
                id_a.account_id, spec.source.account_uid
            )));
        }

        // Data-source side: where the plugin says the instance is, checked against account A's
        // own VPC API before it steers anything; then A's network around the verified vSwitch.
        let location = self
            .ds
            .discover(self.instance())
            .await
            .map_err(|e| self.plugin_err("discover", e))?;
        let vswitch = self.source_vswitch(&location.vswitch_id).await?;
        super::verify::check_location(
            &self.ds.info().name,
            &spec.source.account_uid,
            ra,
            &location,
            vswitch.as_ref(),
        )?;
        let Some(vswitch) = vswitch else {
            return Err(EngineError::Other(format!(
                "vSwitch {} of instance {} cannot be read in account A",
                location.vswitch_id, spec.source.instance_id
            )));
        };
        // Read when dwlink manages it, or when an earlier command recorded what a plugin did to
        // it unasked (re-checked on every command).
        let recorded =
            !super::Journal::peek_findings(&self.journal_dir, &self.link_id()).is_empty();
        let whitelist = if spec.whitelist.enabled || recorded {
            self.read_whitelist().await?
        } else {
            Vec::new()
        };
        let mut source = side(
            a,
            ra,
            &spec.source.account_uid,
            &vswitch.vpc_id,
            &vswitch.id,
        )
        .await?;

        // DataWorks side.
        let rg_id = &spec.dataworks.resource_group_id;
        let resource_group = dataworks::get_resource_group(b, rb, rg_id).await?;
        let networks = dataworks::list_networks(b, rb, rg_id).await?;
        let dw_network = networks
            .iter()
            .find(|n| n.vpc_id == resource_group.default_vpc_id)
            .or(networks.first())
            .cloned()
            .ok_or_else(|| {
                EngineError::Preflight(format!(
                    "resource group {rg_id} (account B, {rb}) has no VPC binding; bind it to a VPC and vSwitch in DataWorks > Resource Groups > Network Settings"
                ))
            })?;
        let mut dwside = side(
            b,
            rb,
            &id_b.account_id,
            &dw_network.vpc_id,
            &dw_network.vswitch_id,
        )
        .await?;
        let dw_routes = dataworks::list_routes(b, rb, rg_id).await?;
        let data_sources = dataworks::list_data_sources(
            b,
            rb,
            spec.dataworks.workspace_id,
            &spec.dataworks.data_source.name,
        )
        .await?;

        // Peering connections between the two VPCs (the requester lists it in its region).
        let peerings = if spec.network.mode == NetworkMode::Cen {
            Vec::new()
        } else {
            peer::list(a, ra, &source.vpc.id)
                .await?
                .into_iter()
                .filter(|p| p.joins(&source.vpc.id, &dwside.vpc.id) && !p.is_dead())
                .collect()
        };

        // CEN: the one named in the link, one already attached to either VPC, or dwlink's own.
        let link_id = spec.link_id();
        let mut candidates: Vec<(String, String)> = Vec::new();
        if let Some(id) = &spec.network.cen_id {
            candidates.push((id.clone(), "named in the link (network.cen_id)".into()));
        }
        for (s, who) in [(&dwside, "account B's VPC"), (&source, "account A's VPC")] {
            for id in &s.vpc.associated_cens {
                candidates.push((id.clone(), format!("already joins {who} {}", s.vpc.id)));
            }
        }
        let mut cen_facts = None;
        if spec.network.mode != NetworkMode::Peering {
            let mut found = None;
            for (id, why) in &candidates {
                if let Some(c) = cen::describe_cens(b, rb, "CenId", id)
                    .await?
                    .into_iter()
                    .next()
                {
                    found = Some((c, why.clone()));
                    break;
                }
            }
            if found.is_none() && spec.network.mode == NetworkMode::Cen {
                let name = format!("dwlink-{link_id}");
                if let Some(c) = cen::describe_cens(b, rb, "Name", &name)
                    .await?
                    .into_iter()
                    .next()
                {
                    found = Some((c, "created by dwlink for this link".into()));
                }
            }
            if let Some((c, why)) = found {
                cen_facts = Some(cen_details(b, ra, rb, c, why).await?);
            }
        }
        if spec.network.mode == NetworkMode::Cen || cen_facts.is_some() {
            source.cen_grants = vpc::describe_grants_to_cen(a, ra, &source.vpc.id).await?;
            source.tr_zones = cen::available_zones(b, ra).await?;
            dwside.tr_zones = if ra == rb {
                source.tr_zones.clone()
            } else {
                cen::available_zones(b, rb).await?
            };
        }

        Ok(Facts {
            link_id,
            generation: 0,
            attempts: Default::default(),
            token_salt: String::new(),
            owned: Default::default(),
            location,
            source,
            dataworks: dwside,
            resource_group,
            dw_network,
            dw_routes,
            data_sources,
            whitelist,
            peerings,
            cen: cen_facts,
        })
    }
}

async fn side(
    c: &dyn Caller,
    region: &str,
    uid: &str,
    vpc_id: &str,
    vswitch_id: &str,
) -> Result<SideFacts, EngineError> {
    let vpc = vpc::describe_vpc(c, region, vpc_id).await?;
    let vswitches = vpc::describe_vswitches(c, region, vpc_id).await?;
    let vswitch = match vswitches.iter().find(|v| v.id == vswitch_id) {
        Some(v) => v.clone(),
        None => vpc::describe_vswitch(c, region, vswitch_id).await?,
    };
    let route_table_id = route_table_of(c, region, vpc_id, &vswitch).await?;
    let route_entries = vpc::describe_route_entries(c, region, &route_table_id, None).await?;
    Ok(SideFacts {
        account_uid: uid.to_string(),
        region: region.to_string(),
        vpc,
        vswitch,
        vswitches,
        route_table_id,
        route_entries,
        cen_grants: Vec::new(),
        tr_zones: Vec::new(),
    })
}

/// The route table a vSwitch uses: its own, or the VPC's system table.
pub(crate) async fn route_table_of(
    c: &dyn Caller,
    region: &str,
    vpc_id: &str,
    vswitch: &vpc::VSwitch,
) -> Result<String, EngineError> {
    if !vswitch.route_table_id.is_empty() {
        return Ok(vswitch.route_table_id.clone());
    }
    vpc::describe_route_tables(c, region, vpc_id)
        .await?
        .into_iter()
        .find(|t| t.kind == "System")
        .map(|t| t.id)
        .ok_or_else(|| {
            EngineError::Preflight(format!(
                "VPC {vpc_id} in account {}, {region} has no system route table",
                c.account()
            ))
        })
}

async fn cen_details(
    b: &dyn Caller,
    ra: &str,
    rb: &str,
    c: cen::Cen,
    found_by: String,
) -> Result<CenFacts, EngineError> {
    let mut regions = vec![rb];
    if ra != rb {
        regions.push(ra);
    }
    let mut transit_routers = Vec::new();
    let mut vpc_attachments = Vec::new();
    let mut peer_attachments = Vec::new();
    for r in &regions {
        transit_routers.extend(cen::list_transit_routers(b, r, &c.id).await?);
        vpc_attachments.extend(cen::list_vpc_attachments(b, r, Some(&c.id), None).await?);
    }
    if regions.len() > 1 {
        peer_attachments = cen::list_peer_attachments(b, rb, &c.id).await?;
    }
    let mut route_tables = BTreeMap::new();
    for tr in &transit_routers {
        if let Some(t) = cen::system_route_table(b, &tr.region, &tr.id).await? {
            route_tables.insert(tr.id.clone(), t);
        }
    }
    Ok(CenFacts {
        cen: c,
        transit_routers,
        vpc_attachments,
        peer_attachments,
        route_tables,
        found_by,
    })
}
