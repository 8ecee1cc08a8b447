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
