//! `contrail import`: traffic someone already has, turned into recordings. `har` reads HAR 1.2
//! from a browser or a proxy; what it makes is redacted by the contract's policy and scanned
//! for secrets like every recording contrail writes.

pub mod har;

use std::path::Path;

use crate::exit::Exit;
use crate::workspace::Workspace;

pub struct HarOptions {
    pub partner: String,
    /// Only traffic under this URL (default: the partner's `live` URL in contrail.toml, else the
    /// one origin the file's requests share).
    pub base_url: Option<url::Url>,
    /// Give the recordings to this scenario (its identity, `Feature: Scenario`); by default any
    /// scenario may replay them.
    pub scenario: Option<String>,
}

pub fn har_file(ws: &Workspace, file: &Path, o: &HarOptions) -> Exit {
    match har_inner(ws, file, o) {
        Ok(()) => Exit::Passed,
        Err(e) => {
            eprintln!("error: {e}");
            Exit::BadInput
        }
    }
}

fn har_inner(ws: &Workspace, file: &Path, o: &HarOptions) -> Result<(), String> {
    let text = crate::yaml::read(file).map_err(|d| d.to_string())?;
    let doc: serde_json::Value = crate::yaml::from_json(file, &text).map_err(|d| d.to_string())?;
    let entries = har::entries(&doc).map_err(|e| format!("{}: {e}", file.display()))?;
    let (catalog, errors) = crate::contract::Catalog::load_dir(&ws.contracts_dir(), &ws.read_roots());
    if !errors.is_empty() {
        return Err(errors.to_string());
    }
    catalog.knows_partner(&o.partner)?;
    let contract = catalog
        .contracts
        .values()
        .find(|c| c.partners.contains_key(&o.partner))
        .ok_or_else(|| format!("no contract names {:?}", o.partner))?;
    let base = match &o.base_url {
        Some(u) => u.clone(),
        None => base_of(ws, &o.partner, entries).ok_or_else(|| {
            format!(
                "which of the file's requests are {:?}'s? give --base-url (its requests go to several hosts, and \
                 contrail.toml names no live URL for it)",
                o.partner
            )
        })?,
    };
    let imported = har::import(
        &doc,
        &har::Options {
            contract,
            partner: &o.partner,
            base: &base,
            scenario: o.scenario.clone(),
        },
    )
    .map_err(|e| format!("{}: {e}", file.display()))?;
    let dir = ws.recordings_dir().join(&o.partner);
    let mut written = 0;
    let mut kept = 0;
    let mut refused = Vec::new();
    for interaction in &imported.interactions {
        // The capture redacts; a value still shaped like a secret is not written at all.
        let flagged = serde_json::to_value(interaction)
            .map(|v| crate::secrets::scan_json(&v))
            .unwrap_or_default();
        if !flagged.is_empty() {
            refused.push(format!(
                "{} {} (looks like a secret at {}; add a `redact:` rule to the contract)",
                interaction.request.method,
                interaction.request.path,
                flagged.join(", ")
            ));
            continue;
        }
        // A recording that is there already is kept: an import never replaces what was recorded.
        if dir.join(interaction.file_name()).exists() {
            kept += 1;
            continue;
        }
        crate::recording::save(&dir, interaction)?;
        written += 1;
    }
    println!(
        "{written} recording(s) of {:?} written to {} from {} ({} under {})",
        o.partner,
        crate::diag::display_path(&dir, &ws.root).display(),
        file.display(),
        imported.interactions.len(),
        crate::recording::safe_target(base.as_str())
    );
    if kept > 0 {
        println!("  {kept} already recorded (kept as they were)");
    }
    if imported.elsewhere > 0 {
        println!("  {} request(s) to other hosts or paths left out", imported.elsewhere);
    }
    for r in &imported.unreadable {
        println!("  left out: {r}");
    }
    for r in &imported.not_in_contract {
        println!("  not in the contract (recorded anyway): {r}");
    }
    for r in &refused {
        println!("  not written: {r}");
    }
    Ok(())
}

/// The partner's live URL when contrail.toml gives a plain one, else the one origin all the
/// file's requests share.
fn base_of(ws: &Workspace, partner: &str, entries: &[serde_json::Value]) -> Option<url::Url> {
    if let Some(live) = ws.config.partners.get(partner).and_then(|p| p.live.as_deref())
        && !live.contains('{')
        && let Ok(u) = url::Url::parse(live)
    {
        return Some(u);
    }
    let origins: std::collections::BTreeSet<String> = entries
        .iter()
        .filter_map(|e| e.pointer("/request/url")?.as_str())
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .collect();
    match origins.len() {
        1 => origins.into_iter().next().and_then(|o| url::Url::parse(&o).ok()),
        _ => None,
    }
}
