//! What revenue reports show: the months they cover and their rows. Amounts are
//! minor units of the one currency a table is in; tables in different
//! currencies are never added together.
use super::calendar::{FIRST_YEAR, Month};
use super::{Currency, PaymentKind, SubscriptionStatus};

/// A subscription's step in or out of dunning (past due).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DunningStep {
    /// A renewal failed: now past due.
    Failed,
    /// Paid after all.
    Recovered,
    /// Ended without being paid.
    Lost,
}

impl DunningStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Recovered => "recovered",
            Self::Lost => "lost",
        }
    }

    /// The step a change of status from `before` (none: new) to `after` is, if any.
    pub fn between(before: Option<SubscriptionStatus>, after: SubscriptionStatus) -> Option<Self> {
        use SubscriptionStatus::*;
        match (before, after) {
            (Some(PastDue), PastDue) => None,
            (_, PastDue) => Some(Self::Failed),
            (Some(PastDue), Active | Trialing) => Some(Self::Recovered),
            (Some(PastDue), _) => Some(Self::Lost),
            _ => None,
        }
    }
}

/// The range a report covers, in whole calendar months of the newsroom's zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthRange {
    pub first: Month,
    pub last: Month,
    pub preset: RangePreset,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangePreset {
    /// The months the last 30 days fall in.
    Last30Days,
    /// This month and the 11 before it.
    Last12Months,
    /// From the first month with any payment or MRR movement.
    AllTime,
    Custom,
}

impl RangePreset {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Last30Days => "30d",
            Self::Last12Months => "12m",
            Self::AllTime => "all",
            Self::Custom => "custom",
        }
    }
}

/// Why a range cannot be shown; the message is what staff read on the 400 page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("Unknown range {0:?}: choose 30d, 12m, all or custom.")]
    UnknownPreset(String),
    #[error("{0:?} is not a month: use YYYY-MM (or a date, YYYY-MM-DD), from 1970 on.")]
    BadMonth(String),
    #[error("A custom range needs both “from” and “to”.")]
    Incomplete,
    #[error("The range starts ({0}) after it ends ({1}).")]
    Inverted(Month, Month),
    #[error("The range ends in {0}, after this month ({1}).")]
    Future(Month, Month),
    #[error("“from” and “to” are only for a custom range.")]
    NotCustom,
}

/// The longest range shown: 100 years of months is already absurd for a newsroom.
const MAX_MONTHS: i32 = 1200;

impl MonthRange {
    /// Reads `range`, `from` and `to` as the report form sends them. `current`
    /// is this month; `first_with_data` the oldest month with any figure.
    pub fn parse(
        range: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        current: Month,
        this_month_30_days_ago: Month,
        first_with_data: Option<Month>,
    ) -> Result<Self, RangeError> {
        let from = from.map(str::trim).filter(|s| !s.is_empty());
        let to = to.map(str::trim).filter(|s| !s.is_empty());
        let preset = match range.map(str::trim).filter(|s| !s.is_empty()) {
            None if from.is_some() || to.is_some() => RangePreset::Custom,
            None | Some("12m") => RangePreset::Last12Months,
            Some("30d") => RangePreset::Last30Days,
            Some("all") => RangePreset::AllTime,
            Some("custom") => RangePreset::Custom,
            Some(other) => return Err(RangeError::UnknownPreset(other.chars().take(40).collect())),
        };
        if preset != RangePreset::Custom && (from.is_some() || to.is_some()) {
            return Err(RangeError::NotCustom);
        }
        let (first, last) = match preset {
            RangePreset::Last30Days => (this_month_30_days_ago, current),
            RangePreset::Last12Months => (current.plus(-11), current),
            RangePreset::AllTime => (first_with_data.unwrap_or(current).min(current), current),
            RangePreset::Custom => {
                let (Some(from), Some(to)) = (from, to) else { return Err(RangeError::Incomplete) };
                (parse_month(from)?, parse_month(to)?)
            }
        };
        if first > last {
            return Err(RangeError::Inverted(first, last));
        }
        if last > current {
            return Err(RangeError::Future(last, current));
        }
        let first = if last.since(first) >= MAX_MONTHS { last.plus(1 - MAX_MONTHS) } else { first };
        Ok(Self { first, last, preset })
    }

    pub fn months(&self) -> Vec<Month> {
        self.first.through(self.last)
    }
}

/// `2026-03` or a date in it (`2026-03-17`).
fn parse_month(s: &str) -> Result<Month, RangeError> {
    let bad = || RangeError::BadMonth(s.chars().take(40).collect());
    let head = match s.len() {
        7 => s,
        10 if s.as_bytes()[7] == b'-' && s[8..].bytes().all(|b| b.is_ascii_digit()) => {
            let day: u8 = s[8..].parse().map_err(|_| bad())?;
            if !(1..=31).contains(&day) {
                return Err(bad());
            }
            &s[..7]
        }
        _ => return Err(bad()),
    };
    let m: Month = head.parse().map_err(|_| bad())?;
    if m.year() < FIRST_YEAR {
        return Err(bad());
    }
    Ok(m)
}

/// One month of the MRR waterfall in one currency. Contraction and churn are
/// positive amounts taken away: start + new + expansion + reactivation −
/// contraction − churn = end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MrrMonthRow {
    pub month: Option<Month>,
    pub start: i64,
    pub new: i64,
    pub expansion: i64,
    pub reactivation: i64,
    pub contraction: i64,
    pub churn: i64,
    pub end: i64,
    /// Patrons gained (new and reactivated subscriptions) and lost.
    pub patrons_new: i64,
    pub patrons_reactivated: i64,
    pub patrons_churned_voluntary: i64,
    pub patrons_churned_involuntary: i64,
    /// MRR lost to involuntary churn (part of `churn`).
    pub churn_involuntary: i64,
    /// Paying subscriptions at the start and at the end.
    pub patrons_start: i64,
    pub patrons_end: i64,
}

impl MrrMonthRow {
    pub fn holds(&self) -> bool {
        self.start + self.new + self.expansion + self.reactivation - self.contraction - self.churn == self.end
    }

    pub fn patrons_churned(&self) -> i64 {
        self.patrons_churned_voluntary + self.patrons_churned_involuntary
    }

    /// Logo churn: patrons lost over patrons at the start, in percent.
    pub fn logo_churn_rate(&self) -> Option<f64> {
        ratio(self.patrons_churned(), self.patrons_start)
    }

    /// Revenue churn: MRR lost to churn and contraction over MRR at the start.
    pub fn revenue_churn_rate(&self) -> Option<f64> {
        ratio(self.churn + self.contraction, self.start)
    }

    /// Gross revenue retention: what the starting MRR kept, without expansion.
    pub fn grr(&self) -> Option<f64> {
        ratio(self.start - self.contraction - self.churn, self.start)
    }

    /// Net revenue retention: what the starting MRR became, expansion included
    /// (new and reactivated patrons are not part of it).
    pub fn nrr(&self) -> Option<f64> {
        ratio(self.start + self.expansion - self.contraction - self.churn, self.start)
    }
}

/// `part / whole` in percent; none without a base.
pub fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// The MRR report of one currency.
#[derive(Clone, Debug)]
pub struct MrrReport {
    pub currency: Currency,
    pub months: Vec<MrrMonthRow>,
    /// Over the whole range: start of its first month to end of its last.
    pub total: MrrMonthRow,
    /// The sum of the subscriptions' MRR now (equals the last end when the range ends this month).
    pub mrr_now: i64,
}

/// One month of the ledger in one settlement currency. Signs are the ledger's:
/// money coming in is positive, refunds and withdrawn disputes negative; fees
/// are positive amounts taken. net = recurring + one_time + refunds +
/// disputes_withdrawn + disputes_reinstated − fees − dispute_fees.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevenueMonthRow {
    pub month: Option<Month>,
    pub rows: i64,
    pub recurring: i64,
    pub one_time: i64,
    pub fees: i64,
    pub refunds: i64,
    pub disputes_withdrawn: i64,
    pub dispute_fees: i64,
    pub disputes_reinstated: i64,
    pub net: i64,
}

impl RevenueMonthRow {
    pub fn gross(&self) -> i64 {
        self.recurring + self.one_time
    }

    /// Adds a ledger aggregate of `kind` (settlement amounts).
    pub fn add(&mut self, kind: PaymentKind, rows: i64, settled_gross: i64, fee: i64, net: i64) {
        self.rows += rows;
        self.net += net;
        match kind {
            PaymentKind::Subscription => {
                self.recurring += settled_gross;
                self.fees += fee;
            }
            // Gift memberships are one-time income too (never MRR): see the README's "Gift memberships".
            PaymentKind::Donation | PaymentKind::Gift => {
                self.one_time += settled_gross;
                self.fees += fee;
            }
            PaymentKind::Refund | PaymentKind::RefundFailed => {
                self.refunds += settled_gross;
                self.fees += fee;
            }
            PaymentKind::Dispute => {
                self.disputes_withdrawn += settled_gross;
                self.dispute_fees += fee;
            }
            PaymentKind::DisputeWon => {
                self.disputes_reinstated += settled_gross;
                self.dispute_fees += fee;
            }
        }
    }

    pub fn holds(&self) -> bool {
        self.recurring + self.one_time + self.refunds + self.disputes_withdrawn + self.disputes_reinstated
            - self.fees
            - self.dispute_fees
            == self.net
    }

    pub fn absorb(&mut self, other: &RevenueMonthRow) {
        self.rows += other.rows;
        self.recurring += other.recurring;
        self.one_time += other.one_time;
        self.fees += other.fees;
        self.refunds += other.refunds;
        self.disputes_withdrawn += other.disputes_withdrawn;
        self.dispute_fees += other.dispute_fees;
        self.disputes_reinstated += other.disputes_reinstated;
        self.net += other.net;
    }
}

/// The revenue report of one settlement currency.
#[derive(Clone, Debug)]
pub struct RevenueReport {
    pub currency: Currency,
    pub months: Vec<RevenueMonthRow>,
    pub total: RevenueMonthRow,
}

/// One month of dunning in one currency: subscriptions that went past due, were
/// recovered (paid after all) and were lost, with the MRR at stake in each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DunningMonthRow {
    pub month: Option<Month>,
    pub failed: i64,
    pub failed_mrr: i64,
    pub recovered: i64,
    pub recovered_mrr: i64,
    pub lost: i64,
    pub lost_mrr: i64,
}

/// A retention cohort: the members whose first payment was in `cohort`, and
/// for each month since (0: the cohort's own month, at its end) how many of
/// them pay and their MRR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CohortRow {
    pub cohort: Month,
    /// `(patrons, mrr)` at the end of the cohort's month plus k months.
    pub cells: Vec<(i64, i64)>,
}

impl CohortRow {
    /// Share of the cohort (as it stood at the end of its first month) still paying after `k` months.
    pub fn patron_share(&self, k: usize) -> Option<f64> {
        ratio(self.cells.get(k)?.0, self.cells.first()?.0)
    }

    /// Share of the cohort's starting MRR it brings in after `k` months.
    pub fn mrr_share(&self, k: usize) -> Option<f64> {
        ratio(self.cells.get(k)?.1, self.cells.first()?.1)
    }
}

/// The cohort grid of one currency.
#[derive(Clone, Debug)]
pub struct CohortReport {
    pub currency: Currency,
    pub cohorts: Vec<CohortRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dunning_steps_follow_the_status() {
        use SubscriptionStatus::*;
        assert_eq!(DunningStep::between(Some(Active), PastDue), Some(DunningStep::Failed));
        assert_eq!(DunningStep::between(Some(PastDue), PastDue), None);
        assert_eq!(DunningStep::between(Some(PastDue), Active), Some(DunningStep::Recovered));
        assert_eq!(DunningStep::between(Some(PastDue), Unpaid), Some(DunningStep::Lost));
        assert_eq!(DunningStep::between(Some(PastDue), Canceled), Some(DunningStep::Lost));
        assert_eq!(DunningStep::between(Some(Active), Canceled), None);
        assert_eq!(DunningStep::between(None, Active), None);
    }

    fn m(s: &str) -> Month {
        s.parse().expect("month")
    }

    #[test]
    fn ranges_are_whole_months_and_refuse_nonsense() {
        let now = m("2026-12");
        let p = |r: Option<&str>, f: Option<&str>, t: Option<&str>| {
            MonthRange::parse(r, f, t, now, m("2026-11"), Some(m("2024-03")))
        };
        let r = p(None, None, None).expect("default");
        assert_eq!((r.first, r.last, r.preset), (m("2026-01"), now, RangePreset::Last12Months));
        assert_eq!(p(Some("30d"), None, None).expect("30 days").first, m("2026-11"));
        assert_eq!(p(Some("all"), None, None).expect("all").first, m("2024-03"));
        let c = p(Some("custom"), Some("2025-02-14"), Some("2025-06")).expect("custom");
        assert_eq!((c.first, c.last), (m("2025-02"), m("2025-06")));
        assert_eq!(c.months().len(), 5);
        assert!(matches!(p(Some("custom"), Some("2025-06"), Some("2025-02")), Err(RangeError::Inverted(..))));
        assert!(matches!(p(Some("custom"), Some("2025-06"), Some("2099-02")), Err(RangeError::Future(..))));
        assert!(matches!(p(Some("custom"), Some("0001-01"), Some("2025-02")), Err(RangeError::BadMonth(_))));
        assert!(matches!(p(Some("custom"), Some("2025-13"), Some("2025-02")), Err(RangeError::BadMonth(_))));
        assert!(matches!(p(Some("custom"), Some("2025-01-32"), Some("2025-02")), Err(RangeError::BadMonth(_))));
        assert!(matches!(p(Some("custom"), Some("2025-01"), None), Err(RangeError::Incomplete)));
        assert!(matches!(p(Some("week"), None, None), Err(RangeError::UnknownPreset(_))));
        assert!(matches!(p(Some("12m"), Some("2025-01"), None), Err(RangeError::NotCustom)));
    }
}
