//!
//! They take request parameters and a secret and return what the service expects; no I/O, no
//! clock, no randomness (the caller supplies `Timestamp` and `SignatureNonce`). Signatures are never
//! logged or formatted into errors by this crate.
//!
//! * [`rpc_v1`]: Alibaba Cloud RPC signature (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`), used
//!   by STS `AssumeRole` and the other RPC-style APIs.
//! * [`spas`]: Nacos AccessKey signing (`Spas-Signature`, naming `signature`), v1 and v4.

pub mod rpc_v1;
pub mod spas;
