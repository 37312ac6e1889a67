//! What a bundle says about itself: who made it for whom, from what, and a SHA-256 per file,
//! so `verify` can refuse a bundle that was changed on the way. No I/O here.

use serde::{Deserialize, Serialize};

/// The bundle format; a reader refuses a newer one rather than misread it.
pub const FORMAT: u32 = 1;

/// The manifest's name inside the archive.
pub const FILE: &str = "contrail.bundle.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// The partner the bundle is for: what it holds is what this partner must honour.
    pub partner: String,
    pub contrail_version: String,
    /// RFC 3339, when the bundle was made.
    pub created_at: String,
    pub consumer: Consumer,
    pub contracts: Vec<ContractRef>,
    /// Environment variables `verify` reads the partner's own credentials from (names only;
    /// no value is ever in a bundle).
    pub credentials: Vec<String>,
    /// The scenarios that run in `verify`, by identity.
    pub scenarios: Vec<String>,
    /// Scenarios that reach the partner but are not in the bundle, and why (their recordings
    /// are, so the interactions they rely on are still checked).
    #[serde(default)]
    pub left_out: Vec<LeftOut>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Consumer {
    pub name: String,
    #[serde(default)]
    pub git_commit: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ContractRef {
    pub name: String,
    pub version: String,
    /// Inside the bundle.
    pub file: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LeftOut {
    pub scenario: String,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    /// Relative, `/`-separated, inside the bundle.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
