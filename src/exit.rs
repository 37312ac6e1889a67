//! Exit codes, one per class of outcome, so CI can tell "the partner broke the contract" from
//! "the sandbox was down" from "the feature file is wrong".

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every scenario passed (or lint found nothing).
    Passed = 0,
    /// At least one scenario failed.
    Failed = 1,
    /// Bad input: usage, a contract, a feature, a step file or contrail.toml is wrong.
    BadInput = 2,
    /// The harness or a target could not run: unreachable sandbox, a service that would not start.
    Harness = 3,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}
