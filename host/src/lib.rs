//! dwlink-host: the CLI and library.
//!
//! Data flows one way: `cli` -> `spec` -> `engine` -> (`network` | `plugin`) -> `cloud`;
//! `testkit` (`plugin test`) drives a `plugin` against the embedded simulator.
pub mod cli;
pub mod cloud;
pub mod engine;
pub mod network;
pub mod plugin;
pub mod spec;
pub mod testkit;
