//! The `mse-auth` command line (`cargo install --path cli` installs it) and the tour of every auth mode
//! on the local cloud emulator, which `mse-auth tour` and `cli/examples/tour.rs` print.
//!
//! The binary's subcommands live in `src/bin/mse-auth/`, a file each; this library holds only what the
//! binary and the examples share.

#![warn(unreachable_pub)]

pub mod tour;
