//! `contrail mock`: one partner's mock server in the foreground.

use super::*;

/// What `contrail mock` was asked for.
#[derive(Debug, Clone)]
pub struct MockOptions {
    pub partner: String,
    pub port: u16,
    pub mode: Mode,
    pub journal_cap: Option<usize>,
    pub simulate: bool,
    pub admin_token: Option<String>,
    /// HTTPS from the command line (`--tls-cert`/`--tls-generate`); else `[mock]`'s.
    pub tls: Option<tls::ServeTls>,
    /// Where a generated certificate's CA goes (`--tls-ca-out`); else a temporary file.
    pub ca_out: Option<std::path::PathBuf>,
}

/// Why `contrail mock` stopped other than by a signal: the user's input (settings, contracts,
/// recordings, certificates), or the harness (a port, a file it could not write). The text
/// is what to print, whole; the CLI picks the exit code.
#[derive(Debug)]
pub enum ServeError {
    BadInput(String),
    Harness(String),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::BadInput(m) | ServeError::Harness(m) => write!(f, "{m}"),
        }
    }
}

/// `contrail mock`: one partner's mock server in the foreground until Ctrl-C / SIGTERM.
pub async fn serve_until_stopped(ws: &crate::workspace::Workspace, opts: MockOptions) -> Result<(), ServeError> {
    let MockOptions {
        partner,
        port,
        mode,
        journal_cap,
        simulate,
        admin_token,
        tls,
        ca_out,
    } = opts;
    let partner = partner.as_str();
    let limits = match Limits::from_config(&ws.config.mock) {
        Ok(l) => Limits { admin_token, ..l },
        Err(e) => {
            return Err(ServeError::BadInput(format!(
                "error: {}: {e}",
                ws.file
                    .as_deref()
                    .unwrap_or(std::path::Path::new("contrail.toml"))
                    .display()
            )));
        }
    };
    let (catalog, errors) = crate::contract::Catalog::load_dir(&ws.contracts_dir(), &ws.read_roots());
    if !errors.is_empty() {
        return Err(ServeError::BadInput(format!("{errors}")));
    }
    crate::client::auth::remember_catalog_secrets(&catalog);
    let Some(contract) = catalog
        .contracts
        .values()
        .find(|c| c.partner(partner).is_some())
        .cloned()
    else {
        let known: Vec<String> = catalog
            .contracts
            .values()
            .flat_map(|c| c.partners.keys().cloned())
            .collect();
        return Err(ServeError::BadInput(format!(
            "error: no contract has a partner {partner:?} (partners: {})",
            known.join(", ")
        )));
    };
    let dir = ws.recordings_dir().join(partner);
    let https = match tls
        .map(Ok)
        .or_else(|| tls::ServeTls::from_config(&ws.config.mock, &ws.root).transpose())
    {
        None => None,
        Some(Err(e)) => {
            return Err(ServeError::BadInput(format!("error: {e}")));
        }
        Some(Ok(t)) => match t.load() {
            Ok(h) => Some(h),
            Err(e) => {
                return Err(ServeError::BadInput(format!("error: {e}")));
            }
        },
    };
    // A generated certificate's CA exists nowhere else: clients need it as a file.
    let generated_ca = https.as_ref().filter(|h| h.generated).and_then(|h| h.ca_pem.as_deref());
    let ca_file = match generated_ca.map(|pem| tls::CaFile::write(pem, ca_out.as_deref())) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => {
            return Err(ServeError::Harness(format!("error: {e}")));
        }
    };
    let upstream_tls = match ws.config.partners.get(partner).and_then(|p| p.tls.as_ref()) {
        None => None,
        Some(cfg) => match crate::client::tls::PartnerTls::load(partner, cfg, &ws.root) {
            Ok(t) => Some(t),
            Err(e) => {
                return Err(ServeError::BadInput(format!("error: {e}")));
            }
        },
    };
    let server = match start(Config {
        partner: partner.to_string(),
        contract,
        dir,
        mode,
        port,
        journal_cap: journal_cap
            .or(ws.config.mock.journal_cap)
            .unwrap_or(journal::DEFAULT_CAP),
        simulate,
        limits,
        upstream_tls,
        tls: https.map(|h| h.acceptor),
    })
    .await
    {
        Ok(s) => s,
        Err(StartError::Recordings(d)) => {
            return Err(ServeError::BadInput(format!("{d}")));
        }
        Err(e) => {
            return Err(ServeError::Harness(format!("error: {e}")));
        }
    };
    println!(
        "listening on {} ({partner}, {} recorded interaction(s))",
        server.url, server.loaded
    );
    if let Some(f) = &ca_file {
        eprintln!(
            "its certificate is signed by the CA in {} (trust that file in the system under test)",
            f.path.display()
        );
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
    server.stop().await;
    drop(ca_file);
    Ok(())
}
