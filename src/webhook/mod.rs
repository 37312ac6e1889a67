//! Webhooks contrail sends as a partner would: a contract-declared event, its payload filled
//! in from the schema where the scenario leaves fields out, validated, signed per the
//! contract's scheme, with the headers a real partner sends. No I/O here: `steps::webhook`
//! delivers.

pub mod generate;
pub mod sign;
pub mod strategy;
