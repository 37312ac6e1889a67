//! `contrail mock`: one partner's mock server in the foreground.

use super::*;

/// `contrail mock --tls-cert C --tls-key K [--tls-client-ca CA]`.
#[derive(Debug, Clone)]
pub struct ServeTls {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
    pub client_ca: Option<std::path::PathBuf>,
}

/// What `contrail mock` was asked for.
#[derive(Debug, Clone)]
pub struct MockOptions {
    pub partner: String,
    pub port: u16,
    pub mode: Mode,
    pub journal_cap: Option<usize>,
    pub simulate: bool,
    pub admin_token: Option<String>,
    pub tls: Option<ServeTls>,
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
    let acceptor = match &tls {
        None => None,
        Some(t) => match super::tls::acceptor(&t.cert, &t.key, t.client_ca.as_deref()) {
            Ok(a) => Some(a),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::BadInput;
            }
        },
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
        tls: acceptor,
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
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
    server.stop().await;
    Exit::Passed
}
