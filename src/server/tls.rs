//! HTTPS for the mock server, for a system under test that only speaks HTTPS: a certificate
//! and key given as PEM files, or one generated for this process; optionally a CA whose client
//! certificates it requires (mutual TLS).
//!
//! A generated certificate comes from a throwaway CA made in memory: it signs one server
//! certificate for 127.0.0.1, ::1 and localhost, and its key is dropped as soon as it has, so
//! nothing else can ever be signed with it. Only the CA certificate (public) leaves memory, as
//! a file the system under test is told to trust; the keys are never written.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub type Acceptor = tokio_rustls::TlsAcceptor;

/// How a mock serves HTTPS, as the user asked for it.
#[derive(Debug, Clone)]
pub enum ServeTls {
    /// A certificate chain and key (PEM files); `ca` is the CA that signed it, for contrail's
    /// own client and the system under test (the system's roots when absent).
    Given {
        cert: PathBuf,
        key: PathBuf,
        ca: Option<PathBuf>,
        client_ca: Option<PathBuf>,
    },
    /// A certificate made for this process (see the module comment).
    Generated { client_ca: Option<PathBuf> },
}

/// HTTPS ready to serve: the acceptor, and the CA certificate clients must trust when contrail
/// knows it (always for a generated certificate).
#[derive(Clone)]
pub struct Https {
    pub acceptor: Acceptor,
    pub ca_pem: Option<String>,
    pub generated: bool,
}

impl ServeTls {
    /// `[mock]`'s HTTPS settings: `tls_cert` and `tls_key` (with `tls_ca`), or `https = true`
    /// for a generated certificate; None for plain HTTP.
    pub fn from_config(mock: &crate::workspace::MockDefaults, root: &Path) -> Result<Option<ServeTls>, String> {
        match (&mock.tls_cert, &mock.tls_key) {
            (Some(cert), Some(key)) if mock.https != Some(false) => Ok(Some(ServeTls::Given {
                cert: root.join(cert),
                key: root.join(key),
                ca: mock.tls_ca.as_ref().map(|c| root.join(c)),
                client_ca: None,
            })),
            (Some(_), Some(_)) => Err("[mock] https = false, but tls_cert and tls_key are given".into()),
            (None, None) if mock.tls_ca.is_some() => {
                Err("[mock] tls_ca names the CA of a given certificate: give tls_cert and tls_key too".into())
            }
            (None, None) => Ok(mock
                .https
                .unwrap_or(false)
                .then_some(ServeTls::Generated { client_ca: None })),
            _ => Err("[mock] give both tls_cert and tls_key, or neither".into()),
        }
    }

    pub fn load(&self) -> Result<Https, String> {
        match self {
            ServeTls::Given {
                cert,
                key,
                ca,
                client_ca,
            } => Ok(Https {
                acceptor: acceptor(cert, key, client_ca.as_deref())?,
                ca_pem: match ca {
                    None => None,
                    Some(ca) => Some(String::from_utf8_lossy(&read("the mock's CA", ca)?).into_owned()),
                },
                generated: false,
            }),
            ServeTls::Generated { client_ca } => generate(client_ca.as_deref()),
        }
    }
}

fn read(what: &str, path: &Path) -> Result<Vec<u8>, String> {
    crate::files::read_text(path)
        .map(String::into_bytes)
        .map_err(|d| format!("{what} {}: {}", path.display(), d.message))
}

/// An acceptor serving `cert` (a PEM chain) with `key`; with `client_ca`, only clients with a
/// certificate that CA signed get in.
pub fn acceptor(cert: &Path, key: &Path, client_ca: Option<&Path>) -> Result<Acceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read("the certificate", cert)?)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the certificate {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("the certificate {} holds no PEM certificate", cert.display()));
    }
    let key_pem = read("the key", key)?;
    crate::secrets::remember(&String::from_utf8_lossy(&key_pem));
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| format!("the key {}: {e}", key.display()))?;
    serving(certs, private, client_ca)
        .map_err(|e| format!("the certificate {} and key {}: {e}", cert.display(), key.display()))
}

fn serving(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca: Option<&Path>,
) -> Result<Acceptor, String> {
    crate::client::install_crypto_provider();
    let builder = rustls::ServerConfig::builder();
    let config = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(&read("the client CA", ca)?) {
                let c = c.map_err(|e| format!("the client CA {}: {e}", ca.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("the client CA {}: {e}", ca.display()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
                .build()
                .map_err(|e| format!("the client CA {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    }
    .with_single_cert(certs, key)
    .map_err(|e| e.to_string())?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// How long a generated certificate is valid: from a day before now (clocks drift) to 30
/// days after (a `contrail mock` left running for weeks should be restarted anyway).
const VALID_BEFORE: time::Duration = time::Duration::days(1);
const VALID_AFTER: time::Duration = time::Duration::days(30);

/// A throwaway CA and a server certificate for this machine's loopback names.
pub fn generate(client_ca: Option<&Path>) -> Result<Https, String> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let failed = |e: rcgen::Error| format!("cannot generate the mock's certificate: {e}");
    let now = time::OffsetDateTime::now_utc();
    let (ca_pem, issuer) = {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "contrail mock CA (throwaway, this run only)");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = now - VALID_BEFORE;
        params.not_after = now + VALID_AFTER;
        let key = KeyPair::generate().map_err(failed)?;
        let cert = params.self_signed(&key).map_err(failed)?;
        (cert.pem(), Issuer::new(params, key))
    };
    let mut params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "::1".into(), "localhost".into()]).map_err(failed)?;
    params.distinguished_name.push(DnType::CommonName, "contrail mock");
    params.not_before = now - VALID_BEFORE;
    params.not_after = now + VALID_AFTER;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().map_err(failed)?;
    let cert = params.signed_by(&key, &issuer).map_err(failed)?;
    // The CA's key goes here: nothing more can be signed with it.
    drop(issuer);
    let private = PrivateKeyDer::try_from(key.serialize_der()).map_err(|e| format!("the generated key: {e}"))?;
    Ok(Https {
        acceptor: serving(vec![cert.der().clone()], private, client_ca)?,
        ca_pem: Some(ca_pem),
        generated: true,
    })
}

/// The mock's CA certificate as a file for a system under test to trust: `out` when given
/// (written atomically), else a temporary file removed when this value is dropped.
pub struct CaFile {
    pub path: PathBuf,
    _temp: Option<tempfile::TempPath>,
}

impl CaFile {
    pub fn write(pem: &str, out: Option<&Path>) -> Result<CaFile, String> {
        if let Some(out) = out {
            crate::recording::write_atomic(out, pem.as_bytes())
                .map_err(|e| format!("cannot write the mock's CA certificate to {}: {e}", out.display()))?;
            return Ok(CaFile {
                path: out.to_path_buf(),
                _temp: None,
            });
        }
        let mut file = tempfile::Builder::new()
            .prefix("contrail-mock-ca-")
            .suffix(".pem")
            .tempfile()
            .map_err(|e| format!("cannot write the mock's CA certificate: {e}"))?;
        std::io::Write::write_all(&mut file, pem.as_bytes())
            .map_err(|e| format!("cannot write the mock's CA certificate: {e}"))?;
        let temp = file.into_temp_path();
        Ok(CaFile {
            path: temp.to_path_buf(),
            _temp: Some(temp),
        })
    }
}
