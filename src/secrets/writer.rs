//! A writer that masks what passes through it, line by line: the terminal, JUnit and Cucumber
//! JSON outputs are wrapped in one, so no writer can print a secret by forgetting to mask.
//!
//! Masking works on whole lines because a secret never spans one and a line is the smallest
//! unit that cannot cut one in half. A partial line waits for its end (or for the writer to be
//! dropped), so a flush in the middle of a line never lets half a secret out unmasked.

use std::io::{self, Write};

pub struct MaskingWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> MaskingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, upto: usize) -> io::Result<()> {
        let chunk: Vec<u8> = self.pending.drain(..upto).collect();
        match std::str::from_utf8(&chunk) {
            Ok(text) => self.inner.write_all(super::mask_text(text, super::MASK).as_bytes()),
            // Not text: masked as text all the same (invalid bytes become U+FFFD), since a
            // secret next to a stray byte is still a secret.
            Err(_) => self
                .inner
                .write_all(super::mask_text(&String::from_utf8_lossy(&chunk), super::MASK).as_bytes()),
        }
    }
}

impl<W: Write> Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(last) = self.pending.iter().rposition(|&b| b == b'\n') {
            self.emit(last + 1)?;
        }
        Ok(buf.len())
    }

    /// Flushes the complete lines only; see the module comment.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for MaskingWriter<W> {
    fn drop(&mut self) {
        let n = self.pending.len();
        if n > 0 {
            let _ = self.emit(n);
        }
        let _ = self.inner.flush();
    }
}
