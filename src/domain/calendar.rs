//! Calendar months in the newsroom's time zone (`NEWSROOM_TIMEZONE`): reports
//! count a payment in the month it happened where the newsroom is, so a payment
//! at 23:30 on 31 January in Kyiv (21:30 UTC) is January's, and one at 00:30 on
//! 1 February Kyiv time (22:30 UTC on 31 January) is February's.
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A calendar month, `YYYY-MM` when stored or shown (sorts as text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i16,
    /// 1 to 12.
    month: i8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Expected a month like 2026-01 (years 1970 to 2100).")]
pub struct MonthError;

/// The months reports know of: every instant in them has a row in
/// `report_months`.
pub const FIRST_YEAR: i16 = 1970;
pub const LAST_YEAR: i16 = 2100;

impl Month {
    pub fn new(year: i16, month: i8) -> Result<Self, MonthError> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) || !(1..=12).contains(&month) {
            return Err(MonthError);
        }
        Ok(Self { year, month })
    }

    pub fn year(self) -> i16 {
        self.year
    }

    pub fn month(self) -> i8 {
        self.month
    }

    /// `2026-01`.
    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// `Jan 2026`.
    pub fn label(self) -> String {
        const NAMES: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        format!("{} {}", NAMES[(self.month - 1) as usize], self.year)
    }

    /// Months since year 0, for arithmetic.
    fn index(self) -> i32 {
        i32::from(self.year) * 12 + i32::from(self.month) - 1
    }

    fn from_index(i: i32) -> Self {
        Self { year: i.div_euclid(12) as i16, month: (i.rem_euclid(12) + 1) as i8 }
    }

    /// This month moved by `n` months (may leave the supported years; callers clamp).
    pub fn plus(self, n: i32) -> Self {
        Self::from_index(self.index() + n)
    }

    /// How many months `self` is after `earlier` (negative when before).
    pub fn since(self, earlier: Month) -> i32 {
        self.index() - earlier.index()
    }

    /// Every month from `self` to `last`, both included (empty when `last` is earlier).
    pub fn through(self, last: Month) -> Vec<Month> {
        (0..=last.since(self)).map(|n| self.plus(n)).collect()
    }
}

impl FromStr for Month {
    type Err = MonthError;
    fn from_str(s: &str) -> Result<Self, MonthError> {
        let s = s.trim();
        let (y, m) = s.split_once('-').ok_or(MonthError)?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(MonthError);
        }
        Month::new(y.parse().map_err(|_| MonthError)?, m.parse().map_err(|_| MonthError)?)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// The newsroom's time zone, an IANA name (`Europe/Kyiv`); UTC by default.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a time zone we know; use an IANA name like Europe/Kyiv, America/New_York or UTC")]
pub struct ZoneError(pub String);

impl Default for Zone {
    fn default() -> Self {
        Self::utc()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Zone {
    pub fn utc() -> Self {
        Self { name: "UTC".into(), tz: TimeZone::UTC }
    }

    pub fn parse(name: &str) -> Result<Self, ZoneError> {
        let name = name.trim();
        if name.is_empty() || name.eq_ignore_ascii_case("utc") {
            return Ok(Self::utc());
        }
        // Only names: a fixed offset like "+02:00" would silently ignore summer time.
        if !name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) {
            return Err(ZoneError(name.to_string()));
        }
        let tz = TimeZone::get(name).map_err(|_| ZoneError(name.to_string()))?;
        // The canonical spelling, so `europe/kyiv` and `Europe/Kyiv` are one zone.
        let canonical = tz.iana_name().unwrap_or(name).to_string();
        Ok(Self { name: canonical, tz })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The month `micros` (UTC microseconds) falls in, here.
    pub fn month_of(&self, micros: i64) -> Month {
        let ts = Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH);
        let local = ts.to_zoned_datetime(self.tz.clone());
        Month::new(local.year(), local.month()).unwrap_or(if local.year() < FIRST_YEAR {
            Month { year: FIRST_YEAR, month: 1 }
        } else {
            Month { year: LAST_YEAR, month: 12 }
        })
    }

    /// The first instant of `month` here, in UTC microseconds.
    pub fn start_of(&self, month: Month) -> i64 {
        let date = jiff::civil::date(month.year, month.month, 1);
        match date.to_zoned_datetime(self.tz.clone()) {
            Ok(z) => z.timestamp().as_microsecond(),
            // Not reachable for years 1970..=2100; fall back to UTC midnight.
            Err(_) => date.to_zoned_datetime(TimeZone::UTC).map(|z| z.timestamp().as_microsecond()).unwrap_or(0),
        }
    }

    /// `[start, end)` of `month` here.
    pub fn bounds(&self, month: Month) -> (i64, i64) {
        (self.start_of(month), self.start_of(month.plus(1)))
    }

    /// `2026-01-31 23:30`, local time here.
    pub fn format(&self, micros: i64) -> String {
        let ts = Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH);
        ts.to_zoned_datetime(self.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()
    }

    /// `2026-01-31`, the local date here.
    pub fn date(&self, micros: i64) -> String {
        let ts = Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH);
        ts.to_zoned_datetime(self.tz.clone()).strftime("%Y-%m-%d").to_string()
    }

    /// Midnight at the start of `date` (`YYYY-MM-DD`) here.
    pub fn parse_date(&self, date: &str) -> Option<i64> {
        let d: jiff::civil::Date = date.trim().parse().ok()?;
        if !(FIRST_YEAR..=LAST_YEAR).contains(&d.year()) {
            return None;
        }
        Some(d.to_zoned_datetime(self.tz.clone()).ok()?.timestamp().as_microsecond())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    fn utc(y: i16, m: i8, d: i8, h: i8, min: i8) -> i64 {
        jiff::civil::datetime(y, m, d, h, min, 0, 0)
            .to_zoned_datetime(TimeZone::UTC)
            .expect("valid")
            .timestamp()
            .as_microsecond()
    }

    #[test]
    fn a_late_payment_on_the_31st_in_kyiv_is_that_months() {
        let kyiv = Zone::parse("Europe/Kyiv").expect("a zone");
        // 23:30 on 31 January in Kyiv (UTC+2) is 21:30 UTC.
        assert_eq!(kyiv.month_of(utc(2026, 1, 31, 21, 30)).key(), "2026-01");
        // 00:30 on 1 February in Kyiv is still 31 January in UTC.
        assert_eq!(kyiv.month_of(utc(2026, 1, 31, 22, 30)).key(), "2026-02");
        assert_eq!(Zone::utc().month_of(utc(2026, 1, 31, 22, 30)).key(), "2026-01");
        // Summer time: August starts at 21:00 UTC on 31 July (UTC+3).
        assert_eq!(kyiv.start_of("2026-08".parse().expect("month")), utc(2026, 7, 31, 21, 0));
        let (start, end) = kyiv.bounds("2026-03".parse().expect("month"));
        // March has 31 days less the hour lost on the last Sunday.
        assert_eq!(end - start, 31 * 24 * HOUR - HOUR);
    }

    #[test]
    fn zones_are_iana_names_and_nothing_else() {
        assert_eq!(Zone::parse("").expect("default").name(), "UTC");
        assert_eq!(Zone::parse("europe/kyiv").expect("case-insensitive").name(), "Europe/Kyiv");
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert!(Zone::parse("+02:00").is_err());
        assert!(Zone::parse("../../etc/passwd").is_err());
    }

    #[test]
    fn months_parse_and_count() {
        let jan: Month = "2026-01".parse().expect("month");
        assert_eq!(jan.plus(-1).key(), "2025-12");
        assert_eq!(jan.plus(14).key(), "2027-03");
        assert_eq!("2027-03".parse::<Month>().expect("month").since(jan), 14);
        assert_eq!(jan.through(jan.plus(2)).len(), 3);
        assert!("2026-13".parse::<Month>().is_err());
        assert!("1969-12".parse::<Month>().is_err());
        assert!("2026-1".parse::<Month>().is_err());
        assert_eq!(jan.label(), "Jan 2026");
    }
}
