//! What the system under test did with a delivery: the request it made to the other partner,
//! checked against the contract's mapping and the expectation.

use super::*;

/// `that request's field "severity" follows the mapping ... from the webhook's "ticket.priority"`.
pub(super) async fn request_follows_mapping(w: &mut World, a: &Args) -> StepResult {
    let pointer = crate::steps::values::field_pointer(a.param(0));
    let name = a.param(1);
    let from = crate::steps::values::field_pointer(a.param(2));
    let contract = contract_of(w)?;
    let m = contract
        .mapping(name)
        .ok_or_else(|| StepFailure::usage(format!("the contract {:?} has no mapping {name:?}", contract.name)))?;
    let webhook = w
        .vars
        .get("webhook")
        .cloned()
        .or_else(|| w.deliveries.last().and_then(|d| serde_json::from_slice(&d.body).ok()))
        .ok_or_else(|| StepFailure::usage("no webhook was sent yet in this scenario"))?;
    let source = webhook.pointer(&from).cloned();
    let expected = crate::contract::apply_mapping(m, source.as_ref())
        .ok_or_else(|| StepFailure::usage(format!("the mapping {name:?} has no value and no default for that")))?;
    let last = w
        .selected
        .last()
        .ok_or_else(|| StepFailure::usage("no request was selected: use a \"receives ...\" step first"))?;
    let got = match last.body.parsed() {
        crate::recording::Body::Json(v) => v.pointer(&pointer).cloned(),
        _ => None,
    };
    let source_text = source
        .as_ref()
        .map(matching::short)
        .unwrap_or_else(|| "a missing value (the default)".into());
    match got {
        Some(v) if v == expected => Ok(()),
        other => Err(StepFailure::assertion(format!(
            "{pointer} of {} {} does not follow the mapping {name:?}: for {source_text} the contract says {}, the request has {}",
            last.method,
            last.path,
            matching::short(&expected),
            other
                .as_ref()
                .map(matching::describe)
                .unwrap_or_else(|| "nothing".into())
        ))),
    }
}

pub(super) async fn sut_matches(w: &mut World, a: &Args) -> StepResult {
    let sut = w
        .suite
        .sut
        .clone()
        .ok_or_else(|| StepFailure::usage("no system under test in this run: add [sut] to contrail.toml"))?;
    w.uses_sut = true;
    let seconds = u64::try_from(a.int(0)?).map_err(|_| StepFailure::usage("seconds must be 0 or more"))?;
    let expected = json_docstring(a.docstring()?)?;
    matching::check_expected(&expected).map_err(StepFailure::usage)?;
    let url = sut
        .url()?
        .join(a.param(1))
        .map_err(|e| StepFailure::usage(format!("{:?}: {e}", a.param(1))))?;
    let deadline = crate::clock::deadline(Duration::from_secs(seconds));
    loop {
        let req = SentRequest {
            method: "GET".into(),
            url: url.to_string(),
            headers: vec![("Accept".into(), "application/json".into())],
            body: None,
        };
        let (_, resp, _) = w.suite.client.send(req).await?;
        let actual: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        let mismatches = matching::compare(&expected, &actual, Mode::Contains).map_err(StepFailure::usage)?;
        if mismatches.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            let (ev, av) = matching::diff_views(&expected, &actual, Mode::Contains);
            return Err(StepFailure::assertion(format!(
                "within {seconds} s the system under test's {} never matched",
                a.param(1)
            ))
            .findings(mismatches)
            .diff(crate::steps::values::pretty(&ev), crate::steps::values::pretty(&av)));
        }
        // The system under test has no journal to wait on: ask again shortly.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn padding_keeps_json_valid_and_reaches_the_size() {
        let mut b = br#"{"a":1}"#.to_vec();
        crate::server::faults::pad_object(&mut b, 1000);
        assert_eq!(b.len(), 1000);
        assert!(serde_json::from_slice::<serde_json::Value>(&b).is_ok());
    }
}
