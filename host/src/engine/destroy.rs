//! Destroy: undoes what the journal says dwlink created, last created first, and goes as far as
//! it can. A deletion waits only for the deletions of what uses its resource; when one fails,
//! the others proceed, and the result lists every resource left with its state and the reason.
//! Whether a resource is gone is decided by reading it, never by a delete's answer alone.

use super::apply::{
    adopted_id, is_not_found, is_settling, jerr, lock, resolve, step_report, undo_needs_no_id,
};
use super::journal::{Entry, Journal};
use super::plan::Op;
use super::report::{Report, Status, StepReport};
use super::wait::is_transitional;
use super::{Engine, EngineError, whitelist};
use crate::network::dataworks;
use std::sync::Mutex;

/// Why one resource was left in place.
#[derive(Debug)]
struct Left {
    /// Its status as last read, when a read could tell.
    state: Option<String>,
    reason: String,
}

impl From<EngineError> for Left {
    fn from(e: EngineError) -> Self {
        Left {
            state: None,
            reason: e.to_string(),
        }
    }
}

impl From<crate::cloud::CloudError> for Left {
    fn from(e: crate::cloud::CloudError) -> Self {
        EngineError::from(e).into()
    }
}

impl Engine {
    /// Undoes what the journal says dwlink created for this link.
    pub async fn destroy(&self) -> Report {
        let mut report = Report::new(self.link_id());
        match self.destroy_into(&mut report).await {
            Ok(()) => report.status = Status::Destroyed,
            Err(e) => {
                report.status = Status::Failed;
                report.error = Some(e.to_string());
            }
        }
        report.calls = self.calls();
        report
    }

    async fn destroy_into(&self, report: &mut Report) -> Result<(), EngineError> {
        let mut journal = self.open_journal(report)?;
        if journal.is_fresh() {
            // No journal (lost, set aside, or another machine's): make sure nothing dwlink
            // created is there, rather than report "destroyed" while resources remain.
            let facts = self.observe().await.map_err(|e| {
                EngineError::Other(format!(
                    "the journal records nothing to undo, and reading the cloud to check that nothing dwlink created remains failed: {e}; run destroy again"
                ))
            })?;
            self.rebuild_journal(&facts, &mut journal, report).await?;
        }
        // A step sent but never confirmed (the run was killed, the answer lost) may have taken
        // effect: look for what it would have created, so it is undone rather than orphaned.
        let unconfirmed = journal.unconfirmed();
        if !unconfirmed.is_empty() {
            let facts = self.observe().await.map_err(|e| {
                EngineError::Other(format!(
                    "steps {} were sent but never confirmed, and reading the current state to find what they created failed: {e}; run destroy again",
                    unconfirmed.join(", ")
                ))
            })?;
            for step in unconfirmed {
                match adopted_id(&step, &facts, &self.spec.whitelist.group) {
                    Some(id) => {
                        journal.done(&step, Some(id.clone())).map_err(jerr)?;
                        report.notes.push(format!(
                            "step {step} was sent but never confirmed; it created {id}, which is undone too"
                        ));
                    }
                    // No id to find (a grant, an association): if its undo does not need one,
                    // send it anyway; a "not found" answer means it never took effect.
                    None if undo_needs_no_id(journal.entry(&step), &step) => {
                        journal.done(&step, None).map_err(jerr)?;
                        report.notes.push(format!(
                            "step {step} was sent but never confirmed; it is undone in case it took effect"
                        ));
                    }
                    None => {
                        // Nothing it would have created exists: nothing to undo.
                        journal.undone(&step).map_err(jerr)?;
                        report.notes.push(format!(
                            "step {step} was sent but never confirmed, and nothing it would have created exists"
                        ));
                    }
                }
            }
        }
        let undo = journal.to_undo();
        let users = users_of(&undo);
        let journal = Mutex::new(journal);
        // Entries of `undo` left in place, by index: what uses them must stay too.
        let mut kept: Vec<bool> = vec![false; undo.len()];
        let mut left: Vec<String> = Vec::new();
        for (i, entry) in undo.iter().enumerate() {
            let a = &entry.action;
            let blocked: Vec<&str> = users[i]
                .iter()
                .filter(|&&k| kept[k])
                .map(|&k| undo[k].step.as_str())
                .collect();
            let outcome = if blocked.is_empty() {
                self.progress(&format!("dwlink: undoing {}", entry.step));
                self.undo(entry, &journal).await
            } else {
                Err(Left {
                    state: None,
                    reason: if blocked.len() == 1 {
                        format!("kept because {} (which uses it) is still there", blocked[0])
                    } else {
                        format!(
                            "kept because {} (which use it) are still there",
                            blocked.join(", ")
                        )
                    },
                })
            };
            let ids: Vec<String> = entry.resource_id.clone().into_iter().collect();
            match outcome {
                Ok(()) => {
                    lock(&journal).undone(&entry.step).map_err(jerr)?;
                    report.steps.push(step_report(a, "undone", ids, None));
                }
                Err(l) => {
                    kept[i] = true;
                    let what = entry
                        .resource_id
                        .as_deref()
                        .map(|id| format!("{} {id}", entry.step))
                        .unwrap_or_else(|| entry.step.clone());
                    let state = l
                        .state
                        .as_deref()
                        .map(|s| format!(", it is {s}"))
                        .unwrap_or_default();
                    let line = format!(
                        "{what} (account {}, {}{state}): {}",
                        a.account, a.region, l.reason
                    );
                    report
                        .steps
                        .push(step_report(a, "left", ids, Some(line.clone())));
                    left.push(line);
                }
            }
        }
        let mut journal = journal.into_inner().unwrap_or_else(|e| e.into_inner());
        journal.finish_destroy().map_err(jerr)?;
        if !left.is_empty() {
            return Err(EngineError::Other(format!(
                "destroy left {} resource(s) in place: {}; what could be undone was undone, and the journal keeps the rest: fix what the reasons say (or wait for what is still changing), then run `dwlink-host destroy` again",
                left.len(),
                left.join("; ")
            )));
        }
        // What a plugin did to the whitelist unasked is not dwlink's to undo (it cannot know
        // what the entry was for): it stays recorded, and destroy says so and fails, until the
        // host's own read shows it gone.
        if !journal.findings().is_empty() {
            let groups = self.read_whitelist().await?;
            let left = journal.recheck_findings(&groups).map_err(jerr)?;
            if !left.is_empty() {
                for f in &left {
                    report.steps.push(StepReport {
                        name: "whitelist.foreign".into(),
                        status: "not_undone".into(),
                        account: self.spec.source.account_uid.clone(),
                        region: self.spec.source.region.clone(),
                        action: format!(
                            "{:?} entry {} in whitelist group {} of {}",
                            f.kind, f.entry, f.group, f.instance
                        ),
                        resource_ids: vec![format!("{}/{}", f.instance, f.group)],
                        why: format!(
                            "plugin {} changed it during {}; dwlink did not ask for it",
                            f.plugin, f.step
                        ),
                        error: Some(f.describe()),
                    });
                }
                return Err(EngineError::Other(format!(
                    "destroy could not undo what a plugin did to the whitelist: {}",
                    whitelist::findings_text(&left)
                )));
            }
        }
        Ok(())
    }

    /// Undoes one step. The delete's answer is not the verdict: after an error the resource is
    /// read, and gone means done; still changing means wait (bounded) and send again.
    async fn undo(&self, entry: &Entry, journal: &Mutex<Journal>) -> Result<(), Left> {
        let a = &entry.action;
        match &a.op {
            Op::Cloud {
                undo: Some(undo),
                wait,
                undo_waits,
                ..
            } => {
                let call = resolve(undo, &lock(journal))?;
                // What the step's wait looks at is what its undo removes (an association's wait
                // looks at the association); a step without one is judged by the answer.
                let probe = match wait {
                    Some(w) => Some(self.resolve_wait(w, &lock(journal))?.1),
                    None => None,
                };
                let what = entry.resource_id.as_deref().unwrap_or(&entry.step);
                let since = std::time::Instant::now();
                let mut polls = 0;
                loop {
                    let err = match self.caller(a.side).call(call.clone()).await {
                        Ok(_) => break,
                        Err(e) => e,
                    };
                    let state = match &probe {
                        Some(w) => match self.probe(a, w).await {
                            Ok(None) => return Ok(()),
                            Ok(Some(s)) => Some(s),
                            // The read failed too: judge by the answer.
                            Err(_) => None,
                        },
                        None if is_not_found(&err) => return Ok(()),
                        None => None,
                    };
                    let settling = match &state {
                        Some(s) => is_transitional(s) || is_settling(&err),
                        None => is_settling(&err),
                    };
                    if !settling
                        || polls >= self.opts.max_polls
                        || since.elapsed() >= self.max_wait()
                    {
                        let waited = if polls > 0 {
                            format!(
                                " (after waiting {:.0} s for it to settle)",
                                since.elapsed().as_secs_f64()
                            )
                        } else {
                            String::new()
                        };
                        return Err(Left {
                            state,
                            reason: format!("{}: {}{waited}", call.action, err),
                        });
                    }
                    if polls == 0 {
                        self.progress(&format!(
                            "dwlink: {what} is still changing ({}); waiting to undo it",
                            state.as_deref().unwrap_or(&err.code)
                        ));
                    }
                    polls += 1;
                    tokio::time::sleep(self.opts.poll_interval).await;
                }
                if let (true, Some(w)) = (undo_waits, wait) {
                    self.wait_for(a, w, journal, true)
                        .await
                        .map_err(EngineError::from)?;
                }
                Ok(())
            }
            Op::Cloud { undo: None, .. } | Op::Wait { .. } => Ok(()),
            Op::WhitelistAdd { group, cidr } => {
                // The instance may still be applying the add an interrupted run sent (e.g. RDS
                // `DBInstanceNetTypeChanging`): the plugin says InvalidState; wait and retry.
                // Each attempt is checked by the host's own reads, as the add was.
                let since = std::time::Instant::now();
                let mut polls = 0;
                loop {
                    match self
                        .change_whitelist(&entry.step, group, cidr, false, journal)
                        .await
                    {
                        Ok(()) => break,
                        Err(r)
                            if r.retry
                                && polls < self.opts.max_polls
                                && since.elapsed() < self.max_wait() =>
                        {
                            if polls == 0 {
                                self.progress(&format!(
                                    "dwlink: {} is still changing; waiting to remove {cidr} from its whitelist",
                                    self.spec.source.instance_id
                                ));
                            }
                            polls += 1;
                            tokio::time::sleep(self.opts.poll_interval).await;
                        }
                        Err(r) => return Err(r.error.into()),
                    }
                }
                Ok(self.await_instance_ready().await?)
            }
            Op::RegisterDataSource { .. } => {
                let Some(id) = &entry.resource_id else {
                    return Ok(());
                };
                match self
                    .caller(a.side)
                    .call(dataworks::delete_data_source_call(&a.region, id))
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(e) if is_not_found(&e) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }
}

/// For each entry of `undo` (last created first), the entries that use it: created after it
/// (so earlier in `undo`) and naming its id or its `${step}`. Those must be gone first.
fn users_of(undo: &[Entry]) -> Vec<Vec<usize>> {
    (0..undo.len())
        .map(|i| {
            let e = &undo[i];
            let own = format!("${{{}}}", e.step);
            let rtb = format!("${{{}.rtb}}", e.step);
            let id = e.resource_id.as_deref().filter(|id| !id.is_empty());
            (0..i)
                .filter(|&k| {
                    let names = undo[k].action.names();
                    let uses = names
                        .iter()
                        .any(|n| *n == own || *n == rtb || Some(n.as_str()) == id);
                    // Account A's grant stays until B's attachment of A's VPC is gone.
                    uses || (e.step == "cen.grant" && undo[k].step == "cen.attach.source")
                })
                .collect()
        })
        .collect()
}
