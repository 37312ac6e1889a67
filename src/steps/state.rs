//! Partner-side state, as Pact's provider states: a scenario says what must already be true on
//! the partner's side (`Given the partner is in state "a ticket T-1 exists"`), and whoever runs
//! it against a real sandbox has that state set up first. With a state-setup URL (`contrail
//! verify --state-setup-url`) the step POSTs `{"state", "params", "action": "setup"}` there and
//! needs a 2xx; against a live sandbox without one, the scenario is skipped as needing state
//! setup (not failed: nothing was wrong with the API); in replay it does nothing, since the
//! recordings were made with the state in place.

use serde_json::{Map, Value};

use super::registry::{Attachment, Registry};
use super::{Args, FailureKind, StepFailure, StepResult, World, builtin};

pub const STATE: &str = "the partner is in state {state}";
pub const STATE_WITH: &str = "the partner is in state {state} with:";

pub fn register(r: &mut Registry) {
    builtin(
        r,
        "state",
        STATE,
        Attachment::None,
        "What must already be true on the partner's side. Against a live sandbox it is set up \
         through the state-setup URL (`contrail verify --state-setup-url`); without one the \
         scenario is skipped as needing state setup; in replay it does nothing.",
        r#"Given the partner is in state "a ticket T-1 exists""#,
        |w, a| Box::pin(state(w, a)),
    );
    builtin(
        r,
        "state",
        STATE_WITH,
        Attachment::Table,
        "The same, with parameters: a two-column table of names and values (`| priority | high |`).",
        r#"Given the partner is in state "a ticket exists" with:"#,
        |w, a| Box::pin(state(w, a)),
    );
}

async fn state(w: &mut World, a: Args) -> StepResult {
    let name = a.param(0).to_string();
    let mut params = Map::new();
    for row in a.table.iter().flatten() {
        match row.as_slice() {
            [k, v] => {
                params.insert(k.clone(), Value::String(v.clone()));
            }
            _ => return Err(StepFailure::usage("each row of the state's table is | name | value |")),
        }
    }
    if !w.suite.live {
        return Ok(());
    }
    let partner = which_partner(w)?;
    let Some(url) = w.suite.state_setup.get(&partner).cloned() else {
        return Err(StepFailure::new(
            FailureKind::Skipped,
            format!(
                "needs state setup: {partner:?} must be in state {name:?}; give the URL that sets it up with \
                 `contrail verify --state-setup-url`"
            ),
        ));
    };
    let body = serde_json::json!({ "state": name, "params": params, "action": "setup" });
    let req = crate::client::SentRequest {
        method: "POST".into(),
        url: url.to_string(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: Some(body.to_string().into_bytes()),
    };
    let shown = crate::recording::safe_target(url.as_str());
    match w.suite.client.send(req).await {
        Ok((_, got, _)) if (200..300).contains(&got.status) => Ok(()),
        Ok((_, got, _)) => Err(StepFailure::harness(format!(
            "the state setup at {shown} answered {} to {name:?}: {}",
            got.status,
            String::from_utf8_lossy(&got.body).chars().take(300).collect::<String>()
        ))),
        Err(e) => Err(StepFailure::harness(format!("the state setup at {shown}: {e}"))),
    }
}

/// The partner whose state it is: the scenario's, the contract's only one, or the only one a
/// state-setup URL was given for.
fn which_partner(w: &mut World) -> Result<String, StepFailure> {
    if let Some(p) = &w.partner {
        return Ok(p.clone());
    }
    if let Some(c) = &w.contract
        && c.partners.len() == 1
        && let Some(p) = c.partners.keys().next()
    {
        return Ok(p.clone());
    }
    let mut urls = w.suite.state_setup.keys();
    match (urls.next(), urls.next()) {
        (Some(p), None) => Ok(p.clone()),
        _ => Err(StepFailure::usage(
            "which partner's state? say first: Given the partner \"...\"",
        )),
    }
}
