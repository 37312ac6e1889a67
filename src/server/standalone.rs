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

/// `contrail mock`: one partner's mock server in the foreground until Ctrl-C / SIGTERM.
pub async fn serve_until_stopped(ws: &crate::workspace::Workspace, opts: MockOptions) -> crate::exit::Exit {
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
    use crate::exit::Exit;
    let limits = match Limits::from_config(&ws.config.mock) {
        Ok(l) => Limits { admin_token, ..l },
        Err(e) => {
            eprintln!(
                "error: {}: {e}",
                ws.file
                    .as_deref()
                    .unwrap_or(std::path::Path::new("contrail.toml"))
                    .display()
            );
            return Exit::BadInput;
        }
    };
    let (catalog, errors) = crate::contract::Catalog::load_dir(&ws.contracts_dir(), &ws.read_roots());
    if !errors.is_empty() {
        eprintln!("{errors}");
        return Exit::BadInput;
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
        eprintln!(
            "error: no contract has a partner {partner:?} (partners: {})",
            known.join(", ")
        );
        return Exit::BadInput;
    };
    let dir = ws.recordings_dir().join(partner);
    let https = match tls
        .map(Ok)
        .or_else(|| tls::ServeTls::from_config(&ws.config.mock, &ws.root).transpose())
    {
        None => None,
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return Exit::BadInput;
        }
        Some(Ok(t)) => match t.load() {
            Ok(h) => Some(h),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::BadInput;
            }
        },
    };
    // A generated certificate's CA exists nowhere else: clients need it as a file.
    let generated_ca = https.as_ref().filter(|h| h.generated).and_then(|h| h.ca_pem.as_deref());
    let ca_file = match generated_ca.map(|pem| tls::CaFile::write(pem, ca_out.as_deref())) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return Exit::Harness;
        }
    };
    let upstream_tls = match ws.config.partners.get(partner).and_then(|p| p.tls.as_ref()) {
        None => None,
        Some(cfg) => match crate::client::tls::PartnerTls::load(partner, cfg, &ws.root) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::BadInput;
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
            eprintln!("{d}");
            return Exit::BadInput;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Harness;
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
    Exit::Passed
}
