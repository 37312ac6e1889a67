//! Feature files: found under the given paths (`.feature`, and Markdown with Gherkin,
//! `.feature.md`), parsed with contrail's own Gherkin parser (`crate::gherkin`), and handed to
//! cucumber-rs as its `gherkin::Feature` values with every Scenario Outline already expanded,
//! one scenario per Examples row at that row's line, as Gherkin's pickles are. So `lint`, the
//! runner and every report count and name the same scenarios, and the runner never meets a
//! placeholder rule of its own.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};
use crate::gherkin::ast;
use cucumber::gherkin;

/// Feature files under `paths` (files are taken as they are, folders searched), sorted.
pub fn feature_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_file() {
            out.push(p.clone());
        } else if p.is_dir() {
            collect(p, &mut out);
        } else {
            return Err(Diagnostic::new(p, "no such feature file or folder"));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn is_feature_file(p: &Path) -> bool {
    p.extension().is_some_and(|x| x.eq_ignore_ascii_case("feature")) || crate::gherkin::is_markdown(p)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if is_feature_file(&p) {
            out.push(p);
        }
    }
}

/// Parses one feature file: its feature (`None` for a file with no `Feature:`, which is valid
/// Gherkin and runs nothing), or every syntax error in it, each at its line and column.
pub fn parse(path: &Path) -> Result<Option<gherkin::Feature>, Diagnostics> {
    let bytes =
        std::fs::read(path).map_err(|e| Diagnostics(vec![Diagnostic::new(path, format!("cannot read: {e}"))]))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Diagnostics(vec![Diagnostic::new(
            path,
            format!(
                "not UTF-8 text (byte {} is not valid UTF-8)",
                e.utf8_error().valid_up_to()
            ),
        )])
    })?;
    let options = crate::gherkin::Options {
        markdown: crate::gherkin::is_markdown(path),
        ..Default::default()
    };
    match crate::gherkin::parse(&text, &path.display().to_string(), options) {
        Ok(parsed) => Ok(parsed.document.feature.map(|f| to_cucumber(&f, path))),
        Err(errors) => Err(Diagnostics(
            errors
                .into_iter()
                .map(|e| {
                    Diagnostic::new(path, format!("not valid Gherkin: {}", e.message)).at(e.line, e.column.unwrap_or(0))
                })
                .collect(),
        )),
    }
}

/// A feature's scenarios in file order (the feature's own, then each rule's), with their rule.
pub fn scenarios(f: &gherkin::Feature) -> impl Iterator<Item = (Option<&gherkin::Rule>, &gherkin::Scenario)> {
    f.scenarios.iter().map(|s| (None, s)).chain(
        f.rules
            .iter()
            .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
    )
}

/// Which scenarios a run takes (`--tags`, `--name`), decided before anything is checked or
/// started: a scenario left out is neither checked for undefined steps nor run.
#[derive(Default)]
pub struct Selection {
    pub tags: Option<gherkin::tagexpr::TagOperation>,
    pub name: Option<regex::Regex>,
}

impl Selection {
    /// Whether the scenario is taken (tags of its feature and rule count as its own).
    pub fn keeps(&self, f: &gherkin::Feature, r: Option<&gherkin::Rule>, s: &gherkin::Scenario) -> bool {
        let tags_ok = self.tags.as_ref().is_none_or(|t| {
            use cucumber::tag::Ext as _;
            t.eval(f.tags.iter().chain(r.iter().flat_map(|r| &r.tags)).chain(s.tags.iter()))
        });
        tags_ok && self.name.as_ref().is_none_or(|n| n.is_match(&s.name))
    }

    /// The features with only the scenarios taken (features and rules left empty are kept:
    /// they run nothing).
    pub fn apply(&self, features: &mut [(PathBuf, gherkin::Feature)]) {
        if self.tags.is_none() && self.name.is_none() {
            return;
        }
        retain(features, |f, r, s| self.keeps(f, r, s));
    }
}

/// Keeps the scenarios `keep` takes (features and rules left empty are kept: they run nothing).
pub fn retain(
    features: &mut [(PathBuf, gherkin::Feature)],
    mut keep: impl FnMut(&gherkin::Feature, Option<&gherkin::Rule>, &gherkin::Scenario) -> bool,
) {
    for (_, f) in features.iter_mut() {
        retain_in(f, &mut keep);
    }
}

/// `retain` for one feature.
pub fn retain_in(
    f: &mut gherkin::Feature,
    mut keep: impl FnMut(&gherkin::Feature, Option<&gherkin::Rule>, &gherkin::Scenario) -> bool,
) {
    let scenarios = std::mem::take(&mut f.scenarios);
    f.scenarios = scenarios.into_iter().filter(|s| keep(f, None, s)).collect();
    let mut rules = std::mem::take(&mut f.rules);
    for r in &mut rules {
        let scenarios = std::mem::take(&mut r.scenarios);
        r.scenarios = scenarios.into_iter().filter(|s| keep(f, Some(r), s)).collect();
    }
    f.rules = rules;
}

/// The texts of the steps a scenario runs, background steps first, each followed by its doc
/// string's lines (steps checked per generated item are written in one).
pub fn step_texts<'a>(
    f: &'a gherkin::Feature,
    r: Option<&'a gherkin::Rule>,
    s: &'a gherkin::Scenario,
) -> impl Iterator<Item = &'a str> {
    f.background
        .iter()
        .chain(r.and_then(|r| r.background.as_ref()))
        .flat_map(|b| &b.steps)
        .chain(&s.steps)
        .flat_map(|st| std::iter::once(st.value.as_str()).chain(st.docstring.iter().flat_map(|d| d.lines())))
}

/// Parses every feature file, keeping all errors of all files.
pub fn parse_all(files: &[PathBuf]) -> (Vec<(PathBuf, gherkin::Feature)>, Diagnostics) {
    let mut ok = Vec::new();
    let mut errors = Diagnostics::default();
    for f in files {
        match parse(f) {
            Ok(Some(feat)) => ok.push((f.clone(), feat)),
            Ok(None) => {}
            Err(e) => errors.extend(e),
        }
    }
    (ok, errors)
}

fn position(l: ast::Location) -> gherkin::LineCol {
    gherkin::LineCol {
        line: l.line,
        col: l.column.unwrap_or(0),
    }
}

const NO_SPAN: gherkin::Span = gherkin::Span { start: 0, end: 0 };

fn description(d: &str) -> Option<String> {
    (!d.trim().is_empty()).then(|| d.to_string())
}

fn tags(t: &[ast::Tag]) -> Vec<String> {
    t.iter().map(|t| t.name.trim_start_matches('@').to_string()).collect()
}

/// `<name>` replaced by the row's value, literally, as Gherkin's pickles do (a placeholder
/// with no column stays as written).
fn fill(text: &str, row: &[(String, String)]) -> String {
    let mut out = text.to_string();
    for (name, value) in row {
        out = out.replace(&format!("<{name}>"), value);
    }
    out
}

/// Steps typed as Gherkin types them: a conjunction (`And`, `But`, `*`) takes the type of the
/// step before it (`Given` at the start).
fn steps(steps: &[ast::Step], row: &[(String, String)], mut last: gherkin::StepType) -> Vec<gherkin::Step> {
    steps
        .iter()
        .map(|s| {
            let ty = match s.keyword_type {
                Some("Context") => gherkin::StepType::Given,
                Some("Action") => gherkin::StepType::When,
                Some("Outcome") => gherkin::StepType::Then,
                _ => last,
            };
            last = ty;
            gherkin::Step {
                keyword: s.keyword.clone(),
                ty,
                value: fill(&s.text, row),
                docstring: s.doc_string.as_ref().map(|d| fill(&d.content, row)),
                table: s.data_table.as_ref().map(|t| gherkin::Table {
                    rows: t
                        .rows
                        .iter()
                        .map(|r| r.cells.iter().map(|c| fill(&c.value, row)).collect())
                        .collect(),
                    span: NO_SPAN,
                    position: position(t.location),
                }),
                span: NO_SPAN,
                position: position(s.location),
            }
        })
        .collect()
}

fn background(b: &ast::Background) -> gherkin::Background {
    gherkin::Background {
        keyword: b.keyword.clone(),
        name: b.name.clone(),
        description: description(&b.description),
        steps: steps(&b.steps, &[], gherkin::StepType::Given),
        span: NO_SPAN,
        position: position(b.location),
    }
}

/// A scenario, or one per Examples row for an outline (none for Examples without rows).
fn expand(s: &ast::Scenario) -> Vec<gherkin::Scenario> {
    let plain = |row: &[(String, String)], tags_of: Vec<String>, at: ast::Location, examples| gherkin::Scenario {
        keyword: s.keyword.clone(),
        name: fill(&s.name, row),
        description: description(&s.description),
        steps: steps(&s.steps, row, gherkin::StepType::Given),
        examples,
        tags: tags_of,
        span: NO_SPAN,
        position: position(at),
    };
    if s.examples.is_empty() {
        return vec![plain(&[], tags(&s.tags), s.location, Vec::new())];
    }
    let mut out = Vec::new();
    for ex in &s.examples {
        let Some(header) = &ex.table_header else { continue };
        for row in &ex.table_body {
            let values: Vec<(String, String)> = header
                .cells
                .iter()
                .zip(&row.cells)
                .map(|(h, v)| (h.value.clone(), v.value.clone()))
                .collect();
            let mut t = tags(&s.tags);
            t.extend(tags(&ex.tags));
            // The row's own Examples table (header and this row), as the identity of a
            // recording names it.
            let examples = vec![gherkin::Examples {
                keyword: ex.keyword.clone(),
                name: (!ex.name.is_empty()).then(|| ex.name.clone()),
                description: description(&ex.description),
                table: Some(gherkin::Table {
                    rows: vec![
                        header.cells.iter().map(|c| c.value.clone()).collect(),
                        row.cells.iter().map(|c| c.value.clone()).collect(),
                    ],
                    span: NO_SPAN,
                    position: position(header.location),
                }),
                tags: tags(&ex.tags),
                span: NO_SPAN,
                position: position(ex.location),
            }];
            out.push(plain(&values, t, row.location, examples));
        }
    }
    out
}

/// The feature as cucumber-rs holds one, outlines expanded.
pub fn to_cucumber(f: &ast::Feature, path: &Path) -> gherkin::Feature {
    let mut feature = gherkin::Feature {
        keyword: f.keyword.clone(),
        name: f.name.clone(),
        description: description(&f.description),
        background: None,
        scenarios: Vec::new(),
        rules: Vec::new(),
        tags: tags(&f.tags),
        span: NO_SPAN,
        position: position(f.location),
        path: Some(path.to_path_buf()),
    };
    for child in &f.children {
        match child {
            ast::FeatureChild::Background(b) => feature.background = Some(background(b)),
            ast::FeatureChild::Scenario(s) => feature.scenarios.extend(expand(s)),
            ast::FeatureChild::Rule(r) => {
                let mut rule = gherkin::Rule {
                    keyword: r.keyword.clone(),
                    name: r.name.clone(),
                    description: description(&r.description),
                    background: None,
                    scenarios: Vec::new(),
                    tags: tags(&r.tags),
                    span: NO_SPAN,
                    position: position(r.location),
                };
                for c in &r.children {
                    match c {
                        ast::RuleChild::Background(b) => rule.background = Some(background(b)),
                        ast::RuleChild::Scenario(s) => rule.scenarios.extend(expand(s)),
                    }
                }
                feature.rules.push(rule);
            }
        }
    }
    feature
}

/// `@sut`: a scenario that needs the consumer's own system under test.
pub const SUT_TAG: &str = "sut";

/// Whether the scenario, its rule or its feature carries `tag` (without `@`).
pub fn has_tag(f: &gherkin::Feature, r: Option<&gherkin::Rule>, s: &gherkin::Scenario, tag: &str) -> bool {
    f.tags
        .iter()
        .chain(r.iter().flat_map(|r| &r.tags))
        .chain(s.tags.iter())
        .any(|t| t == tag)
}
