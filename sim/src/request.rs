//! The handler context: the world, the caller, the merged parameters, and typed helpers for
//! required params, ints, bools, CIDRs, `Name.N[.Field]` lists, pagination and ClientTokens.

use crate::error::{ApiError, ApiResult};
use crate::idempotency::TokenCheck;
use crate::registry::Product;
use crate::state::{Caller, World};
use dwlink_acs::Params;
use ipnet::Ipv4Net;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::str::FromStr;
use std::time::Instant;

/// Everything a handler sees.
pub struct Ctx<'a> {
    pub world: &'a mut World,
    pub caller: &'a Caller,
    /// Query and form-body parameters, merged (the body wins on a duplicate name).
    pub params: &'a Params,
    pub product: &'static Product,
    pub action: &'a str,
    pub request_id: &'a str,
    /// The instant lifecycles are evaluated at.
    pub now: Instant,
}

impl<'a> Ctx<'a> {
    /// The caller's account UID.
    pub fn uid(&self) -> &str {
        &self.caller.account_uid
    }

    /// A parameter; an empty value counts as absent (the SDKs send nothing for `None`).
    pub fn opt(&self, name: &str) -> Option<&'a str> {
        self.params.get(name).filter(|v| !v.is_empty())
    }

    /// A required parameter: `MissingParameter` when absent or empty.
    pub fn req(&self, name: &str) -> ApiResult<&'a str> {
        self.opt(name).ok_or_else(|| ApiError::missing(name))
    }

    /// `RegionId`, required, and a region the simulator knows.
    pub fn region(&self) -> ApiResult<String> {
        let r = self.req("RegionId")?;
        self.check_region(r)?;
        Ok(r.to_string())
    }

    /// `RegionId` if given (central APIs), checked.
    pub fn opt_region(&self) -> ApiResult<Option<String>> {
        match self.opt("RegionId") {
            None => Ok(None),
            Some(r) => {
                self.check_region(r)?;
                Ok(Some(r.to_string()))
            }
        }
    }

    pub fn check_region(&self, region: &str) -> ApiResult<()> {
        if self.world.region_exists(region) {
            Ok(())
        } else {
            Err(ApiError::bad(
                "InvalidRegionId.NotFound",
                format!("The specified RegionId {region:?} does not exist."),
            ))
        }
    }

    /// A typed optional parameter (`u32`, `i64`, ...): `InvalidParameter` if it does not parse.
    pub fn parse<T: FromStr>(&self, name: &str) -> ApiResult<Option<T>> {
        match self.opt(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ApiError::invalid(name, format!("{v:?} is not a valid value"))),
        }
    }

    /// A typed required parameter.
    pub fn req_parse<T: FromStr>(&self, name: &str) -> ApiResult<T> {
        self.parse(name)?.ok_or_else(|| ApiError::missing(name))
    }

    /// A boolean (`true`/`false`, any case).
    pub fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.opt(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::invalid(
                name,
                format!("{v:?} is not true or false"),
            )),
        }
    }

    /// An optional IPv4 CIDR; see [`parse_cidr`].
    pub fn cidr(&self, name: &str) -> ApiResult<Option<Ipv4Net>> {
        self.opt(name).map(|v| parse_cidr(name, v)).transpose()
    }

    pub fn req_cidr(&self, name: &str) -> ApiResult<Ipv4Net> {
        parse_cidr(name, self.req(name)?)
    }

    /// `Name.1`, `Name.2`, ... in index order.
    pub fn list(&self, name: &str) -> Vec<&'a str> {
        let prefix = format!("{name}.");
        let mut items: Vec<(u32, &str)> = self
            .params
            .iter()
            .filter_map(|(k, v)| {
                let n: u32 = k.strip_prefix(&prefix)?.parse().ok()?;
                Some((n, v))
            })
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// `Name.N.Field` objects in index order, each a field -> value map.
    pub fn objects(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let prefix = format!("{name}.");
        let mut by_index: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
        for (k, v) in self.params.iter() {
            let Some(rest) = k.strip_prefix(&prefix) else {
                continue;
            };
            let Some((n, field)) = rest.split_once('.') else {
                continue;
            };
            if let Ok(n) = n.parse::<u32>() {
                by_index
                    .entry(n)
                    .or_default()
                    .insert(field.to_string(), v.to_string());
            }
        }
        by_index.into_values().collect()
    }

    /// A list serialized as a JSON array string (`ResourceGroupTypes`, `Statuses`, ...).
    pub fn json_list(&self, name: &str) -> ApiResult<Vec<String>> {
        match self.opt(name) {
            None => Ok(Vec::new()),
            Some(v) => serde_json::from_str::<Vec<String>>(v)
                .map_err(|e| ApiError::invalid(name, format!("not a JSON list of strings: {e}"))),
        }
    }

    /// A comma-joined list (`VpcId` of ListVpcPeerConnections, DataWorks `Types`).
    pub fn comma_list(&self, name: &str) -> Vec<&'a str> {
        self.opt(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Answers `DryRunOperation` when `DryRun=true`; call after validation, before any change.
    pub fn dry_run(&self) -> ApiResult<()> {
        if self.bool("DryRun")? == Some(true) {
            Err(ApiError::dry_run())
        } else {
            Ok(())
        }
    }

    /// Page-number pagination (`PageNumber` from 1, `PageSize` up to `max`).
    pub fn page(&self, default_size: usize, max_size: usize) -> ApiResult<Page> {
        let number: usize = self.parse("PageNumber")?.unwrap_or(1);
        let size: usize = self.parse("PageSize")?.unwrap_or(default_size);
        if number == 0 {
            return Err(ApiError::invalid("PageNumber", "must be 1 or more"));
        }
        if size == 0 || size > max_size {
            return Err(ApiError::invalid(
                "PageSize",
                format!("must be between 1 and {max_size}"),
            ));
        }
        Ok(Page { number, size })
    }

    /// Token pagination: `NextToken` (an offset this simulator issued) and a page-size
    /// parameter (`MaxResults` or `MaxResult`, up to `max`).
    pub fn token_page(
        &self,
        size_param: &str,
        default_size: usize,
        max: usize,
    ) -> ApiResult<TokenPage> {
        let size: usize = self.parse(size_param)?.unwrap_or(default_size);
        if size == 0 || size > max {
            return Err(ApiError::invalid(
                size_param,
                format!("must be between 1 and {max}"),
            ));
        }
        let start = match self.opt("NextToken") {
            None => 0,
            Some(t) => t.parse().map_err(|_| {
                ApiError::bad(
                    "InvalidNextToken",
                    format!("The NextToken {t:?} is not valid."),
                )
            })?,
        };
        Ok(TokenPage { start, size })
    }

    /// Call first in a create handler: `Some(id)` when this ClientToken was already used with
    /// the same parameters (answer with that id before validating against the current state,
    /// which the first call changed); `IdempotentParameterMismatch` when used with others.
    pub fn replay(&self) -> ApiResult<Option<String>> {
        let Some(token) = self.opt("ClientToken") else {
            return Ok(None);
        };
        match self
            .world
            .tokens
            .check(&self.caller.account_uid, self.action, token, self.params)
        {
            TokenCheck::Replay(id) => Ok(Some(id)),
            TokenCheck::Mismatch => Err(ApiError::idempotent_mismatch(token)),
            TokenCheck::Fresh => Ok(None),
        }
    }

    /// Runs `create` under ClientToken idempotency: a replay with the same parameters returns
    /// the id the first call returned, without creating anything; other parameters with the
    /// same token are `IdempotentParameterMismatch`. Without a token, `create` just runs.
    pub fn idempotent(
        &mut self,
        create: impl FnOnce(&mut Ctx<'a>) -> ApiResult<String>,
    ) -> ApiResult<String> {
        let Some(token) = self.opt("ClientToken") else {
            return create(self);
        };
        if token.len() > 64 || !token.is_ascii() {
            return Err(ApiError::invalid(
                "ClientToken",
                "must be at most 64 ASCII characters",
            ));
        }
        let uid = self.caller.account_uid.clone();
        match self
            .world
            .tokens
            .check(&uid, self.action, token, self.params)
        {
            TokenCheck::Replay(id) => return Ok(id),
            TokenCheck::Mismatch => return Err(ApiError::idempotent_mismatch(token)),
            TokenCheck::Fresh => {}
        }
        let id = create(self)?;
        self.world
            .tokens
            .remember(&uid, self.action, token, self.params, &id);
        Ok(id)
    }
}

/// Parses `a.b.c.d/n` (or a bare address, meaning /32). A CIDR with host bits set is
/// `InvalidCidrBlock.Malformed`, as the cloud rejects `192.168.1.1/24`.
pub fn parse_cidr(name: &str, value: &str) -> ApiResult<Ipv4Net> {
    let v = value.trim();
    let net = if v.contains('/') {
        v.parse::<Ipv4Net>().ok()
    } else {
        v.parse::<Ipv4Addr>().ok().map(|a| Ipv4Net::from(a))
    }
    .ok_or_else(|| {
        ApiError::bad(
            "InvalidCidrBlock.Malformed",
            format!("The specified {name} {v:?} is not a valid IPv4 CIDR block."),
        )
    })?;
    if net.trunc() != net {
        return Err(ApiError::bad(
            "InvalidCidrBlock.Malformed",
            format!(
                "The specified {name} {v:?} has host bits set; did you mean {}?",
                net.trunc()
            ),
        ));
    }
    Ok(net)
}

/// Whether two CIDR blocks share any address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: usize,
    pub size: usize,
}

impl Page {
    pub fn slice<'t, T>(&self, items: &'t [T]) -> &'t [T] {
        let start = (self.number - 1).saturating_mul(self.size).min(items.len());
        let end = (start + self.size).min(items.len());
        &items[start..end]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPage {
    pub start: usize,
    pub size: usize,
}

impl TokenPage {
    /// The page and the `NextToken` for the next one (empty when this is the last page).
    pub fn slice<'t, T>(&self, items: &'t [T]) -> (&'t [T], String) {
        let start = self.start.min(items.len());
        let end = (start + self.size).min(items.len());
        let next = if end < items.len() {
            end.to_string()
        } else {
            String::new()
        };
        (&items[start..end], next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_are_strict() {
        assert_eq!(
            parse_cidr("C", "10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_cidr("C", "10.1.2.3").unwrap().to_string(),
            "10.1.2.3/32"
        );
        assert_eq!(
            parse_cidr("C", "10.1.2.3/8").unwrap_err().code,
            "InvalidCidrBlock.Malformed"
        );
        assert!(parse_cidr("C", "10.0.0/8").is_err());
        assert!(parse_cidr("C", "10.0.0.0/33").is_err());
        let a = parse_cidr("a", "192.168.0.0/16").unwrap();
        let b = parse_cidr("b", "192.168.6.0/24").unwrap();
        let c = parse_cidr("c", "172.16.0.0/16").unwrap();
        assert!(overlaps(&a, &b) && overlaps(&b, &a) && !overlaps(&a, &c));
    }

    #[test]
    fn pages_slice() {
        let items: Vec<u32> = (0..25).collect();
        let p = Page {
            number: 3,
            size: 10,
        };
        assert_eq!(p.slice(&items), &[20, 21, 22, 23, 24]);
        assert!(
            Page {
                number: 9,
                size: 10
            }
            .slice(&items)
            .is_empty()
        );
        let t = TokenPage { start: 0, size: 20 };
        let (page, next) = t.slice(&items);
        assert_eq!((page.len(), next.as_str()), (20, "20"));
        let (page, next) = TokenPage {
            start: 20,
            size: 20,
        }
        .slice(&items);
        assert_eq!((page.len(), next.as_str()), (5, ""));
    }
}
