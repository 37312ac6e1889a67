//! What keeps a mock server answering when its clients misbehave: a cap on open connections
//! (beyond it a 503 and the connection closed at once, so a flood cannot take every file
//! descriptor), an idle timeout (a connection that sends nothing, or stops half-way through
//! its headers, is closed), and a byte bound on what the journal keeps of each body.

use std::time::Duration;

use crate::workspace::MockDefaults;

#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// A connection with no request in flight for this long is closed; a request's headers
    /// must arrive within it too (slowloris).
    pub idle_timeout: Duration,
    /// Bodies up to this many bytes are kept whole in the journal; longer ones as their size,
    /// SHA-256 and first bytes.
    pub journal_body_bytes: usize,
    /// When set, the admin API under /__contrail/ wants `Authorization: Bearer <token>`.
    pub admin_token: Option<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            idle_timeout: Duration::from_secs(10),
            journal_body_bytes: 64 * 1024,
            admin_token: None,
        }
    }
}

impl Limits {
    /// `[mock]` of contrail.toml over the defaults.
    pub fn from_config(m: &MockDefaults) -> Result<Limits, String> {
        let d = Limits::default();
        let idle_timeout = match &m.idle_timeout {
            Some(t) => humantime::parse_duration(t).map_err(|e| format!("[mock] idle_timeout {t:?}: {e}"))?,
            None => d.idle_timeout,
        };
        if idle_timeout.is_zero() {
            return Err("[mock] idle_timeout must be more than 0".into());
        }
        let max_connections = m.max_connections.unwrap_or(d.max_connections);
        if max_connections == 0 {
            return Err("[mock] max_connections must be 1 or more".into());
        }
        Ok(Limits {
            max_connections,
            idle_timeout,
            journal_body_bytes: m.journal_body_bytes.unwrap_or(d.journal_body_bytes),
            admin_token: None,
        })
    }
}
