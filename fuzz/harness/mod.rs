//! What each fuzz target does with one input, shared by the targets in fuzz_targets/ and by
//! tests/fuzz_regressions.rs (which runs every committed crashing input through the same code
//! on every `cargo test`). Each function takes raw bytes, so a corpus can be seeded straight
//! from the bundled files; a panic or a failed assertion is the finding. Besides "no panic",
//! the assertions are properties a user relies on: a recording reads back as it was written,
//! an expectation matches itself, text without `${` interpolates to itself, signature headers
//! are sendable, and a recorded file never holds the credential the request carried.

#![allow(dead_code)]

pub mod files;
pub mod mock;
pub mod values;

use std::path::PathBuf;

/// The repository's root (the harness is compiled both in fuzz/ and in the main package).
pub fn root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if dir.ends_with("fuzz") {
        dir.parent().map(PathBuf::from).unwrap_or(dir)
    } else {
        dir
    }
}

/// Splits `data` at NUL bytes into at most `n` parts (the last keeps any further NULs).
pub fn parts(data: &[u8], n: usize) -> Vec<&[u8]> {
    data.splitn(n, |b| *b == 0).collect()
}

/// Lossy UTF-8: the parsers take `&str`; invalid bytes are the readers' concern, not theirs.
pub fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}
