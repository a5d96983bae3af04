//! Fault injection: throttling, server errors, added latency and ambiguous timeouts (the write
//! happens, the response is lost), drawn from a seeded RNG so a run can be replayed; and
//! targeted rules ([`FaultRule`]): fail or lose the Nth call of one action, deterministically.

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Fault settings (`--faults` and `POST /_sim/faults`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSettings {
    /// Probability of `Throttling.User` per API request.
    pub throttle: f64,
    /// Probability of a 5xx (`ServiceUnavailable` / `InternalError`) per API request.
    pub server_error: f64,
    /// Latency added to every authenticated API request, in milliseconds of simulated time
    /// (multiplied by the time scale, like lifecycle delays).
    pub latency_ms: u64,
    /// Probability that a write is performed but its response is dropped.
    pub ambiguous_timeout: f64,
    /// RNG seed; the same seed and the same request sequence give the same faults.
    pub seed: u64,
    /// Targeted faults, checked before the random ones (see [`FaultRule`]).
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

/// A targeted fault: what happens to the `nth` call of `action` (every call when `nth` is
/// `None`). Calls are the authenticated requests for that action, counted per rule from when
/// the settings were set (`POST /_sim/faults`, [`crate::SimHandle::set_faults`]) or the rule
/// was added (`POST /_sim/faults/rules`, [`crate::SimHandle::add_fault_rule`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// The API action the rule applies to, e.g. "DeleteCen" (exact action name).
    pub action: String,
    /// Which call of that action, 1-based, counted from when the settings were set; None = every call.
    #[serde(default)]
    pub nth: Option<u32>,
    pub effect: FaultEffect,
}

/// What a matching [`FaultRule`] does to the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultEffect {
    /// Answer with this error instead of performing the call (nothing changes). `status` defaults to 400;
    /// `message` defaults to a sensible text naming the action.
    Fail {
        code: String,
        #[serde(default = "default_fail_status")]
        status: u16,
        #[serde(default)]
        message: Option<String>,
    },
    /// Perform the call (it takes effect), then drop the response, exactly like the existing ambiguous timeout.
    Lose,
}

fn default_fail_status() -> u16 {
    400
}

impl FaultRule {
    /// Fails the `nth` call of `action` (every call for `None`) with `code`, HTTP 400 and the
    /// default message.
    pub fn fail(action: &str, nth: Option<u32>, code: &str) -> FaultRule {
        FaultRule {
            action: action.to_string(),
            nth,
            effect: FaultEffect::Fail {
                code: code.to_string(),
                status: default_fail_status(),
                message: None,
            },
        }
    }

    /// Performs the `nth` call of `action` (every call for `None`) and drops its response.
    pub fn lose(action: &str, nth: Option<u32>) -> FaultRule {
        FaultRule {
            action: action.to_string(),
            nth,
            effect: FaultEffect::Lose,
        }
    }

    /// Checks what the JSON form cannot: a non-empty action name, `nth` >= 1, an error code
    /// and an error HTTP status.
    pub fn validate(&self) -> Result<(), String> {
        if self.action.is_empty() || !self.action.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "fault rule action {:?} is not an API action name (e.g. DeleteCen)",
                self.action
            ));
        }
        if self.nth == Some(0) {
            return Err(format!(
                "fault rule for {}: nth counts from 1 (the first call)",
                self.action
            ));
        }
        if let FaultEffect::Fail { code, status, .. } = &self.effect {
            if code.is_empty() || code.contains(char::is_whitespace) {
                return Err(format!(
                    "fault rule for {}: {code:?} is not an error code (e.g. Throttling.User)",
                    self.action
                ));
            }
            if !(400..=599).contains(status) {
                return Err(format!(
                    "fault rule for {}: HTTP status {status} is not an error status (400-599)",
                    self.action
                ));
            }
        }
        Ok(())
    }

    /// Parses one rule of the spec string: `lose=Action[#N|#*]` or
    /// `fail=Action[#N|#*]/ErrorCode[/HttpStatus]` (`key` is `lose` or `fail`, `value` what
    /// follows the `=`).
    pub fn parse(key: &str, value: &str) -> Result<FaultRule, String> {
        const FORMS: &str = "lose=Action[#N|#*] or fail=Action[#N|#*]/ErrorCode[/HttpStatus], \
                             e.g. lose=CreateRouteEntry#1 or fail=DeleteCen#2/InvalidOperation.CenInstanceStatus";
        let bad = |why: &str| format!("fault {key}={value}: {why}; expected {FORMS}");
        let (target, rest) = match key {
            "lose" => (value, None),
            "fail" => {
                let (t, r) = value
                    .split_once('/')
                    .ok_or_else(|| bad("no error code after the action"))?;
                (t, Some(r))
            }
            _ => return Err(bad("unknown rule kind")),
        };
        let (action, nth) = match target.split_once('#') {
            None => (target, None),
            Some((a, "*")) => (a, None),
            Some((a, n)) => {
                let n: u32 = n
                    .parse()
                    .map_err(|_| bad(&format!("{n:?} is not a call number (1, 2, ... or *)")))?;
                if n == 0 {
                    return Err(bad("calls are counted from 1"));
                }
                (a, Some(n))
            }
        };
        let action = action.trim();
        let effect = match rest {
            None => FaultEffect::Lose,
            Some(r) => {
                let (code, status) = match r.split_once('/') {
                    None => (r, default_fail_status()),
                    Some((c, s)) => (
                        c,
                        s.parse()
                            .map_err(|_| bad(&format!("{s:?} is not an HTTP status")))?,
                    ),
                };
                FaultEffect::Fail {
                    code: code.trim().to_string(),
                    status,
                    message: None,
                }
            }
        };
        let rule = FaultRule {
            action: action.to_string(),
            nth,
            effect,
        };
        rule.validate().map_err(|e| bad(&e))?;
        Ok(rule)
    }

    /// How the request log names this rule's fault: `rule lose`, `rule fail <code>`.
    pub fn label(&self) -> String {
        match &self.effect {
            FaultEffect::Lose => "rule lose".to_string(),
            FaultEffect::Fail { code, .. } => format!("rule fail {code}"),
        }
    }
}

impl FaultEffect {
    /// The error a `Fail` effect answers with (status, code, message) for `action`.
    pub fn error(&self, action: &str) -> Option<(u16, String, String)> {
        match self {
            FaultEffect::Lose => None,
            FaultEffect::Fail {
                code,
                status,
                message,
            } => {
                let message = message.clone().unwrap_or_else(|| match code.as_str() {
                    "Throttling.User" => "Request was denied due to user flow control.".to_string(),
                    _ => format!(
                        "The request for {action} has failed ({code}); injected by a simulator fault rule."
                    ),
                });
                Some((*status, code.clone(), message))
            }
        }
    }
}

impl FaultSettings {
    /// Checks the rules (what their JSON form cannot say: see [`FaultRule::validate`]).
    pub fn validate(&self) -> Result<(), String> {
        self.rules.iter().try_for_each(FaultRule::validate)
    }

    /// Parses `throttle=0.1,5xx=0.05,latency=200ms,timeout=0.02,seed=7` (any subset; empty = none),
    /// plus any number of rules: `lose=CreateRouteEntry#1` (perform the first CreateRouteEntry,
    /// drop its response), `fail=DeleteCen#2/InvalidOperation.CenInstanceStatus` (answer the
    /// second DeleteCen with that error, HTTP 400), `fail=DeleteCen#*/Throttling.User` (`#*` or
    /// no `#`: every call), `fail=DescribeVpcs#1/ServiceUnavailable/503` (another status).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut f = FaultSettings::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("fault {part:?} must be key=value"))?;
            let rate = |v: &str| -> Result<f64, String> {
                let r: f64 = v
                    .parse()
                    .map_err(|_| format!("fault {k}: {v:?} is not a number"))?;
                if (0.0..=1.0).contains(&r) {
                    Ok(r)
                } else {
                    Err(format!(
                        "fault {k}: {r} is not a probability between 0 and 1"
                    ))
                }
            };
            match k.trim() {
                "throttle" => f.throttle = rate(v)?,
                "5xx" | "server_error" => f.server_error = rate(v)?,
                "timeout" | "ambiguous_timeout" => f.ambiguous_timeout = rate(v)?,
                "latency" | "latency_ms" => {
                    f.latency_ms = v
                        .trim_end_matches("ms")
                        .parse()
                        .map_err(|_| format!("fault latency: {v:?} is not milliseconds"))?
                }
                "seed" => {
                    f.seed = v
                        .parse()
                        .map_err(|_| format!("fault seed: {v:?} is not an integer"))?
                }
                key @ ("lose" | "fail") => f.rules.push(FaultRule::parse(key, v.trim())?),
                other => {
                    return Err(format!(
                        "unknown fault {other:?}: use throttle, 5xx, latency, timeout, seed, \
                         lose=Action#N or fail=Action#N/ErrorCode"
                    ));
                }
            }
        }
        Ok(f)
    }
}

/// What happens to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    None,
    Throttle,
    ServerError {
        unavailable: bool,
    },
    /// Perform the write, then drop the response.
    Ambiguous,
    /// A [`FaultRule`] matched: answer with its error without performing the call.
    Fail {
        status: u16,
        code: String,
        message: String,
        /// How the request log names it (`rule fail <code>`).
        label: String,
    },
    /// A [`FaultRule`] matched: perform the call, then drop the response.
    Lose,
}

impl Fault {
    /// How the request log names the fault (`None` for no fault): `throttle`,
    /// `5xx ServiceUnavailable`, `5xx InternalError`, `timeout`, `rule fail <code>`, `rule lose`.
    pub fn label(&self) -> Option<String> {
        match self {
            Fault::None => None,
            Fault::Throttle => Some("throttle".into()),
            Fault::ServerError { unavailable: true } => Some("5xx ServiceUnavailable".into()),
            Fault::ServerError { unavailable: false } => Some("5xx InternalError".into()),
            Fault::Ambiguous => Some("timeout".into()),
            Fault::Fail { label, .. } => Some(label.clone()),
            Fault::Lose => Some("rule lose".into()),
        }
    }
}

#[derive(Debug)]
pub struct Faults {
    settings: FaultSettings,
    rng: StdRng,
    /// Per rule (same index as `settings.rules`): calls of its action seen so far.
    counts: Vec<u32>,
}

impl Faults {
    pub fn new(settings: FaultSettings) -> Self {
        let rng = StdRng::seed_from_u64(settings.seed);
        let counts = vec![0; settings.rules.len()];
        Faults {
            settings,
            rng,
            counts,
        }
    }

    pub fn settings(&self) -> &FaultSettings {
        &self.settings
    }

    /// Replaces the settings, reseeds and resets the rules' call counts.
    pub fn set(&mut self, settings: FaultSettings) {
        *self = Faults::new(settings);
    }

    /// Appends a rule, keeping the other settings, the RNG and the other rules' counts; the new
    /// rule counts calls from now.
    pub fn add_rule(&mut self, rule: FaultRule) {
        self.settings.rules.push(rule);
        self.counts.push(0);
    }

    /// The fault for one authenticated request of `action`: counts the call for every rule of
    /// that action, then the first rule whose count matches decides; otherwise the random
    /// draw does. The random values are drawn either way (see [`Faults::draw`]), so a rule
    /// does not shift the random sequence of a seed.
    pub fn draw_for(&mut self, action: &str, is_write: bool) -> (Duration, Fault) {
        let mut matched: Option<usize> = None;
        for (i, rule) in self.settings.rules.iter().enumerate() {
            if rule.action != action {
                continue;
            }
            self.counts[i] = self.counts[i].saturating_add(1);
            if matched.is_none() && rule.nth.is_none_or(|n| n == self.counts[i]) {
                matched = Some(i);
            }
        }
        let (latency, random) = self.draw(is_write);
        let Some(i) = matched else {
            return (latency, random);
        };
        let rule = &self.settings.rules[i];
        let fault = match rule.effect.error(action) {
            None => Fault::Lose,
            Some((status, code, message)) => Fault::Fail {
                status,
                code,
                message,
                label: rule.label(),
            },
        };
        (latency, fault)
    }

    /// Calls of each rule's action counted so far (same order as the rules).
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    /// Draws the random fault for one request. Always draws the same number of values, so the
    /// sequence depends only on the seed and the number of requests.
    pub fn draw(&mut self, is_write: bool) -> (Duration, Fault) {
        let (a, b, c, d): (f64, f64, f64, bool) = (
            self.rng.random(),
            self.rng.random(),
            self.rng.random(),
            self.rng.random(),
        );
        let s = &self.settings;
        let fault = if a < s.throttle {
            Fault::Throttle
        } else if b < s.server_error {
            Fault::ServerError { unavailable: d }
        } else if is_write && c < s.ambiguous_timeout {
            Fault::Ambiguous
        } else {
            Fault::None
        };
        (Duration::from_millis(s.latency_ms), fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_and_rejects_nonsense() {
        let f =
            FaultSettings::parse("throttle=0.1, 5xx=0.2,latency=30ms,timeout=0.5,seed=9").unwrap();
        assert_eq!(
            f,
            FaultSettings {
                throttle: 0.1,
                server_error: 0.2,
                latency_ms: 30,
                ambiguous_timeout: 0.5,
                seed: 9,
                rules: vec![],
            }
        );
        assert_eq!(FaultSettings::parse("").unwrap(), FaultSettings::default());
        assert!(FaultSettings::parse("throttle=2").is_err());
        assert!(FaultSettings::parse("boom=1").is_err());
        assert!(FaultSettings::parse("latency=x").is_err());
    }

    #[test]
    fn draws_replay_with_the_seed_and_respect_rates() {
        let s = FaultSettings {
            throttle: 0.3,
            server_error: 0.3,
            ambiguous_timeout: 0.5,
            seed: 42,
            ..Default::default()
        };
        let run = || {
            let mut f = Faults::new(s.clone());
            (0..200).map(|i| f.draw(i % 2 == 0).1).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.contains(&Fault::Throttle));
        assert!(first.iter().any(|f| matches!(f, Fault::ServerError { .. })));
        // Ambiguous timeouts only hit writes.
        assert!(
            first
                .iter()
                .enumerate()
                .all(|(i, f)| *f != Fault::Ambiguous || i % 2 == 0)
        );
        let mut none = Faults::new(FaultSettings::default());
        assert!((0..100).all(|_| none.draw(true).1 == Fault::None));
    }

    #[test]
    fn rules_parse_from_the_spec_string() {
        let f = FaultSettings::parse(
            "lose=CreateRouteEntry#1, fail=DeleteCen#2/InvalidOperation.CenInstanceStatus,\
             fail=DeleteCen#*/Throttling.User,fail=DescribeVpcs/ServiceUnavailable/503,lose=DeleteCen,seed=3",
        )
        .unwrap();
        assert_eq!(f.seed, 3);
        assert_eq!(
            f.rules,
            vec![
                FaultRule::lose("CreateRouteEntry", Some(1)),
                FaultRule::fail("DeleteCen", Some(2), "InvalidOperation.CenInstanceStatus"),
                FaultRule::fail("DeleteCen", None, "Throttling.User"),
                FaultRule {
                    action: "DescribeVpcs".into(),
                    nth: None,
                    effect: FaultEffect::Fail {
                        code: "ServiceUnavailable".into(),
                        status: 503,
                        message: None
                    },
                },
                FaultRule::lose("DeleteCen", None),
            ]
        );
        for bad in [
            "fail=DeleteCen#2",
            "fail=DeleteCen#0/X.Y",
            "fail=DeleteCen#two/X.Y",
            "fail=#1/X.Y",
            "fail=DeleteCen#1/",
            "fail=DeleteCen#1/X.Y/200",
            "fail=DeleteCen#1/X.Y/abc",
            "lose=",
            "lose=Delete Cen#1",
            "lose=CreateRouteEntry#1/Throttling.User",
        ] {
            let e = FaultSettings::parse(bad).unwrap_err();
            assert!(e.contains("expected lose=Action"), "{bad}: {e}");
        }
        let e = FaultSettings::parse("drop=DeleteCen#1").unwrap_err();
        assert!(e.contains("fail=Action"), "{e}");
    }

    #[test]
    fn rules_deserialize_from_json_with_defaults() {
        let f: FaultSettings = serde_json::from_str(
            r#"{"rules":[{"action":"DeleteCen","nth":2,"effect":{"kind":"fail","code":"X.Y"}},
                         {"action":"CreateCen","effect":{"kind":"lose"}}]}"#,
        )
        .unwrap();
        assert_eq!(
            f.rules,
            vec![
                FaultRule::fail("DeleteCen", Some(2), "X.Y"),
                FaultRule::lose("CreateCen", None)
            ]
        );
        // Settings without rules still read as before.
        let old: FaultSettings = serde_json::from_str(r#"{"throttle":0.5}"#).unwrap();
        assert!(old.rules.is_empty());
        let json = serde_json::to_value(FaultRule::fail("DeleteCen", None, "X.Y")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"action":"DeleteCen","nth":null,
                               "effect":{"kind":"fail","code":"X.Y","status":400,"message":null}})
        );
        assert!(
            serde_json::from_str::<FaultRule>(r#"{"action":"A","effect":{"kind":"explode"}}"#)
                .is_err()
        );
    }

    fn faults(rules: Vec<FaultRule>) -> Faults {
        Faults::new(FaultSettings {
            rules,
            ..Default::default()
        })
    }

    #[test]
    fn a_rule_hits_only_its_nth_call_of_its_action() {
        let mut f = faults(vec![FaultRule::fail(
            "DeleteCen",
            Some(2),
            "InvalidOperation.CenInstanceStatus",
        )]);
        assert_eq!(f.draw_for("DeleteCen", true).1, Fault::None);
        // Other actions do not count.
        assert_eq!(f.draw_for("DescribeCens", false).1, Fault::None);
        let (_, hit) = f.draw_for("DeleteCen", true);
        let Fault::Fail {
            status,
            code,
            message,
            label,
        } = hit
        else {
            panic!("{hit:?}")
        };
        assert_eq!(
            (status, code.as_str(), label.as_str()),
            (
                400,
                "InvalidOperation.CenInstanceStatus",
                "rule fail InvalidOperation.CenInstanceStatus"
            )
        );
        assert!(message.contains("DeleteCen"), "{message}");
        assert_eq!(f.draw_for("DeleteCen", true).1, Fault::None);
        assert_eq!(f.counts(), &[3]);
    }

    #[test]
    fn a_rule_without_nth_hits_every_call_and_the_first_matching_rule_wins() {
        let mut f = faults(vec![
            FaultRule::lose("CreateRouteEntry", Some(2)),
            FaultRule::fail("CreateRouteEntry", None, "Throttling.User"),
        ]);
        let got: Vec<Option<String>> = (0..3)
            .map(|_| f.draw_for("CreateRouteEntry", true).1.label())
            .collect();
        assert_eq!(
            got,
            [
                Some("rule fail Throttling.User".to_string()),
                Some("rule lose".to_string()),
                Some("rule fail Throttling.User".to_string())
            ]
        );
        // A rule loses a read too, when it names one.
        let mut f = faults(vec![FaultRule::lose("DescribeVpcs", None)]);
        assert_eq!(f.draw_for("DescribeVpcs", false).1, Fault::Lose);
    }

    #[test]
    fn set_resets_counts_and_add_rule_keeps_the_rest() {
        let mut f = faults(vec![FaultRule::lose("CreateCen", Some(2))]);
        assert_eq!(f.draw_for("CreateCen", true).1, Fault::None);
        f.set(FaultSettings {
            rules: vec![FaultRule::lose("CreateCen", Some(2))],
            ..Default::default()
        });
        assert_eq!(f.draw_for("CreateCen", true).1, Fault::None);
        // The new rule counts from 0; the first rule keeps its count (1).
        f.add_rule(FaultRule::fail("CreateCen", Some(1), "X.Y"));
        assert_eq!(f.counts(), &[1, 0]);
        // Call 2 for the first rule, call 1 for the second: the first rule wins.
        assert_eq!(f.draw_for("CreateCen", true).1, Fault::Lose);
        assert_eq!(f.counts(), &[2, 1]);
        assert_eq!(f.settings().rules.len(), 2);

        let mut g = Faults::new(FaultSettings {
            throttle: 0.5,
            seed: 4,
            ..Default::default()
        });
        g.draw(true);
        g.add_rule(FaultRule::lose("X", None));
        assert_eq!(g.settings().throttle, 0.5);
        assert_eq!(g.settings().seed, 4);
    }

    #[test]
    fn rules_do_not_shift_the_random_sequence() {
        let random = FaultSettings {
            throttle: 0.3,
            server_error: 0.3,
            ambiguous_timeout: 0.3,
            seed: 11,
            ..Default::default()
        };
        let with_rules = FaultSettings {
            rules: vec![FaultRule::lose("CreateCen", None)],
            ..random.clone()
        };
        let actions = ["CreateCen", "DescribeCens", "DeleteCen"];
        let mut plain = Faults::new(random);
        let mut ruled = Faults::new(with_rules);
        for i in 0..120 {
            let action = actions[i % 3];
            let a = plain.draw_for(action, action != "DescribeCens").1;
            let b = ruled.draw_for(action, action != "DescribeCens").1;
            if action == "CreateCen" {
                assert_eq!(b, Fault::Lose);
            } else {
                assert_eq!(a, b, "request {i}");
            }
        }
    }
}
