//! Gift memberships (`gift_memberships`): written when the checkout starts,
//! then marked paid, delivered, redeemed and ended, each once: every step is an
//! `update … where <step> is null`, so two instances (or a redelivered event)
//! never take the same step twice.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{Currency, GiftMonths, Locale, MemberId, Money, TierId};

/// What a gift is, as the checkout stores it.
#[derive(Clone, Debug)]
pub struct GiftDetails {
    pub id: String,
    pub giver: MemberId,
    pub giver_name: Option<String>,
    pub recipient_name: String,
    pub recipient_email: String,
    pub message: String,
    /// The language the recipient is written to in.
    pub locale: Locale,
    pub tier_id: TierId,
    pub months: GiftMonths,
    pub amount: Money,
    /// `YYYY-MM-DD` in the newsroom's time zone, and its midnight there.
    pub deliver_on: String,
    pub deliver_at: Micros,
}

/// A stored gift: what it is and how far it got.
#[derive(Clone, Debug)]
pub struct Gift {
    pub details: GiftDetails,
    pub created_at: Micros,
    pub paid_at: Option<Micros>,
    pub payment_provider_id: Option<String>,
    pub delivered_at: Option<Micros>,
    pub redeemed_at: Option<Micros>,
    pub recipient_member: Option<MemberId>,
    pub ends_at: Option<Micros>,
    pub ended_at: Option<Micros>,
}

#[derive(FromRow)]
struct GiftRow {
    id: String,
    giver_member_id: String,
    giver_name: Option<String>,
    recipient_name: String,
    recipient_email: String,
    message: String,
    locale: String,
    tier_id: String,
    months: i64,
    amount_minor: i64,
    currency: String,
    deliver_on: String,
    deliver_at: i64,
    created_at: i64,
    paid_at: Option<i64>,
    payment_provider_id: Option<String>,
    delivered_at: Option<i64>,
    redeemed_at: Option<i64>,
    recipient_member_id: Option<String>,
    ends_at: Option<i64>,
    ended_at: Option<i64>,
}

const COLUMNS: &str = "id, giver_member_id, giver_name, recipient_name, recipient_email, message, locale, tier_id,
    months, amount_minor, currency, deliver_on, deliver_at, created_at, paid_at, payment_provider_id, delivered_at,
    redeemed_at, recipient_member_id, ends_at, ended_at";

impl TryFrom<GiftRow> for Gift {
    type Error = DbError;
    fn try_from(r: GiftRow) -> Result<Self, DbError> {
        let currency: Currency = parse_stored("currency", &r.currency)?;
        Ok(Gift {
            details: GiftDetails {
                id: r.id,
                giver: parse_stored("member id", &r.giver_member_id)?,
                giver_name: r.giver_name,
                recipient_name: r.recipient_name,
                recipient_email: r.recipient_email,
                message: r.message,
                locale: r.locale.parse().unwrap_or_default(),
                tier_id: parse_stored("tier id", &r.tier_id)?,
                months: GiftMonths::new(r.months).ok_or_else(|| DbError::other("stored gift months cannot be read"))?,
                amount: Money::new(r.amount_minor, currency),
                deliver_on: r.deliver_on,
                deliver_at: r.deliver_at,
            },
            created_at: r.created_at,
            paid_at: r.paid_at,
            payment_provider_id: r.payment_provider_id,
            delivered_at: r.delivered_at,
            redeemed_at: r.redeemed_at,
            recipient_member: r.recipient_member_id.as_deref().map(|m| parse_stored("member id", m)).transpose()?,
            ends_at: r.ends_at,
            ended_at: r.ended_at,
        })
    }
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(ex: E, g: &GiftDetails, now: Micros) -> Result<(), DbError> {
    sqlx::query(
        "insert into gift_memberships (id, giver_member_id, giver_name, recipient_name, recipient_email, message,
             locale, tier_id, months, amount_minor, currency, deliver_on, deliver_at, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&g.id)
    .bind(g.giver.to_string())
    .bind(g.giver_name.as_deref())
    .bind(&g.recipient_name)
    .bind(&g.recipient_email)
    .bind(&g.message)
    .bind(g.locale.as_str())
    .bind(g.tier_id.to_string())
    .bind(g.months.get())
    .bind(g.amount.minor)
    .bind(g.amount.currency.as_str())
    .bind(&g.deliver_on)
    .bind(g.deliver_at)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str) -> Result<Option<Gift>, DbError> {
    let row: Option<GiftRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from gift_memberships where id = $1")))
            .bind(id)
            .fetch_optional(ex)
            .await?;
    row.map(Gift::try_from).transpose()
}

/// The gift a ledger row paid for.
pub async fn find_by_payment<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    provider_id: &str,
) -> Result<Option<Gift>, DbError> {
    let row: Option<GiftRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from gift_memberships where payment_provider_id = $1"
    )))
    .bind(provider_id)
    .fetch_optional(ex)
    .await?;
    row.map(Gift::try_from).transpose()
}

/// Marks the gift paid by the ledger row `provider_id`; true the first time.
pub async fn mark_paid<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    provider_id: &str,
    at: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "update gift_memberships set paid_at = $2, payment_provider_id = $3 where id = $1 and paid_at is null",
    )
    .bind(id)
    .bind(at)
    .bind(provider_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A step a gift takes once, after it is paid: the email to its recipient, and
/// the end of the membership it became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Delivered,
    Ended,
}

impl Step {
    fn column(self) -> &'static str {
        match self {
            Self::Delivered => "delivered_at",
            Self::Ended => "ended_at",
        }
    }

    /// Which gifts are due for the step at `$1`: paid gifts whose day has come;
    /// redeemed gifts whose months are over and whose recipient's comp has
    /// ended too (a later gift or a staff comp keeps it going).
    fn due(self) -> &'static str {
        match self {
            Self::Delivered => "g.paid_at is not null and g.deliver_at <= $1",
            Self::Ended => {
                "g.ends_at is not null and g.ends_at <= $1
                 and not exists (select 1 from members m where m.id = g.recipient_member_id and m.comped_until > $1)"
            }
        }
    }
}

/// Gifts due for `step` at `now` that have not taken it, oldest first.
pub async fn list_due<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    step: Step,
    now: Micros,
    limit: i64,
) -> Result<Vec<Gift>, DbError> {
    let (column, due) = (step.column(), step.due());
    let rows: Vec<GiftRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from gift_memberships g where g.{column} is null and {due} order by g.created_at, g.id limit $2"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(Gift::try_from).collect()
}

/// Marks the gift as having taken `step`; true the first time (the one who
/// sends its email).
pub async fn mark<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    step: Step,
    at: Micros,
) -> Result<bool, DbError> {
    let column = step.column();
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "update gift_memberships set {column} = $2 where id = $1 and {column} is null"
    )))
    .bind(id)
    .bind(at)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Redeems a paid gift for `member` once: true the first time.
pub async fn mark_redeemed<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    member: MemberId,
    at: Micros,
    ends_at: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "update gift_memberships set redeemed_at = $2, recipient_member_id = $3, ends_at = $4,
             delivered_at = coalesce(delivered_at, $2)
         where id = $1 and redeemed_at is null and paid_at is not null",
    )
    .bind(id)
    .bind(at)
    .bind(member.to_string())
    .bind(ends_at)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The gifts `member` gave or redeemed, whatever step they reached.
pub async fn list_of_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Vec<Gift>, DbError> {
    let rows: Vec<GiftRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from gift_memberships g where g.giver_member_id = $1 or g.recipient_member_id = $1"
    )))
    .bind(member.to_string())
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(Gift::try_from).collect()
}

/// Erases a giver's own words from the gifts they gave: their name and message.
pub async fn erase_giver<'e, E: Executor<'e, Database = Any>>(ex: E, giver: MemberId) -> Result<(), DbError> {
    sqlx::query("update gift_memberships set giver_name = null, message = '' where giver_member_id = $1")
        .bind(giver.to_string())
        .execute(ex)
        .await?;
    Ok(())
}

/// Erases a recipient's name and address from the gifts they redeemed (the
/// address was needed to deliver and redeem it, and both are done).
pub async fn erase_recipient<'e, E: Executor<'e, Database = Any>>(ex: E, member: MemberId) -> Result<(), DbError> {
    sqlx::query("update gift_memberships set recipient_name = '', recipient_email = '' where recipient_member_id = $1")
        .bind(member.to_string())
        .execute(ex)
        .await?;
    Ok(())
}
