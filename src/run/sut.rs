//! The system under test: started after the mock servers (its command gets their URLs), once
//! per run, only when a scenario to run is tagged `@sut`. Those scenarios run one at a time
//! (contrail tags them `@serial` for cucumber): the SUT's requests carry no scenario, so
//! faults and journal counts can only be told apart by time, which is safe when nothing else
//! runs beside them.

use std::collections::BTreeMap;

use cucumber::gherkin;
use url::Url;

use super::services::{self, RunningService};
use crate::contract::Catalog;
use crate::contract::model::AuthDoc;
use crate::steps::world::{SutHandle, SutNow};
use crate::workspace::Workspace;

pub const TAG: &str = crate::feature::SUT_TAG;
/// A scenario that needs a SUT of its own, and spoils it for the next.
pub const FRESH_TAG: &str = "fresh-sut";

/// Whether any scenario of the run is tagged `@sut` (the features hold only the scenarios
/// `--tags` and `--name` chose: `feature::Selection`).
pub fn needed(features: &[(std::path::PathBuf, gherkin::Feature)]) -> bool {
    features
        .iter()
        .any(|(_, f)| crate::feature::scenarios(f).any(|(r, s)| tagged(f, r, s)))
}

/// Whether a scenario (with its rule and feature) is tagged `@sut`.
pub fn tagged(f: &gherkin::Feature, r: Option<&gherkin::Rule>, s: &gherkin::Scenario) -> bool {
    crate::feature::has_tag(f, r, s, TAG)
}

/// Whether a scenario is tagged `@fresh-sut`.
pub fn fresh(f: &gherkin::Feature, r: Option<&gherkin::Rule>, s: &gherkin::Scenario) -> bool {
    crate::feature::has_tag(f, r, s, FRESH_TAG)
}

/// Tags every `@sut` scenario `@serial` as well.
pub fn serialize(f: &mut gherkin::Feature) {
    let feature_sut = f.tags.iter().any(|t| t == TAG);
    let mark = |s: &mut gherkin::Scenario, inherited: bool| {
        if (inherited || s.tags.iter().any(|t| t == TAG)) && !s.tags.iter().any(|t| t == "serial") {
            s.tags.push("serial".into());
        }
    };
    for s in &mut f.scenarios {
        mark(s, feature_sut);
    }
    for r in &mut f.rules {
        let rule_sut = feature_sut || r.tags.iter().any(|t| t == TAG);
        for s in &mut r.scenarios {
            mark(s, rule_sut);
        }
    }
}

/// `{partners.NAME.url}` and `{partners.NAME.token_url}` for the command line.
fn vars(catalog: &Catalog, base_urls: &BTreeMap<String, Url>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (partner, url) in base_urls {
        out.push((
            format!("partners.{partner}.url"),
            url.as_str().trim_end_matches('/').to_string(),
        ));
        let token = catalog
            .contracts
            .values()
            .find_map(|c| match c.partner(partner)?.doc.auth.as_ref()? {
                AuthDoc::Oauth2ClientCredentials { token_url, .. } => Some(token_url.clone()),
                _ => None,
            });
        if let Some(t) = token {
            let abs = Url::parse(&t)
                .or_else(|_| url.join(&t))
                .map(|u| u.to_string())
                .unwrap_or(t);
            out.push((format!("partners.{partner}.token_url"), abs));
        }
    }
    out
}

/// Starts, restarts and stops the system under test.
pub struct SutRunner {
    ws: Workspace,
    /// `[sut]` as a service, with `CONTRAIL_MOCK_CA` when the mocks serve HTTPS.
    service: crate::workspace::ServiceConfig,
    vars: Vec<(String, String)>,
    pub per_scenario: bool,
    pub handle: SutHandle,
    current: tokio::sync::Mutex<Option<RunningService>>,
    /// Whether a scenario has used the current one (a fresh one serves the first as it is).
    used: std::sync::atomic::AtomicBool,
    /// The last scenario was tagged `@fresh-sut`: it may have left the SUT in any state.
    dirty: std::sync::atomic::AtomicBool,
}

impl SutRunner {
    /// Starts it the first time. `mock_ca` is the file holding the CA of the mocks' HTTPS
    /// certificate, given to the SUT as `{mock.ca}` and `CONTRAIL_MOCK_CA`.
    pub async fn start(
        ws: &Workspace,
        catalog: &Catalog,
        base_urls: &BTreeMap<String, Url>,
        mock_ca: Option<&std::path::Path>,
    ) -> Result<SutRunner, services::ServiceError> {
        let cfg = ws.config.sut.as_ref().ok_or_else(|| {
            services::ServiceError::Config("scenarios tagged @sut need a [sut] in contrail.toml".into())
        })?;
        let mut vars = vars(catalog, base_urls);
        let mut service = cfg.as_service();
        if let Some(ca) = mock_ca {
            let ca = ca.display().to_string();
            service
                .env
                .entry("CONTRAIL_MOCK_CA".into())
                .or_insert_with(|| ca.clone());
            vars.push(("mock.ca".into(), ca));
        }
        let svc = services::start(ws, "sut", &service, &vars).await?;
        let handle = SutHandle::new(
            now(&svc).map_err(services::ServiceError::Harness)?,
            cfg.webhooks.clone(),
        );
        Ok(SutRunner {
            ws: ws.clone(),
            service,
            vars,
            per_scenario: cfg.per_scenario,
            handle,
            current: tokio::sync::Mutex::new(Some(svc)),
            used: std::sync::atomic::AtomicBool::new(false),
            dirty: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Before an @sut scenario: a fresh SUT with `per_scenario`, for a scenario tagged
    /// `@fresh-sut` (one that leaves the SUT changed: paused, crashed), and for the scenario
    /// after one; unless the current SUT is still unused.
    pub async fn before_scenario(&self, fresh: bool) {
        use std::sync::atomic::Ordering::SeqCst;
        let used = self.used.swap(true, SeqCst);
        let after_dirty = self.dirty.swap(fresh, SeqCst);
        // (`dirty` is also set by `scenario_failed`.)
        if used && (self.per_scenario || fresh || after_dirty) {
            self.restart().await;
        }
    }

    /// After an @sut scenario failed: it may have stopped with work still under way in the
    /// SUT (a webhook accepted whose incident is not sent yet), which would land in the next
    /// scenario's journal window and fail it for the wrong reason. The next one gets a fresh SUT.
    pub fn scenario_failed(&self) {
        self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// A fresh one: the old one is stopped first.
    pub async fn restart(&self) {
        let mut current = self.current.lock().await;
        if let Some(old) = current.take() {
            old.stop().await;
        }
        match services::start(&self.ws, "sut", &self.service, &self.vars).await {
            Ok(svc) => match now(&svc) {
                Ok(n) => {
                    self.handle.set(n);
                    *current = Some(svc);
                }
                Err(e) => self.handle.break_with(e),
            },
            Err(e) => self.handle.break_with(e.to_string()),
        }
    }

    pub async fn stop(&self) {
        if let Some(svc) = self.current.lock().await.take() {
            svc.stop().await;
        }
    }

    pub async fn url(&self) -> String {
        self.current
            .lock()
            .await
            .as_ref()
            .map(|s| s.url.clone())
            .unwrap_or_default()
    }
}

fn now(svc: &RunningService) -> Result<SutNow, String> {
    Ok(SutNow {
        url: Url::parse(&svc.url).map_err(|e| e.to_string())?,
        output: svc.output.clone(),
        broken: None,
    })
}
