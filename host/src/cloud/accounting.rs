//! Counts of cloud calls per account, for the run summary.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Calls made in one account. `reads`/`writes` count logical calls (a call and its retries
/// count once); `retries` counts the extra attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallCounts {
    pub reads: u64,
    pub writes: u64,
    pub retries: u64,
    pub failures: u64,
}

/// Whether an action leaves the cloud as it was (by the OpenAPI naming convention). A test
/// (DataWorks `TestDataSourceConnectivity`) and `AssumeRole` (temporary credentials, no
/// resource) change nothing either, so a finished link's second run counts 0 writes.
pub fn is_read(action: &str) -> bool {
    action == "AssumeRole"
        || ["Describe", "List", "Get", "Query", "Check", "Test"]
            .iter()
            .any(|p| action.starts_with(p))
}

#[derive(Default)]
pub struct Accounting {
    counts: Mutex<BTreeMap<String, CallCounts>>,
}

impl Accounting {
    fn with(&self, account: &str, f: impl FnOnce(&mut CallCounts)) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        f(counts.entry(account.to_string()).or_default());
    }

    pub(crate) fn call(&self, account: &str, action: &str) {
        self.with(account, |c| {
            if is_read(action) {
                c.reads += 1
            } else {
                c.writes += 1
            }
        });
    }

    pub(crate) fn retry(&self, account: &str) {
        self.with(account, |c| c.retries += 1);
    }

    pub(crate) fn failure(&self, account: &str) {
        self.with(account, |c| c.failures += 1);
    }

    /// Counts per account name, sorted by name.
    pub fn snapshot(&self) -> BTreeMap<String, CallCounts> {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_and_counts() {
        assert!(is_read("DescribeVpcs") && is_read("ListRoutes") && is_read("GetCallerIdentity"));
        assert!(is_read("TestDataSourceConnectivity") && is_read("AssumeRole"));
        assert!(!is_read("CreateRoute") && !is_read("AcceptVpcPeerConnection"));
        assert!(!is_read("ModifySecurityIps") && !is_read("GrantInstanceToCen"));
        let a = Accounting::default();
        a.call("b", "DescribeVpcs");
        a.call("b", "CreateRouteEntry");
        a.retry("b");
        a.call("a", "ListRoutes");
        let s = a.snapshot();
        assert_eq!(
            s["b"],
            CallCounts {
                reads: 1,
                writes: 1,
                retries: 1,
                failures: 0
            }
        );
        assert_eq!(s["a"].reads, 1);
    }
}
