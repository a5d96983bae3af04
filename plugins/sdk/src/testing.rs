//! [`FakeCloud`]: a [`Cloud`] for native unit tests. It answers scripted JSON per action,
//! refuses undeclared actions like the host does, and records every call and log line.

use crate::{Cloud, CloudError, CloudRequest, LogLevel, PluginInfo};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

/// A scripted cloud. Answers are keyed by `product:Action` (product in lower case, as
/// declared), e.g. `rds:DescribeDBInstanceAttribute`. Each action has a queue: a call takes
/// the front answer while more than one is queued, then keeps repeating the last one.
#[derive(Debug, Default)]
pub struct FakeCloud {
    answers: RefCell<BTreeMap<String, VecDeque<Result<String, CloudError>>>>,
    declared: Option<Vec<String>>,
    calls: RefCell<Vec<CloudRequest>>,
    logs: RefCell<Vec<(LogLevel, String)>>,
}

impl FakeCloud {
    /// A fake that answers any action it has a script for.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fake that, like the host, refuses (with `dwlink.UndeclaredAction`) every action
    /// `info` does not declare.
    pub fn declared(info: &PluginInfo) -> Self {
        Self {
            declared: Some(info.actions()),
            ..Self::default()
        }
    }

    /// Queues a successful answer (JSON text) for `action`.
    pub fn on(&self, action: &str, body: impl Into<String>) -> &Self {
        self.push(action, Ok(body.into()))
    }

    /// Queues an error answer for `action`.
    pub fn fail(&self, action: &str, code: &str, message: &str) -> &Self {
        self.push(
            action,
            Err(CloudError {
                code: code.to_string(),
                message: message.to_string(),
                request_id: "fake-request-id".to_string(),
                http_status: 400,
            }),
        )
    }

    /// Forgets the queued answers for `action` (to script a new phase of a test).
    pub fn clear(&self, action: &str) -> &Self {
        self.answers.borrow_mut().remove(action);
        self
    }

    fn push(&self, action: &str, answer: Result<String, CloudError>) -> &Self {
        self.answers
            .borrow_mut()
            .entry(action.to_string())
            .or_default()
            .push_back(answer);
        self
    }

    /// Every call made so far, in order.
    pub fn calls(&self) -> Vec<CloudRequest> {
        self.calls.borrow().clone()
    }

    /// The calls made to `action` (`product:Action`).
    pub fn calls_to(&self, action: &str) -> Vec<CloudRequest> {
        self.calls
            .borrow()
            .iter()
            .filter(|c| c.declared() == action)
            .cloned()
            .collect()
    }

    /// The distinct actions called so far (`product:Action`), sorted.
    pub fn called_actions(&self) -> Vec<String> {
        let mut seen: Vec<String> = self.calls.borrow().iter().map(|c| c.declared()).collect();
        seen.sort();
        seen.dedup();
        seen
    }

    /// Every log line written through this cloud.
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        self.logs.borrow().clone()
    }
}

impl Cloud for FakeCloud {
    fn call_raw(&self, request: &CloudRequest) -> Result<String, CloudError> {
        self.calls.borrow_mut().push(request.clone());
        let action = request.declared();
        if let Some(declared) = &self.declared
            && !declared.contains(&action)
        {
            return Err(CloudError::local(
                "dwlink.UndeclaredAction",
                format!("{action} is not declared by the plugin"),
            ));
        }
        let mut answers = self.answers.borrow_mut();
        let Some(queue) = answers.get_mut(&action) else {
            return Err(CloudError::local(
                "fake.NoScript",
                format!("FakeCloud has no answer scripted for {action}"),
            ));
        };
        if queue.len() > 1 {
            return queue.pop_front().expect("queue is not empty");
        }
        queue
            .front()
            .cloned()
            .unwrap_or_else(|| Err(CloudError::local("fake.NoScript", action)))
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.logs.borrow_mut().push((level, message.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Api;

    const RDS: Api = Api::new("Rds", "2014-08-15");

    #[test]
    fn answers_in_order_then_repeats_and_records() {
        let fake = FakeCloud::new();
        fake.on("rds:DescribeA", "1").on("rds:DescribeA", "2");
        let cloud: &dyn Cloud = &fake;
        let a: u8 = cloud.call(RDS.request("DescribeA", "cn-hangzhou")).unwrap();
        let b: u8 = cloud.call(RDS.request("DescribeA", "cn-hangzhou")).unwrap();
        let c: u8 = cloud.call(RDS.request("DescribeA", "cn-hangzhou")).unwrap();
        assert_eq!((a, b, c), (1, 2, 2));
        assert_eq!(fake.calls_to("rds:DescribeA").len(), 3);
        let e = cloud
            .call::<u8>(RDS.request("B", "cn-hangzhou"))
            .unwrap_err();
        assert_eq!(e.code, "fake.NoScript");
        let e = cloud.call::<u8>(RDS.request("DescribeA", "x").param("P", "v"));
        assert!(e.is_ok());
        fake.on("rds:C", "not json");
        let e = cloud
            .call::<u8>(RDS.request("C", "cn-hangzhou"))
            .unwrap_err();
        assert_eq!(e.code, crate::MALFORMED_RESPONSE);
        assert!(e.message.contains("rds:C"), "{}", e.message);
    }

    #[test]
    fn refuses_undeclared_actions_like_the_host() {
        let info = PluginInfo {
            name: "t".into(),
            version: "0".into(),
            datasource_type: "t".into(),
            product: "Rds".into(),
            api_version: "2014-08-15".into(),
            capabilities: vec![crate::Api::new("Rds", "2014-08-15").read("DescribeA", None)],
            summary: String::new(),
        };
        let fake = FakeCloud::declared(&info);
        fake.on("rds:DescribeA", "1").on("rds:B", "2");
        let cloud: &dyn Cloud = &fake;
        assert!(cloud.call::<u8>(RDS.request("DescribeA", "r")).is_ok());
        let e = cloud.call::<u8>(RDS.request("B", "r")).unwrap_err();
        assert_eq!(e.code, "dwlink.UndeclaredAction");
    }
}
