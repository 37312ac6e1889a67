//! `contrail init`: a workspace to start from. Blank (`blank`: a contract and a feature that
//! run green against contrail's own mock), or from a partner's OpenAPI document (`openapi`:
//! the contract's auth from its security schemes, smoke features per tag). Nothing that exists
//! is ever overwritten: every file is checked before the first is written.

pub mod blank;
pub mod openapi;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::exit::Exit;

/// `contrail init [DIR]`.
pub fn blank(dir: &Path) -> Exit {
    let files = [
        ("contrail.toml", blank::TOML),
        ("contracts/example.yaml", blank::CONTRACT),
        ("features/example.feature", blank::FEATURE),
        ("steps/example.yaml", blank::STEPS),
    ];
    if let Err(e) = write_new(
        dir,
        files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec()))
            .collect(),
    ) {
        eprintln!("error: {e}");
        return Exit::BadInput;
    }
    println!(
        "a contrail workspace in {}: contrail.toml, contracts/example.yaml, features/example.feature, steps/example.yaml\n\
         next: `contrail run` (against contrail's own mock), then point contrail.toml at your partner's sandbox",
        dir.display()
    );
    Exit::Passed
}

pub struct FromOpenApi {
    pub spec: PathBuf,
    pub partner: String,
    pub base_url: Option<url::Url>,
}

/// `contrail init --from-openapi SPEC --partner P [--base-url URL] [DIR]`.
pub fn from_openapi(dir: &Path, o: &FromOpenApi) -> Exit {
    match from_openapi_inner(dir, o) {
        Ok(()) => Exit::Passed,
        Err(e) => {
            eprintln!("{e}");
            Exit::BadInput
        }
    }
}

fn from_openapi_inner(dir: &Path, o: &FromOpenApi) -> Result<(), String> {
    let partner = o.partner.as_str();
    if partner.is_empty()
        || !partner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "error: --partner {partner:?}: a partner's name is letters, digits, `-` and `_`"
        ));
    }
    let text = crate::yaml::read(&o.spec).map_err(|d| d.to_string())?;
    let doc: Value = crate::yaml::from_document(&o.spec, &text).map_err(|d| d.to_string())?;
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or_default();
    if !version.starts_with("3.") {
        return Err(format!(
            "error: {}: not an OpenAPI 3.0 or 3.1 document ({}); convert a Swagger 2.0 document first",
            o.spec.display(),
            if doc.get("swagger").is_some() {
                "Swagger 2.0"
            } else {
                "no `openapi:` version"
            }
        ));
    }
    let ext = match o.spec.extension().and_then(|e| e.to_str()) {
        Some("json") => "json",
        _ => "yaml",
    };
    let auth = openapi::auth(&doc, partner);
    let title = doc.pointer("/info/title").and_then(Value::as_str).unwrap_or(partner);
    let contact = doc
        .pointer("/info/contact/email")
        .or_else(|| doc.pointer("/info/contact/url"))
        .or_else(|| doc.pointer("/info/contact/name"))
        .and_then(Value::as_str);
    let contract = format!(
        "# The integration contract with {partner}, started by `contrail init --from-openapi` from\n\
         # {title:?} ({version}). The API's shape is the OpenAPI document; add what it cannot say:\n\
         # rate limits, latency, webhooks, field mappings, fields to redact.\n\
         contract: {partner}\nversion: 0.1.0\n\npartners:\n  {partner}:\n    description: {}\n{}    openapi: openapi/{partner}.{ext}\n{}",
        openapi::quoted(title),
        contact
            .map(|c| format!("    contact: {}\n", openapi::quoted(c)))
            .unwrap_or_default(),
        auth.yaml
    );
    let live = o.base_url.as_ref().map(|u| u.to_string()).or_else(|| {
        doc.pointer("/servers/0/url")
            .and_then(Value::as_str)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .filter(|u| !u.contains('{'))
            .map(str::to_string)
    });
    let toml = format!(
        "# A contrail workspace for {partner} (made by `contrail init --from-openapi`).\n\n\
         [paths]\nfeatures = \"features\"\ncontracts = \"contracts\"\nsteps = \"steps\"\nrecordings = \"recordings\"\n\n\
         # {partner}'s sandbox (never production: scenarios may create data); --base-url overrides it.\n{}\n",
        match &live {
            Some(u) => format!("[partners.{partner}]\nlive = {}", openapi::quoted(u)),
            None => format!("# [partners.{partner}]\n# live = \"https://sandbox.example.com\""),
        }
    );
    let contract_rel = PathBuf::from(format!("contracts/{partner}.yaml"));
    let spec_rel = PathBuf::from(format!("contracts/openapi/{partner}.{ext}"));
    write_new(
        dir,
        vec![
            (PathBuf::from("contrail.toml"), toml.into_bytes()),
            (contract_rel, contract.into_bytes()),
            // The copy is the text read once above (size-capped, byte-order mark dropped).
            (spec_rel, text.into_bytes()),
        ],
    )
    .map_err(|e| format!("error: {e}"))?;

    // The operations as contrail reads them, so every step written names them as lint will.
    let ws = crate::workspace::Workspace::load(&dir.join("contrail.toml")).map_err(|d| d.to_string())?;
    let (catalog, errors) = crate::contract::Catalog::load_dir(&ws.contracts_dir(), &ws.read_roots());
    if !errors.is_empty() {
        return Err(format!(
            "{errors}\nerror: the contract and the document were written to {}, but the document does not load as above",
            dir.display()
        ));
    }
    let ops: Vec<openapi::Op> = catalog
        .contracts
        .values()
        .flat_map(|c| c.partners.get(partner))
        .flat_map(|p| &p.operations)
        .map(|op| {
            let at = op.source.split_once('#').map(|(_, p)| p).unwrap_or_default();
            let described = doc.pointer(at);
            openapi::Op {
                id: op.id.clone(),
                method: op.method.clone(),
                path: op.path.clone(),
                tag: described
                    .and_then(|d| d.pointer("/tags/0"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                summary: described
                    .and_then(|d| d.get("summary"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                required: op
                    .params
                    .iter()
                    .filter(|p| p.required)
                    .map(|p| {
                        let place = match p.location {
                            crate::contract::operation::ParamIn::Path => "path",
                            crate::contract::operation::ParamIn::Query => "query",
                            crate::contract::operation::ParamIn::Header => "header",
                            crate::contract::operation::ParamIn::Cookie => "cookie",
                        };
                        (p.name.clone(), place.to_string())
                    })
                    .collect(),
                has_body: op.request_body.as_ref().is_some_and(|b| b.required),
                success: op
                    .responses
                    .keys()
                    .filter_map(|k| k.parse::<u16>().ok())
                    .filter(|s| (200..300).contains(s))
                    .min(),
            }
        })
        .collect();
    let features = openapi::features(partner, partner, &ops);
    let smoke = ops.iter().filter(|o| o.smoke()).count();
    write_new(
        dir,
        features
            .iter()
            .map(|(name, text)| (Path::new("features").join(name), text.clone().into_bytes()))
            .collect(),
    )
    .map_err(|e| format!("error: {e}"))?;
    std::fs::create_dir_all(dir.join("steps")).map_err(|e| format!("error: {e}"))?;
    println!(
        "a contrail workspace for {partner} in {}: {} operation(s), {smoke} smoke scenario(s) in {} feature file(s), {} template(s) to fill in",
        dir.display(),
        ops.len(),
        features.len(),
        ops.len() - smoke
    );
    if let Some(note) = &auth.note {
        println!("auth: {note}");
    }
    if !auth.env.is_empty() {
        println!(
            "set {} to your sandbox credentials (never written to a file)",
            auth.env.join(", ")
        );
    }
    println!(
        "next: `contrail lint`, then `contrail run --target live{}`",
        if live.is_some() {
            String::new()
        } else {
            format!(" --base-url {partner}=URL")
        }
    );
    Ok(())
}

/// Writes `files` under `dir`, none of which may exist yet (checked for all before any is
/// written), nor may `dir` already hold a workspace.
fn write_new(dir: &Path, files: Vec<(PathBuf, Vec<u8>)>) -> Result<(), String> {
    for (rel, _) in &files {
        let path = dir.join(rel);
        if path.exists() {
            return Err(format!("{} exists already; nothing was written", path.display()));
        }
    }
    for (rel, bytes) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        crate::recording::write_atomic(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
