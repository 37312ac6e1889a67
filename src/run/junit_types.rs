//! JUnit's `<failure type=...>` says what kind of failure it was, for CI dashboards that group
//! by it. cucumber-rs writes every failed step as `type="Step Panicked"` with the message
//! prefixed "Step panicked. Captured output: ". This writer, under the JUnit writer, puts the
//! failure's own class there (`invalid request`, `unauthenticated`, `forbidden`, `replay miss`,
//! `harness`, else `assertion`), read from the words contrail starts each class's message
//! with, and drops the misleading prefix.

use std::io::{self, Write};

const CUCUMBER_TYPE: &str = r#"<failure type="Step Panicked" message="Step panicked. Captured output: "#;

/// The class of a failure message, by the words its class starts with.
pub fn class_of(message: &str) -> &'static str {
    let m = message.trim_start();
    if m.starts_with("invalid request") {
        "invalid request"
    } else if m.starts_with("unauthenticated") {
        "unauthenticated"
    } else if m.starts_with("forbidden") {
        "forbidden"
    } else if m.starts_with("replay:") {
        "replay miss"
    } else if m.starts_with("internal error in contrail") {
        "harness"
    } else {
        "assertion"
    }
}

pub struct FailureTypes<W: Write> {
    inner: W,
}

impl<W: Write> FailureTypes<W> {
    pub fn new(inner: W) -> Self {
        Self { inner }
    }
}

impl<W: Write> Write for FailureTypes<W> {
    /// Handed whole lines by the masking writer above it.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Ok(text) = std::str::from_utf8(buf) else {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        };
        if !text.contains(CUCUMBER_TYPE) {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find(CUCUMBER_TYPE) {
            out.push_str(&rest[..i]);
            let after = &rest[i + CUCUMBER_TYPE.len()..];
            out.push_str(&format!(r#"<failure type="{}" message=""#, class_of(after)));
            rest = after;
        }
        out.push_str(rest);
        self.inner.write_all(out.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_get_their_class_as_type() {
        let mut out = Vec::new();
        {
            let mut w = FailureTypes::new(&mut out);
            let line = format!(
                "{CUCUMBER_TYPE}forbidden: missing scope a (x)\"/>\n<x/>{CUCUMBER_TYPE}expected status 200, got 500\"/>\n"
            );
            w.write_all(line.as_bytes()).expect("write");
        }
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "<failure type=\"forbidden\" message=\"forbidden: missing scope a (x)\"/>\n<x/><failure type=\"assertion\" message=\"expected status 200, got 500\"/>\n"
        );
    }
}
