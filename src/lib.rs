//! contrail: executable integration contracts for SaaS integrations.
//!
//! Dependencies run one way: `diag`/`yaml` (input) <- `contract` (model, no network) <-
//! `matching` (pure comparison) <- `steps` (vocabulary) <- `run` (runner, client, reports) <-
//! `cli`.

pub mod contract;
pub mod diag;
pub mod workspace;
pub mod yaml;
pub mod matching;
pub mod interpolate;
pub mod client;
pub mod feature;
pub mod steps;
pub mod exit;
pub mod lint;
pub mod run;
pub mod cli;
pub mod vocabulary;
