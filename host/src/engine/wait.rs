//! Waiting on the cloud: one read ([`Engine::probe`]) tells the current status of anything a
//! step creates, and the waiters poll it. Apply waits for a wanted status; destroy waits for a
//! resource to be gone, and decides from a probe, not from a delete's answer, whether it is.

use super::apply::{is_not_found, jerr, lock};
use super::journal::Journal;
use super::plan::{self, Action, Wait};
use super::{Engine, EngineError};
use crate::cloud::Caller;
use crate::network::{cen, peer, vpc};
use std::sync::Mutex;

/// Why a wait ended without the wanted status.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WaitError {
    /// The resource is not there (after a few polls, so a read lagging a create is forgiven):
    /// deleted behind dwlink's back, or a ClientToken answered with a resource deleted since.
    #[error("{what}: it does not exist (account {account}, {region}); run again to recreate it")]
    Gone {
        what: String,
        account: String,
        region: String,
    },
    #[error(transparent)]
    Failed(#[from] EngineError),
}

impl From<WaitError> for EngineError {
    fn from(e: WaitError) -> Self {
        match e {
            WaitError::Gone { .. } => EngineError::Other(e.to_string()),
            WaitError::Failed(e) => e,
        }
    }
}

impl From<crate::cloud::CloudError> for WaitError {
    fn from(e: crate::cloud::CloudError) -> Self {
        WaitError::Failed(e.into())
    }
}

/// A status from which a resource moves on by itself: waiting is the answer.
pub(crate) fn is_transitional(status: &str) -> bool {
    matches!(
        status,
        "Creating"
            | "Deleting"
            | "Attaching"
            | "Detaching"
            | "Pending"
            | "Associating"
            | "Dissociating"
            | "Enabling"
            | "Disabling"
            | "Updating"
            | "Modifying"
            | "Activating"
            | "Releasing"
    )
}

/// A status that means the resource is gone, though a read may still show it a while.
fn is_gone_status(status: &str) -> bool {
    matches!(status, "Deleted" | "Detached" | "Released")
}

impl Engine {
    /// The wait with every `${step}` filled in from the journal, and the statuses it wants.
    pub(crate) fn resolve_wait(
        &self,
        w: &Wait,
        journal: &Journal,
    ) -> Result<(Vec<String>, Wait), EngineError> {
        let look = |n: &str| journal.lookup(n);
        let r = |s: &String| plan::fill(s, &look).map_err(EngineError::Other);
        Ok(match w {
            Wait::Cen { id } => (vec!["Active".into()], Wait::Cen { id: r(id)? }),
            Wait::Peering { id, statuses } => (
                statuses.clone(),
                Wait::Peering {
                    id: r(id)?,
                    statuses: statuses.clone(),
                },
            ),
            Wait::TransitRouter { cen, id } => (
                vec!["Active".into()],
                Wait::TransitRouter {
                    cen: r(cen)?,
                    id: r(id)?,
                },
            ),
            Wait::VpcAttachment { cen, id } => (
                vec!["Attached".into()],
                Wait::VpcAttachment {
                    cen: r(cen)?,
                    id: r(id)?,
                },
            ),
            Wait::PeerAttachment { cen, id } => (
                vec!["Attached".into()],
                Wait::PeerAttachment {
                    cen: r(cen)?,
                    id: r(id)?,
                },
            ),
            Wait::RouteEntry { table, id } => (
                vec!["Available".into()],
                Wait::RouteEntry {
                    table: r(table)?,
                    id: r(id)?,
                },
            ),
            Wait::VSwitch { id } => (vec!["Available".into()], Wait::VSwitch { id: r(id)? }),
            Wait::TrRouteTable {
                table,
                attachment,
                propagation,
            } => (
                vec!["Active".into()],
                Wait::TrRouteTable {
                    table: r(table)?,
                    attachment: r(attachment)?,
                    propagation: *propagation,
                },
            ),
        })
    }

    /// The current status of what a (resolved) wait looks at; `None` when it is not there. A
    /// "not found" answer is an answer: the resource is gone.
    pub(crate) async fn probe(
        &self,
        action: &Action,
        w: &Wait,
    ) -> Result<Option<String>, EngineError> {
        let region = action.region.as_str();
        let b: &dyn Caller = self.b.as_ref();
        let side_caller = self.caller(action.side);
        let gone_if_not_found = |r: Result<Option<String>, crate::cloud::CloudError>| match r {
            Ok(s) => Ok(s.filter(|s| !is_gone_status(s))),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(EngineError::from(e)),
        };
        let status = match w {
            Wait::Cen { id } => gone_if_not_found(
                cen::describe_cens(b, region, "CenId", id)
                    .await
                    .map(|v| v.into_iter().find(|c| &c.id == id).map(|c| c.status)),
            )?,
            Wait::Peering { id, .. } => gone_if_not_found(
                peer::get(side_caller, region, id)
                    .await
                    .map(|p| Some(p.status)),
            )?,
            Wait::TransitRouter { cen, id } => gone_if_not_found(
                cen::list_transit_routers(b, region, cen)
                    .await
                    .map(|v| v.into_iter().find(|t| &t.id == id).map(|t| t.status)),
            )?,
            Wait::VpcAttachment { cen, id } => gone_if_not_found(
                cen::list_vpc_attachments(b, region, Some(cen), None)
                    .await
                    .map(|v| v.into_iter().find(|a| &a.id == id).map(|a| a.status)),
            )?,
            Wait::PeerAttachment { cen, id } => gone_if_not_found(
                cen::list_peer_attachments(b, region, cen)
                    .await
                    .map(|v| v.into_iter().find(|a| &a.id == id).map(|a| a.status)),
            )?,
            Wait::RouteEntry { table, id } => gone_if_not_found(
                vpc::describe_route_entries(side_caller, region, table, None)
                    .await
                    .map(|v| v.into_iter().find(|e| &e.id == id).map(|e| e.status)),
            )?,
            Wait::TrRouteTable {
                table,
                attachment,
                propagation,
            } => gone_if_not_found(
                cen::route_table_link_status(b, region, table, attachment, *propagation).await,
            )?,
            Wait::VSwitch { id } => gone_if_not_found(
                vpc::describe_vswitch(side_caller, region, id)
                    .await
                    .map(|v| Some(v.status)),
            )?,
        };
        Ok(status)
    }

    /// Polls until the waited-for state, or, with `gone`, until the resource is gone. A
    /// resource that is not there (after a few polls) is [`WaitError::Gone`].
    pub(crate) async fn wait_for(
        &self,
        action: &Action,
        w: &Wait,
        journal: &Mutex<Journal>,
        gone: bool,
    ) -> Result<(), WaitError> {
        let what = w.describe();
        let region = action.region.as_str();
        let (want, w) = self.resolve_wait(w, &lock(journal))?;
        let shown = w.describe();
        if !gone && !self.interactive {
            self.progress(&format!("dwlink: waiting for {shown}"));
        }
        let since = std::time::Instant::now();
        let mut last: Option<String> = None;
        for poll in 0..self.opts.max_polls.max(1) {
            if poll > 0 {
                // Bounded in time too: reads slowed by throttling do not stretch the bound.
                if since.elapsed() >= self.max_wait() {
                    break;
                }
                tokio::time::sleep(self.opts.poll_interval).await;
            }
            let mut status = self.probe(action, &w).await?;
            // Leaving a route table is a way out, not a state to wait for.
            if let Wait::TrRouteTable { .. } = &w {
                status = status.filter(|s| !matches!(s.as_str(), "Dissociating" | "Disabling"));
            }
            if !gone {
                self.waiting(&shown, status.as_deref(), since);
            }
            last.clone_from(&status);
            match (gone, status) {
                (true, None) => return Ok(()),
                (false, Some(s)) if want.contains(&s) => {
                    self.waited(&shown, since);
                    if let Wait::TransitRouter { id, .. } = &w {
                        let b: &dyn Caller = self.b.as_ref();
                        let t = cen::system_route_table(b, region, id)
                            .await
                            .map_err(EngineError::from)?
                            .ok_or_else(|| {
                                EngineError::Other(format!(
                                    "transit router {id} ({region}) has no system route table"
                                ))
                            })?;
                        lock(journal)
                            .output(&action.step, &format!("{}.rtb", action.step), &t.id)
                            .map_err(jerr)?;
                    }
                    return Ok(());
                }
                (false, Some(s))
                    if matches!(s.as_str(), "Rejected" | "Expired" | "CreateFailed") =>
                {
                    return Err(EngineError::Other(format!(
                        "{what}: it is {s} (account {}, {region})",
                        action.account
                    ))
                    .into());
                }
                (false, None) if poll > 3 => {
                    return Err(WaitError::Gone {
                        what: shown,
                        account: action.account.clone(),
                        region: region.to_string(),
                    });
                }
                _ => {}
            }
        }
        let state = match (&last, gone) {
            (Some(s), _) => format!("; it is still {s}"),
            (None, false) => "; it is not visible".to_string(),
            (None, true) => String::new(),
        };
        let goal = if gone {
            format!("{} to be gone", w.ids()[0])
        } else {
            what
        };
        Err(EngineError::Other(format!(
            "gave up waiting for {goal} after {:.0} s (account {}, {region}){state}; run again to keep waiting (--max-wait sets how long)",
            since.elapsed().as_secs_f64(),
            action.account
        ))
        .into())
    }
}
