//! The bundle file: a gzip-compressed tar of plain files, written so the same input gives the
//! same bytes (sorted, no owner, no time, one mode), and read as a hostile input: it comes
//! from another company, so every entry is checked before anything is believed or written.
//!
//! Reading never touches the disk beyond the bundle itself: entries land in memory, bounded,
//! and only regular files with plain relative paths are accepted (no `..`, no absolute path,
//! no link, no device). The manifest must list exactly the files there are, each with its
//! SHA-256; `Bundle::unpack` writes them under a folder of the caller's.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path};

use super::manifest::{self, Manifest};

/// At most this many files in a bundle.
const MAX_FILES: usize = 20_000;
/// At most this much, uncompressed, in all (a real partner's OpenAPI document is ~10 MB).
const MAX_TOTAL: u64 = 512 * 1024 * 1024;
/// A bundle file itself may be at most this large.
const MAX_ARCHIVE: u64 = 256 * 1024 * 1024;

/// A bundle read and checked: its manifest, its files, and the SHA-256 of the bundle file
/// (what a verification result names).
#[derive(Debug)]
pub struct Bundle {
    pub manifest: Manifest,
    pub files: BTreeMap<String, Vec<u8>>,
    pub sha256: String,
}

/// The archive bytes for these files (the manifest first).
pub fn write(manifest: &Manifest, files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, String> {
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| e.to_string())?;
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut add = |path: &str, bytes: &[u8]| -> Result<(), String> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, bytes)
            .map_err(|e| format!("cannot add {path} to the bundle: {e}"))
    };
    add(manifest::FILE, &json)?;
    for (path, bytes) in files {
        add(path, bytes)?;
    }
    let gz = tar.into_inner().map_err(|e| e.to_string())?;
    gz.finish().map_err(|e| e.to_string())
}

/// Reads and checks the bundle at `path`.
pub fn read(path: &Path) -> Result<Bundle, String> {
    let named = |e: String| format!("{}: {e}", path.display());
    let meta = std::fs::metadata(path).map_err(|e| named(e.to_string()))?;
    if !meta.is_file() {
        return Err(named("not a file".into()));
    }
    if meta.len() > MAX_ARCHIVE {
        return Err(named(format!(
            "larger than {MAX_ARCHIVE} bytes; not a bundle contrail made"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| named(e.to_string()))?;
    from_bytes(&bytes).map_err(named)
}

/// Checks a bundle held in memory.
pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, String> {
    let sha256 = manifest::sha256_hex(bytes);
    let gz = flate2::read::GzDecoder::new(bytes);
    // The limit is on what comes out of the decompressor, so a gzip bomb stops here.
    let mut tar = tar::Archive::new(gz.take(MAX_TOTAL + 1));
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut total: u64 = 0;
    let entries = tar
        .entries()
        .map_err(|e| format!("not a bundle (a gzip-compressed tar): {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("a damaged entry: {e}"))?;
        let kind = entry.header().entry_type();
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw).map_err(|_| "an entry's name is not UTF-8".to_string())?;
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            return Err(format!(
                "{name:?} is not a plain file ({kind:?}); a bundle holds only files"
            ));
        }
        let clean = plain_path(&name)?;
        if files.len() >= MAX_FILES {
            return Err(format!("more than {MAX_FILES} files"));
        }
        let size = entry.header().size().map_err(|e| format!("{name:?}: {e}"))?;
        total = total.saturating_add(size);
        if total > MAX_TOTAL {
            return Err(format!("more than {MAX_TOTAL} bytes uncompressed"));
        }
        let mut body = Vec::with_capacity(size.min(1 << 20) as usize);
        entry
            .read_to_end(&mut body)
            .map_err(|e| format!("{name:?}: cannot read: {e}"))?;
        if files.insert(clean.clone(), body).is_some() {
            return Err(format!("{clean:?} is in the bundle twice"));
        }
    }
    let json = files
        .remove(manifest::FILE)
        .ok_or_else(|| format!("no {} in it: not a bundle contrail made", manifest::FILE))?;
    let manifest: Manifest = serde_json::from_slice(&json).map_err(|e| format!("{}: {e}", manifest::FILE))?;
    if manifest.format > manifest::FORMAT {
        return Err(format!(
            "bundle format {} is newer than this contrail reads ({}); use a newer contrail",
            manifest.format,
            manifest::FORMAT
        ));
    }
    let listed: BTreeMap<&str, &manifest::FileEntry> = manifest.files.iter().map(|f| (f.path.as_str(), f)).collect();
    for (path, body) in &files {
        let Some(entry) = listed.get(path.as_str()) else {
            return Err(format!("{path:?} is in the bundle but not in its manifest"));
        };
        if manifest::sha256_hex(body) != entry.sha256 {
            return Err(format!(
                "{path:?} does not match its SHA-256 in the manifest: the bundle was changed after it was made"
            ));
        }
    }
    if let Some(missing) = manifest.files.iter().find(|f| !files.contains_key(&f.path)) {
        return Err(format!("{:?} is in the manifest but not in the bundle", missing.path));
    }
    Ok(Bundle {
        manifest,
        files,
        sha256,
    })
}

/// A relative path of plain names, `/`-separated; anything else is refused.
fn plain_path(name: &str) -> Result<String, String> {
    let bad = || format!("{name:?} is not a plain relative path; refused");
    if name.is_empty() || name.contains('\0') || name.contains('\\') {
        return Err(bad());
    }
    let mut parts = Vec::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str().ok_or_else(bad)?),
            Component::CurDir => {}
            _ => return Err(bad()),
        }
    }
    if parts.is_empty() {
        return Err(bad());
    }
    Ok(parts.join("/"))
}

impl Bundle {
    /// Writes the files under `dir` (which the caller made, empty).
    pub fn unpack(&self, dir: &Path) -> Result<(), String> {
        for (path, body) in &self.files {
            let dest = dir.join(path);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            std::fs::write(&dest, body).map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(files: &BTreeMap<String, Vec<u8>>) -> Manifest {
        Manifest {
            format: manifest::FORMAT,
            partner: "desk".into(),
            contrail_version: "0".into(),
            created_at: "2026-11-28T00:00:00Z".into(),
            consumer: manifest::Consumer {
                name: "c".into(),
                git_commit: None,
            },
            contracts: Vec::new(),
            credentials: Vec::new(),
            scenarios: Vec::new(),
            left_out: Vec::new(),
            files: files
                .iter()
                .map(|(p, b)| manifest::FileEntry {
                    path: p.clone(),
                    sha256: manifest::sha256_hex(b),
                    bytes: b.len() as u64,
                })
                .collect(),
        }
    }

    /// A tar.gz with one entry written raw, whatever its name or kind.
    fn raw(name: &str, kind: tar::EntryType, body: &[u8]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        }
        h.set_size(body.len() as u64);
        h.set_entry_type(kind);
        h.set_cksum();
        tar.append(&h, body).unwrap();
        let bytes = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn what_is_written_reads_back_the_same_and_byte_for_byte_again() {
        let files = BTreeMap::from([
            ("contracts/c.yaml".to_string(), b"contract: c\n".to_vec()),
            ("recordings/desk/a.json".to_string(), b"{}".to_vec()),
        ]);
        let m = manifest(&files);
        let bytes = write(&m, &files).unwrap();
        assert_eq!(bytes, write(&m, &files).unwrap(), "the same input gives the same bytes");
        let b = from_bytes(&bytes).unwrap();
        assert_eq!(b.files, files);
        assert_eq!(b.manifest, m);
        assert_eq!(b.sha256, manifest::sha256_hex(&bytes));
    }

    #[test]
    fn a_changed_file_an_unlisted_one_and_a_missing_one_are_refused() {
        let files = BTreeMap::from([("a.txt".to_string(), b"one".to_vec())]);
        let m = manifest(&files);
        let changed = BTreeMap::from([("a.txt".to_string(), b"two".to_vec())]);
        let e = from_bytes(&write(&m, &changed).unwrap()).unwrap_err();
        assert!(e.contains("does not match its SHA-256"), "{e}");
        let extra = BTreeMap::from([
            ("a.txt".to_string(), b"one".to_vec()),
            ("b.txt".to_string(), b"x".to_vec()),
        ]);
        let e = from_bytes(&write(&m, &extra).unwrap()).unwrap_err();
        assert!(e.contains("not in its manifest"), "{e}");
        let e = from_bytes(&write(&m, &BTreeMap::new()).unwrap()).unwrap_err();
        assert!(e.contains("not in the bundle"), "{e}");
    }

    #[test]
    fn paths_that_leave_the_folder_links_and_garbage_are_refused() {
        for name in ["../escape.txt", "/etc/passwd", "a/../../b"] {
            let e = from_bytes(&raw(name, tar::EntryType::Regular, b"x")).unwrap_err();
            assert!(e.contains("not a plain relative path"), "{name}: {e}");
        }
        let e = from_bytes(&raw("link", tar::EntryType::Symlink, b"")).unwrap_err();
        assert!(e.contains("not a plain file"), "{e}");
        assert!(from_bytes(b"not gzip at all").is_err());
        assert!(from_bytes(&[]).is_err());
    }
}
