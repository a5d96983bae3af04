//! The dispatch registry: (API version, action) -> handler. A product module registers its
//! handlers in one `register` function; `products::register_all` calls each of them.

use crate::error::ApiResult;
use crate::request::Ctx;
use serde_json::Value;
use std::collections::HashMap;

/// One product API version.
#[derive(Debug)]
pub struct Product {
    /// Product code as in the SDK and the troubleshoot URL: `Vpc`, `VpcPeer`, `Cbn`, `Sts`, ...
    pub code: &'static str,
    /// API version, e.g. `2016-04-28`.
    pub version: &'static str,
    /// Host reported as `HostId` in errors, e.g. `vpc.aliyuncs.com`.
    pub host: &'static str,
}

/// A handler: validates the request, changes the world, returns the response body without
/// `RequestId` (the server adds it).
pub type Handler = fn(&mut Ctx<'_>) -> ApiResult<Value>;

#[derive(Clone, Copy)]
pub struct Route {
    pub product: &'static Product,
    pub action: &'static str,
    pub handler: Handler,
}

#[derive(Default)]
pub struct Registry {
    routes: HashMap<(&'static str, &'static str), Route>,
}

impl Registry {
    /// Registers `action` of `product`. Panics on a duplicate: that is a programming error
    /// caught by every test that builds the registry.
    pub fn add(&mut self, product: &'static Product, action: &'static str, handler: Handler) {
        let prev = self.routes.insert(
            (product.version, action),
            Route {
                product,
                action,
                handler,
            },
        );
        assert!(
            prev.is_none(),
            "{} {action} ({}) registered twice",
            product.code,
            product.version
        );
    }

    pub fn get(&self, version: &str, action: &str) -> Option<Route> {
        // HashMap is covariant in its key, so the 'static keys can be looked up by shorter ones.
        let routes: &HashMap<(&str, &str), Route> = &self.routes;
        routes.get(&(version, action)).copied()
    }

    /// Whether any product serves this version (to tell an unknown action from an unknown product).
    pub fn knows_version(&self, version: &str) -> bool {
        self.routes.keys().any(|(v, _)| *v == version)
    }

    /// Every registered (product code, version, action), sorted.
    pub fn actions(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        let mut v: Vec<_> = self
            .routes
            .values()
            .map(|r| (r.product.code, r.product.version, r.action))
            .collect();
        v.sort();
        v
    }

    /// The registry with every product module.
    pub fn with_all_products() -> Self {
        let mut r = Registry::default();
        crate::products::register_all(&mut r);
        r
    }
}
