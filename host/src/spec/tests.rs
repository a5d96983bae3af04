use super::*;

const SEED: &str = include_str!("../../../examples/links/seed-peering.toml");

fn parse(text: &str) -> Result<LinkSpec, SpecError> {
    LinkSpec::parse(Path::new("link.toml"), text)
}

fn err(text: &str) -> SpecError {
    parse(text).expect_err("the link file should be refused")
}

/// Line (1-based) of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn every_example_parses() {
    for (name, text) in [
        ("seed-peering", SEED),
        (
            "seed-cen",
            include_str!("../../../examples/links/seed-cen.toml"),
        ),
        (
            "polardb-peering",
            include_str!("../../../examples/links/polardb-peering.toml"),
        ),
        (
            "mongodb-cen",
            include_str!("../../../examples/links/mongodb-cen.toml"),
        ),
    ] {
        let spec = parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(spec.source.account_uid, "1862710497302214", "{name}");
        assert_eq!(spec.dataworks.workspace_id, 61234, "{name}");
        assert_eq!(spec.whitelist.group, "dataworks");
        assert_eq!(spec.role_name(), Some("dataworks-cross-account"));
    }
    let cen = parse(include_str!("../../../examples/links/seed-cen.toml")).unwrap();
    assert_eq!(cen.network.mode, NetworkMode::Cen);
    assert_eq!(
        cen.network.new_vswitch_cidr,
        Some("192.168.7.0/24".parse().unwrap())
    );
    let mongo = parse(include_str!("../../../examples/links/mongodb-cen.toml")).unwrap();
    assert_eq!(mongo.limits.deadline_ms, Some(10000));
}

#[test]
fn defaults_apply() {
    let text = SEED
        .replace("[network]\nmode = \"peering\"\n", "")
        .replace("[whitelist]\ngroup = \"dataworks\"\n", "");
    let spec = parse(&text).unwrap();
    assert_eq!(spec.network.mode, NetworkMode::Auto);
    assert_eq!(spec.whitelist.group, "dataworks");
    assert!(spec.whitelist.enabled);
    assert_eq!(spec.dataworks.data_source.env_type, "Prod");
}

#[test]
fn unknown_key_is_refused_with_its_line() {
    let text = SEED.replace(
        "region = \"cn-shanghai\"",
        "region = \"cn-shanghai\"\nregoin = \"x\"",
    );
    let e = err(&text);
    assert_eq!(e.kind, SpecErrorKind::UnknownKey);
    assert_eq!(e.line, line_of(&text, "regoin"));
    assert!(e.message.contains("regoin"), "{e}");
    assert!(e.to_string().starts_with("link.toml:"), "{e}");
}

#[test]
fn missing_key_is_refused() {
    let text = SEED.replace("workspace_id = 61234\n", "");
    let e = err(&text);
    assert_eq!(e.kind, SpecErrorKind::MissingKey);
    assert!(e.message.contains("workspace_id"), "{e}");
}

#[test]
fn malformed_cidr_is_refused_with_its_line() {
    let text = SEED.replace(
        "mode = \"peering\"",
        "mode = \"cen\"\nnew_vswitch_cidr = \"192.168.7.0/33\"",
    );
    let e = err(&text);
    assert_eq!(e.kind, SpecErrorKind::BadCidr);
    assert_eq!(e.line, line_of(&text, "new_vswitch_cidr"));
    let text = SEED.replace(
        "mode = \"peering\"",
        "mode = \"cen\"\nnew_vswitch_cidr = \"192.168.7.9/24\"",
    );
    let e = err(&text);
    assert_eq!(e.kind, SpecErrorKind::BadCidr);
    assert!(e.fix.contains("192.168.7.0/24"), "{e}");
}

#[test]
fn ids_of_the_wrong_shape_are_refused() {
    for (from, to, key) in [
        (
            "rm-bp1simmysqlsource001",
            "i-bp1simmysqlsource001",
            "instance_id",
        ),
        ("rm-bp1simmysqlsource001", "rm-", "instance_id"),
        (
            "account_uid = \"1862710497302214\"",
            "account_uid = \"18627x0497302214\"",
            "account_uid",
        ),
        (
            "Serverless_res_group_524257424564736_6831777003001",
            "rg-12345",
            "resource_group_id",
        ),
        (
            "region = \"cn-shanghai\"",
            "region = \"Shanghai\"",
            "region = \"Shanghai\"",
        ),
        ("workspace_id = 61234", "workspace_id = 0", "workspace_id"),
    ] {
        let text = SEED.replacen(from, to, 1);
        let e = err(&text);
        assert_eq!(e.kind, SpecErrorKind::BadId, "{key}: {e}");
        assert_eq!(e.line, line_of(&text, key), "{key}: {e}");
        assert!(!e.fix.is_empty());
    }
    let text = SEED.replace("mode = \"peering\"", "mode = \"cen\"\ncen_id = \"vpc-123\"");
    let e = err(&text);
    assert_eq!(e.kind, SpecErrorKind::BadId);
    assert_eq!(e.line, line_of(&text, "cen_id"));
}

#[test]
fn role_arn_must_be_a_role_of_account_a() {
    let text = SEED.replace(
        "acs:ram::1862710497302214:role/dataworks-cross-account",
        "arn:aws:iam::1862710497302214:role/x",
    );
    let e = err(&text);
    assert_eq!(e.kind, SpecErrorKind::BadRoleArn);
    assert_eq!(e.line, line_of(&text, "role_arn"));
    assert!(e.fix.contains("acs:ram::1862710497302214:role/"), "{e}");

    let text = SEED.replace(
        "acs:ram::1862710497302214:role/",
        "acs:ram::1539826603711058:role/",
    );
    let e = err(&text);
    assert_eq!(e.kind, SpecErrorKind::RoleAccountMismatch);
    assert_eq!(e.line, line_of(&text, "role_arn"));
}

#[test]
fn mode_must_be_known() {
    let text = SEED.replace("mode = \"peering\"", "mode = \"vpn\"");
    let e = err(&text);
    assert_eq!(e.kind, SpecErrorKind::BadValue);
    assert_eq!(e.line, line_of(&text, "mode = "));
}

#[test]
fn password_is_never_in_the_file() {
    let text = SEED.replace(
        "password_env = \"DWLINK_DB_PASSWORD\"",
        "password = \"hunter2\"",
    );
    assert_eq!(err(&text).kind, SpecErrorKind::UnknownKey);
    let text = SEED.replace(
        "password_env = \"DWLINK_DB_PASSWORD\"",
        "password_env = \"hunter 2!\"",
    );
    let e = err(&text);
    assert_eq!(e.kind, SpecErrorKind::BadValue);
    assert!(!e.to_string().is_empty());
}

#[test]
fn endpoints_and_limits() {
    let text = format!(
        "{SEED}\n[endpoints]\nvpc = \"http://127.0.0.1:9000\"\n\n[limits]\nfuel = 1000\nwall_ms = 120000\nmax_component_mib = 8\n"
    );
    let spec = parse(&text).unwrap();
    assert_eq!(spec.endpoints["vpc"], "http://127.0.0.1:9000");
    assert_eq!(spec.limits.fuel, Some(1000));
    assert_eq!(spec.limits.wall_ms, Some(120000));
    assert_eq!(spec.limits.max_component_mib, Some(8));
    let text = format!("{SEED}\n[endpoints]\nec2 = \"http://127.0.0.1:9000\"\n");
    let e = err(&text);
    assert_eq!(e.kind, SpecErrorKind::UnknownKey);
    assert_eq!(e.line, line_of(&text, "ec2"));
    let text = format!("{SEED}\n[limits]\nfuel = 1\ncpu = 2\n");
    assert_eq!(err(&text).kind, SpecErrorKind::UnknownKey);
}

#[test]
fn link_id_is_deterministic_and_follows_identity() {
    let a = parse(SEED).unwrap();
    let b = LinkSpec::parse(
        Path::new("elsewhere.toml"),
        &SEED.replace("account_a_mysql_source", "other_name"),
    )
    .unwrap();
    assert_eq!(a.link_id(), b.link_id());
    assert!(a.link_id().starts_with("dwl-") && a.link_id().len() == 20);
    let c = parse(&SEED.replace("rm-bp1simmysqlsource001", "rm-bp1other")).unwrap();
    assert_ne!(a.link_id(), c.link_id());
}

#[test]
fn rate_limits_parse_and_bad_rates_are_refused() {
    let text = format!(
        "{SEED}\n[rate_limits]\nwrites_per_second = 1\n\
         [rate_limits.actions]\n\"CBN:CreateTransitRouter\" = 0.5\n"
    );
    let spec = parse(&text).unwrap();
    assert_eq!(spec.rate_limits.writes_per_second, Some(1.0));
    assert_eq!(spec.rate_limits.reads_per_second, None);
    assert_eq!(
        spec.rate_limits
            .actions
            .get(&("cbn".to_string(), "CreateTransitRouter".to_string())),
        Some(&0.5)
    );
    assert_eq!(parse(SEED).unwrap().rate_limits, RateSpec::default());
    // The commented-out example in seed-cen.toml is valid once uncommented.
    let cen = include_str!("../../../examples/links/seed-cen.toml");
    let (head, example) = cen.split_at(cen.find("# [rate_limits]").unwrap());
    let example: String = example
        .lines()
        .map(|l| format!("{}\n", l.trim_start_matches("# ")))
        .collect();
    let cen = parse(&format!("{head}{example}")).unwrap();
    assert_eq!(cen.rate_limits.writes_per_second, Some(1.0));
    assert_eq!(cen.rate_limits.actions.len(), 1);

    for (table, fix) in [
        ("[rate_limits]\nwrites_per_second = 0\n", "more than 0"),
        ("[rate_limits]\nreads_per_second = -1.5\n", "more than 0"),
        (
            "[rate_limits]\nwrites_per_second = 100000\n",
            "at most 1000",
        ),
        (
            "[rate_limits.actions]\n\"CreateTransitRouter\" = 1\n",
            "cbn:CreateTransitRouter",
        ),
        (
            "[rate_limits.actions]\n\"ecs:RunInstances\" = 1\n",
            "cbn:CreateTransitRouter",
        ),
        ("[rate_limits]\nwrite_per_second = 1\n", "README"),
    ] {
        let text = format!("{SEED}\n{table}");
        let e = err(&text);
        let first = table.lines().nth(1).unwrap();
        assert_eq!(e.line, line_of(&text, first), "{table}: {e}");
        assert!(e.to_string().contains(fix), "{table}: {e}");
    }
}
