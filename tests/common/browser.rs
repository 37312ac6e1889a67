//! A real headless Chromium, driven over the DevTools protocol on a pipe
//! (`--remote-debugging-pipe`: the browser reads commands on fd 3 and writes answers and events
//! on fd 4, each a JSON message ended by NUL), to assert what a page shows once rendered
//! (`document.body.innerText`) and every request it makes (`Network.requestWillBeSent`).
//! `.ci/run` installs Debian's chromium when it is missing; where it cannot be had, the tests
//! that need it say so and skip.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CONTRAIL_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

pub struct Browser {
    child: Child,
    commands: std::fs::File,
    messages: mpsc::Receiver<Value>,
    /// Events seen while waiting for answers.
    events: Vec<Value>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    /// The browser and every process it started (renderers, GPU, zygote): its whole group.
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's process group.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// A pipe whose ends sit at fds above 10, closed on exec: the child gets its copies at 3 and 4
/// by dup2 (which clears close-on-exec), and no fd number can collide with those.
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fresh fds into the array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0, "pipe2");
    let high = |fd: i32| {
        // SAFETY: fd is a valid open fd we own; F_DUPFD_CLOEXEC returns a new one.
        let h = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10) };
        assert!(h >= 10, "fcntl");
        // SAFETY: fd is ours and no longer used.
        unsafe { libc::close(fd) };
        // SAFETY: h is a fresh fd we own.
        unsafe { OwnedFd::from_raw_fd(h) }
    };
    (high(fds[0]), high(fds[1]))
}

impl Browser {
    /// A headless Chromium, or None where none is installed.
    pub fn start() -> Option<Browser> {
        let exe = chromium()?;
        let profile = tempfile::tempdir().expect("profile dir");
        // Chromium keeps its singleton socket in a directory of its own under TMPDIR and removes
        // it on a clean exit only; the browser is killed (see Drop), so that directory goes
        // inside the profile, which the test removes.
        let tmp = profile.path().join("tmp");
        std::fs::create_dir(&tmp).expect("browser temp dir");
        let (to_browser_r, to_browser_w) = pipe();
        let (from_browser_r, from_browser_w) = pipe();
        use std::os::fd::AsRawFd;
        let (child_in, child_out) = (to_browser_r.as_raw_fd(), from_browser_w.as_raw_fd());
        let mut cmd = Command::new(exe);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-pipe",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
        // SAFETY: only async-signal-safe calls (dup2) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(child_in, 3) < 0 || libc::dup2(child_out, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().ok()?;
        drop(to_browser_r);
        drop(from_browser_w);
        let (tx, rx) = mpsc::channel();
        let mut reader = std::fs::File::from(from_browser_r);
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            loop {
                let n = match reader.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|b| *b == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&msg[..msg.len() - 1])
                        && tx.send(v).is_err()
                    {
                        return;
                    }
                }
            }
        });
        Some(Browser {
            child,
            commands: std::fs::File::from(to_browser_w),
            messages: rx,
            events: Vec::new(),
            next_id: 1,
            _profile: profile,
        })
    }

    /// Sends a command (to a page's session, or to the browser) and waits for its answer.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = Value::String(s.to_string());
        }
        let mut bytes = serde_json::to_vec(&msg).expect("json");
        bytes.push(0);
        self.commands.write_all(&bytes).expect("write to the browser");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let m = self.next(deadline, &format!("an answer to {method}"));
            if m["id"] == id {
                assert!(m.get("error").is_none(), "{method} failed: {m}");
                return m["result"].clone();
            }
            self.events.push(m);
        }
    }

    /// The browser's next message, or a failed test when none comes before the deadline.
    fn next(&self, deadline: Instant, what: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        self.messages
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {what} from the browser within 30 s"))
    }

    /// Waits for an event of a session.
    fn wait_for(&mut self, session: &str, method: &str) {
        if self
            .events
            .iter()
            .any(|e| e["sessionId"] == session && e["method"] == method)
        {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let m = self.next(deadline, method);
            let hit = m["sessionId"] == session && m["method"] == method;
            self.events.push(m);
            if hit {
                return;
            }
        }
    }

    /// Opens the page in a new tab with the network watched from before it loads; returns the
    /// tab's session once the load event fired.
    pub fn open(&mut self, url: &str) -> String {
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        let session = attached["sessionId"].as_str().expect("sessionId").to_string();
        self.call(Some(&session), "Page.enable", json!({}));
        self.call(Some(&session), "Network.enable", json!({}));
        self.call(Some(&session), "Page.navigate", json!({ "url": url }));
        self.wait_for(&session, "Page.loadEventFired");
        // A moment for anything the page starts after load (it should start nothing).
        let settle = Instant::now() + Duration::from_millis(500);
        while let Some(left) = settle.checked_duration_since(Instant::now()) {
            match self.messages.recv_timeout(left) {
                Ok(m) => self.events.push(m),
                Err(_) => break,
            }
        }
        session
    }

    /// The page's text as rendered (hidden elements left out).
    pub fn text(&mut self, session: &str) -> String {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": "document.body.innerText", "returnByValue": true }),
        );
        r["result"]["value"].as_str().unwrap_or_default().to_string()
    }

    /// Evaluates an expression in the page and returns its JSON value.
    pub fn eval(&mut self, session: &str, expression: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        r["result"]["value"].clone()
    }

    /// Every URL the tab asked for and the browser let out (a request its Content-Security-
    /// Policy blocked is announced, then fails with a `blockedReason` and never leaves).
    pub fn requests(&self, session: &str) -> Vec<String> {
        let blocked = self.blocked_ids(session);
        self.events
            .iter()
            .filter(|e| e["sessionId"] == session && e["method"] == "Network.requestWillBeSent")
            .filter(|e| !blocked.contains(&e["params"]["requestId"]))
            .filter_map(|e| e["params"]["request"]["url"].as_str().map(str::to_string))
            .collect()
    }

    /// The URLs the page asked for that the browser blocked, with why (`csp`, ...).
    pub fn blocked(&self, session: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for e in self.events.iter().filter(|e| e["sessionId"] == session) {
            if e["method"] == "Network.loadingFailed"
                && let Some(reason) = e["params"]["blockedReason"].as_str()
            {
                let id = &e["params"]["requestId"];
                let url = self
                    .events
                    .iter()
                    .find(|r| r["method"] == "Network.requestWillBeSent" && &r["params"]["requestId"] == id)
                    .and_then(|r| r["params"]["request"]["url"].as_str())
                    .unwrap_or_default();
                out.push((url.to_string(), reason.to_string()));
            }
        }
        out
    }

    fn blocked_ids(&self, session: &str) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| e["sessionId"] == session && e["method"] == "Network.loadingFailed")
            .filter(|e| e["params"]["blockedReason"].is_string())
            .map(|e| e["params"]["requestId"].clone())
            .collect()
    }

    /// A PNG of the whole page.
    pub fn screenshot(&mut self, session: &str, path: &Path) {
        let r = self.call(
            Some(session),
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": false }),
        );
        let data = r["data"].as_str().expect("png data");
        use base64::Engine as _;
        let png = base64::engine::general_purpose::STANDARD.decode(data).expect("base64");
        std::fs::write(path, png).expect("write the screenshot");
    }
}

pub fn file_url(p: &Path) -> String {
    url::Url::from_file_path(p).expect("absolute path").to_string()
}
