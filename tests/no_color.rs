//! Colour on a terminal follows `--color` and NO_COLOR (https://no-color.org): the run is put
//! on a real pseudo-terminal with util-linux's `script`, so `auto` sees a TTY.

mod common;

/// How many colour escapes (SGR, `ESC [ ... m`) the run's terminal output holds; the progress
/// bar's cursor moves are not colour.
fn colours_on_a_tty(dir: &std::path::Path, color: &str, no_color: Option<&str>) -> Option<usize> {
    let args = format!("run --color {color} --name 'A ticket can be read back'");
    let env: Vec<(&str, &str)> = no_color.map(|v| ("NO_COLOR", v)).into_iter().collect();
    let text = common::on_a_tty(dir, &args, &env)?;
    assert!(text.contains("8 passed"), "the run did not pass: {text}");
    let sgr = regex::Regex::new("\u{1b}\\[[0-9;]*m").unwrap();
    Some(sgr.find_iter(&text).count())
}

#[test]
fn no_color_turns_colour_off_unless_it_is_asked_for() {
    let ws = common::workspace_copy();
    common::copy_dir(&common::repo().join("recordings"), &ws.path().join("recordings"));
    let Some(plain) = colours_on_a_tty(ws.path(), "auto", None) else {
        eprintln!("SKIPPED: util-linux `script` is not installed, so no pseudo-terminal");
        return;
    };
    assert!(plain > 0, "auto on a terminal gives colour");
    assert_eq!(colours_on_a_tty(ws.path(), "auto", Some("1")), Some(0));
    // An empty NO_COLOR is as if unset; --color always wins over it.
    assert!(colours_on_a_tty(ws.path(), "auto", Some("")).unwrap_or(0) > 0);
    assert!(colours_on_a_tty(ws.path(), "always", Some("1")).unwrap_or(0) > 0);
    assert_eq!(colours_on_a_tty(ws.path(), "never", None), Some(0));
}
