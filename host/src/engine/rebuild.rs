//! A journal rebuilt from the cloud. When the journal is lost (a new state dir, another
//! machine) or cannot be read, what dwlink created is found again by the names it puts on what
//! it creates (`dwlink-<link id>` on the CEN, the peering connection and vSwitches), with what
//! hangs off those (transit routers, attachments, route entries through them, the grant, the
//! associations) and what the link alone adds (its DataWorks route, data source and whitelist
//! entry). Each is recorded as done, so `destroy` removes it and `run` does not create it twice.
//! Nothing without that evidence is claimed.

use super::apply::{adopted_id, jerr};
use super::facts::Facts;
use super::journal::Journal;
use super::plan::{self, Op};
use super::report::Report;
use super::{Engine, EngineError};
use std::collections::BTreeMap;

impl Engine {
    /// Opens the link's journal. One that cannot be read is set aside (kept for inspection)
    /// and started afresh, to be rebuilt by [`rebuild_journal`](Self::rebuild_journal).
    pub(crate) fn open_journal(&self, report: &mut Report) -> Result<Journal, EngineError> {
        let (journal, damaged) =
            Journal::open_or_set_aside(&self.journal_dir, &self.link_id()).map_err(jerr)?;
        if let Some(kept) = &damaged {
            report.notes.push(format!(
                "the journal could not be read; it was kept as {} and is rebuilt from what the cloud shows dwlink created for this link",
                kept.display()
            ));
        }
        Ok(journal)
    }

    /// A journal that records nothing still to undo (lost, set aside, or new) is completed
    /// with what `facts` show dwlink created for this link, found by name.
    pub(crate) async fn rebuild_journal(
        &self,
        facts: &Facts,
        journal: &mut Journal,
        report: &mut Report,
    ) -> Result<(), EngineError> {
        if !journal.to_undo().is_empty() || !journal.unconfirmed().is_empty() {
            return Ok(());
        }
        let found = self.adopt_owned(facts, journal).await?;
        if !found.is_empty() {
            report.notes.push(format!(
                "the journal did not record {} step(s) that dwlink took for this link (found by name in the cloud); recorded now: {}",
                found.len(),
                found.join(", ")
            ));
        }
        Ok(())
    }

    /// Records as done every step the cloud shows dwlink took for this link; returns
    /// `step resource` for each.
    async fn adopt_owned(
        &self,
        facts: &Facts,
        journal: &mut Journal,
    ) -> Result<Vec<String>, EngineError> {
        let Some(stripped) = strip_owned(facts) else {
            return Ok(Vec::new());
        };
        let mut stripped = stripped;
        stripped.generation = journal.generation();
        let plan = plan::plan(&self.spec, &stripped, &self.ds.info().datasource_type);
        let mut found = Vec::new();
        for action in &plan.actions {
            let (id, present) = match &action.op {
                Op::Cloud {
                    output: Some(_), ..
                }
                | Op::WhitelistAdd { .. }
                | Op::RegisterDataSource { .. } => {
                    let id = adopted_id(&action.step, facts, &self.spec.whitelist.group);
                    let present = id.is_some();
                    (id, present)
                }
                // A link between resources (a grant, an association): there if a read of it
                // through its wait says so.
                Op::Cloud {
                    undo: Some(_),
                    wait,
                    ..
                } => {
                    let present = match wait {
                        Some(w) => match self.resolve_wait(w, journal) {
                            Ok((_, w)) => self.probe(action, &w).await?.is_some(),
                            Err(_) => false,
                        },
                        None => {
                            action.step == "cen.grant"
                                && facts.cen.as_ref().is_some_and(|c| {
                                    facts.source.cen_grants.iter().any(|g| g.cen_id == c.cen.id)
                                })
                        }
                    };
                    (None, present)
                }
                _ => (None, false),
            };
            if !present {
                continue;
            }
            let mut outputs = BTreeMap::new();
            if let (Some(id), Some(c)) = (&id, &facts.cen)
                && let Some(t) = c.route_tables.get(id)
            {
                outputs.insert(format!("{}.rtb", action.step), t.id.clone());
            }
            found.push(format!(
                "{} {}",
                action.step,
                id.as_deref().unwrap_or("(link)")
            ));
            journal.adopt(action, id, outputs).map_err(jerr)?;
        }
        Ok(found)
    }
}

/// The facts as they were before dwlink built this link: everything that carries dwlink's
/// name for it, or hangs off something that does, removed. `None` when nothing does.
fn strip_owned(f: &Facts) -> Option<Facts> {
    let name = format!("dwlink-{}", f.link_id);
    let mut s = f.clone();
    let mut removed: Vec<String> = Vec::new();
    if let Some(c) = &f.cen
        && c.cen.name == name
    {
        removed.push(c.cen.id.clone());
        removed.extend(c.transit_routers.iter().map(|t| t.id.clone()));
        removed.extend(c.vpc_attachments.iter().map(|a| a.id.clone()));
        removed.extend(c.peer_attachments.iter().map(|a| a.id.clone()));
        s.cen = None;
        s.source.cen_grants.retain(|g| g.cen_id != c.cen.id);
    }
    let (kept, ours): (Vec<_>, Vec<_>) = f.peerings.iter().cloned().partition(|p| p.name != name);
    removed.extend(ours.iter().map(|p| p.id.clone()));
    s.peerings = kept;
    for side in [&mut s.source, &mut s.dataworks] {
        removed.extend(
            side.vswitches
                .iter()
                .filter(|v| v.name == name)
                .map(|v| v.id.clone()),
        );
        side.vswitches.retain(|v| v.name != name);
    }
    if removed.is_empty() {
        return None;
    }
    // Route entries through what was removed were dwlink's too.
    for side in [&mut s.source, &mut s.dataworks] {
        side.route_entries
            .retain(|e| !removed.contains(&e.next_hop_id));
    }
    // What the link alone adds: its DataWorks route, data source and whitelist entry.
    let src = f.source_cidr();
    s.dw_routes.retain(|r| r.destination != src);
    s.data_sources.clear();
    let dw_cidr = f.dataworks.vswitch.cidr.clone();
    for g in &mut s.whitelist {
        g.entries.retain(|e| *e != dw_cidr);
    }
    Some(s)
}
