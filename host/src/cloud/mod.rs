//! The Alibaba Cloud OpenAPI client: every cloud call dwlink makes, its own and its plugins',
//! goes through here.
//!
//! The seam the rest of the host codes against is [`Caller`]: one RPC call in one account,
//! answering the parsed JSON body or a typed [`CloudError`].

mod call;

pub use call::{BoxFuture, Call, Caller, CloudError, Method};
