//! The admin API and fault injection over HTTP.

mod common;
use common::*;
use dwlink_sim::{FaultSettings, SimConfig, Timing};
use serde_json::Value;
use std::time::{Duration, Instant};

const VPC: &str = "2016-04-28";
const HZ: &str = "cn-hangzhou";

async fn admin_get(sim: &dwlink_sim::SimHandle, path: &str) -> Value {
    let text = reqwest::get(format!("{}{path}", sim.endpoint()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn admin_post(sim: &dwlink_sim::SimHandle, path: &str, body: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", sim.endpoint()))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn state_lists_every_seeded_type_with_attributes() {
    let sim = start(Timing::Immediate).await;
    let st = admin_get(&sim, "/_sim/state").await;
    let rs = st["resources"].as_array().unwrap();
    for t in [
        "vpc",
        "vswitch",
        "route-table",
        "route-entry",
        "rds-instance",
        "polardb-cluster",
        "mongodb-instance",
        "whitelist-group",
        "dataworks-resource-group",
        "dataworks-network",
        "ram-role",
    ] {
        assert!(rs.iter().any(|r| r["type"] == t), "no {t} in state");
    }
    let app = rs
        .iter()
        .find(|r| r["type"] == "whitelist-group" && r["attributes"]["name"] == "app")
        .unwrap();
    assert_eq!(app["account"], "A");
    assert_eq!(app["region"], HZ);
    assert_eq!(app["attributes"]["instance"], "rm-bp1simmysqlsource001");
    assert_eq!(
        app["attributes"]["entries"],
        serde_json::json!(["192.168.6.0/24", "192.168.7.15"])
    );
    let net = rs
        .iter()
        .find(|r| r["type"] == "dataworks-network")
        .unwrap();
    assert_eq!(net["id"], "1001");
    assert_eq!(net["status"], "Running");
    assert_eq!(net["attributes"]["vswitch_id"], "vsw-uf6simshvsw00000000e");
    let rds = rs.iter().find(|r| r["type"] == "rds-instance").unwrap();
    assert_eq!(rds["attributes"]["endpoints"][0]["ip"], "192.168.6.10");
    // Secrets never appear in the state.
    assert!(!st.to_string().contains("SimSecretAccount"));
}

#[tokio::test]
async fn break_and_faults_admin_calls() {
    let sim = start(Timing::Immediate).await;
    let (status, _) = admin_post(&sim, "/_sim/break", r#"{"op":"remove-whitelist-entry","instance":"rm-bp1simmysqlsource001","group":"app","entry":"192.168.7.15"}"#).await;
    assert_eq!(status, 200);
    let st = sim.state();
    assert_eq!(
        st.find("whitelist-group", "rm-bp1simmysqlsource001/app")
            .unwrap()
            .attributes["entries"],
        serde_json::json!(["192.168.6.0/24"])
    );
    let (status, body) = admin_post(
        &sim,
        "/_sim/break",
        r#"{"op":"delete","type":"route-entry","id":"rte-nope"}"#,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = admin_post(
        &sim,
        "/_sim/break",
        r#"{"op":"set-status","type":"dataworks-network","id":"1001","status":"Deleting"}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        sim.state()
            .find("dataworks-network", "1001")
            .unwrap()
            .status,
        "Deleting"
    );
    let (status, _) = admin_post(&sim, "/_sim/break", r#"{"op":"explode"}"#).await;
    assert_eq!(status, 400);
    let (status, body) = admin_post(&sim, "/_sim/faults", r#"{"throttle":1.0}"#).await;
    assert_eq!(status, 200, "{body}");
    let a = Client::new(&sim, "A");
    a.call(VPC, "DescribeVpcs", &[("RegionId", HZ)])
        .await
        .err(400, "Throttling.User");
    let (status, _) = admin_post(&sim, "/_sim/faults", "5xx=1").await;
    assert_eq!(status, 200);
    let r = a.call(VPC, "DescribeVpcs", &[("RegionId", HZ)]).await;
    assert!(r.status == 500 || r.status == 503, "{:?}", r);
    assert!(matches!(r.code(), "InternalError" | "ServiceUnavailable"));
    let (status, _) = admin_post(&sim, "/_sim/faults", "throttle=7").await;
    assert_eq!(status, 400);
    admin_post(&sim, "/_sim/faults", "").await;
    a.call(VPC, "DescribeVpcs", &[("RegionId", HZ)]).await.ok();
    let log = admin_get(&sim, "/_sim/requests").await;
    let outcomes: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0], "Throttling.User");
    assert_eq!(outcomes[2], "OK");
    assert_eq!(log["requests"][2]["product"], "Vpc");
    assert_eq!(log["requests"][2]["account"], "A");
}

#[tokio::test]
async fn an_ambiguous_timeout_performs_the_write_and_drops_the_response() {
    let sim = start(Timing::Immediate).await;
    sim.set_faults(FaultSettings {
        ambiguous_timeout: 1.0,
        ..Default::default()
    });
    let a = Client::new(&sim, "A");
    // Reads are never dropped.
    a.call(VPC, "DescribeVpcs", &[("RegionId", HZ)]).await.ok();
    let lost = a
        .try_call_with(
            VPC,
            "CreateVSwitch",
            &[
                ("RegionId", HZ),
                ("VpcId", "vpc-bp1simhzvpc000000001"),
                ("ZoneId", "cn-hangzhou-i"),
                ("CidrBlock", "192.168.8.0/24"),
                ("ClientToken", "amb-1"),
            ],
            &Opts::default(),
        )
        .await;
    assert!(
        lost.is_err(),
        "the client must not get a response: {lost:?}"
    );
    // The write happened; a retry with the same token returns the same vSwitch.
    let created: Vec<String> = sim
        .state()
        .of_type("vswitch")
        .filter(|r| r.attributes["cidr"] == "192.168.8.0/24")
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(created.len(), 1);
    sim.set_faults(FaultSettings::default());
    let again = a
        .call(
            VPC,
            "CreateVSwitch",
            &[
                ("RegionId", HZ),
                ("VpcId", "vpc-bp1simhzvpc000000001"),
                ("ZoneId", "cn-hangzhou-i"),
                ("CidrBlock", "192.168.8.0/24"),
                ("ClientToken", "amb-1"),
            ],
        )
        .await
        .ok();
    assert_eq!(again["VSwitchId"], created[0].as_str());
    assert!(
        sim.requests()
            .iter()
            .any(|r| r.outcome == "AmbiguousTimeout" && r.action == "CreateVSwitch")
    );
}

/// Sends one signed call and returns how long the response took.
async fn timed_call(c: &Client, action: &str, params: &[(&str, &str)]) -> (Resp, Duration) {
    let t0 = Instant::now();
    let r = c.call(VPC, action, params).await;
    (r, t0.elapsed())
}

#[tokio::test]
async fn injected_latency_delays_responses() {
    // From the --faults spec at start...
    let sim = start_config(SimConfig {
        timing: Timing::Immediate,
        faults: FaultSettings::parse("latency=120ms").unwrap(),
        ..SimConfig::default()
    })
    .await;
    let a = Client::new(&sim, "A");
    let (r, took) = timed_call(&a, "DescribeVpcs", &[("RegionId", HZ)]).await;
    r.ok();
    assert!(took >= Duration::from_millis(120), "took {took:?}");
    // ...and from POST /_sim/faults at run time, for writes as well as reads.
    let (status, body) = admin_post(&sim, "/_sim/faults", r#"{"latency_ms":250}"#).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(admin_get(&sim, "/_sim/faults").await["latency_ms"], 250);
    let (r, took) = timed_call(
        &a,
        "CreateVSwitch",
        &[
            ("RegionId", HZ),
            ("VpcId", "vpc-bp1simhzvpc000000001"),
            ("ZoneId", "cn-hangzhou-i"),
            ("CidrBlock", "192.168.8.0/24"),
        ],
    )
    .await;
    r.ok();
    assert!(took >= Duration::from_millis(250), "took {took:?}");
    let (r, took) = timed_call(&a, "DescribeVpcs", &[("RegionId", HZ)]).await;
    r.ok();
    assert!(took >= Duration::from_millis(250), "took {took:?}");
}

#[tokio::test]
async fn time_scale_scales_injected_latency() {
    // A world three times slower than nominal: 60 ms of latency take at least 180 ms.
    let sim = start_config(SimConfig {
        timing: Timing::Delay,
        time_scale: 3.0,
        faults: FaultSettings::parse("latency=60ms").unwrap(),
        ..SimConfig::default()
    })
    .await;
    let a = Client::new(&sim, "A");
    for _ in 0..2 {
        let (r, took) = timed_call(&a, "DescribeVpcs", &[("RegionId", HZ)]).await;
        r.ok();
        assert!(took >= Duration::from_millis(180), "took {took:?}");
    }
}

#[tokio::test]
async fn fault_rules_fail_or_lose_the_nth_call_and_the_log_names_them() {
    let sim = start(Timing::Immediate).await;
    let a = Client::new(&sim, "A");
    let vswitch = |cidr: &'static str| {
        [
            ("RegionId", HZ),
            ("VpcId", "vpc-bp1simhzvpc000000001"),
            ("ZoneId", "cn-hangzhou-i"),
            ("CidrBlock", cidr),
        ]
    };
    // A spec string: the first CreateVSwitch is performed and its response lost.
    let (status, body) = admin_post(&sim, "/_sim/faults", "lose=CreateVSwitch#1,seed=5").await;
    assert_eq!(status, 200, "{body}");
    let lost = a
        .try_call_with(
            VPC,
            "CreateVSwitch",
            &vswitch("192.168.8.0/24"),
            &Opts::default(),
        )
        .await;
    assert!(lost.is_err(), "the response must be lost: {lost:?}");
    let created = sim
        .state()
        .of_type("vswitch")
        .find(|r| r.attributes["cidr"] == "192.168.8.0/24")
        .map(|r| r.id.clone())
        .expect("the lost call took effect");

    // A JSON rule appended: the second DescribeVpcs (counted from now) is throttled.
    let (status, body) = admin_post(
        &sim,
        "/_sim/faults/rules",
        r#"{"action":"DescribeVpcs","nth":2,"effect":{"kind":"fail","code":"Throttling.User"}}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // ...and a spec-string rule: every DeleteVSwitch fails with 503, nothing is deleted.
    let (status, body) = admin_post(
        &sim,
        "/_sim/faults/rules",
        "fail=DeleteVSwitch#*/ServiceUnavailable/503",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let settings = admin_get(&sim, "/_sim/faults").await;
    assert_eq!(settings["seed"], 5);
    assert_eq!(settings["rules"].as_array().unwrap().len(), 3);
    assert_eq!(sim.faults().rules.len(), 3);

    a.call(VPC, "DescribeVpcs", &[("RegionId", HZ)]).await.ok();
    a.call(VPC, "DescribeVpcs", &[("RegionId", HZ)])
        .await
        .err(400, "Throttling.User");
    a.call(VPC, "DescribeVpcs", &[("RegionId", HZ)]).await.ok();
    // The lose rule kept its count: the second CreateVSwitch is answered.
    a.call(VPC, "CreateVSwitch", &vswitch("192.168.9.0/24"))
        .await
        .ok();
    for _ in 0..2 {
        let r = a
            .call(
                VPC,
                "DeleteVSwitch",
                &[("RegionId", HZ), ("VSwitchId", created.as_str())],
            )
            .await;
        r.err(503, "ServiceUnavailable");
        assert!(
            r.body["Message"]
                .as_str()
                .unwrap()
                .contains("DeleteVSwitch")
        );
    }
    assert!(sim.state().find("vswitch", &created).is_some());

    // Bad rules are refused with the expected form.
    for bad in [
        "lose=",
        "fail=DeleteVSwitch#1",
        "throttle=0.5",
        "lose=A#1,lose=B#1",
        r#"{"action":"DeleteVSwitch","nth":0,"effect":{"kind":"lose"}}"#,
        r#"{"action":"DeleteVSwitch","effect":{"kind":"fail"}}"#,
    ] {
        let (status, body) = admin_post(&sim, "/_sim/faults/rules", bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, body) = admin_post(&sim, "/_sim/faults", "fail=DeleteVSwitch").await;
    assert_eq!(status, 400);
    assert!(body.contains("fail=Action[#N|#*]/ErrorCode"), "{body}");

    // The request log says which fault each request got.
    let log = admin_get(&sim, "/_sim/requests").await;
    let got: Vec<(String, String, Value)> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
                r["fault"].clone(),
            )
        })
        .collect();
    let row = |a: &str, o: &str, f: Value| (a.to_string(), o.to_string(), f);
    assert_eq!(
        got,
        vec![
            row("CreateVSwitch", "AmbiguousTimeout", "rule lose".into()),
            row("DescribeVpcs", "OK", Value::Null),
            row(
                "DescribeVpcs",
                "Throttling.User",
                "rule fail Throttling.User".into()
            ),
            row("DescribeVpcs", "OK", Value::Null),
            row("CreateVSwitch", "OK", Value::Null),
            row(
                "DeleteVSwitch",
                "ServiceUnavailable",
                "rule fail ServiceUnavailable".into()
            ),
            row(
                "DeleteVSwitch",
                "ServiceUnavailable",
                "rule fail ServiceUnavailable".into()
            ),
        ]
    );
    assert_eq!(sim.requests()[0].http_status, 0);
    assert_eq!(sim.requests()[6].http_status, 503);

    // Setting faults again restarts the counts: the first CreateVSwitch is lost again, and a
    // random throttle is named as such.
    sim.set_faults(FaultSettings::parse("lose=CreateVSwitch#1").unwrap());
    let lost = a
        .try_call_with(
            VPC,
            "CreateVSwitch",
            &vswitch("192.168.10.0/24"),
            &Opts::default(),
        )
        .await;
    assert!(lost.is_err(), "{lost:?}");
    sim.set_faults(FaultSettings {
        throttle: 1.0,
        ..Default::default()
    });
    a.call(VPC, "DescribeVpcs", &[("RegionId", HZ)])
        .await
        .err(400, "Throttling.User");
    let log = sim.requests();
    let last: Vec<Option<&str>> = log[log.len() - 2..]
        .iter()
        .map(|r| r.fault.as_deref())
        .collect();
    assert_eq!(last, [Some("rule lose"), Some("throttle")]);
}

#[tokio::test]
async fn add_fault_rule_keeps_the_random_faults() {
    let sim = start(Timing::Immediate).await;
    sim.set_faults(FaultSettings {
        throttle: 1.0,
        ..Default::default()
    });
    sim.add_fault_rule(dwlink_sim::FaultRule::fail(
        "DescribeVSwitches",
        Some(1),
        "InternalError",
    ));
    let a = Client::new(&sim, "A");
    // The rule wins over the random throttle for its call...
    a.call(VPC, "DescribeVSwitches", &[("RegionId", HZ)])
        .await
        .err(400, "InternalError");
    // ...and the random faults still apply to the others.
    a.call(VPC, "DescribeVSwitches", &[("RegionId", HZ)])
        .await
        .err(400, "Throttling.User");
    assert_eq!(sim.faults().throttle, 1.0);
}
