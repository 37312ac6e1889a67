//! Webhooks contrail sends as a partner would: a contract-declared event, its payload filled
//! in from the schema where the scenario leaves fields out, validated, signed per the
//! contract's scheme, with the headers a real partner sends. No I/O here: `steps::webhook`
//! delivers.

pub mod generate;
pub mod sign;
pub mod strategy;

/// One webhook as delivered ("that webhook").
#[derive(Debug, Clone)]
pub struct Delivery {
    pub partner: String,
    pub event: String,
    /// The delivery id: the same on a redelivery.
    pub id: String,
    pub body: Vec<u8>,
    /// Status of the last attempt (0: no answer).
    pub status: u16,
    pub response: String,
    pub attempts: u32,
}
