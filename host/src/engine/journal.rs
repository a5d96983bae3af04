//! The per-link journal: every action is recorded before it is sent and after it succeeds, with
//! the id of what it created. Written atomically (temp file, fsync, rename, fsync of the
//! directory), so a crash leaves either the old or the new journal, never half of one.
//! `run` uses it to finish an interrupted link; `destroy` to undo exactly what dwlink created.

use super::plan::Action;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where journals live: `DWLINK_STATE_DIR`, else `$XDG_STATE_HOME/dwlink`, else
/// `~/.local/state/dwlink`.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("DWLINK_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("dwlink");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/state/dwlink")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Recorded before the call was sent; the outcome is unknown.
    Sent,
    /// The call succeeded (and its resource id is recorded).
    Done,
    /// The call failed with an error.
    Failed,
    /// Destroy removed it.
    Undone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub step: String,
    pub state: EntryState,
    pub action: Action,
    pub resource_id: Option<String>,
    /// Extra values learnt after the call (e.g. `cen.tr.dataworks.rtb`).
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
    pub error: Option<String>,
    /// How often the step's resource was created anew after it was deleted outside dwlink
    /// (each attempt sends its own ClientToken).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Entry {
    /// The step creates a resource, whose id the cloud returns: it is done only with that id.
    pub fn creates(&self) -> bool {
        matches!(
            &self.action.op,
            super::plan::Op::Cloud {
                output: Some(_),
                ..
            }
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Data {
    version: u32,
    link_id: String,
    /// Bumped by a complete destroy, so the next build of the link uses fresh ClientTokens
    /// (the cloud would answer a reused token with the deleted resource).
    #[serde(default)]
    generation: u32,
    /// Salts every ClientToken of this journal: chosen when the journal is started, written
    /// before the first call, so a resumed run sends the same tokens and a journal started
    /// afresh (a new or lost state dir) never sends an earlier build's.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    salt: String,
    entries: Vec<Entry>,
    /// Whitelist changes dwlink saw a plugin make and did not ask for, not yet undone (by the
    /// user: dwlink does not trust itself to guess what the entry was for). Every `run`,
    /// `status` and `destroy` re-checks them against the host's own read of the whitelist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    findings: Vec<Finding>,
}

/// What a plugin did to a whitelist that dwlink did not ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// An entry appeared that dwlink did not ask for.
    Unexpected,
    /// An entry that admits every address appeared (`0.0.0.0/0`).
    OpenToAll,
    /// An entry dwlink did not ask to remove disappeared.
    Lost,
}

/// One unexpected whitelist change, recorded when the host's guard saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub plugin: String,
    pub instance: String,
    pub group: String,
    pub entry: String,
    /// The step during which the guard saw it (`whitelist.add`, or `whitelist.add` undone).
    pub step: String,
    /// The guard's own words.
    pub message: String,
}

impl Finding {
    /// Whether `groups` (the host's read) still shows it: the foreign entry still there, or
    /// the lost entry still missing.
    pub fn persists(&self, groups: &[crate::plugin::WhitelistGroup]) -> bool {
        let held = super::guard::holds(groups, &self.group, &self.entry);
        match self.kind {
            FindingKind::Unexpected | FindingKind::OpenToAll => held,
            FindingKind::Lost => !held,
        }
    }

    /// One line for people: what is wrong and how to fix it.
    pub fn describe(&self) -> String {
        match self.kind {
            FindingKind::Unexpected | FindingKind::OpenToAll => format!(
                "whitelist group {} of instance {} holds {}, which plugin {} added during {} and dwlink did not ask for{}; remove it from the instance's whitelist in account A, then run again",
                self.group,
                self.instance,
                self.entry,
                self.plugin,
                self.step,
                if self.kind == FindingKind::OpenToAll {
                    " (it admits every address)"
                } else {
                    ""
                }
            ),
            FindingKind::Lost => format!(
                "whitelist group {} of instance {} lost {}, which plugin {} removed during {} although dwlink did not ask for it; restore it in account A, then run again",
                self.group, self.instance, self.entry, self.plugin, self.step
            ),
        }
    }
}

/// Why [`Journal::open`] failed when the file is there but is not a journal.
const UNREADABLE: &str =
    "unreadable (run or destroy keeps it aside and rebuilds it from the cloud)";

/// An open journal. It holds an exclusive lock on `<link id>.lock` for its lifetime, so two
/// runs of one link cannot interleave; the OS releases it if the process dies.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    data: Data,
    /// No journal file was there: this link has no history on this machine (or lost it).
    fresh: bool,
    _lock: std::fs::File,
}

#[derive(Debug, thiserror::Error)]
#[error("journal {path}: {what}: {source}")]
pub struct JournalError {
    pub path: PathBuf,
    pub what: &'static str,
    #[source]
    pub source: std::io::Error,
}

impl Journal {
    /// Opens (or starts) the journal of `link_id` in `dir`.
    pub fn open(dir: &Path, link_id: &str) -> Result<Journal, JournalError> {
        let path = dir.join(format!("{link_id}.json"));
        let err = |what, source| JournalError {
            path: path.clone(),
            what,
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| err("cannot create its directory", e))?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{link_id}.lock")))
            .map_err(|e| err("cannot open its lock file", e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(err(
                    "another dwlink run is working on this link; wait for it to finish",
                    std::io::Error::from(std::io::ErrorKind::WouldBlock),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(err("cannot lock", e)),
        }
        let mut fresh = false;
        let data = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| err(UNREADABLE, std::io::Error::other(e)))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fresh = true;
                Data {
                    version: 1,
                    link_id: link_id.into(),
                    generation: 0,
                    salt: hex::encode(rand::random::<[u8; 8]>()),
                    entries: Vec::new(),
                    findings: Vec::new(),
                }
            }
            Err(e) => return Err(err("cannot read", e)),
        };
        Ok(Journal {
            path,
            data,
            fresh,
            _lock: lock,
        })
    }

    /// Like [`open`](Self::open), but a journal that cannot be read is renamed aside
    /// (`<link id>.json.damaged-<unix time>`, kept for inspection) and a fresh one started;
    /// returns where the damaged one went. The caller rebuilds it from the cloud.
    pub fn open_or_set_aside(
        dir: &Path,
        link_id: &str,
    ) -> Result<(Journal, Option<PathBuf>), JournalError> {
        match Journal::open(dir, link_id) {
            Err(e) if e.what == UNREADABLE => {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let kept = e.path.with_extension(format!("json.damaged-{secs}"));
                std::fs::rename(&e.path, &kept).map_err(|source| JournalError {
                    path: e.path.clone(),
                    what: "unreadable, and it cannot be moved aside",
                    source,
                })?;
                Ok((Journal::open(dir, link_id)?, Some(kept)))
            }
            other => other.map(|j| (j, None)),
        }
    }

    /// No journal file was there when it was opened (or a damaged one was set aside).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn generation(&self) -> u32 {
        self.data.generation
    }

    /// The salt of this journal's ClientTokens.
    pub fn salt(&self) -> &str {
        &self.data.salt
    }

    /// The entries recorded for `link_id`, read without taking the lock (for `status`, which
    /// may look while a run works); empty when there is no journal.
    pub fn peek_entries(dir: &Path, link_id: &str) -> Vec<Entry> {
        peek(dir, link_id).map_or_else(Vec::new, |d| d.entries)
    }

    /// The unexpected whitelist changes recorded for `link_id`, read without the lock.
    pub fn peek_findings(dir: &Path, link_id: &str) -> Vec<Finding> {
        peek(dir, link_id).map_or_else(Vec::new, |d| d.findings)
    }

    pub fn findings(&self) -> &[Finding] {
        &self.data.findings
    }

    /// Records unexpected whitelist changes (once each).
    pub fn add_findings(&mut self, found: Vec<Finding>) -> Result<(), JournalError> {
        for f in found {
            let known = self.data.findings.iter().any(|k| {
                k.kind == f.kind
                    && k.instance == f.instance
                    && k.group == f.group
                    && super::guard::same_entry(&k.entry, &f.entry)
            });
            if !known {
                self.data.findings.push(f);
            }
        }
        self.save()
    }

    /// Keeps the findings that still persist (per the host's read); returns them.
    pub fn recheck_findings(
        &mut self,
        groups: &[crate::plugin::WhitelistGroup],
    ) -> Result<Vec<Finding>, JournalError> {
        let before = self.data.findings.len();
        self.data.findings.retain(|f| f.persists(groups));
        if self.data.findings.len() != before {
            self.save()?;
        }
        Ok(self.data.findings.clone())
    }

    /// After a complete destroy: forget the undone steps and start a new generation.
    pub fn finish_destroy(&mut self) -> Result<(), JournalError> {
        if self.to_undo().is_empty() && self.unconfirmed().is_empty() {
            self.data.generation += 1;
            self.data.entries.clear();
        }
        self.save()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.data.entries
    }

    pub fn entry(&self, step: &str) -> Option<&Entry> {
        self.data.entries.iter().find(|e| e.step == step)
    }

    fn entry_mut(&mut self, step: &str) -> Option<&mut Entry> {
        self.data.entries.iter_mut().find(|e| e.step == step)
    }

    /// Records that `action` is about to be sent. A step keeps its place in the journal when it
    /// is sent again (resume), so destroy's reverse order stays the creation order reversed.
    pub fn sent(&mut self, action: &Action) -> Result<(), JournalError> {
        match self.entry_mut(&action.step) {
            Some(e) => {
                e.state = EntryState::Sent;
                e.action = action.clone();
                e.error = None;
            }
            None => self.data.entries.push(Entry {
                step: action.step.clone(),
                state: EntryState::Sent,
                action: action.clone(),
                resource_id: None,
                outputs: BTreeMap::new(),
                error: None,
                attempt: 0,
            }),
        }
        self.save()
    }

    /// Records success; `resource_id` is what the step created, if anything. A step that
    /// creates a resource is never done without its id (destroy could not undo it): that is
    /// refused as a bug.
    pub fn done(&mut self, step: &str, resource_id: Option<String>) -> Result<(), JournalError> {
        let path = self.path.clone();
        if let Some(e) = self.entry_mut(step) {
            if resource_id.is_some() {
                e.resource_id = resource_id;
            }
            if e.creates() && e.resource_id.is_none() {
                return Err(JournalError {
                    path,
                    what: "a step that creates a resource cannot be marked done without the resource's id (this is a bug in dwlink; please report it)",
                    source: std::io::Error::other(format!("step {step}")),
                });
            }
            e.state = EntryState::Done;
        }
        self.save()
    }

    /// Records a step an earlier run took, found in the cloud rather than in this journal
    /// (see `rebuild`): done, with what it created.
    pub fn adopt(
        &mut self,
        action: &Action,
        resource_id: Option<String>,
        outputs: BTreeMap<String, String>,
    ) -> Result<(), JournalError> {
        self.sent(action)?;
        if let Some(e) = self.entry_mut(&action.step) {
            e.outputs.extend(outputs);
        }
        self.done(&action.step, resource_id)
    }

    /// Starts a new attempt of `step` (its resource was deleted since it was created), and
    /// returns its number.
    pub fn next_attempt(&mut self, step: &str) -> Result<u32, JournalError> {
        let n = match self.entry_mut(step) {
            Some(e) => {
                e.attempt += 1;
                e.attempt
            }
            None => 0,
        };
        self.save()?;
        Ok(n)
    }

    /// What the planner needs to know of the journal.
    pub fn memory(&self) -> Memory {
        memory(&self.data)
    }

    /// [`memory`](Self::memory) of `link_id`, read without taking the lock (for `plan`).
    pub fn peek_memory(dir: &Path, link_id: &str) -> Memory {
        peek(dir, link_id).map_or_else(Memory::default, |d| memory(&d))
    }

    pub fn output(&mut self, step: &str, key: &str, value: &str) -> Result<(), JournalError> {
        if let Some(e) = self.entry_mut(step) {
            e.outputs.insert(key.into(), value.into());
        }
        self.save()
    }

    pub fn failed(&mut self, step: &str, error: &str) -> Result<(), JournalError> {
        if let Some(e) = self.entry_mut(step) {
            e.state = EntryState::Failed;
            e.error = Some(error.into());
        }
        self.save()
    }

    pub fn undone(&mut self, step: &str) -> Result<(), JournalError> {
        if let Some(e) = self.entry_mut(step) {
            e.state = EntryState::Undone;
        }
        self.save()
    }

    /// The value a `${name}` placeholder stands for: a step's resource id or a recorded output.
    pub fn lookup(&self, name: &str) -> Option<String> {
        if let Some(id) = self.entry(name).and_then(|e| e.resource_id.clone()) {
            return Some(id);
        }
        self.data
            .entries
            .iter()
            .find_map(|e| e.outputs.get(name).cloned())
    }

    /// Steps whose outcome is unknown (sent, never confirmed): a crash or a lost response.
    pub fn unconfirmed(&self) -> Vec<String> {
        self.data
            .entries
            .iter()
            .filter(|e| matches!(e.state, EntryState::Sent | EntryState::Failed))
            .map(|e| e.step.clone())
            .collect()
    }

    /// Entries destroy must undo, last created first: every confirmed step, and every step
    /// whose resource id is known even if a later part of it (a wait) failed.
    pub fn to_undo(&self) -> Vec<Entry> {
        self.data
            .entries
            .iter()
            .rev()
            .filter(|e| {
                e.state == EntryState::Done
                    || (e.state != EntryState::Undone && e.resource_id.is_some())
            })
            .cloned()
            .collect()
    }

    fn save(&self) -> Result<(), JournalError> {
        let err = |what, source| JournalError {
            path: self.path.clone(),
            what,
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| err("cannot create its directory", e))?;
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(&self.data)
            .map_err(|e| err("cannot encode", std::io::Error::other(e)))?;
        let mut f = std::fs::File::create(&tmp).map_err(|e| err("cannot write", e))?;
        f.write_all(&bytes).map_err(|e| err("cannot write", e))?;
        f.sync_all().map_err(|e| err("cannot fsync", e))?;
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(|e| err("cannot rename into place", e))?;
        // The rename itself must reach the disk too.
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| err("cannot fsync its directory", e))?;
        Ok(())
    }
}

/// What the planner needs to know of the journal: it salts ClientTokens and tells dwlink's own
/// resources from others'.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    pub generation: u32,
    /// Salts the ClientTokens (see `Data::salt`).
    pub salt: String,
    /// Each step's attempt (steps still on their first are left out).
    pub attempts: BTreeMap<String, u32>,
    /// The ids of what dwlink created and has not undone, with the step that created each.
    pub owned: BTreeMap<String, String>,
}

/// The journal of `link_id` as it is on disk, read without the lock; `None` when there is none
/// or it cannot be read.
fn peek(dir: &Path, link_id: &str) -> Option<Data> {
    std::fs::read(dir.join(format!("{link_id}.json")))
        .ok()
        .and_then(|b| serde_json::from_slice::<Data>(&b).ok())
}

fn memory(d: &Data) -> Memory {
    Memory {
        generation: d.generation,
        salt: d.salt.clone(),
        attempts: d
            .entries
            .iter()
            .filter(|e| e.attempt > 0)
            .map(|e| (e.step.clone(), e.attempt))
            .collect(),
        owned: d
            .entries
            .iter()
            .filter(|e| e.state != EntryState::Undone)
            .filter_map(|e| Some((e.resource_id.clone()?, e.step.clone())))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Side;
    use crate::engine::plan::Op;

    fn action(step: &str) -> Action {
        Action {
            step: step.into(),
            side: Side::Source,
            account: "1862710497302214".into(),
            region: "cn-hangzhou".into(),
            op: Op::WhitelistAdd {
                group: "dataworks".into(),
                cidr: "172.16.66.0/24".into(),
            },
            client_token: None,
            why: String::new(),
        }
    }

    #[test]
    fn records_survive_reopen_and_keep_creation_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path(), "dwl-1").unwrap();
        j.sent(&action("a")).unwrap();
        j.done("a", Some("pcc-1".into())).unwrap();
        j.sent(&action("b")).unwrap();
        j.output("b", "b.rtb", "vtb-9").unwrap();
        // Crash here: b was sent, never confirmed.
        drop(j);
        let mut j = Journal::open(dir.path(), "dwl-1").unwrap();
        assert_eq!(j.unconfirmed(), ["b"]);
        assert_eq!(j.lookup("a").as_deref(), Some("pcc-1"));
        assert_eq!(j.lookup("b.rtb").as_deref(), Some("vtb-9"));
        assert_eq!(j.lookup("c"), None);
        j.sent(&action("c")).unwrap();
        j.done("c", None).unwrap();
        j.sent(&action("b")).unwrap();
        j.done("b", Some("rte-2".into())).unwrap();
        let steps: Vec<_> = j.to_undo().into_iter().map(|e| e.step).collect();
        assert_eq!(steps, ["c", "b", "a"]);
        j.undone("c").unwrap();
        drop(j);
        let j = Journal::open(dir.path(), "dwl-1").unwrap();
        assert_eq!(j.to_undo().len(), 2);
        assert!(j.unconfirmed().is_empty());
    }

    #[test]
    fn writes_are_atomic_no_temp_file_left() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("nested/state"), "dwl-2").unwrap();
        for i in 0..20 {
            j.sent(&action(&format!("s{i}"))).unwrap();
        }
        let names: Vec<_> = std::fs::read_dir(dir.path().join("nested/state"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            names.iter().filter(|n| n.ends_with(".json")).count(),
            1,
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
        let text = std::fs::read_to_string(j.path()).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
    }

    #[test]
    fn one_run_per_link_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path(), "dwl-4").unwrap();
        let e = Journal::open(dir.path(), "dwl-4").unwrap_err();
        assert!(e.to_string().contains("another dwlink run"), "{e}");
        // Other links are independent, and the lock goes with the journal.
        Journal::open(dir.path(), "dwl-5").unwrap();
        drop(j);
        Journal::open(dir.path(), "dwl-4").unwrap();
    }

    fn create(step: &str) -> Action {
        let call =
            crate::cloud::Call::new("Cbn", "2017-09-12", "CreateTransitRouter", "cn-shanghai");
        Action {
            op: Op::Cloud {
                call: call.into(),
                output: Some("TransitRouterId".into()),
                wait: None,
                undo: None,
                undo_waits: false,
            },
            client_token: Some("t".into()),
            ..action(step)
        }
    }

    #[test]
    fn a_creating_step_is_never_done_without_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path(), "dwl-6").unwrap();
        j.sent(&create("cen.tr.dataworks")).unwrap();
        let e = j.done("cen.tr.dataworks", None).unwrap_err();
        assert!(e.to_string().contains("without the resource's id"), "{e}");
        assert_eq!(j.unconfirmed(), ["cen.tr.dataworks"]);
        j.done("cen.tr.dataworks", Some("tr-1".into())).unwrap();
        // Once known, the id stays: a later confirmation without one keeps it.
        j.done("cen.tr.dataworks", None).unwrap();
        assert_eq!(j.lookup("cen.tr.dataworks").as_deref(), Some("tr-1"));
        // A step that creates nothing with an id is done without one.
        j.sent(&action("whitelist.add")).unwrap();
        j.done("whitelist.add", None).unwrap();
    }

    #[test]
    fn attempts_and_ownership_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path(), "dwl-7").unwrap();
        assert!(j.is_fresh());
        j.sent(&create("route.source")).unwrap();
        j.done("route.source", Some("rte-1".into())).unwrap();
        assert_eq!(j.next_attempt("route.source").unwrap(), 1);
        assert_eq!(j.next_attempt("route.source").unwrap(), 2);
        drop(j);
        let j = Journal::open(dir.path(), "dwl-7").unwrap();
        assert!(!j.is_fresh());
        let m = j.memory();
        assert_eq!(m.attempts.get("route.source"), Some(&2));
        assert_eq!(
            m.owned.get("rte-1").map(String::as_str),
            Some("route.source")
        );
        assert_eq!(Journal::peek_memory(dir.path(), "dwl-7"), m);
    }

    #[test]
    fn a_damaged_journal_is_set_aside_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dwl-8.json"), "{\"entries\": [").unwrap();
        let (j, kept) = Journal::open_or_set_aside(dir.path(), "dwl-8").unwrap();
        let kept = kept.expect("set aside");
        assert!(j.is_fresh() && j.entries().is_empty());
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), "{\"entries\": [");
        assert!(kept.to_string_lossy().contains("dwl-8.json.damaged-"));
    }

    /// A journal written before steps had attempts (release 0.1, a finished peering link)
    /// still opens, plans from its ids and undoes in reverse creation order.
    #[test]
    fn a_journal_of_the_previous_release_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dwl-3c52989259996588.json"),
            include_str!("testdata/journal-v1-peering.json"),
        )
        .unwrap();
        let j = Journal::open(dir.path(), "dwl-3c52989259996588").unwrap();
        assert!(!j.is_fresh());
        assert_eq!(j.generation(), 0);
        assert!(j.unconfirmed().is_empty());
        let m = j.memory();
        assert!(m.attempts.is_empty());
        let pcc = j.lookup("peering.create").expect("the peering's id");
        assert_eq!(
            m.owned.get(&pcc).map(String::as_str),
            Some("peering.create")
        );
        let undo: Vec<String> = j.to_undo().into_iter().map(|e| e.step).collect();
        assert_eq!(undo.first().map(String::as_str), Some("route.dataworks"));
        assert_eq!(undo.last().map(String::as_str), Some("peering.create"));
        assert_eq!(undo.len(), 7, "{undo:?}");
    }

    #[test]
    fn a_corrupt_journal_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dwl-3.json"), "{not json").unwrap();
        let e = Journal::open(dir.path(), "dwl-3").unwrap_err();
        assert!(e.to_string().contains("dwl-3.json"), "{e}");
    }
}
