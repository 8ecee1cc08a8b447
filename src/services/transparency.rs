//! The public transparency page: per month, how many patrons there were, how
//! many joined and left, what readers paid (when the newsroom shows amounts),
//! the stories covered because patrons voted for them and staff's "what your
//! support paid for" note; the open funding goals; and the supporters who chose
//! to be listed. Figures come from the report aggregates (`mrr_monthly`,
//! `ledger_monthly`), so they match the staff reports to the unit; amounts in
//! different currencies are shown side by side, never added together.
use std::collections::BTreeMap;

use super::audit::{self, Actor};
use super::{Context, StorageError};
use crate::db::transparency::VotedStory;
use crate::db::{self, Change, DbError};
use crate::domain::{
    Currency, GoalProgress, MemberId, Money, Month, MonthNote, MonthRange, PaymentKind, RangePreset, StaffId,
    SupporterName,
};

/// How many months the page shows (this one and the eleven before it, from the
/// first month with any figure).
pub const MONTHS_SHOWN: i32 = 12;
/// The most supporters listed.
pub const MAX_SUPPORTERS: i64 = 500;

const SHOW_AMOUNTS_KEY: &str = "transparency.show_amounts";

/// Whether the page shows what readers paid (else patron counts only). Off
/// until an admin turns it on.
pub async fn shows_amounts(ctx: &Context) -> Result<bool, StorageError> {
    Ok(db::settings::get(ctx.db.read(), SHOW_AMOUNTS_KEY).await?.as_deref() == Some("yes"))
}

/// Admins choose whether the page shows amounts (audited).
pub async fn set_show_amounts(ctx: &Context, actor: &Actor, show: bool) -> Result<(), StorageError> {
    let value = if show { "yes" } else { "no" };
    let mut tx = ctx.db.transaction().await?;
    db::settings::set(&mut *tx, SHOW_AMOUNTS_KEY, value, ctx.clock.now()).await?;
    audit::record(ctx, &mut tx, actor, "transparency.show_amounts", None, Some(value.to_string())).await?;
    tx.changed(Change::Giving);
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// One month on the page.
#[derive(Clone, Debug, Default)]
pub struct MonthFigures {
    pub month: Option<Month>,
    /// Paying patrons at the end of the month (all currencies).
    pub patrons: i64,
    /// New and returning patrons (MRR movements `new` and `reactivation`).
    pub joined: i64,
    /// Patrons who stopped (MRR movements `churn`, cancelled or unpaid).
    pub left: i64,
    /// What readers paid, per charge currency: memberships and gifts, less
    /// refunds and disputes (before card fees). Empty when amounts are hidden.
    pub income: Vec<Money>,
    pub stories: Vec<VotedStory>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct TransparencyPage {
    /// Newest first.
    pub months: Vec<MonthFigures>,
    pub show_amounts: bool,
    pub goals: Vec<(GoalProgress, String)>,
    pub supporters: Vec<String>,
}

/// The kinds of ledger rows that are money from (or back to) readers.
fn from_readers(kind: PaymentKind) -> bool {
    matches!(
        kind,
        PaymentKind::Subscription
            | PaymentKind::Donation
            | PaymentKind::Gift
            | PaymentKind::Refund
            | PaymentKind::RefundFailed
            | PaymentKind::Dispute
            | PaymentKind::DisputeWon
    )
}

/// The months the page shows: the last [`MONTHS_SHOWN`], not before the first with figures.
pub async fn months_shown(ctx: &Context) -> Result<MonthRange, StorageError> {
    let (current, _, first) = super::reports::range_bounds(ctx).await?;
    let earliest = current.plus(1 - MONTHS_SHOWN);
    let first = first.map_or(current, |f| f.max(earliest)).min(current);
    Ok(MonthRange { first, last: current, preset: RangePreset::Last12Months })
}

/// Everything the page shows.
pub async fn page(ctx: &Context) -> Result<TransparencyPage, StorageError> {
    let range = months_shown(ctx).await?;
    let show_amounts = shows_amounts(ctx).await?;
    let months = month_figures(ctx, &range, show_amounts).await?;
    let goals = super::goals::open_goals(ctx).await?;
    let supporters = db::transparency::supporters(ctx.db.read(), MAX_SUPPORTERS).await?;
    Ok(TransparencyPage { months, show_amounts, goals, supporters })
}

/// The figures of every month of `range`, newest first.
pub async fn month_figures(
    ctx: &Context,
    range: &MonthRange,
    show_amounts: bool,
) -> Result<Vec<MonthFigures>, StorageError> {
    let pool = ctx.db.read();
    let mrr = super::reports::mrr_report(ctx, range, super::reports::MrrNow::FromMovements).await?;
    let mut income: BTreeMap<(String, Currency), i64> = BTreeMap::new();
    if show_amounts {
        for row in db::reports::ledger_months(pool, &range.first.key(), &range.last.key()).await? {
            if from_readers(row.kind) {
                *income.entry((row.month.clone(), row.currency)).or_insert(0) += row.gross_minor;
            }
        }
    }
    let notes: BTreeMap<String, String> =
        db::transparency::notes(pool, &range.first.key(), &range.last.key()).await?.into_iter().collect();
    let mut months = Vec::new();
    for month in range.months().into_iter().rev() {
        let key = month.key();
        let mut figures = MonthFigures { month: Some(month), ..Default::default() };
        for report in &mrr {
            if let Some(row) = report.months.iter().find(|r| r.month == Some(month)) {
                figures.patrons += row.patrons_end;
                figures.joined += row.patrons_new + row.patrons_reactivated;
                figures.left += row.patrons_churned();
            }
        }
        figures.income = income
            .iter()
            .filter(|((m, _), _)| *m == key)
            .map(|((_, currency), minor)| Money::new(*minor, *currency))
            .collect();
        let (from, to) = ctx.zone.bounds(month);
        figures.stories = db::transparency::voted_stories(pool, from, to).await?;
        figures.note = notes.get(&key).cloned();
        months.push(figures);
    }
    Ok(months)
}

#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    #[error("no such month on the page")]
    UnknownMonth,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Staff write (or, empty, remove) a month's note, audited. Only a month the
/// page shows, or the next one.
pub async fn set_note(
    ctx: &Context,
    actor: &Actor,
    staff: StaffId,
    month: Month,
    note: Option<MonthNote>,
) -> Result<(), NoteError> {
    let current = ctx.zone.month_of(ctx.clock.now());
    if month > current || month < current.plus(1 - MONTHS_SHOWN) {
        return Err(NoteError::UnknownMonth);
    }
    let mut tx = ctx.db.transaction().await?;
    let body = note.as_ref().map(MonthNote::as_str);
    db::transparency::set_note(&mut *tx, &month.key(), body, staff, ctx.clock.now()).await?;
    let detail = note.as_ref().map(|n| n.as_str().chars().take(200).collect());
    audit::record(ctx, &mut tx, actor, "transparency.note", Some(month.key()), detail).await?;
    tx.changed(Change::Giving);
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// The staff page's notes: every month the page shows, newest first, with its note.
pub async fn notes(ctx: &Context) -> Result<Vec<(Month, Option<String>)>, StorageError> {
    let current = ctx.zone.month_of(ctx.clock.now());
    let range = MonthRange { first: current.plus(1 - MONTHS_SHOWN), last: current, preset: RangePreset::Last12Months };
    let notes: BTreeMap<String, String> =
        db::transparency::notes(ctx.db.read(), &range.first.key(), &range.last.key()).await?.into_iter().collect();
    Ok(range.months().into_iter().rev().map(|m| (m, notes.get(&m.key()).cloned())).collect())
}

/// The name a member is listed under as a supporter, if they opted in.
pub async fn supporter_name(ctx: &Context, member: MemberId) -> Result<Option<String>, StorageError> {
    Ok(db::transparency::supporter_name(ctx.db.read(), member).await?)
}

/// A member opts in to the supporters list under `name` (or out, with `None`).
pub async fn set_supporter_name(
    ctx: &Context,
    member: MemberId,
    name: Option<&SupporterName>,
) -> Result<(), StorageError> {
    let mut tx = ctx.db.transaction().await?;
    db::transparency::set_supporter_name(&mut *tx, member, name.map(SupporterName::as_str)).await?;
    tx.changed(Change::Member(member));
    tx.changed(Change::Giving);
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}
