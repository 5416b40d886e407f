//! Helpers shared by the provider tests: the loopback peers of the emulator crate, and a real Nacos
//! server.

#![allow(dead_code, unused_imports)] // each test binary uses a different subset

pub mod rnacos;

pub use mse_auth_emulator::loopback::{closed_port, Canned, Unanswered};
