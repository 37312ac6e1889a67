//! Helpers for the integration tests: the demo partner on an ephemeral port, the contrail
//! binary with a time limit, and throwaway copies of the bundled workspace.
#![allow(dead_code)]

pub mod browser;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The demo partner, stopped when dropped.
pub struct Partner {
    child: Child,
    pub url: String,
}

impl Drop for Partner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_partner(extra: &[&str]) -> Partner {
    let mut child = Command::new(env!("CARGO_BIN_EXE_contrail-demo-partner"))
        .args(["--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the demo partner");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the demo partner's first line");
    let url = line.split_whitespace().nth(2).expect("listening on URL").to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "unexpected first line: {line}");
    Partner { child, url }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs contrail with a hard time limit (the test fails rather than hangs).
pub fn contrail(dir: &Path, args: &[&str]) -> Output {
    contrail_env(dir, args, &[])
}

pub fn contrail_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_contrail"));
    cmd.current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start contrail");
    let started = Instant::now();
    loop {
        if let Some(_status) = child.try_wait().expect("wait") {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("contrail {args:?} did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `contrail run --target live` in `dir` with both bundled partners pointed at `partner`. The
/// @mock scenarios need contrail's mock servers, which a live run without recordings does not
/// have, and the @sut ones a system under test (tests/sut_bugs.rs): they are left out
/// (combined with the caller's own `--tags`, if any).
pub fn run_live(dir: &Path, partner: &Partner, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec![
        "run".into(),
        "--target".into(),
        "live".into(),
        "--color".into(),
        "never".into(),
    ];
    args.extend(both_partners(&partner.url));
    let mut extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    match extra.iter().position(|a| a == "--tags") {
        Some(i) if i + 1 < extra.len() => extra[i + 1] = format!("({}) and not @mock and not @sut", extra[i + 1]),
        _ => extra.extend(["--tags".to_string(), "not @mock and not @sut".to_string()]),
    }
    args.extend(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    contrail(dir, &args)
}

/// `--base-url` arguments pointing both bundled partners at one sandbox.
pub fn both_partners(url: &str) -> Vec<String> {
    vec![
        "--base-url".into(),
        format!("ticketing={url}"),
        "--base-url".into(),
        format!("incidents={url}"),
    ]
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A copy of the bundled workspace (contracts, steps, features; no contrail.toml). The @sut
/// feature is left out: it needs a system under test, which tests/sut_bugs.rs starts.
pub fn workspace_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["contracts", "steps", "features"] {
        copy_dir(&repo().join(sub), &dir.path().join(sub));
    }
    std::fs::remove_file(dir.path().join("features/escalation-service.feature")).unwrap();
    dir
}

/// A workspace with one contract and one feature written by the test.
pub fn tiny_workspace(contract: &str, feature: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("contracts/openapi")).unwrap();
    std::fs::create_dir_all(dir.path().join("features")).unwrap();
    std::fs::write(dir.path().join("contracts/c.yaml"), contract).unwrap();
    std::fs::write(dir.path().join("features/f.feature"), feature).unwrap();
    dir
}

/// `contrail mock PARTNER` in `dir`, killed when dropped.
pub struct Mock {
    pub child: Child,
    pub url: String,
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `contrail mock PARTNER --port 0` in `dir`, with at most `nofile` open files when
/// given, and reads its URL from its first line.
pub fn start_mock(dir: &Path, partner: &str, extra: &[&str], env: &[(&str, &str)], nofile: Option<u64>) -> Mock {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_contrail"));
    if let Some(n) = nofile {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: setrlimit(2) only, between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: n,
                    rlim_max: n,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd.current_dir(dir)
        .args(["mock", partner, "--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start contrail mock");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the first line");
    let url = line.split_whitespace().nth(2).expect("listening on URL").to_string();
    Mock { child, url }
}

/// The bundled workspace with its recordings, tickets.feature changed by `edit` (which must
/// change something).
pub fn edited_tickets(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    let file = ws.path().join("features/tickets.feature");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changed nothing");
    std::fs::write(&file, edited).unwrap();
    ws
}

/// A `contrail.toml` whose `[sut]` is the built demo integration, called with `extra_args`
/// after its usual ones, ticketing's webhooks delivered to it; `sut_lines` go under `[sut]`
/// (`per_scenario = true`, `env = {...}`) and `before` above it (`[mock]` settings).
pub fn demo_sut_toml(extra_args: &[&str], sut_lines: &str, before: &str) -> String {
    let mut command = vec![
        env!("CARGO_BIN_EXE_contrail-demo-integration"),
        "--port",
        "{port}",
        "--incidents-url",
        "{partners.incidents.url}",
        "--token-url",
        "{partners.incidents.token_url}",
    ];
    command.extend(extra_args);
    format!(
        "{before}[sut]\ncommand = {command:?}\nready = \"/health\"\n{sut_lines}\n[sut.webhooks]\nticketing = \"/webhooks/ticketing\"\n"
    )
}

/// Every line against the official schema of a message (tests/fixtures/cucumber-messages).
pub fn messages_schema_errors(ndjson: &str) -> Vec<String> {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/cucumber-messages/messages.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the messages schema compiles");
    let mut out = Vec::new();
    for (i, line) in ndjson.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("a message");
        for e in validator.iter_errors(&v) {
            out.push(format!("line {}: {}: {e}", i + 1, e.instance_path()));
        }
    }
    out
}

/// `contrail ARGS` on a real pseudo-terminal (util-linux `script`), so stdout and stderr are
/// terminals; what the terminal showed, or None where `script` is not installed.
pub fn on_a_tty(dir: &Path, args: &str, env: &[(&str, &str)]) -> Option<String> {
    if !Path::new("/usr/bin/script").is_file() {
        return None;
    }
    let cmd = format!("{} {args}", env!("CARGO_BIN_EXE_contrail"));
    let mut c = Command::new("/usr/bin/script");
    c.args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .env_remove("NO_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("script");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
