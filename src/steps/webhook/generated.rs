//! Generated payloads: many from the schema, each delivered and checked with the listed steps;
//! the first failure shrunk to a small payload that still fails.

use super::*;

const SHRINK_STEPS: usize = 1000;
const SHRINK_TIME: Duration = Duration::from_secs(30);

/// Runs the listed steps for `n` payloads generated from the event's schema (a fresh system
/// under test for each); on a failure, shrinks the payload to the smallest that still fails.
pub(super) async fn generated(w: &mut World, a: &Args) -> StepResult {
    use proptest::strategy::{Strategy as _, ValueTree as _};
    let n = u32::try_from(a.int(1)?).map_err(|_| StepFailure::usage("give a count from 0 up"))?;
    let args = Args {
        params: vec![a.param(0).into(), a.param(2).into()],
        ..Args::default()
    };
    let (partner, event) = (args.param(0).to_string(), args.param(1).to_string());
    let lines = listed_steps(a.docstring()?);
    if lines.is_empty() {
        return Err(StepFailure::usage(
            "list the steps to check each payload with, one per line",
        ));
    }
    let scheme = scheme(w, &partner, &event)?;
    let c = contract_of(w)?;
    let schema = c
        .webhook_schemas
        .get(&event)
        .ok_or_else(|| StepFailure::usage(format!("the webhook {event:?} has no schema to generate from")))?;
    let resolve = |r: &str| c.schemas.resolve_ref(r).cloned();
    let strategy = crate::webhook::strategy::of(&schema.schema, &resolve);
    let mut runner = crate::shrink::runner(w.draw("generated data"));
    for case in 1..=n {
        let mut tree = strategy
            .new_tree(&mut runner)
            .map_err(|e| StepFailure::usage(format!("cannot generate a {event:?} payload: {e}")))?;
        let Err(first) = check_case(w, &args, scheme.clone(), &lines, tree.current()).await else {
            continue;
        };
        if first.kind == crate::steps::FailureKind::Harness {
            return Err(first);
        }
        // Each shrink step is a delivery to a fresh service: bounded in steps and in time.
        let deadline = Some(std::time::Instant::now() + SHRINK_TIME);
        let shrunk = crate::shrink::shrink(&mut *tree, first, SHRINK_STEPS, deadline, async |candidate| {
            Ok::<_, std::convert::Infallible>(check_case(w, &args, scheme.clone(), &lines, candidate).await.err())
        })
        .await;
        let Ok(crate::shrink::Shrunk {
            value: input,
            evidence: failure,
            steps: shrinks,
        }) = shrunk;
        return Err(
            StepFailure::assertion(format!("generated case {case} of {n} failed: {}", failure.message)).findings(vec![
                format!(
                    "smallest failing {event} payload (after {shrinks} shrink step(s)): {}",
                    serde_json::to_string(&input).unwrap_or_default()
                ),
                format!(
                    "seed {run}: CONTRAIL_SEED={run} repeats this run",
                    run = crate::seed::run()
                ),
            ]),
        );
    }
    Ok(())
}

pub(super) async fn check_case(
    w: &mut World,
    args: &Args,
    scheme: Option<Scheme>,
    lines: &[String],
    payload: Value,
) -> StepResult {
    // Each case is a world of its own: a fresh service, and the partner's budget back.
    if let Some(r) = w.suite.sut.as_ref().and_then(|s| s.restarter.clone()) {
        (r.0)().await;
    }
    for m in w.suite.mocks.values() {
        if let Some(sim) = m.simulator() {
            sim.reset_rate_windows();
        }
    }
    w.started = std::time::Instant::now();
    w.selected.clear();
    w.vars.insert("webhook".into(), payload.clone());
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    deliver(w, args, scheme, body, None, Signing::Good).await?;
    for line in lines {
        Box::pin(w.run_step(line, None, None)).await?;
    }
    Ok(())
}
