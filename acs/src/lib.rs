//! Alibaba Cloud OpenAPI wire primitives shared by the dwlink client (`dwlink-host`) and the
//! simulator (`dwlink-sim`): RFC 3986 encoding, form decoding, list flattening, and the two
//! RPC signatures, V3 (`ACS3-HMAC-SHA256`) and V1 (HMAC-SHA1).
//!
//! Both sides share this code on purpose: one canonicalisation, checked against the published
//! vectors here and against the official SDKs by the simulator's conformance suite.

pub mod encode;
pub mod params;
pub mod v1;
pub mod v3;

pub use encode::{form_decode, percent_decode, percent_encode};
pub use params::Params;

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
