//! Apply, verify and destroy: executes a plan's actions, each as soon as the steps it depends on
//! are done, journaling each one before it is sent and after it succeeds, awaiting async states
//! with bounded polling; then registers the data source and tests connectivity. Destroy undoes
//! the journal in reverse.

use super::facts::Facts;
use super::journal::{Entry, EntryState, Journal, Memory};
use super::plan::{self, Action, CallSpec, Op, Plan};
use super::report::{Report, Status, StepReport};
use super::wait::WaitError;
use super::{Engine, EngineError, Side, preflight, verify, whitelist};
use crate::cloud::CloudError;
use crate::network::{dataworks, json};
use crate::plugin::ConnectionRequest;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::sync::Mutex;

impl Engine {
    /// Observe, preflight and plan; nothing is written.
    pub async fn plan(&self) -> Result<(Facts, Plan), EngineError> {
        let memory = Journal::peek_memory(&self.journal_dir, &self.link_id());
        self.plan_at(&memory).await
    }

    async fn plan_at(&self, memory: &Memory) -> Result<(Facts, Plan), EngineError> {
        let mut facts = self.observe().await?;
        facts.generation = memory.generation;
        facts.token_salt = memory.salt.clone();
        facts.attempts = memory.attempts.clone();
        facts.owned = memory.owned.clone();
        let plan = plan::plan(&self.spec, &facts, &self.ds.info().datasource_type);
        Ok((facts, plan))
    }

    /// Plans; while the only thing in the way is an instance still applying a change (e.g. the
    /// whitelist entry an interrupted run sent: `DBInstanceNetTypeChanging`), waits for it to
    /// be Running again, as apply waits for any other resource to settle.
    async fn plan_settled(&self, memory: &Memory) -> Result<(Facts, Plan), EngineError> {
        let since = std::time::Instant::now();
        let mut polls = 0;
        loop {
            let (facts, plan) = self.plan_at(memory).await?;
            let settling = !plan.problems.is_empty()
                && plan.problems.iter().all(|p| p.check == "instance running")
                && preflight::is_settling(&facts.location.status);
            if !settling || polls >= self.opts.max_polls {
                if polls > 0 {
                    self.waited(&self.instance_wait(), since);
                }
                return Ok((facts, plan));
            }
            if polls == 0 && !self.interactive {
                self.progress(&format!(
                    "dwlink: waiting for {} (it is {})",
                    self.instance_wait(),
                    facts.location.status
                ));
            }
            self.waiting(&self.instance_wait(), Some(&facts.location.status), since);
            polls += 1;
            tokio::time::sleep(self.opts.poll_interval).await;
        }
    }

    fn instance_wait(&self) -> String {
        format!("instance {} to be Running", self.spec.source.instance_id)
    }

    /// Plans and reports what `run` would do.
    pub async fn plan_report(&self) -> Report {
        let mut report = Report::new(self.link_id());
        match self.plan().await {
            Ok((facts, plan)) => {
                fill_plan(&mut report, &plan);
                report.steps = plan
                    .actions
                    .iter()
                    .map(|a| step_report(a, "planned", vec![], None))
                    .collect();
                let unresolved = self.persisting_findings(&facts);
                if !unresolved.is_empty() {
                    // `run` would refuse: say why now.
                    report.error = Some(whitelist::findings_text(&unresolved));
                } else if plan.problems.is_empty() {
                    report.status = Status::Planned;
                } else {
                    report.error = Some(problems_text(&plan));
                }
            }
            Err(e) => report.error = Some(e.to_string()),
        }
        report.calls = self.calls();
        report
    }

    /// The unexpected whitelist changes the journal records that the observed whitelist (the
    /// host's own read) still shows; read without the journal's lock.
    fn persisting_findings(&self, facts: &Facts) -> Vec<super::journal::Finding> {
        Journal::peek_findings(&self.journal_dir, &self.link_id())
            .into_iter()
            .filter(|f| f.persists(&facts.whitelist))
            .collect()
    }

    /// What exists and what is missing, without changing anything: the steps dwlink's journal
    /// records as done (`created`, or `sent` when a run was cut off before it heard back), the
    /// steps `run` would still take (`missing`), and, when nothing is missing, DataWorks' own
    /// connectivity test (it changes nothing). Connected: exit 0; incomplete or not
    /// connectable: exit 3; a failed read: exit 1.
    pub async fn status_report(&self) -> Report {
        let mut report = Report::new(self.link_id());
        let (facts, plan) = match self.plan().await {
            Ok(x) => x,
            Err(e) => {
                report.error = Some(e.to_string());
                report.calls = self.calls();
                return report;
            }
        };
        fill_plan(&mut report, &plan);
        // Unexpected whitelist changes recorded earlier, still there per the host's own read.
        let unresolved = self.persisting_findings(&facts);
        let planned = |step: &str| plan.actions.iter().any(|a| a.step == step);
        for e in Journal::peek_entries(&self.journal_dir, &self.link_id()) {
            let (state, error) = match e.state {
                EntryState::Done if !planned(&e.step) => ("created", None),
                EntryState::Sent | EntryState::Failed if !planned(&e.step) => ("sent", None),
                // dwlink made it; it is still there but points at what is gone.
                EntryState::Done if planned(&format!("{}.stale", e.step)) => (
                    "stale",
                    Some(format!(
                        "{} points at a connection that is gone; `dwlink-host run` replaces it",
                        e.resource_id.as_deref().unwrap_or_default()
                    )),
                ),
                // dwlink created it and it is gone now.
                EntryState::Done if e.resource_id.is_some() => (
                    "deleted",
                    Some(format!(
                        "{} was deleted outside dwlink; `dwlink-host run` creates it anew",
                        e.resource_id.as_deref().unwrap_or_default()
                    )),
                ),
                _ => continue,
            };
            let ids = e.resource_id.clone().into_iter().collect();
            report.steps.push(step_report(&e.action, state, ids, error));
        }
        // A step shown as deleted is not listed again as missing.
        let deleted: Vec<String> = report
            .steps
            .iter()
            .filter(|s| s.status == "deleted" || s.status == "stale")
            .map(|s| s.name.clone())
            .collect();
        report.steps.extend(
            plan.actions
                .iter()
                .filter(|a| !deleted.contains(&a.step))
                .map(|a| step_report(a, "missing", vec![], None)),
        );
        if !plan.problems.is_empty() {
            report.error = Some(problems_text(&plan));
        }
        report.status = Status::NotConnected;
        if !unresolved.is_empty() {
            // Not connected while the whitelist holds what a plugin did unasked.
            report.error = Some(whitelist::findings_text(&unresolved));
            report.calls = self.calls();
            return report;
        }
        let data_source = facts.data_sources.first().map(|d| d.id.clone());
        match data_source {
            Some(id) if plan.actions.is_empty() => match dataworks::test_connectivity(
                self.caller(Side::Dataworks),
                &self.spec.dataworks.region,
                self.spec.dataworks.workspace_id,
                &id,
                &self.spec.dataworks.resource_group_id,
            )
            .await
            {
                Ok(c) => {
                    if c.state == "Connectable" {
                        report.status = Status::Connected;
                    }
                    report.connectivity = Some(c);
                }
                Err(e) => {
                    report.status = Status::Failed;
                    report.error = Some(e.to_string());
                }
            },
            _ => report.notes.push(format!(
                "the link is not complete: {} step(s) missing; `dwlink-host run` takes them",
                plan.actions.len()
            )),
        }
        report.calls = self.calls();
        report
    }

    /// Builds (or finishes) the link and proves it.
    pub async fn run(&self) -> Report {
        let mut report = Report::new(self.link_id());
        if let Err(e) = self.run_into(&mut report).await {
            report.status = Status::Failed;
            report.bad_input = matches!(e, EngineError::Input(_));
            report.error = Some(e.to_string());
        }
        // DataWorks cannot connect: walk the hops and name the broken one.
        if report.status == Status::NotConnected {
            self.progress("dwlink: connectivity test failed; diagnosing hop by hop");
            report.diagnosis = Some(self.diagnose().await.map_err(|e| e.to_string()));
        }
        report.calls = self.calls();
        report
    }

    async fn run_into(&self, report: &mut Report) -> Result<(), EngineError> {
        let mut journal = self.open_journal(report)?;
        let (mut facts, mut plan) = self.plan_settled(&journal.memory()).await?;
        self.rebuild_journal(&facts, &mut journal, report).await?;
        // A step the journal records as created (or undone by a destroy cut short) that is
        // planned again: its resource is gone. It is created anew with a new ClientToken (the
        // cloud answers the old one with the deleted resource's id).
        let recreated: Vec<(String, Option<String>, EntryState)> = plan
            .actions
            .iter()
            .filter(|a| a.client_token.is_some() && matches!(a.op, Op::Cloud { .. }))
            .filter_map(|a| journal.entry(&a.step))
            .filter(|e| matches!(e.state, EntryState::Done | EntryState::Undone))
            .map(|e| (e.step.clone(), e.resource_id.clone(), e.state))
            .collect();
        if !recreated.is_empty() {
            for (step, id, state) in &recreated {
                // A link between resources (a grant, an association) made anew may leave its
                // old self behind (a grant to a CEN deleted since stays in account A): undo
                // it, resolved with the ids the journal still holds, before they are replaced.
                if let (None, Some(entry)) = (id, journal.entry(step).cloned())
                    && let Op::Cloud {
                        undo: Some(undo), ..
                    } = &entry.action.op
                    && let Ok(call) = resolve(undo, &journal)
                {
                    match self.caller(entry.action.side).call(call).await {
                        Ok(_) => report.notes.push(format!(
                            "step {step}: what it linked was replaced; its old link was undone first"
                        )),
                        Err(e) if is_not_found(&e) => {}
                        Err(e) => report.notes.push(format!(
                            "step {step}: undoing its old link before making it anew failed ({e}); it may remain"
                        )),
                    }
                }
                journal.next_attempt(step).map_err(jerr)?;
                let what = id.as_deref().map(|i| format!(" {i}")).unwrap_or_default();
                report.notes.push(match state {
                    EntryState::Done => format!(
                        "step {step}: what it created{what} was deleted outside dwlink; it is created anew"
                    ),
                    _ => format!(
                        "step {step}: an interrupted destroy removed what it created{what}; it is created anew"
                    ),
                });
            }
            facts.attempts = journal.memory().attempts;
            let problems = std::mem::take(&mut plan.problems);
            plan = plan::plan(&self.spec, &facts, &self.ds.info().datasource_type);
            plan.problems = problems;
        }
        fill_plan(report, &plan);
        // What a plugin did to the whitelist unasked in an earlier command, re-checked against
        // the host's own read now (never taken from the journal's word): while it persists,
        // nothing is built on top of it and the link is not reported connected.
        let unresolved = journal.recheck_findings(&facts.whitelist).map_err(jerr)?;
        if !unresolved.is_empty() {
            return Err(EngineError::Preflight(whitelist::findings_text(
                &unresolved,
            )));
        }
        if !plan.problems.is_empty() {
            return Err(EngineError::Preflight(problems_text(&plan)));
        }
        let password = self.password(&plan)?;
        // The connection properties, built and checked before any write: a plugin that names
        // another instance, owner, role or address stops the run before it changes anything.
        let properties = match &password {
            Some(p) => Some(self.connection_properties(&facts, p).await?),
            None => None,
        };

        // A step sent by an earlier run but never confirmed, and no longer planned, took effect:
        // the observed facts show it. Record what it created so destroy can undo it.
        for step in journal.unconfirmed() {
            if !plan.actions.iter().any(|a| a.step == step) {
                let id = adopted_id(&step, &facts, &self.spec.whitelist.group);
                if id.is_none() && journal.entry(&step).is_some_and(|e| e.creates()) {
                    // Not planned, yet nothing it would have created can be found: keep it
                    // unconfirmed (destroy looks again) rather than done without an id.
                    report.notes.push(format!(
                        "step {step} was sent but never confirmed, and what it created cannot be told apart yet; destroy looks for it again"
                    ));
                    continue;
                }
                journal.done(&step, id.clone()).map_err(jerr)?;
                if let Some(e) = journal.entry(&step) {
                    report.steps.push(step_report(
                        &e.action,
                        "adopted",
                        id.into_iter().collect(),
                        None,
                    ));
                }
            }
        }

        let journal = Mutex::new(journal);
        let applied = self
            .apply_actions(&plan, &journal, properties.as_deref(), report)
            .await;
        let journal = journal.into_inner().unwrap_or_else(|e| e.into_inner());
        applied?;

        // Verify.
        let ds_id = journal
            .lookup("dataworks.data_source")
            .or_else(|| facts.data_sources.first().map(|d| d.id.clone()))
            .ok_or_else(|| EngineError::Other("no DataWorks data source to test".into()))?;
        self.progress(&format!(
            "dwlink: testing connectivity of data source {ds_id} from {}",
            self.spec.dataworks.resource_group_id
        ));
        let c = dataworks::test_connectivity(
            self.caller(Side::Dataworks),
            &self.spec.dataworks.region,
            self.spec.dataworks.workspace_id,
            &ds_id,
            &self.spec.dataworks.resource_group_id,
        )
        .await?;
        report.status = if c.state == "Connectable" {
            Status::Connected
        } else {
            Status::NotConnected
        };
        report.connectivity = Some(c);
        Ok(())
    }

    /// Runs the plan's actions, each as soon as the steps it depends on are done
    /// ([`plan::dependencies`]), one at a time per resource it writes to
    /// ([`Action::serial_key`]). After a failure nothing new starts; the steps already under
    /// way finish (a call cut off mid-way would leave only a "sent" journal entry), then every
    /// failure is reported.
    async fn apply_actions(
        &self,
        plan: &Plan,
        journal: &Mutex<Journal>,
        properties: Option<&str>,
        report: &mut Report,
    ) -> Result<(), EngineError> {
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            Waiting,
            Running,
            Done,
            Failed,
        }
        let actions = &plan.actions;
        let deps = plan::dependencies(actions);
        let keys: Vec<Option<String>> = actions.iter().map(Action::serial_key).collect();
        let mut state = vec![State::Waiting; actions.len()];
        let mut steps: Vec<Option<StepReport>> = vec![None; actions.len()];
        let mut failures: Vec<String> = Vec::new();
        let mut running = FuturesUnordered::new();
        loop {
            if failures.is_empty() {
                for i in 0..actions.len() {
                    let ready = state[i] == State::Waiting
                        && deps[i].iter().all(|&d| state[d] == State::Done)
                        && keys[i].as_ref().is_none_or(|k| {
                            !(0..actions.len())
                                .any(|j| state[j] == State::Running && keys[j].as_ref() == Some(k))
                        });
                    if !ready {
                        continue;
                    }
                    state[i] = State::Running;
                    let action = &actions[i];
                    self.progress(&format!(
                        "dwlink: {} ({} {}): {}",
                        action.step,
                        action.account,
                        action.region,
                        action.summary()
                    ));
                    running
                        .push(async move { (i, self.execute(action, journal, properties).await) });
                }
            }
            let Some((i, result)) = running.next().await else {
                break;
            };
            let action = &actions[i];
            match result {
                Ok(ids) => {
                    state[i] = State::Done;
                    steps[i] = Some(step_report(action, "done", ids, None));
                }
                Err(e) => {
                    state[i] = State::Failed;
                    let msg = format!("step {}: {e}", action.step);
                    let _ = lock(journal).failed(&action.step, &msg);
                    steps[i] = Some(step_report(action, "failed", vec![], Some(e.to_string())));
                    failures.push(msg);
                }
            }
        }
        report.steps.extend(steps.into_iter().flatten());
        if !failures.is_empty() {
            return Err(EngineError::Other(failures.join("; ")));
        }
        // Every dependency points backwards, so nothing can be left waiting; say so if it is.
        let stuck: Vec<&str> = actions
            .iter()
            .zip(&state)
            .filter(|(_, s)| **s != State::Done)
            .map(|(a, _)| a.step.as_str())
            .collect();
        if !stuck.is_empty() {
            return Err(EngineError::Other(format!(
                "steps {} could not be ordered; this is a bug in dwlink, please report it with the output of `dwlink-host plan`",
                stuck.join(", ")
            )));
        }
        Ok(())
    }

    /// The password, needed only when the data source is still to be registered.
    fn password(&self, plan: &Plan) -> Result<Option<String>, EngineError> {
        if !plan
            .actions
            .iter()
            .any(|a| matches!(a.op, Op::RegisterDataSource { .. }))
        {
            return Ok(None);
        }
        if let Some(p) = &self.opts.password {
            return Ok(Some(p.clone()));
        }
        let var = &self.spec.dataworks.data_source.password_env;
        match std::env::var(var) {
            Ok(p) if !p.is_empty() => Ok(Some(p)),
            _ => Err(EngineError::Input(format!(
                "the database password is taken from the environment variable {var} (dataworks.data_source.password_env), which is not set; export it and run again"
            ))),
        }
    }

    /// Runs one action; returns the ids it created or touched. `properties` are the checked
    /// connection properties (with the password), when the data source is to be registered.
    async fn execute(
        &self,
        action: &Action,
        journal: &Mutex<Journal>,
        properties: Option<&str>,
    ) -> Result<Vec<String>, EngineError> {
        let caller = self.caller(action.side);
        match &action.op {
            Op::Cloud {
                call, output, wait, ..
            } => {
                lock(journal).sent(action).map_err(jerr)?;
                let mut resolved = resolve(call, &lock(journal))?;
                // A create whose ClientToken the cloud answers with a resource deleted since (a
                // token reused after a lost or new state dir) is sent again as a new attempt.
                let mut fresh_attempts = 0;
                loop {
                    let id = match caller.call(resolved.clone()).await {
                        Ok(v) => match output {
                            Some(field) => Some(json::id(&v, field).ok_or_else(|| {
                                EngineError::Other(format!(
                                    "{} answered without {field}; the resource may exist: run again to find it",
                                    action.api()
                                ))
                            })?),
                            None => None,
                        },
                        // A lost answer to a link sent before (an association, a propagation):
                        // "already there" is success once the state reads back as wanted, which
                        // the wait below checks.
                        Err(e) if output.is_none() && is_already(&e) && wait.is_some() => {
                            let w = wait.as_ref().expect("checked");
                            let (_, w) = self.resolve_wait(w, &lock(journal))?;
                            if self.probe(action, &w).await?.is_none() {
                                return Err(e.into());
                            }
                            None
                        }
                        // A delete (of a stale resource) whose resource is gone is done.
                        Err(e) if resolved.action.starts_with("Delete") && is_not_found(&e) => None,
                        // The token was used before for another request (a run whose journal
                        // was lost, on other resources): this is a new attempt.
                        Err(e)
                            if e.code == "IdempotentParameterMismatch"
                                && action.client_token.is_some()
                                && fresh_attempts < 5 =>
                        {
                            fresh_attempts += 1;
                            let token = self.next_token(action, journal)?;
                            resolved.params.insert("ClientToken".to_string(), token);
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    };
                    lock(journal).done(&action.step, id.clone()).map_err(jerr)?;
                    let Some(w) = wait else {
                        return Ok(id.into_iter().collect());
                    };
                    match self.wait_for(action, w, journal, false).await {
                        Ok(()) => return Ok(id.into_iter().collect()),
                        Err(WaitError::Gone { .. })
                            if output.is_some()
                                && action.client_token.is_some()
                                && fresh_attempts < 5 =>
                        {
                            fresh_attempts += 1;
                            let token = self.next_token(action, journal)?;
                            self.progress(&format!(
                                "dwlink: {}: {} does not exist although the cloud answered with it (its ClientToken was used before); creating it anew",
                                action.step,
                                id.as_deref().unwrap_or("the resource")
                            ));
                            resolved.params.insert("ClientToken".to_string(), token);
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Op::Wait { wait } => {
                self.wait_for(action, wait, journal, false).await?;
                // A step whose create an earlier run sent (and whose wait failed or was cut
                // off) is complete now: with the id of what it waited for, if it created it.
                let waited = self.resolve_wait(wait, &lock(journal))?.1.ids()[0].clone();
                let mut journal = lock(journal);
                if let Some(e) = journal.entry(&action.step) {
                    let id = e.creates().then_some(waited);
                    journal.done(&action.step, id).map_err(jerr)?;
                }
                Ok(vec![])
            }
            Op::WhitelistAdd { group, cidr } => {
                lock(journal).sent(action).map_err(jerr)?;
                self.change_whitelist(&action.step, group, cidr, true, journal)
                    .await
                    .map_err(|r| r.error)?;
                lock(journal)
                    .done(&action.step, Some(cidr.clone()))
                    .map_err(jerr)?;
                // The instance applies the change in the background: the host waits for it.
                self.await_instance_ready().await?;
                Ok(vec![cidr.clone()])
            }
            Op::RegisterDataSource {
                project_id,
                name,
                kind,
            } => {
                let properties = properties.ok_or_else(|| {
                    EngineError::Other(
                        "the connection properties were not prepared; this is a bug in dwlink"
                            .into(),
                    )
                })?;
                lock(journal).sent(action).map_err(jerr)?;
                let call = dataworks::create_data_source_call(
                    &action.region,
                    *project_id,
                    name,
                    kind,
                    properties,
                );
                let v = caller.call(call).await.map_err(redact(properties))?;
                let id = json::id(&v, "Id");
                lock(journal).done(&action.step, id.clone()).map_err(jerr)?;
                Ok(id.into_iter().collect())
            }
        }
    }

    /// Starts the next attempt of `action`'s step; returns its ClientToken.
    fn next_token(&self, action: &Action, journal: &Mutex<Journal>) -> Result<String, EngineError> {
        let mut j = lock(journal);
        let attempt = j.next_attempt(&action.step).map_err(jerr)?;
        Ok(plan::attempt_token(
            &plan::client_token(
                &plan::scope(&self.link_id(), j.generation(), j.salt()),
                &action.step,
            ),
            attempt,
        ))
    }

    /// The ConnectionProperties DataWorks gets: the plugin's product-specific keys, the
    /// identity keys (instance, region, owner, role, environment) set by the host from the link
    /// and the verified location, and the password. A plugin that sets an identity key to
    /// another value, or an address that names no endpoint the host verified, is refused.
    async fn connection_properties(
        &self,
        facts: &Facts,
        password: &str,
    ) -> Result<String, EngineError> {
        let spec = &self.spec;
        let request = ConnectionRequest {
            instance: self.instance(),
            location: facts.location.clone(),
            owner_uid: spec.source.account_uid.clone(),
            role_name: spec.role_name().unwrap_or_default().to_string(),
            database: spec.dataworks.data_source.database.clone(),
            username: spec.dataworks.data_source.user.clone(),
            env_type: spec.dataworks.data_source.env_type.clone(),
        };
        let text = self
            .ds
            .connection_properties(request.clone())
            .await
            .map_err(|e| self.plugin_error("connection-properties", e))?;
        let props: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
            .map_err(|e| {
                self.plugin_error(
                    "connection-properties",
                    anyhow::anyhow!("not a JSON object: {e}"),
                )
            })?;
        let info = self.ds.info();
        let identity = verify::Identity {
            instance_id: request.instance.id,
            id_key: verify::Identity::id_key_for(&info.datasource_type).into(),
            region: request.instance.region,
            owner_uid: request.owner_uid,
            role_name: request.role_name,
            env_type: request.env_type,
        };
        let merged = verify::merge_properties(
            &info.name,
            &props,
            &identity,
            &facts.location.endpoints,
            password,
        )?;
        Ok(serde_json::Value::Object(merged).to_string())
    }

    fn plugin_error(&self, call: &str, e: anyhow::Error) -> EngineError {
        // Errors from the runtime already say `plugin NAME: CALL: `; say it once.
        whitelist::plugin_error(&self.ds.info().name, call, e)
    }
}

/// The journal, shared by the steps running at once; held only between awaits, never across.
pub(crate) fn lock(journal: &Mutex<Journal>) -> std::sync::MutexGuard<'_, Journal> {
    journal.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn jerr(e: super::journal::JournalError) -> EngineError {
    EngineError::Other(e.to_string())
}

pub(crate) fn resolve(
    call: &CallSpec,
    journal: &Journal,
) -> Result<crate::cloud::Call, EngineError> {
    call.resolve(&|n| journal.lookup(n))
        .map_err(EngineError::Other)
}

/// The plugin reported the instance is not in a state that allows the change yet.
pub(crate) fn is_invalid_state(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<crate::plugin::PluginError>(),
            Some(crate::plugin::PluginError::Failure {
                failure: crate::plugin::PluginFailure::InvalidState(_),
                ..
            })
        ) || matches!(
            c.downcast_ref::<crate::plugin::PluginFailure>(),
            Some(crate::plugin::PluginFailure::InvalidState(_))
        )
    })
}

/// The step's undo call is complete without the step's own resource id.
pub(crate) fn undo_needs_no_id(entry: Option<&Entry>, step: &str) -> bool {
    let own = format!("${{{step}}}");
    match entry.map(|e| &e.action.op) {
        Some(Op::Cloud {
            undo: Some(undo), ..
        }) => undo.params.iter().all(|(_, v)| !v.contains(&own)),
        _ => false,
    }
}

/// The resource (or one it depends on) is in a state that does not allow the call yet, e.g.
/// `IncorrectRouteEntryStatus`, `IncorrectStatus.Attachment`, `OperationConflict`. In destroy
/// this is almost always something still settling, so the call is retried (bounded).
pub(crate) fn is_settling(e: &CloudError) -> bool {
    // The client's notion of busy, widened to codes of other products' shapes.
    crate::cloud::is_busy(e) || e.code.ends_with("Status") || e.code.contains("Conflict")
}

/// The cloud says what was asked for is already there (e.g. `InstanceExist.Association`).
fn is_already(e: &CloudError) -> bool {
    e.code.starts_with("InstanceExist") || e.code.contains("AlreadyExist")
}

/// The resource is already gone. `InvalidAction.NotFound` (an API the endpoint does not
/// know) is not: treating it as gone would report a destroy that destroyed nothing.
pub(crate) fn is_not_found(e: &CloudError) -> bool {
    if e.code.starts_with("InvalidAction") || e.code.starts_with("InvalidVersion") {
        return false;
    }
    e.code.contains("NotFound")
        || e.code.contains("NotExist")
        || (e.http_status == 404 && e.code.is_empty())
}

/// Keeps the connection properties (they hold the password) out of an error message.
fn redact(properties: &str) -> impl Fn(CloudError) -> EngineError + '_ {
    move |mut e| {
        if !properties.is_empty() {
            e.message = e.message.replace(properties, "<connection properties>");
        }
        EngineError::Cloud(Box::new(e))
    }
}

/// The id an unconfirmed step created, read from the facts (it was not planned again, so the
/// facts show its effect).
pub(crate) fn adopted_id(step: &str, f: &Facts, group: &str) -> Option<String> {
    let side = |s: &str| {
        if s.ends_with("source") {
            &f.source
        } else {
            &f.dataworks
        }
    };
    match step {
        "peering.create" => f.peerings.first().map(|p| p.id.clone()),
        "cen.create" => f.cen.as_ref().map(|c| c.cen.id.clone()),
        "cen.tr.dataworks" | "cen.tr.source" => f
            .cen
            .as_ref()?
            .transit_router(&side(step).region)
            .map(|t| t.id.clone()),
        "cen.attach.dataworks" | "cen.attach.source" => f
            .cen
            .as_ref()?
            .attachment_of(&side(step).vpc.id)
            .map(|a| a.id.clone()),
        "cen.peer" => {
            let c = f.cen.as_ref()?;
            let a = c.transit_router(&f.source.region)?;
            let b = c.transit_router(&f.dataworks.region)?;
            c.peer_between(&a.id, &b.id).map(|p| p.id.clone())
        }
        "vswitch.source" | "vswitch.dataworks" => {
            let name = format!("dwlink-{}", f.link_id);
            side(step)
                .vswitches
                .iter()
                .find(|v| v.name == name)
                .map(|v| v.id.clone())
        }
        "route.source" | "route.dataworks" => {
            let dest = if step == "route.source" {
                f.dataworks.vswitch.cidr.clone()
            } else {
                f.source_cidr()
            };
            side(step)
                .route_entries
                .iter()
                .find(|e| e.destination == dest)
                .map(|e| e.id.clone())
        }
        "dataworks.route" => {
            let dest = f.source_cidr();
            f.dw_routes
                .iter()
                .find(|r| r.destination == dest)
                .map(|r| r.id.clone())
        }
        "dataworks.data_source" => f.data_sources.first().map(|d| d.id.clone()),
        "whitelist.add" => f
            .whitelist
            .iter()
            .any(|g| g.name == group && g.entries.contains(&f.dataworks.vswitch.cidr))
            .then(|| f.dataworks.vswitch.cidr.clone()),
        _ => None,
    }
}

pub(crate) fn fill_plan(report: &mut Report, plan: &Plan) {
    report.mode = Some(plan.mode.as_str().to_string());
    report.mode_reason = Some(plan.mode_reason.clone());
    report.notes.extend(plan.notes.iter().cloned());
}

pub(crate) fn problems_text(plan: &Plan) -> String {
    plan.problems
        .iter()
        .map(|p| format!("{}: {} (fix: {})", p.check, p.message, p.fix))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) fn step_report(
    a: &Action,
    status: &str,
    ids: Vec<String>,
    error: Option<String>,
) -> StepReport {
    StepReport {
        name: a.step.clone(),
        status: status.into(),
        account: a.account.clone(),
        region: a.region.clone(),
        action: a.summary(),
        resource_ids: ids,
        why: a.why.clone(),
        error,
    }
}
