use serde_json::json;

use super::*;

#[test]
fn known_values_are_masked_at_any_depth_and_in_their_encoded_forms() {
    remember("s3cr3t-known-value/+1");
    let mut v = json!({"a": [{"note": "echo s3cr3t-known-value/+1 back"}], "q": "x=s3cr3t-known-value%2F%2B1"});
    scrub_json(&mut v, PLACEHOLDER);
    let text = v.to_string();
    assert!(!text.contains("s3cr3t-known-value"), "{text}");
    assert_eq!(v["a"][0]["note"], "echo <redacted> back");
}

#[test]
fn short_values_are_not_remembered() {
    remember("abc");
    assert_eq!(mask_known("abc abc", MASK), "abc abc");
}

#[test]
fn a_basic_header_teaches_its_password() {
    use base64::Engine as _;
    let cred = base64::prelude::BASE64_STANDARD.encode("client-1:pa55word-basic");
    remember_header("Authorization", &format!("Basic {cred}"));
    assert_eq!(mask_known("got pa55word-basic", MASK), "got «redacted»");
    remember_header("Cookie", "sid=cookie-value-123; theme=dark");
    assert_eq!(mask_known("sid is cookie-value-123", MASK), "sid is «redacted»");
    assert_eq!(mask_known("theme dark", MASK), "theme dark");
}

#[test]
fn key_names_that_say_secret() {
    for k in [
        "token",
        "access_token",
        "refreshToken",
        "client_secret",
        "clientSecret",
        "password",
        "X-Api-Key",
        "api_key",
        "apiKey",
        "Authorization",
        "X-Hub-Signature-256",
        "Stripe-Signature",
        "sig",
        "Cookie",
        "set-cookie",
        "x-csrf-token",
        "privateKey",
        "credentials",
    ] {
        assert!(is_secret_key(k), "{k} should be secret");
    }
    for k in [
        "token_type",
        "tokens_used",
        "expires_in",
        "id",
        "key",
        "idempotency_key",
        "signed_at",
        "password_changed_at",
        "design",
        "",
    ] {
        assert!(!is_secret_key(k), "{k} should not be secret");
    }
}

#[test]
fn shapes_are_masked_and_prose_is_not() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl";
    let cases = [
        (
            "Authorization: Bearer abc123def456".to_string(),
            "Authorization: Bearer «redacted»",
        ),
        ("basic dXNlcjpwYXNzd29yZA==".to_string(), "basic «redacted»"),
        (format!("token {jwt} end"), "token «redacted» end"),
        ("AKIAIOSFODNN7EXAMPLE".to_string(), "«redacted»"),
        ("ghp_0123456789abcdefghijklmnopqrstuvwxyz".to_string(), "«redacted»"),
        ("xoxb-1234567890-abcdef".to_string(), "«redacted»"),
        ("sk_live_0123456789abcdefABCD".to_string(), "«redacted»"),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string(), "«redacted»"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----".to_string(),
            "«redacted»",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(mask_text(&text, MASK), want, "{text}");
    }
    for prose in [
        "use Bearer authentication",
        r#"WWW-Authenticate: Bearer realm="api", error="invalid_token""#,
        "Basic plan",
        "the token expired",
    ] {
        assert_eq!(mask_text(prose, MASK), prose);
    }
}

#[test]
fn scan_finds_unmasked_secrets_only() {
    let v = json!({
        "token_type": "Bearer",
        "access_token": "<redacted>",
        "nested": {"apiKey": "live-key-1234", "ok": "plain"},
        "headers": {"authorization": "Bearer <redacted>"},
        "note": "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
        "flags": {"password_required": true}
    });
    assert_eq!(scan_json(&v), vec!["/nested/apiKey", "/note"]);
}

#[test]
fn the_writer_masks_whole_lines_even_when_a_secret_is_written_in_pieces() {
    remember("split-secret-9876");
    let mut out = Vec::new();
    {
        let mut w = MaskingWriter::new(&mut out);
        use std::io::Write as _;
        w.write_all(b"first split-sec").unwrap();
        w.flush().unwrap();
        w.write_all(b"ret-9876 line\nsecond split-secret-9876").unwrap();
    }
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "first «redacted» line\nsecond «redacted»"
    );
}

/// Thousands of remembered values (a simulator's tokens) are all masked, the first and the last
/// remembered alike, and one remembered after a mask is masked by the next.
#[test]
fn many_remembered_values_are_all_masked() {
    for i in 0..3000 {
        remember(&format!("sim_token_{i:05}_abcdef"));
    }
    let text = "first sim_token_00000_abcdef last sim_token_02999_abcdef";
    assert_eq!(mask_known(text, MASK), format!("first {MASK} last {MASK}"));
    remember("sim_token_late_abcdef");
    assert_eq!(mask_known("x sim_token_late_abcdef", MASK), format!("x {MASK}"));
}

/// A partner that keys a map by token writes the token as a key: it is masked like a value,
/// and two keys that mask alike stay two entries (no value is lost, none is overwritten).
#[test]
fn secrets_in_object_keys_are_masked_and_keep_their_values() {
    remember("key-secret-a-0001");
    remember("key-secret-b-0002");
    let mut v = json!({"sessions": {
        "key-secret-a-0001": {"n": 1},
        "key-secret-b-0002": {"n": 2},
        "<redacted>": {"n": 0},
        "plain": {"n": 3}
    }});
    mask_strings(&mut v, PLACEHOLDER);
    let text = v.to_string();
    assert!(!text.contains("key-secret"), "{text}");
    let sessions = v["sessions"].as_object().unwrap();
    assert_eq!(sessions.len(), 4, "{text}");
    assert_eq!(
        sessions["<redacted>"]["n"], 0,
        "the key that was there keeps its value: {text}"
    );
    let mut masked: Vec<i64> = ["<redacted>#2", "<redacted>#3"]
        .iter()
        .map(|k| sessions[*k]["n"].as_i64().unwrap())
        .collect();
    masked.sort();
    assert_eq!(masked, [1, 2]);
    assert_eq!(sessions["plain"]["n"], 3);

    let mut verbose = json!({"key-secret-a-0001": true});
    scrub_json(&mut verbose, MASK);
    assert!(!verbose.to_string().contains("key-secret"), "{verbose}");
}

/// A binary body is masked byte-wise (the bytes around the secret are not text), and
/// `find_known` finds what is left to find.
#[test]
fn binary_bytes_are_masked_and_searched() {
    remember("bin-secret-0003");
    let raw = b"\xff\xfebin-secret-0003\x00";
    let masked = mask_known_bytes(raw, PLACEHOLDER);
    assert_eq!(&*masked, b"\xff\xfe<redacted>\x00");
    assert_eq!(find_known(raw), Some(2));
    assert_eq!(find_known(&masked), None);
}
