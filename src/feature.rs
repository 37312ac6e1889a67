//! Feature files: found under the given paths, parsed with gherkin, errors located.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};
use cucumber::gherkin;

/// `*.feature` files under `paths` (files are taken as they are, folders searched), sorted.
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

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("feature")) {
            out.push(p);
        }
    }
}

/// Parses one feature file; a syntax error names the file, line and column.
pub fn parse(path: &Path) -> Result<gherkin::Feature, Diagnostic> {
    match gherkin::Feature::parse_path(path, gherkin::GherkinEnv::default()) {
        Ok(f) => Ok(f),
        Err(gherkin::ParseFileError::Reading { source, .. }) => {
            Err(Diagnostic::new(path, format!("cannot read: {source}")))
        }
        Err(gherkin::ParseFileError::Parsing { error, source, .. }) => {
            // ParseError keeps its position private; its Display is "Error at L:C: {expected}".
            let text = source.to_string();
            let mut d = Diagnostic::new(
                path,
                match &error {
                    Some(env) => format!("not valid Gherkin: {env}"),
                    None => format!(
                        "not valid Gherkin here; expected one of {}",
                        text.split_once(": ").map(|(_, e)| e).unwrap_or("a Gherkin keyword")
                    ),
                },
            );
            if let Some((l, c)) = text
                .strip_prefix("Error at ")
                .and_then(|r| r.split(':').next().zip(r.split(':').nth(1)))
                && let (Ok(l), Ok(c)) = (l.trim().parse(), c.trim().parse())
            {
                d = d.at(l, c);
            }
            Err(d)
        }
    }
}

/// Parses every feature file, keeping all errors.
pub fn parse_all(files: &[PathBuf]) -> (Vec<(PathBuf, gherkin::Feature)>, Diagnostics) {
    let mut ok = Vec::new();
    let mut errors = Diagnostics::default();
    for f in files {
        match parse(f) {
            Ok(feat) => ok.push((f.clone(), feat)),
            Err(e) => errors.push(e),
        }
    }
    (ok, errors)
}
