//! Services named in `contrail.toml` (a partner sandbox now, the system under test later):
//! started before the scenarios on a free 127.0.0.1 port, waited for until their ready check
//! answers 2xx, and stopped when the run ends, whatever way it ends. If one dies or never gets
//! ready, the error shows the tail of its output.

use std::collections::{BTreeMap, VecDeque};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::workspace::{ServiceConfig, Workspace};

const TAIL_LINES: usize = 40;

/// Why a service did not start: the configuration is wrong (bad input, exit 2), or it could
/// not run or never got ready (a harness failure, exit 3). Decided where the error is made,
/// not where it is reported.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Harness(String),
}

impl ServiceError {
    pub fn exit(&self) -> crate::exit::Exit {
        match self {
            ServiceError::Config(_) => crate::exit::Exit::BadInput,
            ServiceError::Harness(_) => crate::exit::Exit::Harness,
        }
    }
}

pub struct RunningService {
    pub name: String,
    pub url: String,
    child: Child,
    /// Its process group (its pid: it leads a group of its own).
    pgid: Option<i32>,
    pub output: Arc<Mutex<VecDeque<String>>>,
}

impl Drop for RunningService {
    /// A service dropped without `stop` (an early return, a panic) still takes its group down.
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            super::processes::stop_group_blocking(pgid);
        }
    }
}

impl RunningService {
    pub fn output_tail(&self) -> String {
        self.output
            .lock()
            .map(|o| o.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }

    /// SIGTERM to its whole process group, SIGKILL after a grace period.
    pub async fn stop(mut self) {
        if let Some(pgid) = self.pgid.take() {
            super::processes::stop_group(pgid).await;
        }
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

/// A port the OS says is free right now.
fn free_port() -> Result<u16, ServiceError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| ServiceError::Harness(format!("cannot find a free port on 127.0.0.1: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| ServiceError::Harness(e.to_string()))
}

/// Reads a service's output to its end, keeping the last lines. Read as bytes: a service
/// printing something that is not UTF-8 must not stop the reading (a full pipe would then
/// block the service).
fn pump<R: tokio::io::AsyncRead + Unpin + Send + 'static>(reader: R, sink: Arc<Mutex<VecDeque<String>>>) {
    tokio::spawn(async move {
        let mut reader = BufReader::new(reader);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line)
                .trim_end_matches(['\n', '\r'])
                .to_string();
            if let Ok(mut s) = sink.lock() {
                if s.len() == TAIL_LINES {
                    s.pop_front();
                }
                s.push_back(crate::secrets::mask_text(&text, crate::secrets::MASK).into_owned());
            }
        }
    });
}

/// Starts a service; `{port}`, `{url}` and each `vars` name in its command and env are
/// replaced.
pub async fn start(
    ws: &Workspace,
    name: &str,
    cfg: &ServiceConfig,
    vars: &[(String, String)],
) -> Result<RunningService, ServiceError> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let subst = |s: &str| {
        let mut s = s.replace("{port}", &port.to_string()).replace("{url}", &url);
        for (k, v) in vars {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    };
    let argv: Vec<String> = cfg.command.iter().map(|a| subst(a)).collect();
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| ServiceError::Config(format!("service {name:?}: `command` is empty")))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(ws.root.join(cfg.cwd.clone().unwrap_or_default()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A group of its own, so that stopping it stops what it started (see processes.rs).
        .process_group(0)
        .kill_on_drop(true);
    for (k, v) in &cfg.env {
        cmd.env(k, subst(v));
    }
    // A program that is not there is the configuration's fault; one that cannot start for
    // lack of resources is the machine's.
    let mut child = cmd.spawn().map_err(|e| {
        let message = format!("service {name:?}: cannot start {program:?}: {e}");
        match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => ServiceError::Config(message),
            _ => ServiceError::Harness(message),
        }
    })?;
    let pgid = child.id().and_then(|p| i32::try_from(p).ok());
    if let Some(g) = pgid {
        super::processes::register(g);
    }
    let output = Arc::new(Mutex::new(VecDeque::new()));
    if let Some(out) = child.stdout.take() {
        pump(out, output.clone());
    }
    if let Some(err) = child.stderr.take() {
        pump(err, output.clone());
    }
    let mut svc = RunningService {
        name: name.to_string(),
        url: url.clone(),
        child,
        pgid,
        output,
    };
    let ready_url = if cfg.ready.starts_with("http://") || cfg.ready.starts_with("https://") {
        subst(&cfg.ready)
    } else {
        format!("{url}{}", cfg.ready)
    };
    let timeout = cfg
        .ready_timeout()
        .map_err(|e| ServiceError::Config(format!("service {name:?}: {e}")))?;
    match wait_ready(&mut svc, &ready_url, timeout).await {
        Ok(()) => Ok(svc),
        Err(why) => {
            let tail = svc.output_tail();
            svc.stop().await;
            Err(ServiceError::Harness(format!(
                "service {name:?} did not get ready: {why}\n--- last output of {name} ---\n{tail}"
            )))
        }
    }
}

async fn wait_ready(svc: &mut RunningService, url: &str, timeout: Duration) -> Result<(), String> {
    crate::client::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut delay = Duration::from_millis(10);
    loop {
        if let Ok(Some(status)) = svc.child.try_wait() {
            return Err(format!("it exited ({status}) before answering {url}"));
        }
        if let Ok(resp) = client.get(url).send().await
            && resp.status().is_success()
        {
            return Ok(());
        }
        if started.elapsed() > timeout {
            return Err(format!("{url} did not answer 2xx within {timeout:?}"));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(250));
    }
}

/// Starts the named services in order; on a failure, stops the ones already started.
pub async fn start_all(ws: &Workspace, names: &[String]) -> Result<BTreeMap<String, RunningService>, ServiceError> {
    let mut running = BTreeMap::new();
    for name in names {
        let Some(cfg) = ws.config.services.get(name) else {
            stop_all(running).await;
            return Err(ServiceError::Config(format!(
                "contrail.toml names the service {name:?}, which is not under [services]"
            )));
        };
        match start(ws, name, cfg, &[]).await {
            Ok(s) => {
                running.insert(name.clone(), s);
            }
            Err(e) => {
                stop_all(running).await;
                return Err(e);
            }
        }
    }
    Ok(running)
}

pub async fn stop_all(running: BTreeMap<String, RunningService>) {
    for (_, s) in running {
        s.stop().await;
    }
}
