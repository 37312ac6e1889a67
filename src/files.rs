//! Reading files a user's input points at (`$ref`s, `openapi:` paths, body files) without
//! letting that input reach the rest of the machine.
//!
//! A contract or an OpenAPI document comes from a partner; a `$ref: ../../.env` or
//! `$ref: /dev/zero` in it must not read a secret or hang the run. So such a path must name a
//! regular file under one of the workspace's roots (the workspace itself, the folders
//! `contrail.toml` names, and `[paths] read_roots`), be at most `MAX_BYTES` long, and errors
//! name the file, never print what it holds.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;

/// The largest file contrail reads: real OpenAPI documents reach 10-50 MB.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The folders files may be read from.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    dirs: Vec<PathBuf>,
    /// Remote `$ref` prefixes (`https://schemas.example.com/`) with the local folder that holds
    /// their copies: `[schemas] remote` in contrail.toml. A remote reference is never fetched;
    /// one this map does not cover is refused.
    remote: Vec<(String, PathBuf)>,
}

impl Roots {
    /// `dirs` as they are on disk (symlinks resolved); missing ones are left out.
    pub fn new(dirs: impl IntoIterator<Item = PathBuf>) -> Roots {
        let mut out: Vec<PathBuf> = dirs.into_iter().filter_map(|d| std::fs::canonicalize(d).ok()).collect();
        out.sort();
        out.dedup();
        Roots {
            dirs: out,
            remote: Vec::new(),
        }
    }

    /// The folders, for messages.
    /// Also reads remote references under `prefix` from the files in `dir`.
    pub fn with_remote(mut self, prefix: &str, dir: PathBuf) -> Roots {
        self.remote.push((prefix.to_string(), dir));
        // The longest prefix first, so a more specific mapping wins.
        self.remote.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        self
    }

    /// The local copy of a remote document (`http(s)://...`, no fragment), when the remote
    /// map covers it; the path is then read like any other (inside the roots, capped).
    pub fn remote_file(&self, url: &str) -> Option<PathBuf> {
        let (prefix, dir) = self.remote.iter().find(|(p, _)| url.starts_with(p.as_str()))?;
        let rest = &url[prefix.len()..];
        // No way out of the folder: only plain path segments.
        if rest.split('/').any(|seg| seg == ".." || seg.contains('\\')) {
            return None;
        }
        Some(dir.join(rest))
    }

    pub fn describe(&self) -> String {
        self.dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The file `path` names, resolved, if it is a regular file under a root and small enough.
    pub fn check(&self, path: &Path) -> Result<PathBuf, Diagnostic> {
        let real = std::fs::canonicalize(path).map_err(|e| Diagnostic::new(path, format!("cannot open: {e}")))?;
        if !self.dirs.iter().any(|d| real.starts_with(d)) {
            return Err(Diagnostic::new(
                path,
                format!(
                    "refused: this file is outside the workspace (it resolves to {}); contrail reads only files \
                     under {}",
                    real.display(),
                    self.describe()
                ),
            )
            .help("to read files from another folder, name it in contrail.toml: [paths] read_roots = [\"...\"]"));
        }
        let meta = std::fs::metadata(&real).map_err(|e| Diagnostic::new(path, format!("cannot open: {e}")))?;
        if !meta.is_file() {
            return Err(Diagnostic::new(
                path,
                "refused: not a regular file (a folder, device, FIFO or socket)",
            ));
        }
        if meta.len() > MAX_BYTES {
            return Err(Diagnostic::new(
                path,
                format!(
                    "refused: the file is {} bytes, over the limit of {} MiB",
                    meta.len(),
                    MAX_BYTES / 1024 / 1024
                ),
            ));
        }
        Ok(real)
    }

    /// Reads a text file under the roots (see `check`).
    pub fn read(&self, path: &Path) -> Result<String, Diagnostic> {
        let real = self.check(path)?;
        read_capped(path, &real)
    }
}

/// Reads a regular file of at most `MAX_BYTES` as UTF-8 text, without a leading byte-order
/// mark. Errors never quote the content.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let meta = std::fs::metadata(path).map_err(|e| Diagnostic::new(path, format!("cannot read the file: {e}")))?;
    if !meta.is_file() {
        return Err(Diagnostic::new(
            path,
            "refused: not a regular file (a folder, device, FIFO or socket)",
        ));
    }
    read_capped(path, path)
}

fn read_capped(shown: &Path, real: &Path) -> Result<String, Diagnostic> {
    let file = std::fs::File::open(real).map_err(|e| Diagnostic::new(shown, format!("cannot read the file: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Diagnostic::new(shown, format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(Diagnostic::new(
            shown,
            format!("refused: the file is over the limit of {} MiB", MAX_BYTES / 1024 / 1024),
        ));
    }
    let mut text = String::from_utf8(bytes).map_err(|e| {
        Diagnostic::new(
            shown,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// Whether a name used as a folder or file name (a partner, a contract) is safe: letters,
/// digits, `.`, `_` and `-`, starting with a letter or digit. No `/`, no `..`, nothing that
/// could make a write leave `recordings/`.
pub fn is_safe_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !name.contains("..")
        && name.len() <= 100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_under_a_root_are_read() {
        let ws = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(ws.path().join("in.yaml"), "\u{feff}a: 1\n").unwrap();
        std::fs::write(outside.path().join(".env"), "SECRET=hunter2\n").unwrap();
        let roots = Roots::new([ws.path().to_path_buf()]);
        assert_eq!(roots.read(&ws.path().join("in.yaml")).unwrap(), "a: 1\n");

        let e = roots.read(&outside.path().join(".env")).unwrap_err().to_string();
        assert!(e.contains("outside the workspace") && !e.contains("hunter2"), "{e}");
        // Through `..` from inside, and through a symlink: the same.
        let sneaky = ws
            .path()
            .join("..")
            .join(outside.path().file_name().unwrap())
            .join(".env");
        assert!(
            roots
                .read(&sneaky)
                .unwrap_err()
                .to_string()
                .contains("outside the workspace")
        );
        std::os::unix::fs::symlink(outside.path().join(".env"), ws.path().join("link.yaml")).unwrap();
        assert!(
            roots
                .read(&ws.path().join("link.yaml"))
                .unwrap_err()
                .to_string()
                .contains("outside")
        );

        let dev = Roots::new([PathBuf::from("/dev")]);
        let e = dev.read(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(read_text(Path::new("/dev/zero")).is_err());
    }

    #[test]
    fn names_that_could_leave_a_folder_are_not_safe() {
        for ok in ["ticketing", "incidents-v2", "a.b_c", "GitHub"] {
            assert!(is_safe_name(ok), "{ok}");
        }
        for bad in ["", "..", "../../x", "a/b", "a\\b", ".hidden", "-x", "a..b", "x y"] {
            assert!(!is_safe_name(bad), "{bad}");
        }
    }
}
