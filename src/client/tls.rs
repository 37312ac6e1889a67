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
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::workspace::TlsConfig;

/// A partner's TLS settings, loaded and checked, as the one rustls configuration that both the
/// HTTP client and [`PartnerTls::refusal`] handshake with (so the second sees what the first
/// would have seen).
#[derive(Clone)]
pub struct PartnerTls {
    config: Arc<rustls::ClientConfig>,
    /// How many CA certificates the settings add (for `Debug`: the verifier does not say).
    extra_roots: usize,
}

impl std::fmt::Debug for PartnerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PartnerTls({} CA certificate(s), client certificate: {})",
            self.extra_roots,
            self.config.client_auth_cert_resolver.has_certs()
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

/// The certificates of a PEM bundle; an error when it holds none.
fn certificates(what: &str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{what}: not a PEM certificate bundle: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{what}: holds no certificate"));
    }
    Ok(certs)
}

/// What contrail's client asks of a handshake: reqwest's own choices (the platform's roots,
/// plus any extra CA; every TLS version from `min` up; HTTP/1.1 by ALPN), built here so that
/// the configuration exists once, outside reqwest, for the refusal probe to reuse. `setting`
/// names a setting ("ca", "client_cert", "min_version") in an error.
fn client_config(
    extra_roots: Vec<CertificateDer<'static>>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    min: Option<&'static rustls::SupportedProtocolVersion>,
    setting: &dyn Fn(&str) -> String,
) -> Result<rustls::ClientConfig, String> {
    super::install_crypto_provider();
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let versions: Vec<_> = match min {
        Some(v) if v.version == rustls::ProtocolVersion::TLSv1_3 => vec![&rustls::version::TLS13],
        _ => rustls::ALL_VERSIONS.to_vec(),
    };
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
        .map_err(|e| format!("{}: the CA certificates cannot be used: {e}", setting("ca")))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| format!("{}: {e}", setting("min_version")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some((certs, key)) => builder.with_client_auth_cert(certs, key).map_err(|e| {
            format!(
                "{}: the certificate and key do not make an identity: {e}",
                setting("client_cert")
            )
        })?,
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

impl PartnerTls {
    pub fn load(partner: &str, cfg: &TlsConfig, root: &Path) -> Result<PartnerTls, String> {
        let ctx = |what: &str| format!("[partners.{partner}.tls] {what}");
        let mut ca = Vec::new();
        if let Some(c) = &cfg.ca {
            ca = certificates(&ctx("ca"), &pem(&ctx("ca"), c, root)?)?;
        }
        let identity = match (&cfg.client_cert, &cfg.client_key) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                let certs = certificates(&ctx("client_cert"), &pem(&ctx("client_cert"), cert, root)?)?;
                // The key is a secret: it must never be printed, whatever happens later.
                let key = pem(&ctx("client_key"), key, root)?;
                crate::secrets::remember(&String::from_utf8_lossy(&key));
                let key = PrivateKeyDer::from_pem_slice(&key)
                    .map_err(|e| format!("{}: not a PEM private key: {e}", ctx("client_key")))?;
                Some((certs, key))
            }
            _ => return Err(format!("{}: give both client_cert and client_key", ctx("client_cert"))),
        };
        let min = match cfg.min_version.as_deref() {
            None => None,
            Some("1.2") => Some(&rustls::version::TLS12),
            Some("1.3") => Some(&rustls::version::TLS13),
            Some(other) => return Err(format!("{}: {other:?}: use \"1.2\" or \"1.3\"", ctx("min_version"))),
        };
        let extra_roots = ca.len();
        Ok(PartnerTls {
            config: Arc::new(client_config(ca, identity, min, &ctx)?),
            extra_roots,
        })
    }

    /// Settings that only add `ca_pem` (a PEM bundle) to the trusted roots.
    pub fn trusting(what: &str, ca_pem: &[u8]) -> Result<PartnerTls, String> {
        let ca = certificates(what, ca_pem)?;
        let extra_roots = ca.len();
        Ok(PartnerTls {
            config: Arc::new(client_config(ca, None, None, &|_| what.to_string())?),
            extra_roots,
        })
    }

    /// No settings of its own: what reqwest does when given none (the platform's roots).
    pub fn system() -> Result<PartnerTls, String> {
        Ok(PartnerTls {
            config: Arc::new(client_config(Vec::new(), None, None, &|_| "TLS".to_string())?),
            extra_roots: 0,
        })
    }

    /// The client builder with these settings.
    pub fn apply(&self, b: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        // reqwest takes a `rustls::ClientConfig` of the same rustls release it uses; any other
        // type makes `build()` fail ("unknown TLS backend"), which every TLS test would show.
        b.tls_backend_preconfigured(rustls::ClientConfig::clone(&self.config))
    }

    /// Why the server at `url` refuses this client, when it does so in TLS: a handshake made
    /// as the client makes it, then a wait of at most `within` for the server's alert.
    ///
    /// Why it is needed: with TLS 1.3 a server checks the client's certificate after the
    /// client has finished its handshake, so it refuses with an alert that arrives while the
    /// client is already sending. When the alert wins the race, hyper drops the connection
    /// before the request goes out and reports only "connection was not ready"; the alert is
    /// lost. This probe sends no request, so nothing races the alert.
    ///
    /// None when the handshake and the wait show no refusal (or the server cannot be reached).
    pub async fn refusal(&self, url: &url::Url, within: Duration) -> Option<String> {
        use tokio::io::AsyncReadExt as _;
        let name = match url.host()? {
            url::Host::Domain(d) => ServerName::try_from(d.to_string()).ok()?,
            url::Host::Ipv4(ip) => ServerName::IpAddress(std::net::IpAddr::V4(ip).into()),
            url::Host::Ipv6(ip) => ServerName::IpAddress(std::net::IpAddr::V6(ip).into()),
        };
        let addr = (
            url.host_str()?.trim_matches(['[', ']']).to_string(),
            url.port_or_known_default()?,
        );
        let probe = async {
            let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
            let connector = tokio_rustls::TlsConnector::from(self.config.clone());
            let mut tls = match connector.connect(name, tcp).await {
                Ok(tls) => tls,
                Err(e) => return Some(e.to_string()),
            };
            let mut byte = [0u8; 1];
            match tls.read(&mut byte).await {
                Err(e) => Some(e.to_string()),
                Ok(_) => None,
            }
        };
        tokio::time::timeout(within, probe).await.ok().flatten()
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
