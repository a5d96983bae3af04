//! Client-side rate limits and per-resource write serialisation.
//!
//! Alibaba Cloud quotas are per (region, API, main account) and often small (CreateTransitRouter
//! 3/s), so dwlink stays under them with a token bucket per (account, product, action) rather
//! than relying on `Throttling` retries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A bucket's shape: refill rate and burst size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

/// Rates: a conservative default and overrides per (product, action), case-insensitive.
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Writes (and any action that is not a read).
    pub default: Rate,
    /// Reads (`Describe*`, `List*`, `Get*`, ...): their quotas are larger, and the waiters and the
    /// whitelist guard read in bursts.
    pub read: Rate,
    pub overrides: HashMap<(String, String), Rate>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            // Below the smallest published quota of the APIs dwlink calls (3/s).
            default: Rate {
                per_second: 2.0,
                burst: 2,
            },
            // Below the smallest published read quota dwlink meets (DescribeCens 300/60 s).
            read: Rate {
                per_second: 4.0,
                burst: 4,
            },
            overrides: HashMap::new(),
        }
    }
}

impl RateLimits {
    pub fn with(mut self, product: &str, action: &str, rate: Rate) -> Self {
        self.overrides.insert(
            (product.to_ascii_lowercase(), action.to_ascii_lowercase()),
            rate,
        );
        self
    }

    pub(crate) fn rate(&self, product: &str, action: &str) -> Rate {
        self.overrides
            .get(&(product.to_ascii_lowercase(), action.to_ascii_lowercase()))
            .copied()
            .unwrap_or(if super::is_read(action) {
                self.read
            } else {
                self.default
            })
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets keyed by (account, product, action).
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(String, String, String), Bucket>>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a token. Cancellation-safe: dropping the future takes nothing.
    pub async fn acquire(&self, account: &str, product: &str, action: &str) {
        while let Some(wait) = self.try_acquire(account, product, action, Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes a token if one is available at `now` (`None`), else says how long until one is.
    fn try_acquire(
        &self,
        account: &str,
        product: &str,
        action: &str,
        now: Instant,
    ) -> Option<Duration> {
        let rate = self.limits.rate(product, action);
        if rate.per_second <= 0.0 || !rate.per_second.is_finite() {
            return None; // unlimited
        }
        let burst = f64::from(rate.burst.max(1));
        let key = (account.to_string(), product.to_string(), action.to_string());
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate.per_second).min(burst);
        b.last = b.last.max(now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - b.tokens) / rate.per_second))
        }
    }
}

/// A guard that keeps a resource's writes serialised; release by dropping.
pub type SerialGuard = tokio::sync::OwnedMutexGuard<()>;

/// An async mutex per key (route table id, whitelist group, peering id, ...).
#[derive(Default)]
pub struct KeyedLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    pub async fn lock(&self, key: &str) -> SerialGuard {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            // Forget locks nobody holds or waits for, so the map does not grow without bound.
            locks.retain(|_, l| Arc::strong_count(l) > 1);
            locks.entry(key.to_string()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_paces() {
        let rl = RateLimiter::new(RateLimits::default().with(
            "Vpc",
            "CreateRouteEntry",
            Rate {
                per_second: 2.0,
                burst: 2,
            },
        ));
        let t0 = Instant::now();
        let take = |at: Duration| rl.try_acquire("b", "Vpc", "CreateRouteEntry", t0 + at);
        assert_eq!(take(Duration::ZERO), None);
        assert_eq!(take(Duration::ZERO), None);
        // Burst spent: the next token is half a second away.
        assert_eq!(take(Duration::ZERO), Some(Duration::from_millis(500)));
        assert_eq!(take(Duration::from_millis(500)), None);
        assert!(take(Duration::from_millis(500)).is_some());
        // Refill never exceeds the burst.
        assert_eq!(take(Duration::from_secs(100)), None);
        assert_eq!(take(Duration::from_secs(100)), None);
        assert!(take(Duration::from_secs(100)).is_some());
        // Other accounts and actions have their own buckets; the default applies elsewhere.
        assert_eq!(rl.try_acquire("a", "Vpc", "CreateRouteEntry", t0), None);
        assert_eq!(rl.try_acquire("b", "Vpc", "DescribeVpcs", t0), None);
    }

    #[tokio::test]
    async fn keyed_locks_serialise_one_key_only() {
        let locks = Arc::new(KeyedLocks::default());
        let g1 = locks.lock("vtb-1").await;
        // A different key is free.
        let _g2 = locks.lock("vtb-2").await;
        let l2 = locks.clone();
        let waiter = tokio::spawn(async move {
            let _g = l2.lock("vtb-1").await;
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(g1);
        waiter.await.unwrap();
    }
}
