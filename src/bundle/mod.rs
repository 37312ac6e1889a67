//! `contrail bundle`: one file a partner can run to check that their API keeps what this
//! integration relies on, with no access to the consumer's repository and no broker in
//! between. It holds only what concerns that partner (`build`), is written reproducibly and
//! read as a hostile input (`archive`), and says what it holds in a manifest (`manifest`).
//!
//! Dependencies run one way: `manifest`, `tree`-based `reduce` and `cut` do no I/O; `build`
//! reads the workspace; `archive` is the only one that knows the file format.

pub mod archive;
pub mod build;
pub mod cut;
pub mod manifest;
pub mod reduce;

use std::path::Path;

use crate::exit::Exit;
use crate::workspace::Workspace;

/// `contrail bundle --partner P --out FILE`.
pub fn make(ws: &Workspace, options: &build::Options, out: &Path) -> Exit {
    let selection = crate::feature::Selection::default();
    let mode = crate::lint::Mode {
        deep: false,
        selection: &selection,
        undefined_is_problem: false,
    };
    let loaded = match crate::lint::load(ws, &[], mode) {
        Ok(l) => l,
        Err(problems) => {
            eprintln!("{problems}");
            return Exit::BadInput;
        }
    };
    let contents = match build::contents(ws, &loaded, options) {
        Ok(c) => c,
        Err(problems) => {
            eprintln!("{problems}");
            eprintln!("error: no bundle was written");
            return Exit::BadInput;
        }
    };
    let bytes = match archive::write(&contents.manifest, &contents.files) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Harness;
        }
    };
    if let Err(e) = crate::recording::write_atomic(out, &bytes) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return Exit::BadInput;
    }
    let m = &contents.manifest;
    println!(
        "{}: a bundle for {:?}: {} scenario(s), {} file(s), {} bytes, sha256 {}",
        out.display(),
        m.partner,
        m.scenarios.len(),
        m.files.len(),
        bytes.len(),
        manifest::sha256_hex(&bytes)
    );
    let mut why: std::collections::BTreeMap<&str, usize> = Default::default();
    for l in &m.left_out {
        *why.entry(l.why.as_str()).or_default() += 1;
    }
    for (why, n) in why {
        println!("  {n} scenario(s) that reach it left out: {why} (their recordings are in)");
    }
    if !m.credentials.is_empty() {
        println!(
            "  the partner gives their own credentials in: {}",
            m.credentials.join(", ")
        );
    }
    Exit::Passed
}

/// `contrail bundle --list FILE`.
pub fn list(path: &Path) -> Exit {
    let b = match archive::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::BadInput;
        }
    };
    print!("{}", describe(&b));
    Exit::Passed
}

/// What `--list` prints: who made it for whom, from what, and every file with its hash.
pub fn describe(b: &archive::Bundle) -> String {
    use std::fmt::Write as _;
    let m = &b.manifest;
    let mut out = String::new();
    let _ = writeln!(out, "bundle for partner {:?}, sha256 {}", m.partner, b.sha256);
    let _ = writeln!(
        out,
        "made by {}{} with contrail {} at {}",
        m.consumer.name,
        m.consumer
            .git_commit
            .as_deref()
            .map(|c| format!(" (commit {c})"))
            .unwrap_or_default(),
        m.contrail_version,
        m.created_at
    );
    for c in &m.contracts {
        let _ = writeln!(out, "contract {} {} ({})", c.name, c.version, c.file);
    }
    if !m.credentials.is_empty() {
        let _ = writeln!(out, "credentials from: {}", m.credentials.join(", "));
    }
    let _ = writeln!(out, "scenarios ({}):", m.scenarios.len());
    for s in &m.scenarios {
        let _ = writeln!(out, "  {s}");
    }
    if !m.left_out.is_empty() {
        let _ = writeln!(out, "left out ({}):", m.left_out.len());
        for l in &m.left_out {
            let _ = writeln!(out, "  {} ({})", l.scenario, l.why);
        }
    }
    let _ = writeln!(out, "files ({}):", m.files.len());
    for f in &m.files {
        let _ = writeln!(
            out,
            "  {:>9}  {}  {}",
            f.bytes,
            &f.sha256[..16.min(f.sha256.len())],
            f.path
        );
    }
    out
}
