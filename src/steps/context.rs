//! Steps that set the scene: which contract, which partner, which credentials, variables.

use serde_json::Value;

use super::registry::{Attachment, Registry};
use super::{Args, FailureKind, StepFailure, StepResult, World, builtin};
use crate::client::auth::Credentials;

/// Phrases other modules refer to (lint checks what they name): one spelling, here.
pub const CONTRACT: &str = "the contract {name}";
pub const PARTNER: &str = "the partner {name}";

pub const AUTH_SCOPES: &str = "I authenticate with the scopes {scopes}";

pub fn register(r: &mut Registry) {
    builtin(
        r,
        "context",
        CONTRACT,
        Attachment::None,
        "Use this contract (by its `contract:` name) for the rest of the scenario.",
        r#"Given the contract "support-escalation""#,
        |w, a| Box::pin(contract(w, a)),
    );
    builtin(
        r,
        "context",
        PARTNER,
        Attachment::None,
        "Send method + path requests to this partner of the contract.",
        r#"Given the partner "ticketing""#,
        |w, a| Box::pin(partner(w, a)),
    );
    builtin(
        r,
        "auth",
        "I am not authenticated",
        Attachment::None,
        "Send the next requests with no credentials at all.",
        "Given I am not authenticated",
        |w, _| {
            Box::pin(async move {
                w.credentials = Credentials::Anonymous;
                Ok(())
            })
        },
    );
    builtin(
        r,
        "auth",
        AUTH_SCOPES,
        Attachment::None,
        "Use an OAuth token that carries only these space-separated scopes.",
        r#"Given I authenticate with the scopes "tickets:read""#,
        |w, a| Box::pin(scopes(w, a)),
    );
    builtin(
        r,
        "auth",
        "I authenticate as the client {client_id} with the secret {secret}",
        Attachment::None,
        "Use an OAuth token of another client of the partner (its own scopes and rate limit); the secret may be ${env:NAME}.",
        r#"Given I authenticate as the client "throttled-app" with the secret "${env:THROTTLED_SECRET}""#,
        |w, a| {
            Box::pin(async move {
                w.credentials = Credentials::Client {
                    id: a.param(0).to_string(),
                    secret: a.param(1).to_string(),
                };
                Ok(())
            })
        },
    );
    builtin(
        r,
        "data",
        "the variable {name} is {value}",
        Attachment::None,
        "Set a scenario variable, used later as ${name}.",
        r#"Given the variable "ticket_id" is "T-100""#,
        |w, a| {
            Box::pin(async move {
                w.vars
                    .insert(a.param(0).to_string(), Value::String(a.param(1).to_string()));
                Ok(())
            })
        },
    );
    builtin(
        r,
        "data",
        "the variable {name} is the table:",
        Attachment::Table,
        "Keep a data table as a variable: its rows, each a list of cells (${name.0.1} is the \
         second cell of the first row).",
        "Given the variable \"expected\" is the table:",
        |w, a| {
            Box::pin(async move {
                let rows = table_value(a.table()?.clone());
                w.vars.insert(a.param(0).to_string(), rows);
                Ok(())
            })
        },
    );
    builtin(
        r,
        "data",
        "the variable {name} is the table transposed:",
        Attachment::Table,
        "Keep a data table turned on its side (rows become columns): a field | value table \
         written across the page, read down it.",
        "Given the variable \"ticket\" is the table transposed:",
        |w, a| {
            Box::pin(async move {
                let rows = a.table()?;
                let width = rows.iter().map(Vec::len).max().unwrap_or(0);
                let transposed: Vec<Vec<String>> = (0..width)
                    .map(|c| rows.iter().map(|r| r.get(c).cloned().unwrap_or_default()).collect())
                    .collect();
                w.vars.insert(a.param(0).to_string(), table_value(transposed));
                Ok(())
            })
        },
    );
    builtin(
        r,
        "data",
        "the variable {name} equals the table:",
        Attachment::Table,
        "The variable holds exactly these rows and cells (as kept by `is the table:`).",
        "Then the variable \"transposed\" equals the table:",
        |w, a| {
            Box::pin(async move {
                let name = a.param(0);
                let want = table_value(a.table()?.clone());
                let got = w
                    .vars
                    .get(name)
                    .ok_or_else(|| StepFailure::usage(format!("no variable {name:?} is set in this scenario")))?;
                if *got == want {
                    return Ok(());
                }
                Err(
                    StepFailure::assertion(format!("the variable {name:?} is not the table below the step"))
                        .diff(super::values::pretty(&want), super::values::pretty(got)),
                )
            })
        },
    );
    builtin(
        r,
        "data",
        "this scenario is pending {reason}",
        Attachment::None,
        "Marks the rest of the scenario as not written yet: its steps are skipped and the \
         scenario is reported pending (a failure only under --strict).",
        r#"Then this scenario is pending "the partner's v2 API is not in the sandbox yet""#,
        |_, a| {
            Box::pin(async move {
                Err(StepFailure::new(
                    FailureKind::Pending,
                    format!("pending: {}", a.param(0)),
                ))
            })
        },
    );
    builtin(
        r,
        "data",
        "this scenario is skipped {reason}",
        Attachment::None,
        "Skips the rest of the scenario on purpose (the sandbox lacks what it needs today): its \
         steps are skipped and the scenario is reported skipped, with the reason; not a failure.",
        r#"Given this scenario is skipped "the EU sandbox has no incidents API""#,
        |_, a| {
            Box::pin(async move {
                Err(StepFailure::new(
                    FailureKind::Skipped,
                    format!("skipped: {}", a.param(0)),
                ))
            })
        },
    );
}

async fn contract(w: &mut World, a: Args) -> StepResult {
    let name = a.param(0);
    let c = w.suite.catalog.get(name).cloned().ok_or_else(|| {
        let names: Vec<&str> = w.suite.catalog.contracts.keys().map(String::as_str).collect();
        StepFailure::usage(format!(
            "no contract named {name:?} (contracts: {})",
            if names.is_empty() {
                "none loaded".into()
            } else {
                names.join(", ")
            }
        ))
    })?;
    if w.partner.is_none() && c.partners.len() == 1 {
        w.partner = c.partners.keys().next().cloned();
    }
    w.contract = Some(c);
    Ok(())
}

async fn partner(w: &mut World, a: Args) -> StepResult {
    let name = a.param(0);
    let c = w.contract()?;
    if c.partner(name).is_none() {
        let names: Vec<&str> = c.partners.keys().map(String::as_str).collect();
        return Err(StepFailure::usage(format!(
            "the contract {:?} has no partner {name:?} (partners: {})",
            c.name,
            names.join(", ")
        )));
    }
    w.partner = Some(name.to_string());
    Ok(())
}

async fn scopes(w: &mut World, a: Args) -> StepResult {
    let wanted: Vec<String> = a.param(0).split_whitespace().map(str::to_string).collect();
    w.credentials = Credentials::Scopes(wanted);
    Ok(())
}

/// A table as JSON: a list of rows, each a list of its cells.
fn table_value(rows: Vec<Vec<String>>) -> Value {
    Value::Array(
        rows.into_iter()
            .map(|r| Value::Array(r.into_iter().map(Value::String).collect()))
            .collect(),
    )
}
