//! Wall-clock timestamps in RFC 3339 (UTC), without a date-time crate: recordings and the demo
//! partner need only "now", formatted.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as `2026-11-23T09:30:00Z`, or with `.123` milliseconds when `millis` is set.
pub fn now_rfc3339(millis: bool) -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format_unix(d.as_secs() as i64, millis.then_some(d.subsec_millis()))
}

/// Formats seconds since the epoch (civil-from-days, Howard Hinnant's algorithm).
pub fn format_unix(secs: i64, millis: Option<u32>) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let frac = millis.map(|m| format!(".{m:03}")).unwrap_or_default();
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{frac}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
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
    }
}
