//! What staff read: the dashboard's figures, the ledger, the Stripe event log,
//! the audit log, and the rows behind CSV exports. Pages and exports get their
//! data here rather than from `db`, so the rules (how old a figure may be, that
//! exporting personal data is itself audited) live in one place. Who may read
//! what is the caller's check (`Permission`), made before calling.
use std::collections::BTreeMap;
use std::sync::Arc;

use super::cache::DashboardFigures;
use super::{Context, StorageError};
use crate::clock::{DAY, Micros};
use crate::db::audit::AuditEntry;
use crate::db::payments::LedgerRow;
pub use crate::db::reports::PatronCounts;
use crate::db::stripe_events::StoredEvent;
use crate::db::{self, DbError};
use crate::domain::calendar;
use crate::domain::{
    CohortReport, CohortRow, Currency, DunningMonthRow, Month, MonthRange, MrrMonthRow, MrrMovementKind, MrrReport,
    RangePreset, RevenueMonthRow, RevenueReport,
};

/// The dashboard's counts, up to a few seconds old (counting scans tables that
/// grow with the newsroom; see [`DashboardFigures`]).
pub async fn dashboard(ctx: &Context) -> Result<Arc<DashboardFigures>, StorageError> {
    let pool = ctx.db.read();
    Ok(ctx
        .caches
        .dashboard
        .get_or_load(&ctx.clock, (), || async {
            Ok::<_, DbError>(Arc::new(DashboardFigures {
                members: db::members::count(pool).await?,
                pending_mail: db::outbox::count_pending(pool).await?,
                failed_mail: db::outbox::count_failed(pool).await?,
            }))
        })
        .await?)
}

/// The latest `limit` ledger rows, newest first.
pub async fn ledger(ctx: &Context, limit: i64) -> Result<Vec<LedgerRow>, StorageError> {
    Ok(db::payments::list_recent(ctx.db.read(), limit).await?)
}

/// The latest `limit` Stripe events as received, newest first.
pub async fn stripe_event_log(ctx: &Context, limit: i64) -> Result<Vec<StoredEvent>, StorageError> {
    Ok(db::stripe_events::list_recent(ctx.db.read(), limit).await?)
}

/// The latest `limit` entries of the audit log, newest first.
pub async fn audit_log(ctx: &Context, limit: i64) -> Result<Vec<AuditEntry>, StorageError> {
    Ok(db::audit::list_recent(ctx.db.read(), limit).await?)
}

/// The setting that names the zone `report_months` was written for.
const REPORT_ZONE_SETTING: &str = "report_timezone";

/// Makes the report months those of the configured zone (`NEWSROOM_TIMEZONE`):
/// at the first start, and after the zone changed, the months are written anew
/// and every aggregate is rebuilt from the ledger and the MRR movements, in one
/// transaction. Run at start-up, before anything is recorded.
pub async fn prepare(ctx: &Context) -> Result<(), StorageError> {
    let zone = ctx.zone.name();
    let current = db::settings::get(ctx.db.read(), REPORT_ZONE_SETTING).await?;
    if current.as_deref() == Some(zone) {
        return Ok(());
    }
    let mut tx = ctx.db.transaction().await?;
    if ctx.db.backend() == db::Backend::Postgres {
        // Two instances starting at once: the second waits, then finds the work done.
        db::reports::lock_months(&mut tx).await?;
    }
    if db::settings::get(&mut *tx, REPORT_ZONE_SETTING).await?.as_deref() == Some(zone) {
        return Ok(());
    }
    let first = Month::new(calendar::FIRST_YEAR, 1).map_err(|e| DbError::other(e.to_string()))?;
    let last = Month::new(calendar::LAST_YEAR, 12).map_err(|e| DbError::other(e.to_string()))?;
    let months: Vec<(String, i64, i64)> = first
        .through(last)
        .into_iter()
        .map(|m| {
            let (start, end) = ctx.zone.bounds(m);
            (m.key(), start, end)
        })
        .collect();
    db::reports::rebuild(&mut tx, &months).await?;
    db::settings::set(&mut *tx, REPORT_ZONE_SETTING, zone, ctx.clock.now()).await?;
    tx.commit().await.map_err(DbError::from)?;
    match current {
        Some(old) => tracing::warn!(from = %old, to = %zone, "NEWSROOM_TIMEZONE changed: report months rebuilt"),
        None => tracing::info!(zone = %zone, "report months written"),
    }
    Ok(())
}

/// This month, the month 30 days ago, and the first month with any figure: what
/// a range needs to be read.
pub async fn range_bounds(ctx: &Context) -> Result<(Month, Month, Option<Month>), StorageError> {
    let now = ctx.clock.now();
    let first = db::reports::first_month(ctx.db.read()).await?.and_then(|m| m.parse().ok());
    Ok((ctx.zone.month_of(now), ctx.zone.month_of(now - 30 * DAY), first))
}

/// MRR movements by month in `range`, one report per currency (starting MRR is
/// the sum of every movement before the range).
pub async fn mrr_report(ctx: &Context, range: &MonthRange) -> Result<Vec<MrrReport>, StorageError> {
    let pool = ctx.db.read();
    let rows = db::reports::mrr_months(pool, &range.last.key()).await?;
    let now: BTreeMap<Currency, i64> =
        db::reports::mrr_now(pool).await?.into_iter().map(|(c, sum, _)| (c, sum)).collect();
    let mut currencies: Vec<Currency> = rows.iter().map(|r| r.currency).chain(now.keys().copied()).collect();
    currencies.sort();
    currencies.dedup();
    let mut reports = Vec::new();
    for currency in currencies {
        let mut by_month: BTreeMap<String, MrrMonthRow> = BTreeMap::new();
        let mut before = 0;
        let mut patrons_before = 0;
        for r in rows.iter().filter(|r| r.currency == currency) {
            if r.month < range.first.key() {
                before += r.delta_minor;
                patrons_before += match r.kind {
                    MrrMovementKind::New | MrrMovementKind::Reactivation => r.movements,
                    MrrMovementKind::Churn => -r.movements,
                    _ => 0,
                };
                continue;
            }
            let row = by_month.entry(r.month.clone()).or_default();
            match r.kind {
                MrrMovementKind::New => {
                    row.new += r.delta_minor;
                    row.patrons_new += r.movements;
                }
                MrrMovementKind::Reactivation => {
                    row.reactivation += r.delta_minor;
                    row.patrons_reactivated += r.movements;
                }
                MrrMovementKind::Expansion => row.expansion += r.delta_minor,
                MrrMovementKind::Contraction => row.contraction -= r.delta_minor,
                MrrMovementKind::Churn => {
                    row.churn -= r.delta_minor;
                    if r.involuntary {
                        row.churn_involuntary -= r.delta_minor;
                        row.patrons_churned_involuntary += r.movements;
                    } else {
                        row.patrons_churned_voluntary += r.movements;
                    }
                }
            }
        }
        let mut months = Vec::new();
        let mut running = before;
        let mut patrons = patrons_before;
        for month in range.months() {
            let mut row = by_month.remove(&month.key()).unwrap_or_default();
            row.month = Some(month);
            row.start = running;
            row.end = row.start + row.new + row.expansion + row.reactivation - row.contraction - row.churn;
            row.patrons_start = patrons;
            row.patrons_end = patrons + row.patrons_new + row.patrons_reactivated - row.patrons_churned();
            running = row.end;
            patrons = row.patrons_end;
            months.push(row);
        }
        let total = MrrMonthRow {
            month: None,
            start: before,
            new: months.iter().map(|m| m.new).sum(),
            expansion: months.iter().map(|m| m.expansion).sum(),
            reactivation: months.iter().map(|m| m.reactivation).sum(),
            contraction: months.iter().map(|m| m.contraction).sum(),
            churn: months.iter().map(|m| m.churn).sum(),
            end: running,
            patrons_new: months.iter().map(|m| m.patrons_new).sum(),
            patrons_reactivated: months.iter().map(|m| m.patrons_reactivated).sum(),
            patrons_churned_voluntary: months.iter().map(|m| m.patrons_churned_voluntary).sum(),
            patrons_churned_involuntary: months.iter().map(|m| m.patrons_churned_involuntary).sum(),
            churn_involuntary: months.iter().map(|m| m.churn_involuntary).sum(),
            patrons_start: patrons_before,
            patrons_end: patrons,
        };
        reports.push(MrrReport { currency, months, total, mrr_now: now.get(&currency).copied().unwrap_or(0) });
    }
    Ok(reports)
}

/// The ledger by month in `range`, one report per settlement currency; its totals
/// are the sums of the ledger rows of those months, to the minor unit.
pub async fn revenue_report(ctx: &Context, range: &MonthRange) -> Result<Vec<RevenueReport>, StorageError> {
    let rows = db::reports::ledger_months(ctx.db.read(), &range.first.key(), &range.last.key()).await?;
    let mut by_currency: BTreeMap<Currency, BTreeMap<String, RevenueMonthRow>> = BTreeMap::new();
    for r in rows {
        by_currency.entry(r.settlement_currency).or_default().entry(r.month.clone()).or_default().add(
            r.kind,
            r.rows,
            r.settlement_gross_minor,
            r.fee_minor,
            r.net_minor,
        );
    }
    Ok(by_currency
        .into_iter()
        .map(|(currency, mut by_month)| {
            let mut total = RevenueMonthRow::default();
            let months: Vec<RevenueMonthRow> = range
                .months()
                .into_iter()
                .map(|month| {
                    let mut row = by_month.remove(&month.key()).unwrap_or_default();
                    row.month = Some(month);
                    total.absorb(&row);
                    row
                })
                .collect();
            RevenueReport { currency, months, total }
        })
        .collect())
}

/// The revenue side of the dashboard, for one currency (the patron counts come
/// with the vote side, [`vote_side`], read once for both).
#[derive(Clone, Debug)]
pub struct DashboardRevenue {
    /// Every currency in use (a switcher when more than one).
    pub currencies: Vec<Currency>,
    pub currency: Currency,
    pub this_month: Month,
    /// MRR by month, the last 36 months, ending with this one.
    pub mrr: Option<MrrReport>,
    /// The ledger this month and the previous one (settlement currency).
    pub revenue: Option<RevenueReport>,
    /// This month and the previous one: gifts, donors, amount (charge currency).
    pub donations: [(i64, i64, i64); 2],
}

/// The dashboard's revenue figures in `currency` (or the main one), read from
/// the aggregates: as current as the last applied event.
pub async fn dashboard_revenue(ctx: &Context, currency: Option<Currency>) -> Result<DashboardRevenue, StorageError> {
    let now = ctx.clock.now();
    let this_month = ctx.zone.month_of(now);
    let chart = MonthRange { first: this_month.plus(-35), last: this_month, preset: RangePreset::Custom };
    let recent = MonthRange { first: this_month.plus(-1), last: this_month, preset: RangePreset::Custom };
    let mrr = mrr_report(ctx, &chart).await?;
    let revenue = revenue_report(ctx, &recent).await?;
    let mut currencies: Vec<Currency> =
        mrr.iter().map(|r| r.currency).chain(revenue.iter().map(|r| r.currency)).collect();
    let pool = ctx.db.read();
    let gifts_now = db::reports::donations_in(pool, &this_month.key()).await?;
    let gifts_before = db::reports::donations_in(pool, &this_month.plus(-1).key()).await?;
    currencies.extend(gifts_now.iter().chain(&gifts_before).map(|g| g.0));
    currencies.sort();
    currencies.dedup();
    // The main currency: the one with the most MRR now, else the first in use.
    let main = mrr.iter().max_by_key(|r| r.mrr_now).map(|r| r.currency);
    let currency = currency.filter(|c| currencies.contains(c)).or(main).or(currencies.first().copied());
    let currency = currency.unwrap_or(Currency::EUR);
    let gift = |list: &[(Currency, i64, i64, i64)]| {
        list.iter().find(|g| g.0 == currency).map_or((0, 0, 0), |g| (g.1, g.2, g.3))
    };
    Ok(DashboardRevenue {
        currencies,
        currency,
        this_month,
        mrr: mrr.into_iter().find(|r| r.currency == currency),
        revenue: revenue.into_iter().find(|r| r.currency == currency),
        donations: [gift(&gifts_now), gift(&gifts_before)],
    })
}

/// Records that `actor` exported `report` (with `detail`: its range) in the
/// audit log; called before the export is sent.
pub async fn record_export(
    ctx: &Context,
    actor: &super::audit::Actor,
    report: &str,
    detail: String,
) -> Result<(), StorageError> {
    let mut tx = ctx.db.transaction().await?;
    super::audit::record(ctx, &mut tx, actor, "report.export", Some(report.to_string()), Some(detail)).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// The vote side of the dashboard (every staff role sees it): rounds open now
/// with their turnout, and the latest covered stories with their voters.
#[derive(Clone, Debug)]
pub struct VoteSide {
    pub open_rounds: Vec<db::reports::OpenRoundTurnout>,
    pub covered: Vec<db::reports::CoveredTopicVotes>,
    /// Members with patron access now (paying, past due in grace, comped): the
    /// base a turnout is compared with, and the dashboard's active patrons.
    pub patrons: PatronCounts,
}

pub async fn vote_side(ctx: &Context) -> Result<VoteSide, StorageError> {
    let pool = ctx.db.read();
    let now = ctx.clock.now();
    let mut covered = db::reports::covered_topics_votes(pool, COVERED_ON_DASHBOARD).await?;
    // Figures are worked out when a topic is marked covered; one covered some other
    // way (or before they were kept) gets them now, once.
    if covered.iter().any(|(_, known)| !known) {
        let mut w = ctx.db.write().await?;
        for (t, _) in covered.iter().filter(|(_, known)| !known) {
            db::reports::record_topic_vote_figures(&mut *w, &t.id, now).await?;
        }
        drop(w);
        covered = db::reports::covered_topics_votes(pool, COVERED_ON_DASHBOARD).await?;
    }
    Ok(VoteSide {
        open_rounds: db::reports::open_rounds(pool, now).await?,
        covered: covered.into_iter().map(|(t, _)| t).collect(),
        patrons: db::reports::patron_counts(pool, now, now - ctx.past_due_grace).await?,
    })
}

/// How many covered stories the dashboard lists.
const COVERED_ON_DASHBOARD: i64 = 5;

/// How many past-due subscriptions the dunning report lists at most.
pub const PAST_DUE_LISTED: i64 = 500;

/// The dunning report: subscriptions past due now (with when their grace
/// ends), and per currency the months of `range` with what went past due, was
/// recovered and was lost.
#[derive(Clone, Debug)]
pub struct DunningReport {
    pub past_due: Vec<(db::reports::PastDue, Micros)>,
    pub months: Vec<(Currency, Vec<DunningMonthRow>, DunningMonthRow)>,
}

pub async fn dunning_report(ctx: &Context, range: &MonthRange) -> Result<DunningReport, StorageError> {
    let pool = ctx.db.read();
    let past_due = db::reports::past_due_now(pool, PAST_DUE_LISTED)
        .await?
        .into_iter()
        .map(|p| {
            let grace_end = p.past_due_since.unwrap_or(0) + ctx.past_due_grace;
            (p, grace_end)
        })
        .collect();
    let rows = db::reports::dunning_months(pool, &range.first.key(), &range.last.key()).await?;
    let mut by_currency: BTreeMap<Currency, BTreeMap<String, DunningMonthRow>> = BTreeMap::new();
    for (month, currency, kind, n, mrr) in rows {
        let row = by_currency.entry(currency).or_default().entry(month).or_default();
        match kind.as_str() {
            "failed" => (row.failed, row.failed_mrr) = (row.failed + n, row.failed_mrr + mrr),
            "recovered" => (row.recovered, row.recovered_mrr) = (row.recovered + n, row.recovered_mrr + mrr),
            _ => (row.lost, row.lost_mrr) = (row.lost + n, row.lost_mrr + mrr),
        }
    }
    let months = by_currency
        .into_iter()
        .map(|(currency, mut by_month)| {
            let mut total = DunningMonthRow::default();
            let rows: Vec<DunningMonthRow> = range
                .months()
                .into_iter()
                .map(|m| {
                    let mut row = by_month.remove(&m.key()).unwrap_or_default();
                    row.month = Some(m);
                    total.failed += row.failed;
                    total.failed_mrr += row.failed_mrr;
                    total.recovered += row.recovered;
                    total.recovered_mrr += row.recovered_mrr;
                    total.lost += row.lost;
                    total.lost_mrr += row.lost_mrr;
                    row
                })
                .collect();
            (currency, rows, total)
        })
        .collect();
    Ok(DunningReport { past_due, months })
}

/// Retention cohorts: the members whose first payment was in each month of
/// `range`, followed month by month up to this one; one grid per currency.
pub async fn cohort_report(ctx: &Context, range: &MonthRange) -> Result<Vec<CohortReport>, StorageError> {
    let current = ctx.zone.month_of(ctx.clock.now());
    let rows = db::reports::cohort_deltas(ctx.db.read(), &range.first.key(), &range.last.key(), &current.key()).await?;
    // currency → cohort → month → (patrons, MRR) changes
    type Cells = BTreeMap<String, BTreeMap<String, (i64, i64)>>;
    let mut by_currency: BTreeMap<Currency, Cells> = BTreeMap::new();
    for r in rows {
        let cell = by_currency.entry(r.currency).or_default().entry(r.cohort).or_default().entry(r.month).or_default();
        cell.0 += r.patrons_delta;
        cell.1 += r.mrr_delta;
    }
    Ok(by_currency
        .into_iter()
        .map(|(currency, cohorts)| {
            let cohorts = cohorts
                .into_iter()
                .filter_map(|(cohort, months)| {
                    let cohort: Month = cohort.parse().ok()?;
                    let mut running = (0, 0);
                    let cells = cohort
                        .through(current)
                        .into_iter()
                        .map(|m| {
                            if let Some((p, mrr)) = months.get(&m.key()) {
                                running = (running.0 + p, running.1 + mrr);
                            }
                            running
                        })
                        .collect();
                    Some(CohortRow { cohort, cells })
                })
                .collect();
            CohortReport { currency, cohorts }
        })
        .collect())
}

/// Votes and revenue: topics covered in `range` with their voters, the voters'
/// MRR and the patrons who joined in the 30 days after; rounds opened in `range`
/// with their turnout by tier.
#[derive(Clone, Debug)]
pub struct VotesReport {
    pub covered: Vec<db::reports::CoveredTopicRevenue>,
    pub rounds: Vec<db::reports::RoundTierTurnout>,
}

/// How long after a story is covered new patrons count towards it.
pub const JOINED_AFTER_COVERED: Micros = 30 * DAY;

pub async fn votes_report(ctx: &Context, range: &MonthRange) -> Result<VotesReport, StorageError> {
    let (from, _) = ctx.zone.bounds(range.first);
    let (_, to) = ctx.zone.bounds(range.last);
    let pool = ctx.db.read();
    Ok(VotesReport {
        covered: db::reports::covered_topics_revenue(pool, from, to, JOINED_AFTER_COVERED).await?,
        rounds: db::reports::round_turnout_by_tier(pool, from, to).await?,
    })
}

/// Why patrons cancelled in a range: how many gave each reason, per month and
/// currency (the cancelled subscription's), and the answers in their own words
/// (newest first, at most [`CANCEL_COMMENTS_SHOWN`]).
#[derive(Clone, Debug, Default)]
pub struct CancelReasons {
    /// `(month "YYYY-MM", currency, reason, count)`, by month.
    pub by_month: Vec<(String, Currency, crate::domain::CancelReason, i64)>,
    pub comments: Vec<db::cancel_reasons::Comment>,
}

pub const CANCEL_COMMENTS_SHOWN: i64 = 500;

impl CancelReasons {
    /// The counts over the whole range: `(currency, reason) → count`.
    pub fn totals(&self) -> BTreeMap<(Currency, crate::domain::CancelReason), i64> {
        let mut out = BTreeMap::new();
        for (_, currency, reason, n) in &self.by_month {
            *out.entry((*currency, *reason)).or_insert(0) += n;
        }
        out
    }

    /// How many gave `reason` in `month` (`None`: the whole range) and `currency`.
    pub fn count(&self, month: Option<&str>, currency: Currency, reason: crate::domain::CancelReason) -> i64 {
        self.by_month
            .iter()
            .filter(|(m, c, r, _)| month.is_none_or(|month| m == month) && *c == currency && *r == reason)
            .map(|(_, _, _, n)| n)
            .sum()
    }
}

pub async fn cancel_reasons(ctx: &Context, range: &MonthRange) -> Result<CancelReasons, StorageError> {
    let (from, _) = ctx.zone.bounds(range.first);
    let (_, to) = ctx.zone.bounds(range.last);
    let pool = ctx.db.read();
    Ok(CancelReasons {
        by_month: db::cancel_reasons::counts_by_month(pool, &range.first.key(), &range.last.key()).await?,
        comments: db::cancel_reasons::comments_between(pool, from, to, CANCEL_COMMENTS_SHOWN).await?,
    })
}
