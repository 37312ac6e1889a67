//! What a run prints while it runs: a progress bar with counts on a terminal, none in a log,
//! and with `--quiet` only what did not pass and the summary. The planted fault is one
//! assertion changed in tickets.feature, so exactly one scenario fails.

mod common;

const FAILING: &str = "A ticket can be read back";
const PASSING: &str = "A new ticket is created as the contract describes";

fn one_failing() -> tempfile::TempDir {
    common::edited_tickets(|t| {
        t.replacen(
            r#"And the response field "priority" is "low""#,
            r#"And the response field "priority" is "urgent""#,
            1,
        )
    })
}

#[test]
fn quiet_prints_only_the_failed_scenario_and_the_summary() {
    let ws = one_failing();
    let out = common::contrail(ws.path(), &["run", "--quiet", "--name", "ticket"]);
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert_eq!(Some(out.code), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains(FAILING), "the failure is shown: {stdout}");
    assert!(stdout.contains("Step failed"), "{stdout}");
    assert!(stdout.contains("\"urgent\""), "with what was expected: {stdout}");
    assert!(!stdout.contains(PASSING), "a passing scenario is not: {stdout}");
    assert!(stdout.contains("[Summary]") && stdout.contains("1 failed"), "{stdout}");
    assert!(!stderr.contains("mock on"), "no set-up lines: {stderr}");
    assert!(!stderr.contains("progress:"), "{stderr}");

    // The same run without --quiet shows every scenario, and no bar in a log.
    let out = common::contrail(ws.path(), &["run", "--name", "ticket"]);
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert_eq!(Some(out.code), Some(1));
    assert!(stdout.contains(FAILING) && stdout.contains(PASSING), "{stdout}");
    assert!(stderr.contains("mock on"), "{stderr}");
    assert!(
        !stderr.contains('\r') && !stderr.contains("\u{1b}["),
        "no redraws in a log: {stderr:?}"
    );
}

#[test]
fn a_terminal_shows_a_progress_bar_with_counts_and_quiet_does_not() {
    let ws = one_failing();
    let args = "run --name ticket -j 1";
    let Some(shown) = common::on_a_tty(ws.path(), args, &[]) else {
        eprintln!("SKIPPED: util-linux `script` is not installed, so no pseudo-terminal");
        return;
    };
    let total = regex::Regex::new(r"(\d+) scenarios \(").unwrap();
    let n: usize = total.captures(&shown).expect("the summary")[1].parse().unwrap();
    assert!(n > 2, "{shown}");
    assert!(
        shown.contains(&format!("0/{n} scenarios")),
        "the bar starts at 0: {shown}"
    );
    let later = regex::Regex::new(&format!(
        r"([1-9]\d*)/{n} scenarios, 1 failed \[\d+s, about \d+s left\]"
    ))
    .unwrap();
    assert!(later.is_match(&shown), "counts, the failure and the time left: {shown}");
    assert!(shown.contains(FAILING) && shown.contains(PASSING));

    let quiet = common::on_a_tty(ws.path(), &format!("{args} --quiet"), &[]).unwrap_or_default();
    assert!(!quiet.contains(&format!("/{n} scenarios")), "no bar: {quiet}");
    assert!(quiet.contains(FAILING) && !quiet.contains(PASSING), "{quiet}");
}
