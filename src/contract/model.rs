//! The integration contract as written in `contracts/*.yaml`: plain data, no I/O.
//!
//! OpenAPI says what the API looks like; this file says what OpenAPI cannot: who owns which
//! field, how values map across, what auth and scopes mean in plain words, webhooks and their
//! signatures, rate limits, latency budget, failure behaviour and what must never be recorded.
//! Names that refer to other parts of the contract are `Spanned`, so a dangling one is reported
//! at its own line.

use std::collections::BTreeMap;

use serde::Deserialize;

use serde_json::Value;
use serde_saphyr::Spanned;

// The policy's own sections are the policy module's types: contract -> policy, never back.
pub use crate::policy::doc::{PolicyDoc, RedactDoc};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractDoc {
    /// The contract's name, used by `Given the contract "..."`.
    pub contract: String,
    pub version: String,
    /// The user story, in the words of whoever owns the integration.
    #[serde(default)]
    pub story: Option<String>,
    pub partners: BTreeMap<String, PartnerDoc>,
    /// Overall data direction, e.g. "ticketing -> incidents".
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub objects: BTreeMap<String, ObjectDoc>,
    #[serde(default)]
    pub mappings: BTreeMap<String, MappingDoc>,
    #[serde(default)]
    pub webhooks: BTreeMap<String, WebhookDoc>,
    #[serde(default)]
    pub latency: Option<LatencyDoc>,
    #[serde(default)]
    pub failure: Option<FailureDoc>,
    /// Fields never to be written to a recording or a report.
    #[serde(default)]
    pub redact: Vec<RedactDoc>,
    /// What a `format` miss (`email`, `uri`, `date-time`, ...) means: `assert` (a violation),
    /// `warn` (the default: reported on its own, decides nothing) or `ignore`. Real partners
    /// send `""` for a `uri` and bot addresses that strict checks refuse.
    #[serde(default)]
    pub formats: FormatsMode,
    /// How replay, recording and drift treat individual fields (see `policy`).
    #[serde(default)]
    pub policy: Vec<PolicyDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerDoc {
    #[serde(default)]
    pub description: Option<String>,
    /// Who to tell when the partner's API breaks the contract (an address, a channel, a
    /// person): the drift report names them next to breaking findings.
    #[serde(default)]
    pub contact: Option<String>,
    /// Path to the partner's OpenAPI 3.0/3.1 document, relative to the contract file.
    #[serde(default)]
    pub openapi: Option<Spanned<String>>,
    /// Operations described inline with JSON Schemas, for partners without an OpenAPI document.
    #[serde(default)]
    pub operations: Vec<InlineOperationDoc>,
    #[serde(default)]
    pub auth: Option<AuthDoc>,
    #[serde(default)]
    pub rate_limit: Option<RateLimitDoc>,
    /// Per-request latency budget for this partner's API, e.g. "500ms".
    #[serde(default)]
    pub latency_budget: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineOperationDoc {
    pub id: String,
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub request: Option<InlineBodyDoc>,
    #[serde(default)]
    pub responses: BTreeMap<String, InlineBodyDoc>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineBodyDoc {
    #[serde(default)]
    pub schema: Option<Value>,
    #[serde(default)]
    pub description: Option<String>,
    /// Headers declared beside the body: name -> `required`, `schema`.
    #[serde(default)]
    pub headers: BTreeMap<String, InlineHeaderDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineHeaderDoc {
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub schema: Option<Value>,
    #[serde(default)]
    pub description: Option<String>,
}

/// The header an API key travels in when the contract names neither `header` nor `query`.
pub const DEFAULT_API_KEY_HEADER: &str = "X-Api-Key";

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AuthDoc {
    /// OAuth 2.0 client credentials. Values may use `${env:NAME}` or `${env:NAME:-default}`.
    Oauth2ClientCredentials {
        /// Absolute URL, or a path on the partner's base URL.
        token_url: String,
        client_id: String,
        client_secret: String,
        /// Every scope the integration may need, with its meaning in plain words.
        #[serde(default)]
        scopes: BTreeMap<String, String>,
        /// Scopes requested by default (default: all of `scopes`).
        #[serde(default)]
        request: Option<Vec<String>>,
    },
    Bearer {
        token: String,
    },
    ApiKey {
        /// Header carrying the key (default `X-Api-Key`) unless `query` is set.
        #[serde(default)]
        header: Option<String>,
        #[serde(default)]
        query: Option<String>,
        value: String,
    },
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitDoc {
    /// Requests allowed per window.
    pub requests: u32,
    /// The window, e.g. "1s", "1m".
    pub per: String,
    /// Whether the partner sends Retry-After on 429 (default true).
    #[serde(default)]
    pub retry_after: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectDoc {
    /// The partner that holds this object.
    pub partner: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, FieldDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDoc {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The partner whose value wins when the two disagree.
    #[serde(default)]
    pub source_of_truth: Option<Spanned<String>>,
    /// e.g. "ticketing -> incidents".
    #[serde(default)]
    pub direction: Option<String>,
    /// JSON pointer of the field in the partner's payload (default `/<field name>`).
    #[serde(default)]
    pub pointer: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingDoc {
    /// `object.field` the value comes from.
    pub from: Spanned<String>,
    /// `object.field` the value goes to.
    pub to: Spanned<String>,
    /// Source value (as a string) -> target value.
    pub values: BTreeMap<String, Value>,
    /// Target value when the source is missing, null or not in `values`.
    #[serde(default)]
    pub default: Option<Value>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookDoc {
    /// The partner that sends the event.
    pub from: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Inline JSON Schema of the payload.
    #[serde(default)]
    pub schema: Option<Value>,
    /// Or a reference into the sender's OpenAPI document, e.g. `#/components/schemas/TicketEscalated`.
    #[serde(default)]
    pub schema_ref: Option<Spanned<String>>,
    #[serde(default)]
    pub signature: Option<SignatureDoc>,
    #[serde(default)]
    pub retry: Option<WebhookRetryDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureDoc {
    /// Header style: github, stripe, slack, standard-webhooks or generic.
    pub style: String,
    /// Shared secret; may use `${env:NAME}`.
    pub secret: String,
    /// For the generic style: the header name.
    #[serde(default)]
    pub header: Option<String>,
    /// What is signed: "body" or "timestamp.body".
    #[serde(default)]
    pub signed_payload: Option<String>,
    /// How old a timestamp may be before the receiver must refuse it, e.g. "5m".
    #[serde(default)]
    pub tolerance: Option<String>,
}

/// The signature styles contrail can sign in (see `webhook::sign`).
pub const SIGNATURE_STYLES: [&str; 5] = ["github", "stripe", "slack", "standard-webhooks", "generic"];

impl SignatureDoc {
    /// What makes this scheme unusable, in words: checked when the contract loads, so a typo
    /// fails there and not as a delivery error in the middle of a run.
    pub fn problem(&self) -> Option<String> {
        if !SIGNATURE_STYLES.contains(&self.style.as_str()) {
            return Some(format!(
                "signature style {:?}: use github, stripe, slack, standard-webhooks or generic",
                self.style
            ));
        }
        if let Some(other) = self
            .signed_payload
            .as_deref()
            .filter(|p| !matches!(*p, "body" | "timestamp.body"))
        {
            return Some(format!("signed_payload {other:?}: use \"body\" or \"timestamp.body\""));
        }
        if let Some(h) = &self.header
            && hyper::header::HeaderName::from_bytes(h.as_bytes()).is_err()
        {
            return Some(format!(
                "signature header {h:?} is not a header name HTTP can send (letters, digits and !#$%&'*+-.^_`|~ only)"
            ));
        }
        None
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookRetryDoc {
    pub attempts: u32,
    #[serde(default)]
    pub backoff: Option<String>,
}

/// How a partner redelivers a webhook the receiver did not take: `attempts` in all, waiting
/// `first` before the second and, when `exponential`, twice as long before each next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookRetry {
    pub attempts: u32,
    pub exponential: bool,
    pub first: std::time::Duration,
}

impl WebhookRetryDoc {
    /// The wait when `backoff` names none.
    pub const FIRST_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

    /// Reads `backoff` (`500ms`, `exponential`, `exponential 2s`, `fixed 1s`): once, at load, so
    /// that a typo fails there rather than becoming the default wait in the middle of a run.
    pub fn read(&self) -> Result<WebhookRetry, String> {
        if self.attempts == 0 {
            return Err("retry.attempts must be 1 or more (1: delivered once, never again)".into());
        }
        let mut retry = WebhookRetry {
            attempts: self.attempts,
            exponential: false,
            first: Self::FIRST_WAIT,
        };
        for word in self.backoff.as_deref().unwrap_or_default().split_whitespace() {
            match word {
                "exponential" => retry.exponential = true,
                "fixed" => retry.exponential = false,
                _ => {
                    retry.first = humantime::parse_duration(word).map_err(|_| {
                        format!(
                            "retry.backoff {:?}: {word:?} is neither \"exponential\", \"fixed\" nor a duration \
                             such as 500ms",
                            self.backoff.as_deref().unwrap_or_default()
                        )
                    })?
                }
            }
        }
        Ok(retry)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyDoc {
    /// e.g. "60s".
    pub budget: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureDoc {
    /// How long the integration keeps retrying, e.g. "24h".
    #[serde(default)]
    pub retry_for: Option<String>,
    /// "exponential" or "fixed".
    #[serde(default)]
    pub backoff: Option<String>,
    /// What happens when retrying gives up, in plain words.
    #[serde(default)]
    pub then: Option<String>,
    /// On 401: e.g. "refresh the token and retry once".
    #[serde(default)]
    pub on_unauthorized: Option<String>,
    /// On 403: e.g. "pause writes and tell the admin".
    #[serde(default)]
    pub on_forbidden: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FormatsMode {
    Assert,
    #[default]
    Warn,
    Ignore,
}
