//! The step vocabulary: built-in steps grouped by job, declarative steps from `steps/*.yaml`,
//! and the `World` they act on.

pub mod assert;
pub mod auth_failure;
pub mod context;
pub mod declarative;
pub mod failure;
pub mod http;
pub mod mock;
pub mod oauth;
pub mod phrase;
pub mod reach;
pub mod registry;
pub mod report;
pub mod state;
pub mod values;
pub mod webhook;
pub mod world;

pub use failure::{FailureKind, StepFailure, StepResult};
pub use registry::{Attachment, Lookup, Registry, StepDef};
pub use world::{Args, Suite, World};

use registry::{Handler, Origin, StepBody};

/// The built-in vocabulary.
pub fn builtin_registry() -> Registry {
    let mut r = Registry::default();
    context::register(&mut r);
    http::register(&mut r);
    assert::register(&mut r);
    mock::register(&mut r);
    oauth::register(&mut r);
    webhook::register(&mut r);
    state::register(&mut r);
    r
}

/// Adds one built-in step. Phrases are constants of this crate: a bad one is a bug that the
/// registry's unit test catches, hence the expect.
pub(crate) fn builtin(
    r: &mut Registry,
    group: &str,
    phrase: &str,
    attachment: Attachment,
    summary: &str,
    example: &str,
    handler: Handler,
) {
    let phrase = phrase::Phrase::parse(phrase).expect("built-in phrases are valid");
    r.push(StepDef {
        phrase,
        group: group.to_string(),
        summary: summary.to_string(),
        example: example.to_string(),
        attachment,
        body: StepBody::Builtin(handler),
        origin: Origin::Builtin,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_example_resolves_to_its_own_phrase() {
        let r = builtin_registry();
        for (i, def) in r.defs().iter().enumerate() {
            match r.lookup(&def.example) {
                Lookup::Found(s) => assert_eq!(
                    s.index,
                    i,
                    "example {:?} resolves to {:?}",
                    def.example,
                    r.get(s.index).phrase.text
                ),
                _ => panic!(
                    "example {:?} of {:?} does not resolve to one step",
                    def.example, def.phrase.text
                ),
            }
        }
    }

    #[test]
    fn undefined_steps_get_a_close_suggestion() {
        let r = builtin_registry();
        match r.lookup(r#"the response statis is 200"#) {
            Lookup::Undefined { suggestion: Some(s) } => assert!(s.contains("the response status is"), "{s}"),
            _ => panic!("expected an undefined step with a suggestion"),
        }
    }
}
