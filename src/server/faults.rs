//! Faults a scenario programs on a mock server: for the next N calls of an operation, answer
//! with a status (429 + Retry-After, 503, ...), after a delay, or by dropping the connection.
//! A fault belongs to the scenario that programmed it, so concurrent scenarios never see each
//! other's faults.

use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum FaultKind {
    /// Answer with this instead of the recording.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Wait, then answer as usual.
    Delay(Duration),
    /// Close the connection without an answer.
    Reset,
}

#[derive(Debug, Clone)]
pub struct Fault {
    /// The scenario it belongs to (None: every request, e.g. from a system under test).
    pub scenario: Option<String>,
    /// `METHOD path-template` of the operation it applies to.
    pub method: String,
    pub template: String,
    pub remaining: u32,
    pub kind: FaultKind,
}

#[derive(Default)]
pub struct Faults {
    list: Mutex<Vec<Fault>>,
}

impl Faults {
    pub fn add(&self, f: Fault) {
        if let Ok(mut l) = self.list.lock() {
            l.push(f);
        }
    }

    /// The fault the next request of this scenario to this method + path triggers, if any;
    /// counts it down.
    pub fn take(&self, scenario: Option<&str>, method: &str, path: &str) -> Option<FaultKind> {
        let mut l = self.list.lock().ok()?;
        if l.is_empty() {
            return None;
        }
        let i = l.iter().position(|f| {
            f.remaining > 0
                && (f.scenario.is_none() || f.scenario.as_deref() == scenario)
                && f.method.eq_ignore_ascii_case(method)
                && crate::contract::operation::match_template(&f.template, path).is_some()
        })?;
        l[i].remaining -= 1;
        let kind = l[i].kind.clone();
        if l[i].remaining == 0 {
            l.remove(i);
        }
        Some(kind)
    }

    /// Drops the faults of a scenario that has finished.
    pub fn forget(&self, scenario: &str) {
        if let Ok(mut l) = self.list.lock() {
            l.retain(|f| f.scenario.as_deref() != Some(scenario));
        }
    }
}
