//! OAuth lifecycle steps: change the simulated partner's authorization server mid-scenario
//! (token lifetime, revocation, scopes taken away); the changes end with the scenario.

use std::time::Duration;

use super::registry::{Attachment, Registry};
use super::{StepFailure, World, builtin};

pub const SCOPE_REMOVED: &str = "the scope {scope} is removed from the clients of {partner}";

pub fn register(r: &mut Registry) {
    builtin(
        r,
        "oauth",
        "access tokens of {partner} expire after {seconds:int} seconds",
        Attachment::None,
        "The simulated partner issues access tokens that live this long (for the rest of the scenario).",
        r#"Given access tokens of "incidents" expire after 2 seconds"#,
        |w, a| {
            Box::pin(async move {
                let secs = super::mock::non_negative(&a, 1)?;
                simulator(w, a.param(0))?.set_token_ttl(Duration::from_secs(secs));
                Ok(())
            })
        },
    );
    builtin(
        r,
        "oauth",
        "the access tokens of {partner} are revoked",
        Attachment::None,
        "Every access token the simulated partner issued so far is refused from the next call on (401 invalid_token).",
        r#"When the access tokens of "incidents" are revoked"#,
        |w, a| {
            Box::pin(async move {
                simulator(w, a.param(0))?.revoke_access_tokens();
                Ok(())
            })
        },
    );
    builtin(
        r,
        "oauth",
        "the refresh tokens of {partner} are revoked",
        Attachment::None,
        "Every refresh token issued so far is refused (400 invalid_grant): the client must reconnect with its credentials.",
        r#"When the refresh tokens of "incidents" are revoked"#,
        |w, a| {
            Box::pin(async move {
                simulator(w, a.param(0))?.revoke_refresh_tokens();
                Ok(())
            })
        },
    );
    builtin(
        r,
        "oauth",
        SCOPE_REMOVED,
        Attachment::None,
        "Calls needing this scope get 403 insufficient_scope (with WWW-Authenticate) for the rest of the scenario.",
        r#"When the scope "incidents:write" is removed from the clients of "incidents""#,
        |w, a| {
            Box::pin(async move {
                simulator(w, a.param(1))?.remove_scope(a.param(0));
                Ok(())
            })
        },
    );
}

fn simulator<'w>(w: &'w World, partner: &str) -> Result<&'w crate::server::simulate::Simulator, StepFailure> {
    super::mock::mock_for(w, partner)?.simulator().ok_or_else(|| {
        StepFailure::usage(format!(
            "{partner:?} is not simulated in this run: the OAuth steps need a system under test ([sut], @sut) and --target replay"
        ))
    })
}
