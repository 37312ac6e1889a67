//! Colour on a terminal follows `--color` and NO_COLOR (https://no-color.org): the run is put
//! on a real pseudo-terminal with util-linux's `script`, so `auto` sees a TTY.

mod common;

use std::process::Command;

/// The run's terminal output on a pty, and how many colour escapes it holds.
fn escapes_on_a_tty(dir: &std::path::Path, color: &str, no_color: Option<&str>) -> Option<usize> {
    if !std::path::Path::new("/usr/bin/script").is_file() {
        return None;
    }
    let cmd = format!(
        "{} run --color {color} --name 'A ticket can be read back'",
        env!("CARGO_BIN_EXE_contrail")
    );
    let mut c = Command::new("/usr/bin/script");
    c.args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .env_remove("NO_COLOR");
    if let Some(v) = no_color {
        c.env("NO_COLOR", v);
    }
    let out = c.output().expect("script");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("8 passed"), "the run did not pass: {text}");
    Some(text.matches("\u{1b}[").count())
}

#[test]
fn no_color_turns_colour_off_unless_it_is_asked_for() {
    let ws = common::workspace_copy();
    common::copy_dir(&common::repo().join("recordings"), &ws.path().join("recordings"));
    let Some(plain) = escapes_on_a_tty(ws.path(), "auto", None) else {
        eprintln!("SKIPPED: util-linux `script` is not installed, so no pseudo-terminal");
        return;
    };
    assert!(plain > 0, "auto on a terminal gives colour");
    assert_eq!(escapes_on_a_tty(ws.path(), "auto", Some("1")), Some(0));
    // An empty NO_COLOR is as if unset; --color always wins over it.
    assert!(escapes_on_a_tty(ws.path(), "auto", Some("")).unwrap_or(0) > 0);
    assert!(escapes_on_a_tty(ws.path(), "always", Some("1")).unwrap_or(0) > 0);
    assert_eq!(escapes_on_a_tty(ws.path(), "never", None), Some(0));
}
