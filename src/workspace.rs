//! The workspace: `contrail.toml`, found from the current directory upward, and the folders it
//! names. A missing file is fine (defaults: `features/`, `contracts/`, `steps/`, `recordings/` next
//! to where contrail runs); a malformed one is a located error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::diag::Diagnostic;

pub const FILE_NAME: &str = "contrail.toml";

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub paths: Paths,
    #[serde(default)]
    pub run: RunDefaults,
    #[serde(default)]
    pub mock: MockDefaults,
    /// Base URLs per partner and target: `[partners.ticketing] live = "http://..."`.
    #[serde(default)]
    pub partners: BTreeMap<String, PartnerTargets>,
    /// Processes to start before a run (a sandbox, later the system under test).
    #[serde(default)]
    pub services: BTreeMap<String, ServiceConfig>,
    /// The system under test: started after the mock servers, for scenarios tagged `@sut`.
    #[serde(default)]
    pub sut: Option<SutConfig>,
    /// How schemas are found.
    #[serde(default)]
    pub schemas: SchemasConfig,
    /// Where runs are remembered (new / still present / fixed findings, flaky scenarios).
    #[serde(default)]
    pub history: HistoryConfig,
}

/// `[history]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    /// The SQLite file every `run` and `drift` appends to, relative to the workspace
    /// (`--history FILE` overrides it; no history when neither is set).
    pub path: Option<PathBuf>,
    /// How many recent runs decide whether a scenario is flaky (default 10).
    pub flaky_window: Option<usize>,
}

/// `[schemas]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SchemasConfig {
    /// Remote `$ref` prefix -> the folder (relative to the workspace, inside what may be read)
    /// holding local copies: `"https://schemas.example.com/" = "vendor/schemas"`. Remote
    /// references are never fetched; these are the only ones followed.
    #[serde(default)]
    pub remote: BTreeMap<String, PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Paths {
    pub features: PathBuf,
    pub contracts: PathBuf,
    pub steps: PathBuf,
    pub recordings: PathBuf,
    /// More folders that `$ref`s and body files may read from (relative to the workspace).
    pub read_roots: Vec<PathBuf>,
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            features: "features".into(),
            contracts: "contracts".into(),
            steps: "steps".into(),
            recordings: "recordings".into(),
            read_roots: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RunDefaults {
    pub jobs: Option<usize>,
    /// What `contrail run` talks to without `--target`: "replay", "live" or "record" (default:
    /// replay when recordings exist, else live).
    pub target: Option<String>,
    /// Per-request timeout, e.g. "10s".
    pub request_timeout: Option<String>,
}

/// `[mock]`: settings of contrail's mock servers (in runs and in `contrail mock`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MockDefaults {
    /// Requests each mock's journal keeps; the oldest go first (default 10,000).
    pub journal_cap: Option<usize>,
    /// Bodies longer than this many bytes are kept in the journal as size, SHA-256 and a
    /// prefix (default 65,536).
    pub journal_body_bytes: Option<usize>,
    /// Connections a mock keeps open at once; more are answered 503 (default 1,024).
    pub max_connections: Option<usize>,
    /// A connection idle this long is closed, e.g. "10s" (the default).
    pub idle_timeout: Option<String>,
    /// Serve HTTPS, for a system under test that only speaks HTTPS: with `tls_cert` and
    /// `tls_key` when given, else with a certificate generated for the run (its CA handed to
    /// the system under test as `{mock.ca}` and `CONTRAIL_MOCK_CA`).
    pub https: Option<bool>,
    /// The certificate chain and key (PEM paths) to serve HTTPS with ...
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// ... and the CA that signed them, which contrail's client and the system under test
    /// trust (without it, the system's roots).
    pub tls_ca: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PartnerTargets {
    /// Base URL of the partner's live sandbox; may use `{services.NAME.url}`.
    pub live: Option<String>,
    /// How to talk TLS to it (a private CA, a client certificate, a minimum version).
    pub tls: Option<TlsConfig>,
}

/// `[partners.NAME.tls]`: each value a path (relative to the workspace), the PEM itself, or
/// `${env:NAME}` holding either.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// CA certificates (PEM bundle) to trust for this partner, besides the system's.
    pub ca: Option<String>,
    /// Client certificate (PEM) for mutual TLS, with its key.
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
    /// "1.2" or "1.3".
    pub min_version: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Program and arguments; `{port}` is replaced by a free port on 127.0.0.1 chosen by contrail.
    pub command: Vec<String>,
    /// Path (on the service's URL) or full URL polled until it answers 2xx.
    pub ready: String,
    /// How long to wait for readiness, e.g. "60s" (default 120s: a first run may compile it).
    pub ready_timeout: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory relative to the workspace root (default: the root).
    pub cwd: Option<PathBuf>,
}

impl ServiceConfig {
    pub fn ready_timeout(&self) -> Result<Duration, String> {
        match &self.ready_timeout {
            None => Ok(Duration::from_secs(120)),
            Some(s) => humantime::parse_duration(s).map_err(|e| format!("ready_timeout {s:?}: {e}")),
        }
    }
}

/// `[sut]`: the integration service the `@sut` scenarios test. Its command and env may use
/// `{port}`, `{url}`, `{partners.NAME.url}` (the partner as this run serves it: a mock server,
/// or live) and `{partners.NAME.token_url}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SutConfig {
    pub command: Vec<String>,
    /// Path (on the SUT's URL) polled until it answers 2xx.
    pub ready: String,
    pub ready_timeout: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
    /// Partner -> the path on the SUT where that partner's webhooks are delivered.
    #[serde(default)]
    pub webhooks: BTreeMap<String, String>,
    /// Start a fresh SUT for every @sut scenario (no state carried over; slower).
    #[serde(default)]
    pub per_scenario: bool,
}

impl SutConfig {
    pub fn as_service(&self) -> ServiceConfig {
        ServiceConfig {
            command: self.command.clone(),
            ready: self.ready.clone(),
            ready_timeout: self.ready_timeout.clone(),
            env: self.env.clone(),
            cwd: self.cwd.clone(),
        }
    }
}

/// A loaded workspace: its root folder and its configuration.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    /// The config file, when there is one.
    pub file: Option<PathBuf>,
    pub config: Config,
}

impl Workspace {
    /// Finds `contrail.toml` from `start` upward; with none, the workspace is `start` itself.
    pub fn discover(start: &Path) -> Result<Self, Diagnostic> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Self::load(&candidate);
            }
            dir = d.parent();
        }
        Ok(Self {
            root: start.to_path_buf(),
            file: None,
            config: Config::default(),
        })
    }

    pub fn load(file: &Path) -> Result<Self, Diagnostic> {
        let text = crate::yaml::read(file)?;
        let config: Config = toml::from_str(&text).map_err(|e| {
            let mut d = Diagnostic::new(file, e.message().to_string());
            if let Some(range) = e.span() {
                let (line, col) = line_col(&text, range.start);
                d = d.at(line, col);
            }
            d
        })?;
        let root = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(Self {
            root,
            file: Some(file.to_path_buf()),
            config,
        })
    }

    pub fn features_dir(&self) -> PathBuf {
        self.root.join(&self.config.paths.features)
    }
    pub fn contracts_dir(&self) -> PathBuf {
        self.root.join(&self.config.paths.contracts)
    }
    pub fn recordings_dir(&self) -> PathBuf {
        self.root.join(&self.config.paths.recordings)
    }
    pub fn steps_dir(&self) -> PathBuf {
        self.root.join(&self.config.paths.steps)
    }

    /// Where files named by the user's input may be read from: the workspace, the folders
    /// contrail.toml names, and its `[paths] read_roots`.
    pub fn read_roots(&self) -> crate::files::Roots {
        let p = &self.config.paths;
        let mut roots = crate::files::Roots::new(
            [&p.features, &p.contracts, &p.steps, &p.recordings]
                .into_iter()
                .chain(&p.read_roots)
                .map(|d| self.root.join(d))
                .chain([self.root.clone()]),
        );
        for (prefix, dir) in &self.config.schemas.remote {
            roots = roots.with_remote(prefix, self.root.join(dir));
        }
        roots
    }
}

/// Files directly in `dir` (not below) whose extension is one of `extensions`, sorted.
/// A missing folder has no files.
pub fn files_in(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| extensions.contains(&e))
        })
        .collect();
    files.sort();
    files
}

/// Folders directly in `dir`, sorted (a missing folder has none).
pub fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_upward_and_reports_bad_keys_with_location() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "[paths]\nfeatures = \"f\"\n").unwrap();
        let ws = Workspace::discover(&nested).unwrap();
        assert_eq!(ws.root, dir.path());
        assert_eq!(ws.features_dir(), dir.path().join("f"));

        std::fs::write(dir.path().join(FILE_NAME), "[paths]\nfeaturez = \"f\"\n").unwrap();
        let err = Workspace::discover(&nested).unwrap_err();
        assert_eq!(err.span.map(|s| s.line), Some(2), "{err}");
        assert!(err.message.contains("featurez"), "{err}");
    }

    #[test]
    fn no_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::discover(dir.path()).unwrap();
        assert!(ws.file.is_none());
        assert_eq!(ws.contracts_dir(), dir.path().join("contracts"));
    }
}
