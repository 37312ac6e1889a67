//! `contrail lint`, and the checks `contrail run` makes before it starts anything.
//!
//! Everything is checked without a network: contracts and their OpenAPI documents load and
//! (with `deep`) every schema compiles; declarative steps resolve; feature files parse; every
//! step is defined, has the doc string or table it needs, names a contract, partner,
//! operation and mapping that exist, and carries valid JSON and markers. Each problem names
//! file:line:col.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use cucumber::gherkin;

use crate::contract::{Catalog, Contract};
use crate::diag::{Diagnostic, Diagnostics};
use crate::exit::Exit;
use crate::matching;
use crate::steps::registry::{Attachment, Lookup, StepBody, StepRef};
use crate::steps::{Registry, assert, builtin_registry, context, declarative, http, oauth, values};
use crate::workspace::Workspace;

pub struct Loaded {
    pub catalog: Catalog,
    pub registry: Registry,
    pub features: Vec<(PathBuf, gherkin::Feature)>,
}

/// How `load` checks: `lint` checks every scenario and refuses undefined steps; a run checks
/// only the scenarios it takes and leaves undefined and ambiguous steps to be reported as such
/// when their scenario runs (the other scenarios still run).
pub struct Mode<'a> {
    /// Also compile every schema (lint).
    pub deep: bool,
    pub selection: &'a crate::feature::Selection,
    /// An undefined or ambiguous step is a problem that stops everything.
    pub undefined_is_problem: bool,
}

impl Mode<'_> {
    pub fn lint() -> Mode<'static> {
        static ALL: crate::feature::Selection = crate::feature::Selection { tags: None, name: None };
        Mode {
            deep: true,
            selection: &ALL,
            undefined_is_problem: true,
        }
    }
}

/// Loads and checks everything a run needs; lint checks the recordings itself.
pub fn load(ws: &Workspace, paths: &[PathBuf], mode: Mode<'_>) -> Result<Loaded, Diagnostics> {
    let deep = mode.deep;
    let mut errors = Diagnostics::default();
    let (catalog, e) = Catalog::load_dir(&ws.contracts_dir(), &ws.read_roots());
    errors.extend(e);
    errors.extend(crate::config_check::check(ws, &catalog));
    if deep {
        for c in catalog.contracts.values() {
            errors.extend(c.compile_all());
        }
    }
    let mut registry = builtin_registry();
    errors.extend(declarative::load_into(&mut registry, &ws.steps_dir()));

    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![ws.features_dir()]
    } else {
        paths.to_vec()
    };
    let files = match crate::feature::feature_files(&paths) {
        Ok(f) => f,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    if files.is_empty() && errors.is_empty() {
        errors.push(Diagnostic::new(
            paths.first().cloned().unwrap_or_default(),
            "no .feature files here",
        ));
    }
    let (mut features, e) = crate::feature::parse_all(&files);
    errors.extend(e);
    mode.selection.apply(&mut features);
    for (file, feature) in &features {
        check_feature(
            file,
            feature,
            &catalog,
            &registry,
            mode.undefined_is_problem,
            &mut errors,
        );
    }
    errors.extend(check_identities(&features));
    // One outline row after another repeats the same finding: keep each once.
    let mut seen = BTreeSet::new();
    errors.0.retain(|d| seen.insert(d.to_string()));
    if errors.is_empty() {
        Ok(Loaded {
            catalog,
            registry,
            features,
        })
    } else {
        Err(errors)
    }
}

/// Two scenarios that replay could mix up: one name with different steps in a feature, or one
/// identity in two feature files.
fn check_identities(features: &[(PathBuf, gherkin::Feature)]) -> Diagnostics {
    let mut out = Diagnostics::default();
    let mut seen: std::collections::HashMap<String, (PathBuf, usize)> = Default::default();
    for (file, feature) in features {
        let identities = crate::scenario::all(feature);
        for (name, first, line) in crate::scenario::clashes(&identities) {
            out.push(
                Diagnostic::new(
                    file,
                    format!(
                        "a second scenario named {name:?} with other steps (the first is at line {first}): their \
                         recordings would be mixed up; give each scenario a name of its own"
                    ),
                )
                .at(line, 1),
            );
        }
        for (identity, line) in identities {
            match seen.get(&identity.id) {
                Some((first, first_line)) if first != file => out.push(
                    Diagnostic::new(
                        file,
                        format!(
                            "a second scenario named {:?} (the first is {}:{first_line}): their recordings would be \
                             mixed up; give each scenario a name of its own",
                            identity.id,
                            first.display()
                        ),
                    )
                    .at(line, 1),
                ),
                Some(_) => {}
                None => {
                    seen.insert(identity.id, (file.clone(), line));
                }
            }
        }
    }
    out
}

/// Every recording of the workspace, and the ones that do not parse (recordings are input too:
/// a broken one is found by lint, not in the middle of a replay). Read once for all of lint's
/// checks on them.
fn all_recordings(ws: &Workspace) -> (Vec<(PathBuf, crate::recording::Interaction)>, Diagnostics) {
    let mut items = Vec::new();
    let mut errors = Diagnostics::default();
    for dir in crate::workspace::subfolders(&ws.recordings_dir()) {
        let (i, e) = crate::recording::load_dir(&dir);
        items.extend(i);
        errors.extend(e);
    }
    (items, errors)
}

/// Recordings made for steps their scenario no longer has, and recordings whose scenario is
/// gone (renamed or removed): `contrail lint --stale`.
fn stale_recordings(
    recordings: &[(PathBuf, crate::recording::Interaction)],
    features: &[(PathBuf, gherkin::Feature)],
) -> Diagnostics {
    let current: std::collections::HashMap<String, String> = features
        .iter()
        .flat_map(|(_, f)| crate::scenario::all(f))
        .map(|(i, _)| (i.id, i.steps))
        .collect();
    let mut out = Diagnostics::default();
    for (file, interaction) in recordings {
        let Some(scenario) = &interaction.meta.scenario else {
            continue;
        };
        match (current.get(scenario), &interaction.meta.steps) {
            (None, _) => out.push(Diagnostic::new(
                file,
                format!("orphaned: no scenario is named {scenario:?} any more (renamed or removed?)"),
            )),
            (Some(now), Some(then)) if now != then => out.push(Diagnostic::new(
                file,
                format!("stale: the steps of {scenario:?} changed since this was recorded; record it again"),
            )),
            _ => {}
        }
    }
    out
}

/// Committed recordings that hold something shaped like a secret (a key named like one with
/// a value that is not a placeholder, a bearer credential, a JWT, a cloud key): they must not
/// reach git. The value itself is never printed. `allow` lists JSON pointers (into the
/// recording file) accepted as false positives.
fn scan_recordings(recordings: &[(PathBuf, crate::recording::Interaction)], allow: &[String]) -> Diagnostics {
    let mut out = Diagnostics::default();
    for (file, interaction) in recordings {
        let Ok(v) = serde_json::to_value(interaction) else {
            continue;
        };
        for pointer in crate::secrets::scan_json(&v) {
            if allow.contains(&pointer) {
                continue;
            }
            out.push(
                Diagnostic::new(file, "this recording holds what looks like a secret")
                    .pointer(pointer.clone())
                    .help(format!(
                        "add a `redact:` rule for it to the contract and record again, or accept a false \
                         positive with `contrail lint --allow-secret {pointer}`"
                    )),
            );
        }
    }
    out
}

/// `contrail lint`: prints every problem; exit 0 when there is none, 2 otherwise.
pub fn lint(ws: &Workspace, paths: &[PathBuf], allow_secrets: &[String], stale: bool, deny_warnings: bool) -> Exit {
    let (recordings, mut problems) = all_recordings(ws);
    problems.extend(scan_recordings(&recordings, allow_secrets));
    let loaded = match load(ws, paths, Mode::lint()) {
        Ok(l) => {
            if stale {
                problems.extend(stale_recordings(&recordings, &l.features));
            }
            if problems.is_empty() { Ok(l) } else { Err(problems) }
        }
        Err(mut d) => {
            d.extend(problems);
            Err(d)
        }
    };
    match loaded {
        Ok(l) => {
            // Warnings: printed; a failure only with --deny-warnings.
            let root = ws.root.clone();
            let mut warned = 0;
            for c in l.catalog.contracts.values() {
                for w in &c.warnings.0 {
                    let mut shown = w.clone();
                    shown.file = crate::diag::display_path(&w.file, &root);
                    eprintln!("warning: {shown}");
                    warned += 1;
                }
            }
            if deny_warnings && warned > 0 {
                eprintln!("{warned} warning(s), denied by --deny-warnings");
                return Exit::BadInput;
            }
            let scenarios: usize = l
                .features
                .iter()
                .map(|(_, f)| f.scenarios.len() + f.rules.iter().map(|r| r.scenarios.len()).sum::<usize>())
                .sum();
            println!(
                "ok: {} contract(s), {} feature file(s), {} scenario(s), {} step definition(s); no problems",
                l.catalog.contracts.len(),
                l.features.len(),
                scenarios,
                l.registry.defs().len()
            );
            Exit::Passed
        }
        Err(d) => {
            let root = ws.root.clone();
            for diag in &d.0 {
                let mut shown = diag.clone();
                shown.file = crate::diag::display_path(&diag.file, &root);
                eprintln!("{shown}");
            }
            eprintln!("{} problem(s)", d.len());
            Exit::BadInput
        }
    }
}

struct Ctx<'a> {
    file: &'a PathBuf,
    catalog: &'a Catalog,
    registry: &'a Registry,
    contract: Option<Arc<Contract>>,
    /// A `the contract` step named a contract that does not load: later checks would only
    /// repeat that one problem.
    contract_unknown: bool,
    /// Whether an undefined or ambiguous step is reported here (lint) or left to the run.
    undefined_is_problem: bool,
}

fn check_feature(
    file: &PathBuf,
    feature: &gherkin::Feature,
    catalog: &Catalog,
    registry: &Registry,
    undefined_is_problem: bool,
    out: &mut Diagnostics,
) {
    let mut groups: Vec<(Vec<&gherkin::Step>, &gherkin::Scenario)> = Vec::new();
    let bg: Vec<&gherkin::Step> = feature.background.iter().flat_map(|b| &b.steps).collect();
    for sc in &feature.scenarios {
        groups.push((bg.clone(), sc));
    }
    for rule in &feature.rules {
        let mut rbg = bg.clone();
        rbg.extend(rule.background.iter().flat_map(|b| &b.steps));
        for sc in &rule.scenarios {
            groups.push((rbg.clone(), sc));
        }
    }
    for (background, scenario) in groups {
        let mut ctx = Ctx {
            file,
            catalog,
            registry,
            contract: None,
            contract_unknown: false,
            undefined_is_problem,
        };
        for step in background.into_iter().chain(&scenario.steps) {
            check_step(&mut ctx, step, out);
        }
    }
}

fn check_step(ctx: &mut Ctx<'_>, step: &gherkin::Step, out: &mut Diagnostics) {
    let file = ctx.file;
    let at = |msg: String| Diagnostic::new(file, msg).at(step.position.line, step.position.col);
    match ctx.registry.lookup(&step.value) {
        Lookup::Undefined { .. } | Lookup::Ambiguous(_) if !ctx.undefined_is_problem => {}
        Lookup::Undefined { suggestion } => {
            let mut d = at(format!("undefined step: {}", step.value));
            if let Some(s) = suggestion {
                d = d.help(format!("did you mean: {s}"));
            }
            out.push(d);
        }
        Lookup::Ambiguous(phrases) => out.push(at(format!(
            "the step matches several definitions: {}",
            phrases.join(" | ")
        ))),
        Lookup::Found(found) => {
            let def = ctx.registry.get(found.index);
            match (def.attachment, step.docstring.is_some(), step.table.is_some()) {
                (Attachment::DocString, false, _) => out.push(at(format!(
                    "{:?} needs a doc string (\"\"\" ... \"\"\") below it",
                    def.phrase.text
                ))),
                (Attachment::Table, _, false) => {
                    out.push(at(format!("{:?} needs a data table below it", def.phrase.text)))
                }
                (Attachment::None, true, _) => out.push(at(format!("{:?} takes no doc string", def.phrase.text))),
                (Attachment::None | Attachment::DocString, _, true) => {
                    out.push(at(format!("{:?} takes no data table", def.phrase.text)))
                }
                _ => {}
            }
            let args = found.raw_args.clone();
            check_use(ctx, &found, args, step.docstring.as_deref(), &at, out, 0);
        }
    }
}

/// Checks what a resolved step refers to. For a declarative step, its expansion is checked with
/// the arguments substituted, so a bad operation id passed through a domain phrase is found.
fn check_use(
    ctx: &mut Ctx<'_>,
    found: &StepRef,
    args: Vec<String>,
    docstring: Option<&str>,
    at: &dyn Fn(String) -> Diagnostic,
    out: &mut Diagnostics,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    let def = ctx.registry.get(found.index);
    let is_static = |s: &str| !s.contains("${");
    match &def.body {
        StepBody::Macro(m) => {
            let params: std::collections::BTreeMap<String, String> =
                def.phrase.params.iter().map(|p| p.name.clone()).zip(args).collect();
            let subst = |s: &str| {
                let mut t = s.to_string();
                for (k, v) in &params {
                    t = t.replace(&format!("${{{k}}}"), v);
                }
                if let Some(d) = docstring {
                    t = t.replace("${docstring}", d);
                }
                t
            };
            for sub in m.sub_steps().cloned().collect::<Vec<_>>() {
                let sub_args: Vec<String> = sub.step.raw_args.iter().map(|a| subst(a)).collect();
                let sub_doc = sub.docstring.as_deref().map(subst);
                let within = |msg: String| {
                    at(format!(
                        "{msg} (in the expansion of {:?}: {:?})",
                        def.phrase.text, sub.text
                    ))
                };
                check_use(ctx, &sub.step, sub_args, sub_doc.as_deref(), &within, out, depth + 1);
            }
        }
        StepBody::Builtin(_) => {
            let phrase = def.phrase.text.as_str();
            let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
            match phrase {
                context::CONTRACT if is_static(&arg(0)) => match ctx.catalog.get(&arg(0)) {
                    Some(c) => ctx.contract = Some(c.clone()),
                    // Its file did not load: that error is reported once, at the file.
                    None if ctx.catalog.failed.contains(&arg(0)) => ctx.contract_unknown = true,
                    None => {
                        ctx.contract_unknown = true;
                        let known: Vec<&str> = ctx.catalog.contracts.keys().map(String::as_str).collect();
                        out.push(at(format!("no contract named {:?} (contracts: {})", arg(0), if known.is_empty() { "none".into() } else { known.join(", ") })));
                    }
                },
                context::PARTNER if is_static(&arg(0)) => {
                    if let Some(c) = &ctx.contract
                        && c.partner(&arg(0)).is_none() {
                            out.push(at(format!("the contract {:?} has no partner {:?}", c.name, arg(0))));
                        }
                }
                context::AUTH_SCOPES | oauth::SCOPE_REMOVED if is_static(&arg(0)) => {
                    if let Some(c) = &ctx.contract {
                        let partner = (phrase == oauth::SCOPE_REMOVED && is_static(&arg(1))).then(|| arg(1));
                        if let Some(declared) = c.declared_scopes(partner.as_deref()) {
                            for scope in arg(0).split_whitespace() {
                                if !declared.contains(scope) {
                                    out.push(at(format!(
                                        "the scope {scope:?} is not declared by the contract {:?} (its auth scopes: {})",
                                        c.name,
                                        declared.iter().copied().collect::<Vec<_>>().join(", ")
                                    )));
                                }
                            }
                        }
                    }
                }
                http::CALL | http::CALL_WITH_BODY | http::CALL_BREAKING if is_static(&arg(0)) => match &ctx.contract {
                    None if ctx.contract_unknown => {}
                    None => out.push(at("no contract is chosen before this call: add Given the contract \"...\" (in the Background, say)".into())),
                    Some(c) => {
                        // An operation that needs a scope the contract's auth never asks for
                        // can only be refused.
                        for op in c.find_operation(&arg(0)) {
                            if let Some(declared) = c.declared_scopes(Some(&op.partner)) {
                                for scope in op.scopes.iter().filter(|s| !declared.contains(s.as_str())) {
                                    out.push(at(format!(
                                        "{} needs the scope {scope:?}, which the contract {:?} does not declare for {:?} (its auth scopes: {})",
                                        op.id,
                                        c.name,
                                        op.partner,
                                        declared.iter().copied().collect::<Vec<_>>().join(", ")
                                    )));
                                }
                            }
                        }
                        if c.find_operation(&arg(0)).is_empty() {
                            let mut ids: Vec<&str> = c.partners.values().flat_map(|p| p.operations.iter().map(|o| o.id.as_str())).collect();
                            ids.sort_by_key(|id| strsim::levenshtein(id, &arg(0)));
                            let mut d = at(format!("the contract {:?} has no operation {:?}", c.name, arg(0)));
                            if let Some(best) = ids.first() {
                                d = d.help(format!("did you mean {best:?}?"));
                            }
                            out.push(d);
                        }
                    }
                },
                assert::FOLLOWS_MAPPING | assert::FOLLOWS_MAPPING_DEFAULT if is_static(&arg(1)) => {
                    if let Some(c) = &ctx.contract
                        && c.mapping(&arg(1)).is_none() {
                            let known: Vec<&str> = c.doc.mappings.keys().map(String::as_str).collect();
                            out.push(at(format!("the contract {:?} has no mapping {:?} (mappings: {})", c.name, arg(1), known.join(", "))));
                        }
                }
                assert::FIELD_IS if is_static(&arg(1)) => match values::parse_value(&arg(1)) {
                    Ok(v) => {
                        if let Err(e) = matching::check_expected(&v) {
                            out.push(at(e));
                        }
                    }
                    Err(e) => out.push(at(e.message.clone())),
                },
                _ => {}
            }
            // Webhook steps name an event: the contract must declare it, from that partner.
            if let Some(i) = def.phrase.params.iter().position(|p| p.name == "event")
                && is_static(&arg(i))
                && let Some(c) = &ctx.contract
            {
                let event = arg(i);
                match c.webhook_sender(&event) {
                    None => {
                        let known = c.webhook_names();
                        out.push(at(format!(
                            "the contract {:?} declares no webhook {event:?} (webhooks: {})",
                            c.name,
                            if known.is_empty() {
                                "none".into()
                            } else {
                                known.join(", ")
                            }
                        )));
                    }
                    Some(sender) => {
                        if let Some(p) = def.phrase.params.iter().position(|p| p.name == "partner")
                            && is_static(&arg(p))
                            && arg(p) != sender
                        {
                            out.push(at(format!(
                                "the webhook {event:?} comes from {sender:?}, not {:?}",
                                arg(p)
                            )));
                        }
                    }
                }
            }
            if def.phrase.text == crate::steps::webhook::GENERATED {
                // Its doc string lists steps: each must be one contrail knows, and one line.
                for line in crate::steps::webhook::listed_steps(docstring.unwrap_or_default()) {
                    match ctx.registry.lookup(&line) {
                        Lookup::Found(f) if ctx.registry.get(f.index).attachment == Attachment::None => {}
                        Lookup::Found(_) => out.push(at(format!(
                            "in the doc string: {line:?} needs a doc string or table, which a listed step cannot have"
                        ))),
                        Lookup::Undefined { suggestion } => {
                            let mut d = at(format!("in the doc string: undefined step: {line}"));
                            if let Some(sg) = suggestion {
                                d = d.help(format!("did you mean: {sg}"));
                            }
                            out.push(d);
                        }
                        Lookup::Ambiguous(p) => out.push(at(format!(
                            "in the doc string: {line:?} matches several definitions: {}",
                            p.join(" | ")
                        ))),
                    }
                }
            } else if def.attachment == Attachment::DocString
                && let Some(doc) = docstring.filter(|d| is_static(d))
            {
                match values::json_docstring(doc) {
                    // Only an expectation's doc string is a pattern; a payload or a request
                    // body is data, and a "#..." string in it is just a string.
                    Ok(v) if matches!(def.group.as_str(), "assertions" | "journal") => {
                        if let Err(e) = matching::check_expected(&v) {
                            out.push(at(format!("in the doc string: {e}")));
                        }
                    }
                    Ok(_) => {}
                    Err(e) => out.push(at(e.message.clone())),
                }
            }
        }
    }
}
