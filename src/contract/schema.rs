//! Compiled JSON Schema validators, built once per schema and cached for the run.
//!
//! All documents of a contract go into one jsonschema registry; a schema is compiled the first
//! time something validates against it. Loading a 10 MB partner spec therefore costs a parse
//! and an index, not thousands of compilations (`lint` compiles them all on purpose).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonschema::{Draft, Registry, Validator};
use serde_json::Value;

use super::openapi::Documents;
use super::operation::SchemaRef;

pub struct Schemas {
    registry: Registry<'static>,
    cache: Mutex<HashMap<String, Arc<Validator>>>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas").finish_non_exhaustive()
    }
}

/// One way an instance breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the instance ("" for the root).
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{p}: {}", self.message)
    }
}

/// A missing required property is reported at the property's own pointer, so the message
/// names the field that is gone rather than its parent.
fn violation(e: &jsonschema::ValidationError<'_>) -> Violation {
    let at = e.instance_path().to_string();
    match e.kind() {
        jsonschema::error::ValidationErrorKind::Required {
            property: serde_json::Value::String(name),
        } => Violation {
            pointer: format!("{at}/{}", super::openapi::escape_pointer(name)),
            message: "required by the contract, but missing".into(),
        },
        _ => Violation {
            pointer: at,
            message: e.to_string(),
        },
    }
}

impl Schemas {
    pub fn new(docs: &Documents) -> Result<Self, String> {
        let resources: Vec<(String, Value)> = docs
            .docs
            .iter()
            .map(|(url, doc)| (url.to_string(), (**doc).clone()))
            .collect();
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .extend(resources)
            .and_then(|b| b.prepare())
            .map_err(|e| format!("cannot index the contract's schemas: {e}"))?;
        Ok(Self {
            registry,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The compiled validator for a schema (compiled on first use).
    pub fn validator(&self, schema: &SchemaRef) -> Result<Arc<Validator>, String> {
        if let Some(v) = self.cache.lock().map_err(|_| "schema cache poisoned")?.get(&schema.key) {
            return Ok(v.clone());
        }
        let v = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .build(&schema.schema)
            .map_err(|e| format!("the schema at {} does not compile: {e}", schema.key))?;
        let v = Arc::new(v);
        self.cache
            .lock()
            .map_err(|_| "schema cache poisoned")?
            .insert(schema.key.clone(), v.clone());
        Ok(v)
    }

    /// Every violation of `schema` by `instance`, by JSON pointer.
    pub fn validate(&self, schema: &SchemaRef, instance: &Value) -> Result<Vec<Violation>, String> {
        let v = self.validator(schema)?;
        Ok(v.iter_errors(instance).map(|e| violation(&e)).collect())
    }
}
