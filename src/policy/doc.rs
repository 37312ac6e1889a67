//! The contract's `redact:` and `policy:` sections as written: plain serde types, read by the
//! contract loader and compiled here into a `FieldPolicy`. They live with the policy so that the
//! policy depends on nothing in `contract`.

use serde::Deserialize;

/// One thing never to store: a header, a query parameter, or a body field (JSON pointer).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactDoc {
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
}

/// One field policy rule: a header, a query parameter or a body field (JSON pointer, `*` for
/// any segment, or a bare key name for that key at any depth), and what to do with it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDoc {
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// ignore, volatile, type-only, `regex RE` or redact.
    pub action: String,
    /// Limit the rule to one operation.
    #[serde(default)]
    pub operation: Option<String>,
}
