//! Small helpers of the demo partner: timestamps, ids, JSON error answers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// RFC 3339 UTC timestamp with milliseconds.
pub fn now_rfc3339() -> String {
    contrail::clock::now_rfc3339(true)
}

static SEED: AtomicU64 = AtomicU64::new(0);

/// A pseudo-random 64-bit number (xorshift over a time seed): ids, not cryptography.
pub fn random_u64() -> u64 {
    let mut x = SEED.load(Ordering::Relaxed);
    loop {
        // Seed lazily from the clock; xorshift must never hold 0 (it would stay 0).
        let start = if x == 0 {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x9E37_79B9)
                | 1
        } else {
            x
        };
        let mut y = start;
        y ^= y << 13;
        y ^= y >> 7;
        y ^= y << 17;
        match SEED.compare_exchange(x, y, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return y,
            Err(current) => x = current,
        }
    }
}

pub fn uuid_v4() -> String {
    contrail::webhook::generate::Rng::new(random_u64()).uuid()
}

pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": code, "message": message.into() }))).into_response()
}

pub fn validation(details: Vec<Value>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": "validation_failed", "message": "the request body is not valid", "details": details })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_differ() {
        let a: Vec<u64> = (0..100).map(|_| super::random_u64()).collect();
        let mut b = a.clone();
        b.sort();
        b.dedup();
        assert_eq!(a.len(), b.len());
        assert!(a.iter().all(|x| *x != 0));
    }
}
