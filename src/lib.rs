//! mse-auth: Alibaba Cloud / MSE / Nacos credentials (core crate, no network code).
