//! Parsing the raw TOML and checking every value before anything touches the cloud.

use super::*;
use std::ops::Range;

/// What is wrong with a link file; callers branch on it (the CLI maps all of them to exit 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SpecErrorKind {
    Read,
    Syntax,
    UnknownKey,
    MissingKey,
    BadCidr,
    BadId,
    BadRoleArn,
    RoleAccountMismatch,
    BadValue,
}

/// A link-file error with the file, the 1-based line and column, and a fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}\n  fix: {fix}", file.display())]
pub struct SpecError {
    pub kind: SpecErrorKind,
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub fix: String,
}

impl SpecError {
    pub(super) fn read(path: &Path, e: &std::io::Error) -> SpecError {
        SpecError {
            kind: SpecErrorKind::Read,
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the link file: {e}"),
            fix: "check the path given to --link".into(),
        }
    }
}

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(
        &self,
        kind: SpecErrorKind,
        span: Option<Range<usize>>,
        message: String,
        fix: &str,
    ) -> SpecError {
        let (line, column) = match span {
            Some(r) => line_col(self.text, r.start),
            None => (1, 1),
        };
        SpecError {
            kind,
            file: self.path.to_path_buf(),
            line,
            column,
            message,
            fix: fix.into(),
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, column)
}

pub(super) fn parse(path: &Path, text: &str) -> Result<LinkSpec, SpecError> {
    let cx = Ctx { path, text };
    let raw: RawLink = toml::from_str(text).map_err(|e| {
        let msg = e.message().trim().to_string();
        let (kind, fix) = if msg.contains("unknown field") {
            (
                SpecErrorKind::UnknownKey,
                "remove or rename the key; every key is listed in the README section \"The link file\"",
            )
        } else if msg.contains("missing field") {
            (
                SpecErrorKind::MissingKey,
                "add the key; see examples/links/seed-peering.toml",
            )
        } else if msg.contains("unknown variant") {
            (
                SpecErrorKind::BadValue,
                "use one of the values the message lists",
            )
        } else {
            (
                SpecErrorKind::Syntax,
                "fix the TOML syntax at this position",
            )
        };
        cx.err(kind, e.span(), msg, fix)
    })?;

    // Data-source side.
    let s = raw.source;
    check_uid(&cx, &s.account_uid, "source.account_uid")?;
    check_region(&cx, &s.region, "source.region")?;
    check_instance_id(&cx, &s.instance_id)?;
    let access = match (s.role_arn, s.profile) {
        (Some(arn), None) => {
            let role_name = check_role_arn(&cx, &arn, s.account_uid.get_ref())?;
            Access::RoleArn {
                arn: arn.into_inner(),
                role_name,
            }
        }
        (None, Some(p)) => Access::Profile(non_empty(&cx, p, "source.profile")?),
        (Some(arn), Some(_)) => {
            return Err(cx.err(
                SpecErrorKind::BadValue,
                Some(arn.span()),
                "[source] has both `role_arn` and `profile`".into(),
                "keep one: `role_arn` to assume a role in account A from account B, or `profile` for account A's own credentials",
            ));
        }
        (None, None) => {
            return Err(cx.err(
                SpecErrorKind::MissingKey,
                Some(s.instance_id.span()),
                "[source] says neither `role_arn` nor `profile`: dwlink cannot act in account A".into(),
                "add `role_arn = \"acs:ram::<account A uid>:role/<role name>\"` (the role must trust account B)",
            ));
        }
    };

    // DataWorks side.
    let d = raw.dataworks;
    check_region(&cx, &d.region, "dataworks.region")?;
    if *d.workspace_id.get_ref() == 0 {
        return Err(cx.err(
            SpecErrorKind::BadId,
            Some(d.workspace_id.span()),
            "dataworks.workspace_id must be a positive number".into(),
            "use the numeric workspace (project) id shown in the DataWorks console",
        ));
    }
    check_resource_group(&cx, &d.resource_group_id)?;
    let profile = d
        .profile
        .map(|p| non_empty(&cx, p, "dataworks.profile"))
        .transpose()?;
    let ds = d.data_source;
    let name = ds.name.get_ref();
    let name_ok = !name.is_empty()
        && name.len() <= 255
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if !name_ok {
        return Err(cx.err(
            SpecErrorKind::BadValue,
            Some(ds.name.span()),
            format!("data source name {name:?} is not allowed by DataWorks"),
            "use letters, digits and `_`, starting with a letter, at most 255 characters",
        ));
    }
    let env_ok = |v: &str| {
        !v.is_empty()
            && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !v.starts_with(|c: char| c.is_ascii_digit())
    };
    if !env_ok(ds.password_env.get_ref()) {
        return Err(cx.err(
            SpecErrorKind::BadValue,
            Some(ds.password_env.span()),
            format!(
                "password_env must name an environment variable, got {:?}",
                ds.password_env.get_ref()
            ),
            "write the variable's name (e.g. `DWLINK_DB_PASSWORD`) and export the password in it; never put the password in the file",
        ));
    }
    let env_type = match ds.env_type {
        None => "Prod".to_string(),
        Some(e) if e.get_ref() == "Prod" || e.get_ref() == "Dev" => e.into_inner(),
        Some(e) => {
            return Err(cx.err(
                SpecErrorKind::BadValue,
                Some(e.span()),
                format!("env_type {:?} is not a DataWorks environment", e.get_ref()),
                "use \"Prod\" or \"Dev\"",
            ));
        }
    };
    let data_source = DataSourceSpec {
        name: ds.name.into_inner(),
        database: non_empty(&cx, ds.database, "dataworks.data_source.database")?,
        user: non_empty(&cx, ds.user, "dataworks.data_source.user")?,
        password_env: ds.password_env.into_inner(),
        env_type,
    };

    // Network.
    let network = match raw.network {
        None => NetworkSpec {
            mode: NetworkMode::Auto,
            cen_id: None,
            new_vswitch_zone: None,
            new_vswitch_cidr: None,
        },
        Some(n) => {
            if let Some(c) = &n.cen_id {
                check_prefixed(&cx, c, "network.cen_id", &["cen-"])?;
            }
            if let Some(z) = &n.new_vswitch_zone {
                check_region(&cx, z, "network.new_vswitch_zone")?;
            }
            let cidr = n
                .new_vswitch_cidr
                .map(|c| check_cidr(&cx, &c))
                .transpose()?;
            NetworkSpec {
                mode: n.mode.unwrap_or(NetworkMode::Auto),
                cen_id: n.cen_id.map(Spanned::into_inner),
                new_vswitch_zone: n.new_vswitch_zone.map(Spanned::into_inner),
                new_vswitch_cidr: cidr,
            }
        }
    };
    if network.mode == NetworkMode::Peering && network.cen_id.is_some() {
        return Err(cx.err(
            SpecErrorKind::BadValue,
            None,
            "network.mode is \"peering\" but network.cen_id names a CEN".into(),
            "remove cen_id, or set mode = \"cen\" (or \"auto\") to reuse that CEN",
        ));
    }

    let whitelist = match raw.whitelist {
        None => WhitelistSpec {
            group: "dataworks".into(),
            enabled: true,
        },
        Some(w) => {
            let group = match w.group {
                None => "dataworks".to_string(),
                Some(g) => {
                    let v = g.get_ref();
                    let ok = (2..=120).contains(&v.len())
                        && v.starts_with(|c: char| c.is_ascii_lowercase())
                        && v.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                    if !ok {
                        return Err(cx.err(
                            SpecErrorKind::BadValue,
                            Some(g.span()),
                            format!("whitelist group name {v:?} is not accepted by RDS, PolarDB and MongoDB alike"),
                            "use 2-120 lower-case letters, digits or `_`, starting with a letter (default: dataworks)",
                        ));
                    }
                    g.into_inner()
                }
            };
            WhitelistSpec {
                group,
                enabled: w.enabled.unwrap_or(true),
            }
        }
    };

    const PRODUCTS: [&str; 8] = [
        "vpc",
        "vpcpeer",
        "cbn",
        "rds",
        "polardb",
        "dds",
        "dataworks-public",
        "sts",
    ];
    let mut endpoints = BTreeMap::new();
    for (k, v) in raw.endpoints {
        let key = k.get_ref().to_ascii_lowercase();
        if !PRODUCTS.contains(&key.as_str()) {
            return Err(cx.err(
                SpecErrorKind::UnknownKey,
                Some(k.span()),
                format!("[endpoints] has an unknown product {:?}", k.get_ref()),
                &format!("use a product code: {}", PRODUCTS.join(", ")),
            ));
        }
        let url = v.get_ref();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
            return Err(cx.err(
                SpecErrorKind::BadValue,
                Some(v.span()),
                format!("endpoint {url:?} for {key} is not an http(s) URL"),
                "write it like \"https://vpc.cn-hangzhou.aliyuncs.com\"",
            ));
        }
        endpoints.insert(key, v.into_inner());
    }
    let rate_limits = match raw.rate_limits {
        Some(r) => rate_limits(&cx, r, &PRODUCTS)?,
        None => RateSpec::default(),
    };

    Ok(LinkSpec {
        file: path.to_path_buf(),
        source: SourceSide {
            account_uid: s.account_uid.into_inner(),
            region: s.region.into_inner(),
            instance_id: s.instance_id.into_inner(),
            access,
        },
        dataworks: DataWorksSide {
            region: d.region.into_inner(),
            workspace_id: d.workspace_id.into_inner(),
            resource_group_id: d.resource_group_id.into_inner(),
            profile,
            data_source,
        },
        network,
        whitelist,
        endpoints,
        limits: raw.limits.unwrap_or_default(),
        rate_limits,
    })
}

/// The highest rate a link file may set: far above any published Alibaba Cloud quota, so a
/// larger number is a typo rather than a wish.
const MAX_RATE: f64 = 1000.0;

fn rate_limits(cx: &Ctx, raw: RawRateLimits, products: &[&str]) -> Result<RateSpec, SpecError> {
    let rate = |v: Spanned<f64>, key: &str| -> Result<f64, SpecError> {
        let r = *v.get_ref();
        if r.is_finite() && r > 0.0 && r <= MAX_RATE {
            Ok(r)
        } else {
            Err(cx.err(
                SpecErrorKind::BadValue,
                Some(v.span()),
                format!("rate_limits.{key} = {r} is not a rate dwlink can keep"),
                &format!(
                    "write calls per second, more than 0 and at most {MAX_RATE}, e.g. 0.5 for one \
                     call every two seconds"
                ),
            ))
        }
    };
    let mut spec = RateSpec {
        writes_per_second: raw
            .writes_per_second
            .map(|v| rate(v, "writes_per_second"))
            .transpose()?,
        reads_per_second: raw
            .reads_per_second
            .map(|v| rate(v, "reads_per_second"))
            .transpose()?,
        actions: BTreeMap::new(),
    };
    for (k, v) in raw.actions {
        let name = k.get_ref();
        let parsed = name
            .split_once(':')
            .filter(|(p, a)| {
                products.contains(&p.to_ascii_lowercase().as_str())
                    && a.starts_with(|c: char| c.is_ascii_uppercase())
                    && a.chars().all(|c| c.is_ascii_alphanumeric())
            })
            .map(|(p, a)| (p.to_ascii_lowercase(), a.to_string()));
        let Some(key) = parsed else {
            return Err(cx.err(
                SpecErrorKind::BadValue,
                Some(k.span()),
                format!("[rate_limits.actions] key {name:?} is not product:Action"),
                &format!(
                    "write it like \"cbn:CreateTransitRouter\"; products: {}",
                    products.join(", ")
                ),
            ));
        };
        let r = rate(v, &format!("actions.\"{name}\""))?;
        spec.actions.insert(key, r);
    }
    Ok(spec)
}

fn non_empty(cx: &Ctx, v: Spanned<String>, key: &str) -> Result<String, SpecError> {
    if v.get_ref().trim().is_empty() {
        return Err(cx.err(
            SpecErrorKind::BadValue,
            Some(v.span()),
            format!("{key} is empty"),
            "give it a value",
        ));
    }
    Ok(v.into_inner())
}

fn is_uid(v: &str) -> bool {
    (10..=20).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit())
}

fn check_uid(cx: &Ctx, v: &Spanned<String>, key: &str) -> Result<(), SpecError> {
    if is_uid(v.get_ref()) {
        return Ok(());
    }
    Err(cx.err(
        SpecErrorKind::BadId,
        Some(v.span()),
        format!("{key} {:?} is not an Alibaba Cloud account UID", v.get_ref()),
        "use the account's numeric UID (16 digits, shown under Account Center > Security Settings), as a string",
    ))
}

fn check_region(cx: &Ctx, v: &Spanned<String>, key: &str) -> Result<(), SpecError> {
    let r = v.get_ref();
    let ok = r.len() >= 4
        && r.split('-').count() >= 2
        && r.split('-').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if ok {
        return Ok(());
    }
    Err(cx.err(
        SpecErrorKind::BadId,
        Some(v.span()),
        format!("{key} {r:?} is not a region or zone id"),
        "write it like \"cn-hangzhou\" (zones like \"cn-hangzhou-h\")",
    ))
}

fn id_tail_ok(t: &str) -> bool {
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

fn check_prefixed(
    cx: &Ctx,
    v: &Spanned<String>,
    key: &str,
    prefixes: &[&str],
) -> Result<(), SpecError> {
    let s = v.get_ref();
    if prefixes
        .iter()
        .any(|p| s.strip_prefix(p).is_some_and(id_tail_ok))
    {
        return Ok(());
    }
    Err(cx.err(
        SpecErrorKind::BadId,
        Some(v.span()),
        format!(
            "{key} {s:?} does not look like an id starting with {}",
            prefixes.join(" or ")
        ),
        "copy the id from the console or the API (lower-case letters and digits after the prefix)",
    ))
}

fn check_instance_id(cx: &Ctx, v: &Spanned<String>) -> Result<(), SpecError> {
    check_prefixed(cx, v, "source.instance_id", &["rm-", "pc-", "dds-"]).map_err(|mut e| {
        e.fix = "use the instance id: `rm-...` (RDS), `pc-...` (PolarDB cluster) or `dds-...` (MongoDB)".into();
        e
    })
}

fn check_resource_group(cx: &Ctx, v: &Spanned<String>) -> Result<(), SpecError> {
    let s = v.get_ref();
    let ok = s.contains("res_group_")
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        return Ok(());
    }
    Err(cx.err(
        SpecErrorKind::BadId,
        Some(v.span()),
        format!("dataworks.resource_group_id {s:?} is not a DataWorks resource group id"),
        "copy the resource group's id (e.g. `Serverless_res_group_524257424564736_6831777003001`) from DataWorks > Resource Groups",
    ))
}

fn check_cidr(cx: &Ctx, v: &Spanned<String>) -> Result<ipnet::Ipv4Net, SpecError> {
    let s = v.get_ref();
    match s.parse::<ipnet::Ipv4Net>() {
        Ok(net) if net.trunc() == net => Ok(net),
        Ok(net) => Err(cx.err(
            SpecErrorKind::BadCidr,
            Some(v.span()),
            format!("{s:?} has host bits set"),
            &format!("use the network address: \"{}\"", net.trunc()),
        )),
        Err(_) => Err(cx.err(
            SpecErrorKind::BadCidr,
            Some(v.span()),
            format!("{s:?} is not an IPv4 CIDR block"),
            "write it like \"192.168.7.0/24\"",
        )),
    }
}

/// Checks `acs:ram::<uid>:role/<name>` and that `<uid>` is the data-source account; returns the name.
fn check_role_arn(cx: &Ctx, v: &Spanned<String>, account_uid: &str) -> Result<String, SpecError> {
    let arn = v.get_ref();
    let fix = format!("write it as \"acs:ram::{account_uid}:role/<role name>\"");
    let parsed = arn
        .strip_prefix("acs:ram::")
        .and_then(|rest| rest.split_once(":role/"))
        .filter(|(uid, name)| {
            is_uid(uid)
                && !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        });
    let Some((uid, name)) = parsed else {
        return Err(cx.err(
            SpecErrorKind::BadRoleArn,
            Some(v.span()),
            format!("source.role_arn {arn:?} is not a RAM role ARN"),
            &fix,
        ));
    };
    if uid != account_uid {
        return Err(cx.err(
            SpecErrorKind::RoleAccountMismatch,
            Some(v.span()),
            format!("source.role_arn names account {uid}, but source.account_uid is {account_uid}"),
            "the role must live in the data-source account (A): fix the UID in the ARN or in account_uid",
        ));
    }
    Ok(name.to_string())
}
