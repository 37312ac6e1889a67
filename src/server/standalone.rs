//! `contrail mock`: one partner's mock server in the foreground.

use super::*;

/// `contrail mock`: one partner's mock server in the foreground until Ctrl-C / SIGTERM.
pub async fn serve_until_stopped(
    ws: &crate::workspace::Workspace,
    partner: &str,
    port: u16,
    mode: Mode,
    journal_cap: Option<usize>,
    simulate: bool,
    admin_token: Option<String>,
) -> crate::exit::Exit {
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
