//! Wall-clock timestamps in RFC 3339 (UTC), through `humantime` (already a dependency for
//! durations): recordings, reports and the demo partner need only "now" and seconds since the
//! epoch, formatted.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last second humantime can write (9999-12-31T23:59:59Z); later would be an error there.
const LAST: u64 = 253_402_300_799;

/// Now as `2026-11-23T09:30:00Z`, or with `.123` milliseconds when `millis` is set.
pub fn now_rfc3339(millis: bool) -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format_unix(d.as_secs() as i64, millis.then_some(d.subsec_millis()))
}

/// Seconds since the epoch (and milliseconds), clamped to 1970..=9999, since humantime
/// writes no other years and a timestamp must never panic.
pub fn format_unix(secs: i64, millis: Option<u32>) -> String {
    let secs = u64::try_from(secs).unwrap_or(0).min(LAST);
    let t = UNIX_EPOCH + Duration::from_secs(secs);
    match millis {
        Some(m) => humantime::format_rfc3339_millis(t + Duration::from_millis(u64::from(m.min(999)))).to_string(),
        None => humantime::format_rfc3339_seconds(t).to_string(),
    }
}

/// The longest wait contrail arms: a step or a partner asking for more (`within 1e12
/// seconds`, `expires_in: 1e19`) gets this, since `Instant + huge` panics.
pub const FOREVER: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 86_400);

/// `now + d`, saturating at [`FOREVER`] instead of overflowing.
pub fn deadline(d: std::time::Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_add(d.min(FOREVER)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_dates() {
        assert_eq!(super::format_unix(0, None), "1970-01-01T00:00:00Z");
        assert_eq!(super::format_unix(951_782_400, None), "2000-02-29T00:00:00Z");
        assert_eq!(super::format_unix(1_795_426_200, Some(7)), "2026-11-23T09:30:00.007Z");
        // Out of humantime's range: clamped, never a panic.
        assert_eq!(super::format_unix(-5, None), "1970-01-01T00:00:00Z");
        assert_eq!(super::format_unix(i64::MAX, None), "9999-12-31T23:59:59Z");
    }
}
