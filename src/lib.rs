//! contrail: executable integration contracts for SaaS integrations.
//!
//! Dependencies run one way (tests/layering.rs fails on a cycle): inputs and pure helpers
//! (`diag`, `yaml`, `gherkin`, `pointer`, `secrets`, `matching`, `policy`) <- `contract` (the
//! model, no network) <- `recording`, `webhook`, `drift`, `client`, `server` <- `steps` (the
//! vocabulary) <- `lint`, `bundle` <- `report`, `history` <- `run` <- `verify` <- `cli`
//! (`conform`, `import`, `init` sit beside `steps`, under `cli`). docs/architecture.md draws
//! it module by module.

pub mod bundle;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config_check;
pub mod conform;
pub mod contract;
pub mod diag;
pub mod drift;
pub mod exit;
pub mod feature;
pub mod files;
pub mod gherkin;
pub mod history;
pub mod import;
pub mod init;
pub mod interpolate;
pub mod lint;
pub mod matching;
pub mod panics;
pub mod pointer;
pub mod policy;
pub mod provenance;
pub mod recording;
pub mod report;
pub mod report_cli;
pub mod results;
pub mod run;
pub mod scenario;
pub mod secrets;
pub mod seed;
pub mod server;
pub mod shrink;
pub mod steps;
pub mod tree;
pub mod verify;
pub mod vocabulary;
pub mod webhook;
pub mod workspace;
pub mod yaml;
