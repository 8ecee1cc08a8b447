//! The payment ledger and MRR movements. Rows are unique by what they stand for,
//! so recording the same Stripe object twice changes nothing.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{Currency, MemberId, MrrMovementKind, PaymentKind, Settled, TopicId};

#[derive(Clone, Debug)]
pub struct NewPayment {
    pub kind: PaymentKind,
    pub provider_id: String,
    pub member_id: Option<MemberId>,
    /// Our subscription row id.
    pub subscription_id: Option<String>,
    /// In the charge's currency: what the reader paid (or got back).
    pub gross_minor: i64,
    pub currency: Currency,
    /// What it did to the balance, in the settlement currency.
    pub settled: Settled,
    pub charge_id: Option<String>,
    pub description: Option<String>,
    pub occurred_at: Micros,
    /// Where the reader came from (`db::sources`): the checkout's, or its subscription's.
    pub source_id: Option<String>,
    /// The topic a gift was given toward (a refund or dispute of it inherits it
    /// from the gift's row, by its charge).
    pub topic_id: Option<TopicId>,
}

/// Records a ledger row once; true when it was recorded now. A row recorded
/// before without its charge (a membership payment booked before the charge was
/// followed) is completed from `p` instead, which is also reported as true.
/// The monthly aggregates the reports read change with it, on the same
/// connection (the caller's transaction): figures are never staler than the ledger.
pub async fn insert(mut conn: impl super::Conn, p: &NewPayment, now: Micros) -> Result<bool, DbError> {
    let conn = conn.conn();
    // What the row held before, if it was booked without its charge: completing it
    // replaces its settlement in the aggregates.
    let before: Option<BookedRow> = sqlx::query_as(
        "select currency, settlement_currency, gross_minor, settlement_gross_minor, fee_minor, net_minor, occurred_at
         from payments where kind = $1 and provider_id = $2",
    )
    .bind(p.kind.as_str())
    .bind(&p.provider_id)
    .fetch_optional(&mut *conn)
    .await?;
    let done = sqlx::query(
        "insert into payments (id, kind, provider_id, member_id, subscription_id, gross_minor, currency,
             settlement_gross_minor, fee_minor, net_minor, settlement_currency, charge_id, description, occurred_at, created_at,
             source_id, topic_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
             coalesce($17, (select g.topic_id from payments g
                 where g.charge_id = $12 and g.kind = 'donation' and g.topic_id is not null limit 1)))
         on conflict (kind, provider_id) do update set
             settlement_gross_minor = excluded.settlement_gross_minor, fee_minor = excluded.fee_minor,
             net_minor = excluded.net_minor, settlement_currency = excluded.settlement_currency,
             charge_id = excluded.charge_id
         where payments.charge_id is null and excluded.charge_id is not null",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(p.kind.as_str())
    .bind(&p.provider_id)
    .bind(p.member_id.map(|m| m.to_string()))
    .bind(p.subscription_id.as_deref())
    .bind(p.gross_minor)
    .bind(p.currency.as_str())
    .bind(p.settled.gross_minor)
    .bind(p.settled.fee_minor)
    .bind(p.settled.net_minor)
    .bind(p.settled.currency.as_str())
    .bind(p.charge_id.as_deref())
    .bind(p.description.as_deref())
    .bind(p.occurred_at)
    .bind(now)
    .bind(p.source_id.as_deref())
    .bind(p.topic_id.map(|t| t.to_string()))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    let kind = p.kind.as_str();
    match before {
        None => {
            let row = LedgerAmounts {
                rows: 1,
                gross_minor: p.gross_minor,
                settlement_gross_minor: p.settled.gross_minor,
                fee_minor: p.settled.fee_minor,
                net_minor: p.settled.net_minor,
            };
            super::reports::add_to_ledger_month(conn, kind, p.currency, p.settled.currency, p.occurred_at, &row)
                .await?;
            if matches!(p.kind, PaymentKind::Donation | PaymentKind::Subscription) {
                let a = super::sources::SourceAmounts { payments: 1, new_patrons: 0, gross_minor: p.gross_minor };
                super::sources::add_to_month(conn, p.source_id.as_deref(), p.kind, p.currency, p.occurred_at, a)
                    .await?;
            }
            if p.kind == PaymentKind::Donation {
                let member = p.member_id.map(|m| m.to_string());
                super::reports::add_donor(conn, p.currency, member.as_deref(), p.gross_minor, p.occurred_at).await?;
            }
        }
        // Completed: the row keeps its gross, charge currency and date; its settlement
        // is replaced, so it moves out of the old settlement figures into the new.
        Some(BookedRow {
            currency,
            settlement_currency: old_settlement_currency,
            gross_minor: gross,
            settlement_gross_minor: old_settled,
            fee_minor: old_fee,
            net_minor: old_net,
            occurred_at: at,
        }) => {
            let currency: Currency = parse_stored("currency", &currency)?;
            let old_settlement: Currency = parse_stored("currency", &old_settlement_currency)?;
            let out = LedgerAmounts {
                rows: -1,
                gross_minor: -gross,
                settlement_gross_minor: -old_settled,
                fee_minor: -old_fee,
                net_minor: -old_net,
            };
            super::reports::add_to_ledger_month(conn, kind, currency, old_settlement, at, &out).await?;
            let back = LedgerAmounts {
                rows: 1,
                gross_minor: gross,
                settlement_gross_minor: p.settled.gross_minor,
                fee_minor: p.settled.fee_minor,
                net_minor: p.settled.net_minor,
            };
            super::reports::add_to_ledger_month(conn, kind, currency, p.settled.currency, at, &back).await?;
        }
    }
    Ok(true)
}

/// A ledger row as booked, before it is completed.
#[derive(FromRow)]
struct BookedRow {
    currency: String,
    settlement_currency: String,
    gross_minor: i64,
    settlement_gross_minor: i64,
    fee_minor: i64,
    net_minor: i64,
    occurred_at: i64,
}

/// What rows add to a month's ledger aggregate (negative to take them out).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LedgerAmounts {
    pub rows: i64,
    /// In the charge's currency.
    pub gross_minor: i64,
    /// In the settlement currency.
    pub settlement_gross_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
}

/// The row recorded for a Stripe object, as it was settled.
pub async fn find_settled<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    kind: PaymentKind,
    provider_id: &str,
) -> Result<Option<Settled>, DbError> {
    let row: Option<(i64, i64, i64, String)> = sqlx::query_as(
        "select settlement_gross_minor, fee_minor, net_minor, settlement_currency from payments
         where kind = $1 and provider_id = $2",
    )
    .bind(kind.as_str())
    .bind(provider_id)
    .fetch_optional(ex)
    .await?;
    row.map(|(gross_minor, fee_minor, net_minor, currency)| {
        Ok(Settled { gross_minor, fee_minor, net_minor, currency: parse_stored("currency", &currency)? })
    })
    .transpose()
}

/// A ledger row as its member sees it: what they paid, in the currency they
/// paid in (Stripe's fee and the settlement are not theirs to see).
#[derive(Clone, Debug)]
pub struct PaymentRow {
    pub id: String,
    pub kind: PaymentKind,
    pub provider_id: String,
    pub gross_minor: i64,
    pub currency: Currency,
    pub description: Option<String>,
    pub occurred_at: Micros,
    /// The charge it was paid with (refunds and disputes name it too).
    pub charge_id: Option<String>,
}

#[derive(FromRow)]
struct MemberPaymentRow {
    id: String,
    kind: String,
    provider_id: String,
    gross_minor: i64,
    currency: String,
    description: Option<String>,
    occurred_at: i64,
    charge_id: Option<String>,
}

impl TryFrom<MemberPaymentRow> for PaymentRow {
    type Error = DbError;
    fn try_from(r: MemberPaymentRow) -> Result<Self, DbError> {
        Ok(PaymentRow {
            id: r.id,
            kind: parse_stored("payment kind", &r.kind)?,
            provider_id: r.provider_id,
            gross_minor: r.gross_minor,
            currency: parse_stored("currency", &r.currency)?,
            description: r.description,
            occurred_at: r.occurred_at,
            charge_id: r.charge_id,
        })
    }
}

/// A page of the member's payments, newest first: up to `limit` of those
/// before `before` (the `(occurred_at, id)` of the last one shown), keyset-paged.
pub async fn list_for_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
    before: Option<(Micros, &str)>,
    limit: i64,
) -> Result<Vec<PaymentRow>, DbError> {
    page_for_member(ex, member, before, limit, false).await
}

/// The rows of one page of a member's ledger; with `receipts_only`, their
/// membership payments and gifts alone (not refunds or disputes).
async fn page_for_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
    before: Option<(Micros, &str)>,
    limit: i64,
    receipts_only: bool,
) -> Result<Vec<PaymentRow>, DbError> {
    let (at, id) = before.unwrap_or((i64::MAX, ""));
    let rows: Vec<MemberPaymentRow> = sqlx::query_as(
        "select id, kind, provider_id, gross_minor, currency, description, occurred_at, charge_id
         from payments where member_id = $1
             and ($5 = 0 or kind in ('subscription', 'donation', 'gift'))
             and ($3 = '' or occurred_at < $2 or (occurred_at = $2 and id < $3))
         order by occurred_at desc, id desc limit $4",
    )
    .bind(member.to_string())
    .bind(at)
    .bind(id)
    .bind(limit)
    .bind(i64::from(receipts_only))
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(PaymentRow::try_from).collect()
}

/// The ledger id of the row recorded for a provider's object.
pub async fn find_id<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    kind: PaymentKind,
    provider_id: &str,
) -> Result<Option<String>, DbError> {
    let row: Option<(String,)> = sqlx::query_as("select id from payments where kind = $1 and provider_id = $2")
        .bind(kind.as_str())
        .bind(provider_id)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(|(id,)| id))
}

/// A page of the member's receipts (their membership payments and gifts, not
/// refunds), newest first, keyset-paged like [`list_for_member`].
pub async fn list_receipts_for_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
    before: Option<(Micros, &str)>,
    limit: i64,
) -> Result<Vec<PaymentRow>, DbError> {
    page_for_member(ex, member, before, limit, true).await
}

/// One of the member's receipts by its ledger id: `None` when there is no such
/// payment of theirs (someone else's id included).
pub async fn find_receipt_of_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
    id: &str,
) -> Result<Option<PaymentRow>, DbError> {
    let row: Option<MemberPaymentRow> = sqlx::query_as(
        "select id, kind, provider_id, gross_minor, currency, description, occurred_at, charge_id
         from payments where id = $1 and member_id = $2 and kind in ('subscription', 'donation', 'gift')",
    )
    .bind(id)
    .bind(member.to_string())
    .fetch_optional(ex)
    .await?;
    row.map(PaymentRow::try_from).transpose()
}

/// What went back to the member from a charge of theirs (refunds, disputes and
/// their reversals), oldest first.
pub async fn list_returns_of_charge<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
    charge_id: &str,
) -> Result<Vec<PaymentRow>, DbError> {
    let rows: Vec<MemberPaymentRow> = sqlx::query_as(
        "select id, kind, provider_id, gross_minor, currency, description, occurred_at, charge_id
         from payments where charge_id = $1 and member_id = $2
             and kind in ('refund', 'refund_failed', 'dispute', 'dispute_won')
         order by occurred_at, id",
    )
    .bind(charge_id)
    .bind(member.to_string())
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(PaymentRow::try_from).collect()
}

/// Every ledger row of the member in `[from, to)`, oldest first (a statement).
pub async fn list_for_member_between<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
    from: Micros,
    to: Micros,
) -> Result<Vec<PaymentRow>, DbError> {
    let rows: Vec<MemberPaymentRow> = sqlx::query_as(
        "select id, kind, provider_id, gross_minor, currency, description, occurred_at, charge_id
         from payments where member_id = $1 and occurred_at >= $2 and occurred_at < $3
         order by occurred_at, id",
    )
    .bind(member.to_string())
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(PaymentRow::try_from).collect()
}

/// When the member first paid (a membership payment or a gift), if ever.
pub async fn first_paid_at<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Option<Micros>, DbError> {
    let row: Option<(i64,)> = sqlx::query_as(
        "select occurred_at from payments where member_id = $1 and kind in ('subscription', 'donation', 'gift')
         order by occurred_at limit 1",
    )
    .bind(member.to_string())
    .fetch_optional(ex)
    .await?;
    Ok(row.map(|(at,)| at))
}

/// The members who paid (a membership payment or a gift) in `[from, to)`, by id,
/// up to `limit` after `after` (keyset-paged).
pub async fn members_who_paid_between<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: Micros,
    to: Micros,
    after: &str,
    limit: i64,
) -> Result<Vec<MemberId>, DbError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select distinct member_id from payments
         where member_id is not null and member_id > $3 and kind in ('subscription', 'donation', 'gift')
             and occurred_at >= $1 and occurred_at < $2
         order by member_id limit $4",
    )
    .bind(from)
    .bind(to)
    .bind(after)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(|(m,)| parse_stored("member id", &m)).collect()
}

#[derive(Clone, Debug)]
pub struct NewMrrMovement {
    pub subscription_id: String,
    pub member_id: Option<MemberId>,
    pub kind: MrrMovementKind,
    pub delta_minor: i64,
    pub mrr_after_minor: i64,
    pub currency: Currency,
    /// A churn because payments failed until the subscription ended (not a cancellation).
    pub involuntary: bool,
    pub occurred_at: Micros,
}

/// Records an MRR movement and adds it to its month's aggregate, on the same
/// connection (the caller's transaction).
pub async fn insert_mrr_movement(mut conn: impl super::Conn, m: &NewMrrMovement, now: Micros) -> Result<(), DbError> {
    let conn = conn.conn();
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "insert into mrr_movements (id, subscription_id, member_id, kind, delta_minor, mrr_after_minor, currency,
             occurred_at, created_at, involuntary)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&m.subscription_id)
    .bind(m.member_id.map(|x| x.to_string()))
    .bind(m.kind.as_str())
    .bind(m.delta_minor)
    .bind(m.mrr_after_minor)
    .bind(m.currency.as_str())
    .bind(m.occurred_at)
    .bind(now)
    .bind(i64::from(m.involuntary))
    .execute(&mut *conn)
    .await?;
    super::reports::add_to_mrr_month(&mut *conn, m.currency, m.kind, m.involuntary, m.occurred_at, m.delta_minor)
        .await?;
    if let Some(member) = m.member_id {
        super::reports::add_to_cohort(conn, member, &id, m.currency, m.occurred_at, m.delta_minor).await?;
    }
    Ok(())
}

/// The member and subscription of the payment a charge settled (for refunds and disputes).
pub async fn owner_of_charge<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    charge_id: &str,
) -> Result<Option<(Option<MemberId>, Option<String>)>, DbError> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "select member_id, subscription_id from payments
         where charge_id = $1 and kind in ('subscription', 'donation', 'gift') order by occurred_at limit 1",
    )
    .bind(charge_id)
    .fetch_optional(ex)
    .await?;
    row.map(|(m, s)| Ok((m.as_deref().map(|m| parse_stored("member id", m)).transpose()?, s))).transpose()
}

/// A ledger row as staff see it.
#[derive(Clone, Debug)]
pub struct LedgerRow {
    pub kind: PaymentKind,
    pub provider_id: String,
    pub member_id: Option<MemberId>,
    /// In the charge's currency.
    pub gross_minor: i64,
    pub currency: Currency,
    /// In the settlement currency.
    pub settled: Settled,
    pub description: Option<String>,
    pub occurred_at: Micros,
}

#[derive(FromRow)]
struct StaffLedgerRow {
    kind: String,
    provider_id: String,
    member_id: Option<String>,
    gross_minor: i64,
    currency: String,
    settlement_gross_minor: i64,
    fee_minor: i64,
    net_minor: i64,
    settlement_currency: String,
    description: Option<String>,
    occurred_at: i64,
}

impl TryFrom<StaffLedgerRow> for LedgerRow {
    type Error = DbError;
    fn try_from(r: StaffLedgerRow) -> Result<Self, DbError> {
        Ok(LedgerRow {
            kind: parse_stored("payment kind", &r.kind)?,
            provider_id: r.provider_id,
            member_id: r.member_id.as_deref().map(|m| parse_stored("member id", m)).transpose()?,
            gross_minor: r.gross_minor,
            currency: parse_stored("currency", &r.currency)?,
            settled: Settled {
                gross_minor: r.settlement_gross_minor,
                fee_minor: r.fee_minor,
                net_minor: r.net_minor,
                currency: parse_stored("currency", &r.settlement_currency)?,
            },
            description: r.description,
            occurred_at: r.occurred_at,
        })
    }
}

/// The latest ledger rows, for staff.
pub async fn list_recent<'e, E: Executor<'e, Database = Any>>(ex: E, limit: i64) -> Result<Vec<LedgerRow>, DbError> {
    let rows: Vec<StaffLedgerRow> = sqlx::query_as(
        "select kind, provider_id, member_id, gross_minor, currency, settlement_gross_minor, fee_minor, net_minor,
             settlement_currency, description, occurred_at
         from payments order by occurred_at desc, id desc limit $1",
    )
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(LedgerRow::try_from).collect()
}

/// Rewrites the description of one ledger row (the amounts never change).
pub async fn set_description<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    kind: PaymentKind,
    provider_id: &str,
    description: &str,
) -> Result<(), DbError> {
    sqlx::query("update payments set description = $3 where kind = $1 and provider_id = $2")
        .bind(kind.as_str())
        .bind(provider_id)
        .bind(description)
        .execute(ex)
        .await?;
    Ok(())
}

/// How many ledger rows there are.
pub async fn count<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from payments").fetch_one(ex).await?;
    Ok(n)
}
