//! HTTPS for the mock server, for a system under test that only speaks HTTPS (and for
//! `contrail mock --tls-cert`): a certificate and key given as PEM files, and optionally a CA
//! whose client certificates it requires (mutual TLS).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub type Acceptor = tokio_rustls::TlsAcceptor;

fn read(what: &str, path: &Path) -> Result<Vec<u8>, String> {
    crate::files::read_text(path)
        .map(String::into_bytes)
        .map_err(|d| format!("{what} {}: {}", path.display(), d.message))
}

/// An acceptor serving `cert` (a PEM chain) with `key`; with `client_ca`, only clients with a
/// certificate that CA signed get in.
pub fn acceptor(cert: &Path, key: &Path, client_ca: Option<&Path>) -> Result<Acceptor, String> {
    crate::client::install_crypto_provider();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read("the certificate", cert)?)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the certificate {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("the certificate {} holds no PEM certificate", cert.display()));
    }
    let key_pem = read("the key", key)?;
    crate::secrets::remember(&String::from_utf8_lossy(&key_pem));
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| format!("the key {}: {e}", key.display()))?;
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
    .with_single_cert(certs, private)
    .map_err(|e| format!("the certificate {} and key {}: {e}", cert.display(), key.display()))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
