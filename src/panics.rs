//! The last line of defence: a panic is a bug in contrail, never the user's fault, and must
//! read as one. Installed first thing in `main`:
//!
//! - stdout closed by the reader (`contrail steps | head`) ends the process quietly, exit 0,
//!   as a Unix filter does;
//! - any other panic prints one line naming what contrail was doing and where, without a
//!   backtrace (set `RUST_BACKTRACE=1` for one), and the run ends with exit 3 (harness), even
//!   when the panic happened inside a step or a mock server's worker and was caught there.
//!
//! Steps that fail on purpose use `resume_unwind`, which skips the hook: only real panics
//! count.

use std::sync::atomic::{AtomicBool, Ordering};

static PANICKED: AtomicBool = AtomicBool::new(false);

pub fn message_of(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// A panic caught on the way (a step, a mock's request): reported like the hook does, naming
/// what contrail was `doing`, and counted, so the run still ends with exit 3. Needed because
/// cucumber silences the panic hook while scenarios run. Returns the panic's message, masked.
pub fn caught(payload: &(dyn std::any::Any + Send), doing: &str) -> String {
    PANICKED.store(true, Ordering::SeqCst);
    let message = crate::secrets::mask_text(&message_of(payload), crate::secrets::MASK).into_owned();
    eprintln!(
        "contrail: internal error in {}: {message}\n  this is a bug in contrail, not in your input: please report it \
         with the command and the files it read",
        crate::secrets::mask_text(doing, crate::secrets::MASK)
    );
    message
}

/// Installs the hook.
pub fn install() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = message_of(info.payload());
        if message.contains("Broken pipe") && message.contains("stdout") {
            std::process::exit(0);
        }
        PANICKED.store(true, Ordering::SeqCst);
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current();
        eprintln!(
            "contrail: internal error in {}{at}: {}\n  this is a bug in contrail, not in your input: please report it with the \
             command and the files it read",
            thread.name().unwrap_or("a worker"),
            crate::secrets::mask_text(&message, crate::secrets::MASK)
        );
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            default(info);
        }
    }));
}

/// Whether a panic happened anywhere in this process.
pub fn happened() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// Debug builds only: panics at `point` when `CONTRAIL_INJECT_PANIC` names it ("cli", "step",
/// "mock"), so tests can prove that a real bug in each place reads as one and exits 3. A
/// release build has no such switch.
#[inline]
pub fn inject(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("CONTRAIL_INJECT_PANIC").is_ok_and(|p| p == point) {
        panic!("a panic injected at {point:?} (CONTRAIL_INJECT_PANIC)");
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}
