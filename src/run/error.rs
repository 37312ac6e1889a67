//! What stops a run before its scenarios give a verdict, typed by whose it is to fix: the
//! user's (flags, `contrail.toml`, contracts, features, recordings, report paths: exit 2) or
//! contrail's and the machine's (exit 3). Decided where the error is made, so the exit code
//! never depends on which call site happened to report it.

use crate::diag::Diagnostics;
use crate::exit::Exit;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("error: {0}")]
    BadInput(String),
    /// The pre-flight's findings, each with its file and line.
    #[error("{0}\nerror: {n} problem(s) found before running; nothing was run", n = .0.len())]
    Problems(Diagnostics),
    #[error("{0}\nerror: {n} broken recording(s); nothing was run", n = .0.len())]
    Recordings(Diagnostics),
    #[error("error: {0}")]
    Harness(String),
}

impl RunError {
    pub fn exit(&self) -> Exit {
        match self {
            RunError::BadInput(_) | RunError::Problems(_) | RunError::Recordings(_) => Exit::BadInput,
            RunError::Harness(_) => Exit::Harness,
        }
    }
}

impl From<super::services::ServiceError> for RunError {
    fn from(e: super::services::ServiceError) -> Self {
        match e {
            super::services::ServiceError::Config(m) => RunError::BadInput(m),
            super::services::ServiceError::Harness(m) => RunError::Harness(m),
        }
    }
}

impl From<crate::server::StartError> for RunError {
    fn from(e: crate::server::StartError) -> Self {
        match e {
            crate::server::StartError::Recordings(d) => RunError::Recordings(d),
            crate::server::StartError::Config(m) => RunError::BadInput(m),
            crate::server::StartError::Harness(m) => RunError::Harness(m),
        }
    }
}
