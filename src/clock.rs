//! The one source of "now". Tests move it forward instead of sleeping.
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// Microseconds since the Unix epoch, UTC: how every time is stored.
pub type Micros = i64;

pub const SECOND: Micros = 1_000_000;
pub const MINUTE: Micros = 60 * SECOND;
pub const HOUR: Micros = 60 * MINUTE;
pub const DAY: Micros = 24 * HOUR;

#[derive(Clone, Default, Debug)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> Micros {
        let real = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000;
        i64::try_from(real).unwrap_or(i64::MAX) + self.offset.load(Ordering::Relaxed)
    }

    /// Shifts this clock (and every clone of it) forward; for tests.
    pub fn advance(&self, by: Micros) {
        self.offset.fetch_add(by, Ordering::Relaxed);
    }
}

pub fn to_datetime(micros: Micros) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2026-11-27 07:18 UTC`: the form staff and readers see.
pub fn format_utc(micros: Micros) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    to_datetime(micros).format(&format).unwrap_or_default()
}

/// RFC 3339, for exports.
pub fn format_rfc3339(micros: Micros) -> String {
    to_datetime(micros).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// `2026-11-27T07:18` (what `<input type="datetime-local">` sends), read as UTC.
pub fn parse_form_datetime(input: &str) -> Option<Micros> {
    let s = input.trim().replace(' ', "T");
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let dt = time::PrimitiveDateTime::parse(s.get(..16)?, &format).ok()?;
    let micros = dt.assume_utc().unix_timestamp_nanos() / 1_000;
    i64::try_from(micros).ok()
}

/// The inverse of [`parse_form_datetime`], for pre-filling forms.
pub fn format_form_datetime(micros: Micros) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    to_datetime(micros).format(&format).unwrap_or_default()
}

/// `2026-11-27` (a date input), as midnight UTC.
pub fn parse_form_date(input: &str) -> Option<Micros> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(input.trim(), &format).ok()?;
    i64::try_from(date.midnight().assume_utc().unix_timestamp_nanos() / 1_000).ok()
}

/// `2026-11-27`.
pub fn format_date(micros: Micros) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    to_datetime(micros).format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_times_round_trip_as_utc() {
        let t = parse_form_datetime("2026-11-27T07:18").expect("parses");
        assert_eq!(format_form_datetime(t), "2026-11-27T07:18");
        assert_eq!(parse_form_datetime("2026-11-27 07:18:30"), Some(t));
        assert_eq!(parse_form_datetime("27/11/2026"), None);
        assert_eq!(parse_form_datetime(""), None);
        let d = parse_form_date("2026-12-01").expect("parses");
        assert_eq!(format_date(d), "2026-12-01");
        assert_eq!(parse_form_date("2026-13-01"), None);
    }
}
