//! mse-auth: Alibaba Cloud / MSE / Nacos credentials (core crate, no network code).

/// Request signers: pure functions from request parameters and a secret to a signature.
pub mod sign;
