//! Webhook signatures the way partners send them: HMAC-SHA256 over the raw body or over
//! `timestamp.body`, in the header styles of GitHub, Stripe, Slack, Standard Webhooks, or a
//! generic configurable one. Pure functions: the caller supplies the time and the id.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::contract::model::SignatureDoc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Style {
    /// `X-Hub-Signature-256: sha256=<hex HMAC(body)>`
    GitHub,
    /// `Stripe-Signature: t=<ts>,v1=<hex HMAC("ts.body")>`
    Stripe,
    /// `X-Slack-Request-Timestamp: <ts>`, `X-Slack-Signature: v0=<hex HMAC("v0:ts:body")>`
    Slack,
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC("id.ts.body")>`,
    /// keyed with the base64 secret after `whsec_`.
    StandardWebhooks,
    /// `<header>: <hex HMAC(body or "ts.body")>`, with `X-Webhook-Timestamp` when timestamped.
    Generic { header: String, timestamped: bool },
}

/// A contract's signature scheme, ready to sign.
#[derive(Debug, Clone)]
pub struct Scheme {
    pub style: Style,
    pub secret: String,
}

impl Scheme {
    /// From the contract's `signature:` (the secret already interpolated).
    pub fn from_doc(doc: &SignatureDoc, secret: String) -> Result<Scheme, String> {
        if let Some(problem) = doc.problem() {
            return Err(problem);
        }
        let timestamped = doc.signed_payload.as_deref() == Some("timestamp.body");
        let style = match doc.style.as_str() {
            "github" => Style::GitHub,
            "stripe" => Style::Stripe,
            "slack" => Style::Slack,
            "standard-webhooks" => Style::StandardWebhooks,
            _ => Style::Generic {
                header: doc.header.clone().unwrap_or_else(|| "X-Signature".into()),
                timestamped,
            },
        };
        Ok(Scheme { style, secret })
    }

    /// Whether the scheme carries a timestamp (so a stale one can be sent).
    pub fn timestamped(&self) -> bool {
        !matches!(self.style, Style::GitHub | Style::Generic { timestamped: false, .. })
    }

    /// The headers that sign `body`, sent at unix time `ts` as delivery `id`.
    pub fn headers(&self, body: &[u8], ts: u64, id: &str) -> Vec<(String, String)> {
        let ts_s = ts.to_string();
        match &self.style {
            Style::GitHub => vec![(
                "X-Hub-Signature-256".into(),
                format!("sha256={}", hex(&hmac(self.secret.as_bytes(), &[body]))),
            )],
            Style::Stripe => vec![(
                "Stripe-Signature".into(),
                format!(
                    "t={ts_s},v1={}",
                    hex(&hmac(self.secret.as_bytes(), &[ts_s.as_bytes(), b".", body]))
                ),
            )],
            Style::Slack => vec![
                ("X-Slack-Request-Timestamp".into(), ts_s.clone()),
                (
                    "X-Slack-Signature".into(),
                    format!(
                        "v0={}",
                        hex(&hmac(self.secret.as_bytes(), &[b"v0:", ts_s.as_bytes(), b":", body]))
                    ),
                ),
            ],
            Style::StandardWebhooks => {
                let raw = self.secret.strip_prefix("whsec_").unwrap_or(&self.secret);
                let key = base64::prelude::BASE64_STANDARD
                    .decode(raw)
                    .unwrap_or_else(|_| raw.as_bytes().to_vec());
                let mac = hmac(&key, &[id.as_bytes(), b".", ts_s.as_bytes(), b".", body]);
                vec![
                    ("webhook-id".into(), id.to_string()),
                    ("webhook-timestamp".into(), ts_s),
                    (
                        "webhook-signature".into(),
                        format!("v1,{}", base64::prelude::BASE64_STANDARD.encode(mac)),
                    ),
                ]
            }
            Style::Generic { header, timestamped } => {
                if *timestamped {
                    vec![
                        ("X-Webhook-Timestamp".into(), ts_s.clone()),
                        (
                            header.clone(),
                            hex(&hmac(self.secret.as_bytes(), &[ts_s.as_bytes(), b".", body])),
                        ),
                    ]
                } else {
                    vec![(header.clone(), hex(&hmac(self.secret.as_bytes(), &[body])))]
                }
            }
        }
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes a key of any length; new_from_slice cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    //! Known vectors: GitHub's and Standard Webhooks' from their documentation, the others
    //! computed with Python's `hmac` module, never with the code under test.
    use super::*;

    fn scheme(style: Style, secret: &str) -> Scheme {
        Scheme {
            style,
            secret: secret.into(),
        }
    }

    fn get(h: &[(String, String)], name: &str) -> String {
        h.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    const BODY: &[u8] = br#"{"id":"evt_1","type":"ticket.escalated"}"#;
    const TS: u64 = 1_795_426_200;

    #[test]
    fn github_documentation_vector() {
        let h = scheme(Style::GitHub, "It's a Secret to Everybody").headers(b"Hello, World!", TS, "x");
        assert_eq!(
            get(&h, "X-Hub-Signature-256"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn standard_webhooks_specification_vector() {
        let h = scheme(Style::StandardWebhooks, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").headers(
            br#"{"test": 2432232314}"#,
            1_614_265_330,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
        );
        assert_eq!(
            get(&h, "webhook-signature"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_eq!(get(&h, "webhook-id"), "msg_p5jXN8AQM9LWM0D4loKWxJek");
        assert_eq!(get(&h, "webhook-timestamp"), "1614265330");
    }

    #[test]
    fn stripe_slack_and_generic_vectors() {
        let s = "whsec_test_secret";
        assert_eq!(
            get(&scheme(Style::Stripe, s).headers(BODY, TS, "x"), "Stripe-Signature"),
            "t=1795426200,v1=6e0f4b047c1847a4bd6c4e68917d82b61fb9d43eb4ee9fc8c19613ebd719677f"
        );
        let slack = scheme(Style::Slack, s).headers(BODY, TS, "x");
        assert_eq!(get(&slack, "X-Slack-Request-Timestamp"), "1795426200");
        assert_eq!(
            get(&slack, "X-Slack-Signature"),
            "v0=0ce4bf2a990c4a7ec89fff0f11bc0c518f42c0667c779e075d109b25ddccd9e9"
        );
        let plain = Style::Generic {
            header: "X-Sig".into(),
            timestamped: false,
        };
        assert_eq!(
            get(&scheme(plain, s).headers(BODY, TS, "x"), "X-Sig"),
            "6a081f4b20481e9bc3082cd5f4b0193068761f586e629077aa6dc3e425cb5e40"
        );
        let stamped = Style::Generic {
            header: "X-Sig".into(),
            timestamped: true,
        };
        let h = scheme(stamped, s).headers(BODY, TS, "x");
        assert_eq!(
            get(&h, "X-Sig"),
            "6e0f4b047c1847a4bd6c4e68917d82b61fb9d43eb4ee9fc8c19613ebd719677f"
        );
        assert_eq!(get(&h, "X-Webhook-Timestamp"), "1795426200");
    }

    #[test]
    fn a_changed_byte_changes_the_signature() {
        let s = scheme(Style::Stripe, "k");
        assert_ne!(s.headers(b"{}", TS, "x"), s.headers(b"{ }", TS, "x"));
        assert_ne!(s.headers(b"{}", TS, "x"), s.headers(b"{}", TS + 1, "x"));
    }
}
