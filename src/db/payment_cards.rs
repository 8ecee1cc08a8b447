//! The card each Stripe customer pays with, as far as we last learnt it, for
//! the "your card expires" reminder (see migration 0027).
use sqlx::{Any, Executor};

use super::DbError;
use crate::clock::Micros;
use crate::domain::PaymentCard;

/// Records `card` as the customer's, unless what we know is newer (`seen_at`).
/// A changed card (another method or expiry) is reminded about again.
pub async fn upsert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    card: &PaymentCard,
    seen_at: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into payment_cards
             (customer_id, payment_method_id, brand, last4, exp_month, exp_year, expires_month, seen_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (customer_id) do update set
             payment_method_id = excluded.payment_method_id, brand = excluded.brand, last4 = excluded.last4,
             exp_month = excluded.exp_month, exp_year = excluded.exp_year,
             expires_month = excluded.expires_month, seen_at = excluded.seen_at,
             reminded_at = case when payment_cards.expires_month = excluded.expires_month
                                 and coalesce(payment_cards.payment_method_id, '') = coalesce(excluded.payment_method_id, '')
                                then payment_cards.reminded_at end
         where payment_cards.seen_at <= excluded.seen_at",
    )
    .bind(&card.customer_id)
    .bind(&card.payment_method_id)
    .bind(&card.brand)
    .bind(&card.last4)
    .bind(card.exp_month)
    .bind(card.exp_year)
    .bind(card.expires_month())
    .bind(seen_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// A PaymentMethod detached from its customer no longer pays for anything.
pub async fn forget_method<'e, E: Executor<'e, Database = Any>>(ex: E, payment_method_id: &str) -> Result<(), DbError> {
    sqlx::query("delete from payment_cards where payment_method_id = $1").bind(payment_method_id).execute(ex).await?;
    Ok(())
}

/// A deleted account's card details go with it.
pub async fn forget_customer<'e, E: Executor<'e, Database = Any>>(ex: E, customer_id: &str) -> Result<(), DbError> {
    sqlx::query("delete from payment_cards where customer_id = $1").bind(customer_id).execute(ex).await?;
    Ok(())
}

/// Cards not yet reminded about that expire in `from..=to` (in months, see
/// [`PaymentCard::expires_month`]), at most `limit`.
pub async fn due_reminders<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<PaymentCard>, DbError> {
    let rows: Vec<(String, Option<String>, String, String, i64, i64)> = sqlx::query_as(
        "select customer_id, payment_method_id, brand, last4, exp_month, exp_year from payment_cards
         where reminded_at is null and expires_month between $1 and $2
         order by customer_id limit $3",
    )
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(customer_id, payment_method_id, brand, last4, exp_month, exp_year)| PaymentCard {
            customer_id,
            payment_method_id,
            brand,
            last4,
            exp_month,
            exp_year,
        })
        .collect())
}

/// The reminder about this card (at this expiry) is decided: not looked at again.
pub async fn mark_reminded<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    card: &PaymentCard,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "update payment_cards set reminded_at = $3
         where customer_id = $1 and expires_month = $2 and reminded_at is null",
    )
    .bind(&card.customer_id)
    .bind(card.expires_month())
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}
