//! Receipts and yearly giving statements, as the member reads them on their
//! account page (and prints to PDF), and the January email of last year's
//! statement to every member who paid in it.
//!
//! Everything a member sees here is theirs: every read filters by their id, so
//! a receipt id of someone else's payment is simply not found. Amounts stay in
//! the currency charged and are never added across currencies; dates are the
//! newsroom's (NEWSROOM_TIMEZONE), so a payment at 00:30 in Kyiv on 1 January
//! belongs to the new year there.
use serde::Serialize;

use super::audit::Actor;
use super::{Context, StorageError, outbox};
use crate::clock::Micros;
use crate::db::{self, DbError, payments::PaymentRow};
use crate::domain::receipt::{parse_finished_year, parse_statement_year, totals_by_currency};
use crate::domain::{Locale, Member, MemberId, Money, Month, StatementYearError};

/// Receipts on one page of `/account/receipts`.
pub const RECEIPTS_PER_PAGE: i64 = 20;

/// Members whose statements are enqueued in one transaction.
const STATEMENT_BATCH: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error(transparent)]
    Year(#[from] StatementYearError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Mail(#[from] outbox::OutboxError),
}

impl From<DbError> for StatementError {
    fn from(e: DbError) -> Self {
        Self::Storage(e.into())
    }
}

/// Who was paid, as printed at the top of a receipt or statement.
#[derive(Serialize)]
pub struct Payee {
    pub name: String,
    pub address: Vec<String>,
}

fn payee(ctx: &Context) -> Payee {
    Payee { name: ctx.legal.name.clone(), address: ctx.legal.address.clone() }
}

/// One line of a receipt list or statement.
#[derive(Serialize)]
pub struct Line {
    pub id: String,
    pub date: String,
    /// `subscription`, `donation`, `refund`, …: the wording comes from `payment-kind-<kind>`.
    pub kind: &'static str,
    pub amount: String,
    /// The payment provider's reference (invoice, charge or refund id).
    pub reference: String,
    /// Some of it went back (a refund or a lost dispute).
    pub returned: bool,
}

fn line(ctx: &Context, locale: Locale, p: &PaymentRow, returned: bool) -> Line {
    Line {
        id: p.id.clone(),
        date: ctx.zone.date(p.occurred_at),
        kind: p.kind.as_str(),
        amount: crate::numbers::money(locale, Money::new(p.gross_minor, p.currency)),
        reference: p.provider_id.clone(),
        returned,
    }
}

/// A page of the member's receipts.
#[derive(Serialize)]
pub struct ReceiptList {
    pub receipts: Vec<Line>,
    /// The cursor of the next (older) page, if there is one.
    pub older: Option<String>,
    /// Years with a statement, newest first (from the first payment to now).
    pub years: Vec<i16>,
}

fn parse_cursor(cursor: Option<&str>) -> Option<(Micros, &str)> {
    cursor.and_then(|c| c.split_once('.')).and_then(|(at, id)| Some((at.parse::<Micros>().ok()?, id)))
}

/// The year `at` falls in, in the newsroom's zone.
fn year_of(ctx: &Context, at: Micros) -> i16 {
    ctx.zone.month_of(at).year()
}

/// `[start, end)` of a calendar year in the newsroom's zone.
fn year_bounds(ctx: &Context, year: i16) -> Result<(Micros, Micros), StatementYearError> {
    let first = Month::new(year, 1).map_err(|_| StatementYearError::NotAYear)?;
    Ok((ctx.zone.start_of(first), ctx.zone.start_of(first.plus(12))))
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
pub async fn list(
    ctx: &Context,
    member: &Member,
    locale: Locale,
    cursor: Option<&str>,
) -> Result<ReceiptList, StorageError> {
    let before = parse_cursor(cursor);
    let mut rows =
        db::payments::list_receipts_for_member(ctx.db.read(), member.id, before, RECEIPTS_PER_PAGE + 1).await?;
    let older = if rows.len() > RECEIPTS_PER_PAGE as usize {
        rows.truncate(RECEIPTS_PER_PAGE as usize);
        rows.last().map(|p| format!("{}.{}", p.occurred_at, p.id))
    } else {
        None
    };
    let mut receipts = Vec::with_capacity(rows.len());
    for p in &rows {
        let returned = match &p.charge_id {
            Some(charge) => {
                let returns = db::payments::list_returns_of_charge(ctx.db.read(), member.id, charge).await?;
                returns.iter().map(|r| r.gross_minor).sum::<i64>() < 0
            }
            None => false,
        };
        receipts.push(line(ctx, locale, p, returned));
    }
    let now_year = year_of(ctx, ctx.clock.now());
    let years = match db::payments::first_paid_at(ctx.db.read(), member.id).await? {
        Some(first) => (year_of(ctx, first).min(now_year)..=now_year).rev().collect(),
        None => Vec::new(),
    };
    Ok(ReceiptList { receipts, older, years })
}

/// One printable receipt, with what went back from it since.
#[derive(Serialize)]
pub struct Receipt {
    pub payee: Payee,
    pub payer_name: Option<String>,
    pub payer_email: Option<String>,
    pub payment: Line,
    pub returns: Vec<Line>,
    /// What the payment came to after its returns, when there were any.
    pub net: Option<String>,
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
pub async fn receipt(
    ctx: &Context,
    member: &Member,
    locale: Locale,
    id: &str,
) -> Result<Option<Receipt>, StorageError> {
    // Ids are UUIDs: anything else is no receipt, without asking the database.
    if uuid::Uuid::parse_str(id).is_err() {
        return Ok(None);
    }
    let Some(p) = db::payments::find_receipt_of_member(ctx.db.read(), member.id, id).await? else {
        return Ok(None);
    };
    let returns = match &p.charge_id {
        Some(charge) => db::payments::list_returns_of_charge(ctx.db.read(), member.id, charge).await?,
        None => Vec::new(),
    };
    let returned: i64 = returns.iter().map(|r| r.gross_minor).sum();
    let net =
        (!returns.is_empty()).then(|| crate::numbers::money(locale, Money::new(p.gross_minor + returned, p.currency)));
    Ok(Some(Receipt {
        payee: payee(ctx),
        payer_name: member.name.clone(),
        payer_email: member.email.as_ref().map(|e| e.to_string()),
        payment: line(ctx, locale, &p, returned < 0),
        returns: returns.iter().map(|r| line(ctx, locale, r, false)).collect(),
        net,
    }))
}

/// One currency's totals, formatted.
#[derive(Serialize)]
pub struct TotalView {
    pub currency: String,
    pub paid: String,
    pub returned: Option<String>,
    pub net: String,
}

/// A member's giving in one calendar year.
#[derive(Serialize)]
pub struct Statement {
    pub year: i16,
    pub payee: Payee,
    pub payer_name: Option<String>,
    pub payer_email: Option<String>,
    pub lines: Vec<Line>,
    pub totals: Vec<TotalView>,
    /// The year is still running: the statement is "so far".
    pub to_date: bool,
    /// Where the member reads it (for the email).
    pub url: String,
}

async fn statement_of(
    ctx: &Context,
    ex: &mut sqlx::AnyConnection,
    member: &Member,
    year: i16,
) -> Result<Statement, StatementError> {
    let (from, to) = year_bounds(ctx, year)?;
    let rows = db::payments::list_for_member_between(&mut *ex, member.id, from, to).await?;
    let locale = member.locale;
    let totals = totals_by_currency(rows.iter().map(|r| (r.kind, r.gross_minor, r.currency)))
        .into_iter()
        .map(|t| TotalView {
            currency: t.currency.code(),
            paid: crate::numbers::money(locale, Money::new(t.paid_minor, t.currency)),
            returned: (t.returned_minor != 0)
                .then(|| crate::numbers::money(locale, Money::new(t.returned_minor, t.currency))),
            net: crate::numbers::money(locale, Money::new(t.net_minor, t.currency)),
        })
        .collect();
    Ok(Statement {
        year,
        payee: payee(ctx),
        payer_name: member.name.clone(),
        payer_email: member.email.as_ref().map(|e| e.to_string()),
        lines: rows.iter().map(|r| line(ctx, locale, r, false)).collect(),
        totals,
        to_date: ctx.clock.now() < to,
        url: ctx.url(&format!("/account/statement/{year}")),
    })
}

/// The member's statement for `year` as typed in the address; refused for a
/// year that is not a number, has not begun, or is before their first payment.
#[tracing::instrument(skip_all, fields(member.id = %member.id))]
pub async fn statement(
    ctx: &Context,
    member: &Member,
    locale: Locale,
    year: &str,
) -> Result<Statement, StatementError> {
    let now_year = year_of(ctx, ctx.clock.now());
    let first = db::payments::first_paid_at(ctx.db.read(), member.id).await?.map(|at| year_of(ctx, at));
    let year = parse_statement_year(year, now_year, first)?;
    let mut conn = ctx.db.read().acquire().await.map_err(DbError::from)?;
    let member = Member { locale, ..member.clone() };
    statement_of(ctx, &mut conn, &member, year).await
}

/// Enqueues the `year` statement for every member who paid in it, once per
/// member and year (outbox key `statement:{year}:{member}`): pressing the
/// button twice sends each statement once. Only a year that is over. Returns
/// how many were enqueued now.
#[tracing::instrument(skip_all, fields(year = %year))]
pub async fn email_statements(ctx: &Context, actor: &Actor, year: &str) -> Result<usize, StatementError> {
    let year = parse_finished_year(year, year_of(ctx, ctx.clock.now()))?;
    let (from, to) = year_bounds(ctx, year)?;
    let mut after = String::new();
    let mut enqueued = 0usize;
    let mut members = 0usize;
    loop {
        let mut tx = ctx.db.transaction().await?;
        let batch = db::payments::members_who_paid_between(&mut *tx, from, to, &after, STATEMENT_BATCH).await?;
        let Some(last) = batch.last() else {
            tx.commit().await.map_err(DbError::from)?;
            break;
        };
        after = last.to_string();
        for member_id in &batch {
            members += 1;
            if enqueue_statement(ctx, &mut tx, *member_id, year).await? {
                enqueued += 1;
            }
        }
        tx.commit().await.map_err(DbError::from)?;
        if (batch.len() as i64) < STATEMENT_BATCH {
            break;
        }
    }
    let mut tx = ctx.db.transaction().await?;
    super::audit::record(
        ctx,
        &mut tx,
        actor,
        "statements.email",
        Some(year.to_string()),
        Some(format!("{enqueued} enqueued of {members} members")),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    if enqueued > 0 {
        ctx.mail_wakeup.notify_one();
    }
    tracing::info!(year, members, enqueued, "giving statements enqueued");
    Ok(enqueued)
}

async fn enqueue_statement(
    ctx: &Context,
    tx: &mut db::Tx,
    member_id: MemberId,
    year: i16,
) -> Result<bool, StatementError> {
    let Some(member) = db::members::find_by_id(&mut **tx, member_id).await? else { return Ok(false) };
    let Some(email) = member.email.clone().filter(|_| member.deleted_at.is_none()) else { return Ok(false) };
    let statement = statement_of(ctx, tx, &member, year).await?;
    let key = format!("statement:{year}:{member_id}");
    Ok(outbox::enqueue(ctx, tx, "statement", member.locale, email.as_str(), &statement, Some(key)).await?)
}
