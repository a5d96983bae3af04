//! Product + region -> endpoint, following the official SDKs' endpoint tables
//! (`alibabacloud_*` clients' `_endpoint_map` / `_endpoint_rule`), with an override that
//! sends every product to one base URL (`--endpoint` / `DWLINK_ENDPOINT`) and per-product
//! overrides (link file).

use std::collections::BTreeMap;

/// Where a call goes: the base URL (`https://vpc.aliyuncs.com`) and the `host` header value
/// (which includes the port when the URL has one, because that is what gets signed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub base_url: String,
    pub host: String,
}

impl Endpoint {
    /// Parses `https://host[:port][/]` or `http://...`; a bare `host[:port]` means https.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let url = url.trim();
        let (scheme, rest) = match url.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => ("https".to_string(), url),
        };
        if scheme != "http" && scheme != "https" {
            return Err(format!(
                "endpoint {url:?} must use http:// or https:// (got {scheme}://)"
            ));
        }
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains('/') || host.contains('?') || host.contains('@') {
            return Err(format!(
                "endpoint {url:?} must be a base URL like https://vpc.aliyuncs.com or http://127.0.0.1:8080, without a path"
            ));
        }
        Ok(Endpoint {
            base_url: format!("{scheme}://{host}"),
            host: host.to_string(),
        })
    }
}

/// Endpoint selection: the SDK tables unless overridden.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// Sends every product here (e.g. `http://127.0.0.1:8080`).
    pub all: Option<String>,
    /// Per-product overrides, keyed by product code (case-insensitive), e.g. `Vpc`.
    pub per_product: BTreeMap<String, String>,
}

impl Endpoints {
    /// Checks every override parses, so a typo fails before the first call.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(all) = &self.all {
            Endpoint::parse(all)?;
        }
        for url in self.per_product.values() {
            Endpoint::parse(url)?;
        }
        Ok(())
    }

    pub fn resolve(&self, product: &str, region: &str) -> Result<Endpoint, String> {
        let per_product = self
            .per_product
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(product))
            .map(|(_, url)| url);
        if let Some(url) = per_product.or(self.all.as_ref()) {
            return Endpoint::parse(url);
        }
        let host = default_host(product, region)?;
        Ok(Endpoint {
            base_url: format!("https://{host}"),
            host,
        })
    }
}

/// Regions served by a product's central host even though the product is regional.
const VPC_CENTRAL: &[&str] = &[
    "cn-hangzhou",
    "cn-fujian",
    "cn-wuhan",
    "cn-hangzhou-finance",
    "cn-shanghai-finance-1",
    "cn-shenzhen-finance-1",
    "cn-north-2-gov-1",
    "cn-beijing-gov-1",
    "cn-zhangbei",
];
const RDS_CENTRAL: &[&str] = &[
    "cn-qingdao",
    "cn-beijing",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-hongkong",
    "cn-fujian",
    "cn-wuhan",
    "ap-southeast-1",
    "us-west-1",
    "us-east-1",
    "cn-shanghai-finance-1",
    "cn-shenzhen-finance-1",
    "cn-north-2-gov-1",
    "cn-beijing-finance-1",
    "cn-beijing-gov-1",
    "cn-zhangbei",
];
const POLARDB_CENTRAL: &[&str] = &[
    "cn-qingdao",
    "cn-beijing",
    "cn-wulanchabu",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-heyuan",
    "cn-fujian",
    "cn-wuhan",
    "cn-hangzhou-finance",
    "cn-beijing-finance-1",
    "cn-beijing-gov-1",
    "cn-zhangbei",
];
const MONGODB_CENTRAL: &[&str] = &[
    "cn-beijing",
    "cn-wulanchabu",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-heyuan",
    "cn-fujian",
    "cn-wuhan",
    "cn-hangzhou-finance",
    "cn-beijing-gov-1",
];
const DATAWORKS_CENTRAL: &[&str] = &[
    "cn-qingdao",
    "cn-huhehaote",
    "cn-wuhan",
    "cn-fujian",
    "ap-south-1",
    "ap-southeast-2",
    "cn-hangzhou-finance",
    "cn-beijing-gov-1",
    "cn-zhangbei",
];
const STS_CENTRAL: &[&str] = &[
    "cn-fujian",
    "cn-wuhan",
    "ap-south-1",
    "ap-southeast-2",
    "cn-zhangbei",
];

/// The public host for `product` in `region`, as the official SDKs pick it.
pub fn default_host(product: &str, region: &str) -> Result<String, String> {
    let regional = |prefix: &str, central: &[&str]| {
        if region.is_empty() {
            return Err(format!(
                "product {product} needs a region to choose its endpoint"
            ));
        }
        if !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(format!(
                "region {region:?} is not a valid region id (e.g. cn-hangzhou)"
            ));
        }
        Ok(if central.contains(&region) {
            format!("{prefix}.aliyuncs.com")
        } else {
            format!("{prefix}.{region}.aliyuncs.com")
        })
    };
    match product.to_ascii_lowercase().as_str() {
        "vpc" => regional("vpc", VPC_CENTRAL),
        "vpcpeer" => Ok("vpcpeer.aliyuncs.com".into()),
        "cbn" => Ok("cbn.aliyuncs.com".into()),
        "rds" => regional("rds", RDS_CENTRAL),
        "polardb" => regional("polardb", POLARDB_CENTRAL),
        "dds" => regional("mongodb", MONGODB_CENTRAL),
        "dataworks-public" => regional("dataworks", DATAWORKS_CENTRAL),
        // STS is global; without a region the central host answers.
        "sts" if region.is_empty() => Ok("sts.aliyuncs.com".into()),
        "sts" => regional("sts", STS_CENTRAL),
        other => Err(format!(
            "no endpoint known for product {other:?}; set one with --endpoint or a per-product endpoint in the link file"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(product: &str, region: &str) -> String {
        Endpoints::default().resolve(product, region).unwrap().host
    }

    #[test]
    fn sdk_tables() {
        assert_eq!(host("Vpc", "cn-hangzhou"), "vpc.aliyuncs.com");
        assert_eq!(host("Vpc", "cn-shanghai"), "vpc.cn-shanghai.aliyuncs.com");
        assert_eq!(host("Vpc", "cn-wuhan"), "vpc.aliyuncs.com");
        assert_eq!(host("VpcPeer", "cn-shanghai"), "vpcpeer.aliyuncs.com");
        assert_eq!(host("Cbn", "eu-central-1"), "cbn.aliyuncs.com");
        assert_eq!(host("Rds", "cn-hangzhou"), "rds.aliyuncs.com");
        assert_eq!(host("Rds", "cn-chengdu"), "rds.cn-chengdu.aliyuncs.com");
        assert_eq!(host("Rds", "ap-southeast-1"), "rds.aliyuncs.com");
        assert_eq!(host("polardb", "cn-wulanchabu"), "polardb.aliyuncs.com");
        assert_eq!(
            host("polardb", "cn-shenzhen"),
            "polardb.cn-shenzhen.aliyuncs.com"
        );
        assert_eq!(host("Dds", "cn-shanghai"), "mongodb.aliyuncs.com");
        assert_eq!(host("Dds", "cn-qingdao"), "mongodb.cn-qingdao.aliyuncs.com");
        assert_eq!(
            host("dataworks-public", "cn-shanghai"),
            "dataworks.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(
            host("dataworks-public", "cn-qingdao"),
            "dataworks.aliyuncs.com"
        );
        assert_eq!(
            host("dataworks-public", "ap-southeast-2"),
            "dataworks.aliyuncs.com"
        );
        assert_eq!(host("Sts", ""), "sts.aliyuncs.com");
        assert_eq!(host("Sts", "cn-hangzhou"), "sts.cn-hangzhou.aliyuncs.com");
        assert_eq!(host("Sts", "cn-wuhan"), "sts.aliyuncs.com");
        let e = Endpoints::default().resolve("Vpc", "cn-hangzhou").unwrap();
        assert_eq!(e.base_url, "https://vpc.aliyuncs.com");
    }

    #[test]
    fn unknown_product_and_bad_region_are_clear_errors() {
        let e = Endpoints::default()
            .resolve("Ecs", "cn-hangzhou")
            .unwrap_err();
        assert!(e.contains("--endpoint"), "{e}");
        assert!(Endpoints::default().resolve("Vpc", "").is_err());
        assert!(
            Endpoints::default()
                .resolve("Vpc", "cn hangzhou/x")
                .is_err()
        );
    }

    #[test]
    fn overrides() {
        let mut eps = Endpoints {
            all: Some("http://127.0.0.1:8080/".into()),
            ..Default::default()
        };
        eps.per_product
            .insert("vpc".into(), "vpc.example.test".into());
        let all = eps.resolve("Rds", "cn-hangzhou").unwrap();
        assert_eq!(all.base_url, "http://127.0.0.1:8080");
        assert_eq!(all.host, "127.0.0.1:8080");
        let vpc = eps.resolve("Vpc", "cn-hangzhou").unwrap();
        assert_eq!(vpc.base_url, "https://vpc.example.test");
        assert!(eps.validate().is_ok());
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://x/path").is_err());
        assert!(Endpoint::parse("").is_err());
    }
}
