//! What goes into a partner's bundle, taken from the consumer's workspace: the contracts that
//! name the partner (cut down, `reduce`), the partner's OpenAPI documents, the scenarios that
//! reach only this partner (feature files cut, `cut`), the declarative steps they use and no
//! others, and the partner's recordings. Every file that goes in is scanned for secrets; one
//! that looks like it holds one stops the bundle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::manifest::{self, ContractRef, FileEntry, LeftOut, Manifest};
use crate::diag::{Diagnostic, Diagnostics};
use crate::lint::Loaded;
use crate::tree::Tree;
use crate::workspace::Workspace;

pub struct Options {
    pub partner: String,
    /// The consumer's name in the manifest (default: the workspace folder's name).
    pub consumer: Option<String>,
    /// JSON pointers into recordings accepted as false positives of the secret scan (as
    /// `contrail lint --allow-secret`).
    pub allow_secrets: Vec<String>,
}

/// The files of a bundle and its manifest (files listed with their hashes).
pub struct Contents {
    pub manifest: Manifest,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Why no bundle was made: bad input (exit 2), with every problem found.
pub type Refused = Diagnostics;

pub fn contents(ws: &Workspace, loaded: &Loaded, o: &Options) -> Result<Contents, Refused> {
    let partner = o.partner.as_str();
    loaded
        .catalog
        .knows_partner(partner)
        .map_err(|e| Diagnostics::from(Diagnostic::new(&ws.root, e)))?;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    // What the consumer wrote (contracts, features, steps), scanned for secrets at the end.
    let mut written: BTreeSet<String> = BTreeSet::new();
    let mut problems = Diagnostics::default();
    let mut contracts = Vec::new();
    let mut credentials = BTreeSet::new();
    let roots = ws.read_roots();
    // The workspace as the disk has it (symlinks resolved): every file's place is taken from it.
    let root = std::fs::canonicalize(&ws.root).unwrap_or_else(|_| ws.root.clone());

    for c in loaded.catalog.contracts.values() {
        let Some(p) = c.partners.get(partner) else { continue };
        let Some(rel) = inside(&root, &c.file, &mut problems) else {
            continue;
        };
        let doc: Tree = match crate::yaml::read(&c.file).and_then(|t| crate::yaml::from_document(&c.file, &t)) {
            Ok(d) => d,
            Err(d) => {
                problems.push(d);
                continue;
            }
        };
        let operations: BTreeSet<String> = p.operations.iter().map(|o| o.id.clone()).collect();
        let reduced = super::reduce::reduce(doc, partner, &operations);
        credentials.extend(reduced.credentials);
        let yaml = match reduced.contract.to_yaml() {
            Ok(y) => y,
            Err(e) => {
                problems.push(Diagnostic::new(
                    &c.file,
                    format!("cannot write the contract cut down: {e}"),
                ));
                continue;
            }
        };
        let text = format!(
            "# The contract {:?} {} cut down by `contrail bundle` to what {partner:?} must honour.\n\
             # Credentials are read from the environment of whoever runs `contrail verify`.\n{yaml}",
            c.name, c.version
        );
        files.insert(rel.clone(), text.into_bytes());
        written.insert(rel.clone());
        contracts.push(ContractRef {
            name: c.name.clone(),
            version: c.version.clone(),
            file: rel,
        });
        // The partner's OpenAPI documents: the root and every local file it references.
        if let Some(spec) = &p.doc.openapi {
            let path = c.file.parent().unwrap_or(Path::new(".")).join(&spec.value);
            let mut docs = crate::contract::openapi::Documents::default();
            match docs.load_openapi(&path, &roots) {
                Ok(_) => problems.extend(docs.load_remote_refs(&roots)),
                Err(e) => problems.extend(e),
            }
            for file in docs.files.values() {
                add_file(&root, file, &mut files, &mut problems);
            }
        }
    }

    // Scenarios: those that reach this partner only.
    let reached = crate::steps::reach::of_features(&ws.root, &loaded.features, &loaded.registry, &loaded.catalog);
    let mut kept_lines: BTreeMap<PathBuf, BTreeSet<usize>> = BTreeMap::new();
    let mut scenarios = Vec::new();
    let mut left_out = Vec::new();
    let mut step_texts: Vec<String> = Vec::new();
    for (path, feature) in &loaded.features {
        let uri = crate::diag::display_path(path, &ws.root).display().to_string();
        for (rule, scenario) in crate::feature::scenarios(feature) {
            let Some(sc) = reached.get(&(uri.clone(), scenario.position.line)) else {
                continue;
            };
            if !sc.reach.touches(partner) {
                continue;
            }
            let why = if crate::feature::has_tag(feature, rule, scenario, crate::feature::SUT_TAG) {
                Some("needs the consumer's system under test, @sut".to_string())
            } else if sc.reach.unsure {
                Some("names no partner, and its contract has several".to_string())
            } else if sc.reach.partners.len() > 1 {
                // Which other partner is not this partner's business.
                Some("also reaches another partner".to_string())
            } else {
                None
            };
            match why {
                Some(why) => left_out.push(LeftOut {
                    scenario: sc.id.clone(),
                    why,
                }),
                None => {
                    scenarios.push(sc.id.clone());
                    kept_lines
                        .entry(path.clone())
                        .or_default()
                        .insert(scenario.position.line);
                    step_texts.extend(crate::feature::step_texts(feature, rule, scenario).map(str::to_string));
                }
            }
        }
    }
    for (path, lines) in &kept_lines {
        let Some(rel) = inside(&root, path, &mut problems) else {
            continue;
        };
        match cut_feature(path, lines, &scenarios) {
            Ok(text) => {
                written.insert(rel.clone());
                files.insert(rel, text.into_bytes());
            }
            Err(d) => problems.push(d),
        }
    }

    // The declarative steps those scenarios use, by file.
    let used = crate::steps::reach::definitions(&loaded.registry, step_texts.iter().map(String::as_str));
    let mut phrases: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    for i in used {
        if let crate::steps::registry::Origin::File { path, .. } = &loaded.registry.get(i).origin {
            phrases
                .entry(path.clone())
                .or_default()
                .insert(loaded.registry.get(i).phrase.text.clone());
        }
    }
    for (path, wanted) in &phrases {
        let Some(rel) = inside(&root, path, &mut problems) else {
            continue;
        };
        match steps_file(path, wanted) {
            Ok(text) => {
                written.insert(rel.clone());
                files.insert(rel, text.into_bytes());
            }
            Err(d) => problems.push(d),
        }
    }

    // What the consumer wrote is scanned for anything shaped like a secret.
    for rel in &written {
        let bytes = files.get(rel).map(Vec::as_slice).unwrap_or_default();
        if crate::secrets::shape::has_shape(&String::from_utf8_lossy(bytes)) {
            problems.push(
                Diagnostic::new(
                    ws.root.join(rel),
                    "this file holds what looks like a secret; it is not bundled",
                )
                .help("use ${env:NAME} or a placeholder instead of the value"),
            );
        }
    }

    // The partner's recordings, each scanned as `contrail lint` does.
    let dir = ws.recordings_dir().join(partner);
    let (recordings, errors) = crate::recording::load_dir(&dir);
    problems.extend(errors);
    for (file, interaction) in &recordings {
        let Ok(v) = serde_json::to_value(interaction) else {
            continue;
        };
        let flagged: Vec<String> = crate::secrets::scan_json(&v)
            .into_iter()
            .filter(|p| !o.allow_secrets.contains(p))
            .collect();
        for pointer in &flagged {
            problems.push(
                Diagnostic::new(file, "this recording holds what looks like a secret; it is not bundled")
                    .pointer(pointer.clone())
                    .help(format!(
                        "add a `redact:` rule for it to the contract and record again, or accept a false positive \
                         with `contrail bundle --allow-secret {pointer}`"
                    )),
            );
        }
        if flagged.is_empty() {
            add_file(&root, file, &mut files, &mut problems);
        }
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    files.insert("contrail.toml".into(), workspace_toml(ws, partner).into_bytes());
    let manifest = Manifest {
        format: manifest::FORMAT,
        partner: partner.to_string(),
        contrail_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        consumer: manifest::Consumer {
            name: o.consumer.clone().unwrap_or_else(|| {
                ws.root
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "consumer".into())
            }),
            git_commit: crate::provenance::git_commit(&ws.root),
        },
        contracts,
        credentials: credentials.into_iter().collect(),
        scenarios,
        left_out,
        files: files
            .iter()
            .map(|(path, b)| FileEntry {
                path: path.clone(),
                sha256: manifest::sha256_hex(b),
                bytes: b.len() as u64,
            })
            .collect(),
    };
    Ok(Contents { manifest, files })
}

/// The path inside the bundle: as in the workspace. A file outside it cannot be placed.
fn inside(root: &Path, path: &Path, problems: &mut Diagnostics) -> Option<String> {
    let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match full.strip_prefix(root) {
        Ok(rel) => Some(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
        ),
        Err(_) => {
            problems.push(Diagnostic::new(
                path,
                "outside the workspace, so it cannot go into a bundle",
            ));
            None
        }
    }
}

fn add_file(root: &Path, path: &Path, files: &mut BTreeMap<String, Vec<u8>>, problems: &mut Diagnostics) {
    let Some(rel) = inside(root, path, problems) else {
        return;
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            files.insert(rel, bytes);
        }
        Err(e) => problems.push(Diagnostic::new(path, format!("cannot read: {e}"))),
    }
}

/// The feature file cut to `lines`; checked by parsing it again: exactly the scenarios kept.
fn cut_feature(path: &Path, lines: &BTreeSet<usize>, kept_ids: &[String]) -> Result<String, Diagnostic> {
    let source = std::fs::read_to_string(path).map_err(|e| Diagnostic::new(path, format!("cannot read: {e}")))?;
    let options = crate::gherkin::Options {
        markdown: crate::gherkin::is_markdown(path),
        ..Default::default()
    };
    let parse = |text: &str| {
        crate::gherkin::parse(text, &path.display().to_string(), options)
            .ok()
            .and_then(|p| p.document.feature)
    };
    let feature = parse(&source).ok_or_else(|| Diagnostic::new(path, "cannot parse it again"))?;
    let text = super::cut::cut(&source, &feature, lines, options.markdown)
        .ok_or_else(|| Diagnostic::new(path, "nothing left"))?;
    let again = parse(&text).ok_or_else(|| Diagnostic::new(path, "cut down, it no longer parses (a bug)"))?;
    let ids: BTreeSet<String> = crate::scenario::of_expanded(&crate::feature::to_cucumber(&again, path))
        .into_iter()
        .map(|(identity, _)| identity.id)
        .collect();
    let wanted: BTreeSet<String> = crate::scenario::of_expanded(&crate::feature::to_cucumber(&feature, path))
        .into_iter()
        .filter(|(_, line)| lines.contains(line))
        .map(|(identity, _)| identity.id)
        .collect();
    if ids != wanted || !wanted.iter().all(|id| kept_ids.contains(id)) {
        return Err(Diagnostic::new(
            path,
            "cut down, it does not hold exactly the scenarios chosen (a bug in contrail bundle)",
        ));
    }
    Ok(text)
}

/// A declarative steps file keeping only the steps whose phrase is wanted.
fn steps_file(path: &Path, wanted: &BTreeSet<String>) -> Result<String, Diagnostic> {
    let text = crate::yaml::read(path)?;
    let mut doc: Tree = crate::yaml::from_yaml(path, &text)?;
    if let Some(steps) = doc.get_mut("steps") {
        steps.retain_items(|s| {
            s.get("phrase")
                .and_then(Tree::as_str)
                .is_some_and(|p| wanted.contains(p))
        });
    }
    let yaml = doc.to_yaml().map_err(|e| Diagnostic::new(path, e))?;
    Ok(format!(
        "# Cut down by `contrail bundle` to the steps the bundled scenarios use.\n{yaml}"
    ))
}

/// The bundle's own contrail.toml: where things are, and nothing else (no URL, no secret, no
/// service of the consumer's). `verify` gives the partner's base URL.
fn workspace_toml(ws: &Workspace, partner: &str) -> String {
    let rel = |p: &Path| {
        crate::diag::display_path(&ws.root.join(p), &ws.root)
            .display()
            .to_string()
    };
    let quoted = |p: &Path| serde_json::Value::String(rel(p)).to_string();
    // The workspace's own folder names, so the paths inside the bundle stay as written.
    let paths = &ws.config.paths;
    let mut out = format!(
        "# Made by `contrail bundle` for {partner:?}: the workspace `contrail verify` runs in.\n\
         # It holds no secret and no URL; the partner's base URL comes from `verify --base-url`.\n\n\
         [paths]\nfeatures = {}\ncontracts = {}\nsteps = {}\nrecordings = {}\n",
        quoted(&paths.features),
        quoted(&paths.contracts),
        quoted(&paths.steps),
        quoted(&paths.recordings),
    );
    let remote = &ws.config.schemas.remote;
    if !remote.is_empty() {
        out.push_str("\n[schemas.remote]\n");
        for (prefix, dir) in remote {
            out.push_str(&format!(
                "{} = {}\n",
                serde_json::Value::String(prefix.clone()),
                serde_json::Value::String(rel(dir))
            ));
        }
    }
    out
}
