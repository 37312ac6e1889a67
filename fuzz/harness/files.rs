//! The file formats a user writes or commits: contracts, OpenAPI documents, feature files,
//! declarative steps and recordings, read through the same loaders `contrail run` and
//! `contrail lint` use (files on disk, so the readers' own checks run too).

use std::path::{Path, PathBuf};

use contrail::contract::Contract;
use contrail::gherkin;
use contrail::recording::{self, index};

thread_local! {
    /// One scratch workspace per thread (tests run in parallel), holding a copy of the demo's
    /// OpenAPI documents so a fuzzed contract's references can resolve.
    static WORKSPACE: tempfile::TempDir = workspace();
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let openapi = dir.path().join("contracts/openapi");
    std::fs::create_dir_all(&openapi).expect("contracts/openapi");
    std::fs::create_dir_all(dir.path().join("steps")).expect("steps");
    std::fs::create_dir_all(dir.path().join("recordings")).expect("recordings");
    for name in ["ticketing.yaml", "incidents.yaml"] {
        let from = super::root().join("contracts/openapi").join(name);
        std::fs::copy(&from, openapi.join(name)).expect("the demo's OpenAPI documents");
    }
    dir
}

fn with_workspace<T>(f: impl FnOnce(&Path) -> T) -> T {
    WORKSPACE.with(|w| f(w.path()))
}

/// A contract file as a user writes it.
pub fn contract(data: &[u8]) {
    with_workspace(|ws| {
        let file = ws.join("contracts/fuzz.yaml");
        std::fs::write(&file, data).expect("write the contract");
        if let Ok(c) = Contract::load(&file) {
            let _ = c.compile_all();
            for p in c.partners.values() {
                let _ = p.operation_for("GET", "/tickets/1");
                let _ = p.token_path();
            }
        }
    })
}

/// An OpenAPI document (JSON when the input starts with `{`, else YAML) under a fixed contract.
pub fn openapi(data: &[u8]) {
    with_workspace(|ws| {
        let ext = if data.first() == Some(&b'{') { "json" } else { "yaml" };
        let doc = ws.join(format!("contracts/openapi/fuzz.{ext}"));
        std::fs::write(&doc, data).expect("write the document");
        let contract = ws.join("contracts/fuzz-openapi.yaml");
        let text = format!(
            "contract: fuzz\nversion: 1.0.0\npartners:\n  api:\n    openapi: openapi/fuzz.{ext}\n    auth:\n      type: none\n"
        );
        std::fs::write(&contract, text).expect("write the contract");
        if let Ok(c) = Contract::load(&contract) {
            let _ = c.compile_all();
            if let Some(p) = c.partner("api") {
                for (method, path) in [("GET", "/"), ("POST", "/tickets"), ("GET", "/tickets/T-1")] {
                    let _ = p.operation_for(method, path);
                }
            }
        }
    })
}

/// A feature file, classic and as Markdown with Gherkin.
pub fn gherkin(data: &[u8]) {
    let source = super::text(data);
    for markdown in [false, true] {
        let options = gherkin::Options {
            markdown,
            ..Default::default()
        };
        let _ = gherkin::parse(&source, "fuzz.feature", options);
    }
}

/// A declarative step file, loaded over the built-in vocabulary (collisions, cycles, unknown
/// sub-steps are all checked at load).
pub fn steps(data: &[u8]) {
    with_workspace(|ws| {
        let file = ws.join("steps/fuzz.yaml");
        std::fs::write(&file, data).expect("write the steps");
        thread_local! {
            static BUILTIN: contrail::steps::registry::Registry = contrail::steps::builtin_registry();
        }
        let mut registry = BUILTIN.with(|r| r.clone());
        let _ = contrail::steps::declarative::load_into(&mut registry, &ws.join("steps"));
        let _ = registry.lookup("a fuzzed step");
    })
}

/// A committed recording: loaded, written back and loaded again unchanged (a recording must
/// survive a round trip through git and `contrail run --target record`), and found again by
/// the replay index from its own request.
pub fn recording(data: &[u8]) {
    with_workspace(|ws| {
        let dir = ws.join("recordings");
        let file = dir.join("fuzz.json");
        std::fs::write(&file, data).expect("write the recording");
        let (items, errors) = recording::load_dir(&dir);
        if !errors.is_empty() {
            return;
        }
        for (_, interaction) in &items {
            let written = interaction.to_pretty_json().expect("a loaded recording serialises");
            let again: recording::Interaction = serde_json::from_str(&written).expect("a written recording reads back");
            assert_eq!(&again, interaction, "a recording changed in a round trip:\n{written}");
            let _ = interaction.file_name();
        }
        let policy = demo_contract().policy.clone();
        for (_, i) in &items {
            same_key_as_received(&policy, i);
        }
        let requests: Vec<index::Incoming> = items.iter().map(|(_, i)| incoming_of(i)).collect();
        let idx = index::Index::build(&policy, items);
        for req in &requests {
            let _ = idx.lookup(&policy, None, req);
        }
    })
}

/// A recorded request and the same request as the mock receives it (its body as bytes, its
/// query as text) have one lookup key: the raw road (`write_exact_raw`, the query borrowed
/// from its text) and the parsed one must not part.
fn same_key_as_received(policy: &contrail::policy::FieldPolicy, i: &recording::Interaction) {
    let r = &i.request;
    if !matches!(r.body, recording::Body::Json(_) | recording::Body::None) {
        return;
    }
    let recorded = index::key(
        policy,
        None,
        "",
        &r.method,
        &r.path,
        index::borrowed_pairs(&r.query),
        &r.body,
    );
    let text = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&r.query)
        .finish();
    let query = recording::ReceivedQuery::received(&text);
    let body = recording::ReceivedBody::received(recording::Declared::of(None), &r.body.to_bytes());
    let received = index::key(policy, None, "", &r.method, &r.path, query.decoded(), &body);
    assert_eq!(recorded, received, "the raw road parts from the parsed one");
}

fn incoming_of(i: &recording::Interaction) -> index::Incoming {
    index::Incoming {
        method: i.request.method.clone().into(),
        path: i.request.path.clone(),
        query: i.request.query.clone().into(),
        body: i.request.body.clone().into(),
        scenario: i.meta.scenario.clone(),
        steps: i.meta.steps.clone(),
        credentials: String::new(),
    }
}

/// The bundled demo contract (loaded once per thread).
pub fn demo_contract() -> std::sync::Arc<Contract> {
    thread_local! {
        static DEMO: std::sync::Arc<Contract> = std::sync::Arc::new(
            Contract::load(&demo_contract_file()).expect("the bundled contract loads"),
        );
    }
    DEMO.with(|c| c.clone())
}

pub fn demo_contract_file() -> PathBuf {
    super::root().join("contracts/support-escalation.yaml")
}
