//! The verification result: what a partner sends back to the consumer after running their
//! bundle, and what `contrail verify --import` reads. It names the bundle by its SHA-256 (so
//! the consumer knows exactly what was verified), the partner's API by host and version, and
//! each scenario and finding; never a URL path, query or credential. No I/O here.

use serde::{Deserialize, Serialize};

use crate::bundle::manifest::{Consumer, ContractRef, LeftOut, Manifest};
use crate::report::{Counts, Finding, Report, Verdict};

/// What `--import` accepts: this kind, this format or older.
pub const KIND: &str = "contrail-verification";
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VerificationResult {
    pub kind: String,
    pub format: u32,
    pub partner: String,
    pub bundle_sha256: String,
    pub consumer: Consumer,
    pub contracts: Vec<ContractRef>,
    /// `host:port` of the API verified (no path, no query, no user).
    pub target: String,
    /// The partner's API version, as its OpenAPI document in the bundle says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub verified_at: String,
    pub contrail_version: String,
    /// The scenarios' and recordings' verdict (as `contrail drift` gives it).
    pub verdict: Verdict,
    /// Everything held: the verdict and generated conformance (exit code 0).
    #[serde(default)]
    pub passed: bool,
    pub exit_code: i32,
    pub counts: Counts,
    pub scenarios: Vec<Item>,
    pub findings: Vec<FindingItem>,
    /// Recordings no bundled scenario sent again (they were made by scenarios left out).
    #[serde(default)]
    pub not_replayed: Vec<String>,
    #[serde(default)]
    pub left_out: Vec<LeftOut>,
    /// Generated conformance of the operations the bundle uses (`contrail conform`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conformance: Option<Conformance>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Conformance {
    pub operations: Vec<String>,
    pub requests: usize,
    pub seed: u64,
    /// The most requests within any one second, and what the contract allows.
    pub busiest_second: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<String>,
    pub findings: Vec<ConformanceFinding>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConformanceFinding {
    pub operation: String,
    pub kind: String,
    pub message: String,
    /// The smallest failing request, as curl (the token from `$TOKEN`).
    pub curl: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Item {
    pub scenario: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FindingItem {
    pub class: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    pub place: String,
    pub message: String,
    pub fingerprint: String,
}

impl From<&Finding> for FindingItem {
    fn from(f: &Finding) -> FindingItem {
        FindingItem {
            class: f.class.clone(),
            operation: f.operation.clone(),
            place: f.place.clone(),
            message: f.message.clone(),
            fingerprint: f.fingerprint.clone(),
        }
    }
}

/// The facts a result is made of.
pub struct Facts<'a> {
    pub manifest: &'a Manifest,
    pub bundle_sha256: &'a str,
    pub target: &'a url::Url,
    pub api_version: Option<String>,
    pub report: &'a Report,
    pub exit_code: i32,
}

impl VerificationResult {
    pub fn new(f: Facts<'_>) -> VerificationResult {
        let r = f.report;
        let host = f.target.host_str().unwrap_or("?");
        let target = match f.target.port_or_known_default() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        VerificationResult {
            kind: KIND.into(),
            format: FORMAT,
            partner: f.manifest.partner.clone(),
            bundle_sha256: f.bundle_sha256.to_string(),
            consumer: f.manifest.consumer.clone(),
            contracts: f.manifest.contracts.clone(),
            target,
            api_version: f.api_version,
            verified_at: r.meta.generated_at.clone(),
            contrail_version: env!("CARGO_PKG_VERSION").into(),
            verdict: r.verdict,
            passed: f.exit_code == 0,
            exit_code: f.exit_code,
            counts: r.counts.clone(),
            scenarios: r
                .scenarios
                .iter()
                .map(|s| Item {
                    scenario: s.id.clone(),
                    status: s.status.clone(),
                    failure: s
                        .failure
                        .as_ref()
                        .map(|t| t.lines().take(3).collect::<Vec<_>>().join("\n")),
                })
                .collect(),
            findings: r.findings.iter().map(FindingItem::from).collect(),
            not_replayed: r.drift.as_ref().map(|d| d.not_exercised.clone()).unwrap_or_default(),
            left_out: f.manifest.left_out.clone(),
            conformance: None,
        }
    }

    /// One line for a person: who verified what, when, and how it went.
    pub fn headline(&self) -> String {
        format!(
            "partner {:?} verified bundle {} ({} {}) on {} against {}: {} ({} scenario(s): {} passed, {} failed; {} finding(s))",
            self.partner,
            &self.bundle_sha256[..12.min(self.bundle_sha256.len())],
            self.contracts
                .iter()
                .map(|c| format!("{} {}", c.name, c.version))
                .collect::<Vec<_>>()
                .join(", "),
            self.api_version
                .as_deref()
                .map(|v| format!("API {v}"))
                .unwrap_or_else(|| "API version unknown".into()),
            self.verified_at,
            self.target,
            self.verdict.label(),
            self.counts.scenarios,
            self.counts.passed,
            self.counts.failed,
            self.findings.len()
        ) + &self
            .conformance
            .as_ref()
            .map(|c| {
                format!(
                    "; conformance: {} finding(s) over {} operation(s)",
                    c.findings.len(),
                    c.operations.len()
                )
            })
            .unwrap_or_default()
    }

    /// Reads a result another machine wrote: this kind, a format this contrail knows.
    pub fn parse(text: &str) -> Result<VerificationResult, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        if v.get("kind").and_then(|k| k.as_str()) != Some(KIND) {
            return Err(format!("not a verification result (no \"kind\": {KIND:?})"));
        }
        let format = v.get("format").and_then(|f| f.as_u64()).unwrap_or(0);
        if format > u64::from(FORMAT) {
            return Err(format!(
                "verification result format {format} is newer than this contrail reads ({FORMAT})"
            ));
        }
        serde_json::from_value(v).map_err(|e| format!("a verification result, but {e}"))
    }
}
