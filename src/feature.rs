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

/// Parses one feature file; a syntax error names the file, line and column. A UTF-8
/// byte-order mark (editors on Windows write one) is accepted.
pub fn parse(path: &Path) -> Result<gherkin::Feature, Diagnostic> {
    // Only a file that starts with the mark is read here; the others once, by the parser.
    let mut head = [0u8; 3];
    let has_bom = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && head == *"\u{feff}".as_bytes();
    if has_bom {
        let raw = std::fs::read(path).map_err(|e| Diagnostic::new(path, format!("cannot read: {e}")))?;
        let rest = &raw[3..];
        // gherkin 0.16 reads the mark as part of the first keyword, and only its path parser
        // reports errors in full: it parses a copy without the mark.
        static COPIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let copy = std::env::temp_dir().join(format!(
            "contrail-{}-{}.feature",
            std::process::id(),
            COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::write(&copy, rest).map_err(|e| Diagnostic::new(path, format!("cannot read: {e}")))?;
        let parsed = parse_file(path, &copy);
        let _ = std::fs::remove_file(&copy);
        return parsed.map(|mut f| {
            f.path = Some(path.to_path_buf());
            f
        });
    }
    parse_file(path, path)
}

/// Parses `file`, naming `path` in errors.
fn parse_file(path: &Path, file: &Path) -> Result<gherkin::Feature, Diagnostic> {
    match gherkin::Feature::parse_path(file, gherkin::GherkinEnv::default()) {
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
