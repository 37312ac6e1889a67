//! TLS towards a partner's real sandbox, the way enterprises run them: a private CA bundle,
//! a client certificate for mutual TLS, a minimum protocol version, all per partner in
//! `contrail.toml`:
//!
//! ```toml
//! [partners.billing.tls]
//! ca = "certs/billing-ca.pem"            # or "${env:BILLING_CA}" holding a path or the PEM
//! client_cert = "${env:BILLING_CERT}"
//! client_key = "${env:BILLING_KEY}"
//! min_version = "1.3"
//! ```
//!
//! Handshake failures are named for what they are (unknown issuer, name mismatch, expired,
//! client certificate refused) rather than "is the sandbox running?".

use std::path::Path;

use crate::workspace::TlsConfig;

/// A partner's TLS settings, loaded and checked.
#[derive(Clone)]
pub struct PartnerTls {
    ca: Vec<reqwest::Certificate>,
    identity: Option<reqwest::Identity>,
    min_version: Option<reqwest::tls::Version>,
}

impl std::fmt::Debug for PartnerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PartnerTls({} CA certificate(s), client certificate: {})",
            self.ca.len(),
            self.identity.is_some()
        )
    }
}

/// PEM text from a setting: `${env:NAME}` is read first; text that starts like PEM is the
/// PEM itself, anything else a path (relative to the workspace).
fn pem(what: &str, value: &str, root: &Path) -> Result<Vec<u8>, String> {
    let value = crate::interpolate::interpolate_env(value).map_err(|e| format!("{what}: {e}"))?;
    if value.trim_start().starts_with("-----BEGIN") {
        return Ok(value.into_bytes());
    }
    let path = root.join(value.trim());
    crate::files::read_text(&path)
        .map(String::into_bytes)
        .map_err(|d| format!("{what}: {}: {}", path.display(), d.message))
}

impl PartnerTls {
    pub fn load(partner: &str, cfg: &TlsConfig, root: &Path) -> Result<PartnerTls, String> {
        let ctx = |what: &str| format!("[partners.{partner}.tls] {what}");
        let mut ca = Vec::new();
        if let Some(c) = &cfg.ca {
            let text = pem(&ctx("ca"), c, root)?;
            ca = reqwest::Certificate::from_pem_bundle(&text)
                .map_err(|e| format!("{}: not a PEM certificate bundle: {e}", ctx("ca")))?;
            if ca.is_empty() {
                return Err(format!("{}: holds no certificate", ctx("ca")));
            }
        }
        let identity = match (&cfg.client_cert, &cfg.client_key) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                let mut both = pem(&ctx("client_cert"), cert, root)?;
                // The key is a secret: it must never be printed, whatever happens later.
                let key = pem(&ctx("client_key"), key, root)?;
                crate::secrets::remember(&String::from_utf8_lossy(&key));
                both.push(b'\n');
                both.extend_from_slice(&key);
                Some(reqwest::Identity::from_pem(&both).map_err(|e| {
                    format!(
                        "{}: the certificate and key do not make an identity: {e}",
                        ctx("client_cert")
                    )
                })?)
            }
            _ => return Err(format!("{}: give both client_cert and client_key", ctx("client_cert"))),
        };
        let min_version = match cfg.min_version.as_deref() {
            None => None,
            Some("1.2") => Some(reqwest::tls::Version::TLS_1_2),
            Some("1.3") => Some(reqwest::tls::Version::TLS_1_3),
            Some(other) => return Err(format!("{}: {other:?}: use \"1.2\" or \"1.3\"", ctx("min_version"))),
        };
        Ok(PartnerTls {
            ca,
            identity,
            min_version,
        })
    }

    /// Settings that only add `ca_pem` (a PEM bundle) to the trusted roots.
    pub fn trusting(what: &str, ca_pem: &[u8]) -> Result<PartnerTls, String> {
        let ca = reqwest::Certificate::from_pem_bundle(ca_pem)
            .map_err(|e| format!("{what}: not a PEM certificate bundle: {e}"))?;
        if ca.is_empty() {
            return Err(format!("{what}: the CA file holds no certificate"));
        }
        Ok(PartnerTls {
            ca,
            identity: None,
            min_version: None,
        })
    }

    /// The client builder with these settings.
    pub fn apply(&self, mut b: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        if !self.ca.is_empty() {
            b = b.tls_certs_merge(self.ca.clone());
        }
        if let Some(id) = &self.identity {
            b = b.identity(id.clone());
        }
        if let Some(v) = self.min_version {
            b = b.min_tls_version(v);
        }
        b
    }
}

/// What a TLS failure in an error chain means, in words, when it is one.
pub fn explain(chain: &str) -> Option<&'static str> {
    let c = chain.to_ascii_lowercase();
    let says = |needles: &[&str]| needles.iter().any(|n| c.contains(&n.to_ascii_lowercase()));
    if says(&["unknownissuer", "unknown issuer", "unknown ca", "unknownca"]) {
        Some(
            "its certificate is signed by an issuer this run does not trust: give its CA bundle as \
             [partners.NAME.tls] ca",
        )
    } else if says(&["notvalidforname", "not valid for name", "certnotvalidforname"]) {
        Some("its certificate is not valid for this host name (name mismatch)")
    } else if says(&["expired", "notvalidyet", "not valid yet"]) {
        Some("its certificate has expired (or is not valid yet)")
    } else if says(&[
        "certificaterequired",
        "certificate required",
        "badcertificate",
        "bad certificate",
    ]) {
        Some(
            "it refused the client certificate, or wants one: give [partners.NAME.tls] client_cert and \
             client_key",
        )
    } else if says(&[
        "protocolversion",
        "protocol version",
        "peerincompatible",
        "peer is incompatible",
    ]) {
        Some("no TLS version both sides accept (see [partners.NAME.tls] min_version)")
    } else if says(&["handshake", "invalid peer certificate", "tls"]) && says(&["alert", "certificate"]) {
        Some("the TLS handshake failed")
    } else {
        None
    }
}
