//! Members: readers with an account.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::text::fold;
use crate::domain::{Email, Locale, Member, MemberId};

/// The folded search and sort keys of a member (migration 0009): the email; the
/// search text (email, name and public name, one a line); the "by name" sort key.
struct SearchKeys {
    email: String,
    text: String,
    sort_name: Option<String>,
}

impl SearchKeys {
    fn new(email: Option<&str>, name: Option<&str>, public_name: Option<&str>) -> Self {
        let email = email.map(folded).unwrap_or_default();
        Self { text: format!("{email}{}", names_key(name, public_name)), email, sort_name: sort_name(name) }
    }
}

/// Folded, and at most 400 bytes (a name folds to a few times its length at
/// most; PostgreSQL refuses index entries of more than about 2,700 bytes).
fn folded(text: &str) -> String {
    let mut f = fold(text);
    if f.len() > 400 {
        let mut end = 400;
        while !f.is_char_boundary(end) {
            end -= 1;
        }
        f.truncate(end);
    }
    f
}

/// What follows the email in the search text: a line with the name, a line with the public name.
fn names_key(name: Option<&str>, public_name: Option<&str>) -> String {
    format!("\n{}\n{}", name.map(folded).unwrap_or_default(), public_name.map(folded).unwrap_or_default())
}

/// `'0' || folded name`; `None` without a name (the SQL then uses `'1' || search_email`).
fn sort_name(name: Option<&str>) -> Option<String> {
    name.map(folded).filter(|n| !n.is_empty()).map(|n| format!("0{n}"))
}

#[derive(FromRow)]
pub(crate) struct MemberRow {
    id: String,
    email: Option<String>,
    name: Option<String>,
    public_name: Option<String>,
    locale: String,
    comped_until: Option<i64>,
    created_at: i64,
    last_sign_in_at: Option<i64>,
    deleted_at: Option<i64>,
}

impl TryFrom<MemberRow> for Member {
    type Error = DbError;
    fn try_from(r: MemberRow) -> Result<Self, DbError> {
        Ok(Member {
            id: parse_stored("member id", &r.id)?,
            email: r
                .email
                .as_deref()
                .map(|e| Email::parse(e).map_err(|_| DbError::other("stored member email cannot be read")))
                .transpose()?,
            name: r.name,
            public_name: r.public_name,
            locale: r.locale.parse().unwrap_or_default(),
            comped_until: r.comped_until,
            created_at: r.created_at,
            last_sign_in_at: r.last_sign_in_at,
            deleted_at: r.deleted_at,
        })
    }
}

/// Inserts a member unless the address is already taken; true when inserted.
pub async fn insert_if_absent<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: MemberId,
    email: &Email,
    name: Option<&str>,
    locale: Locale,
    now: Micros,
) -> Result<bool, DbError> {
    let keys = SearchKeys::new(Some(email.as_str()), name, None);
    let done = sqlx::query(
        "insert into members (id, email, name, locale, created_at, search_email, search_text, sort_name)
         values ($1, $2, $3, $4, $5, $6, $7, coalesce($8, '1' || $6))
         on conflict (email) do nothing",
    )
    .bind(id.to_string())
    .bind(email.as_str())
    .bind(name)
    .bind(locale.as_str())
    .bind(now)
    .bind(keys.email)
    .bind(keys.text)
    .bind(keys.sort_name)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find_by_email<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    email: &Email,
) -> Result<Option<Member>, DbError> {
    let row: Option<MemberRow> = sqlx::query_as(
        "select id, email, name, public_name, locale, comped_until, created_at, last_sign_in_at, deleted_at from members where email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(ex)
    .await?;
    row.map(Member::try_from).transpose()
}

pub async fn find_by_id<'e, E: Executor<'e, Database = Any>>(ex: E, id: MemberId) -> Result<Option<Member>, DbError> {
    let row: Option<MemberRow> = sqlx::query_as(
        "select id, email, name, public_name, locale, comped_until, created_at, last_sign_in_at, deleted_at from members where id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(ex)
    .await?;
    row.map(Member::try_from).transpose()
}

pub async fn update_profile<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: MemberId,
    name: Option<&str>,
    public_name: Option<&str>,
    locale: Locale,
) -> Result<(), DbError> {
    let done = sqlx::query(
        "update members set name = $2, public_name = $3, locale = $4,
             search_text = coalesce(search_email, '') || $5, sort_name = coalesce($6, '1' || coalesce(search_email, ''))
         where id = $1 and deleted_at is null",
    )
    .bind(id.to_string())
    .bind(name)
    .bind(public_name)
    .bind(locale.as_str())
    .bind(names_key(name, public_name))
    .bind(sort_name(name))
    .execute(ex)
    .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

pub async fn set_locale<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: MemberId,
    locale: Locale,
) -> Result<(), DbError> {
    sqlx::query("update members set locale = $2 where id = $1")
        .bind(id.to_string())
        .bind(locale.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn touch_sign_in<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: MemberId,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query("update members set last_sign_in_at = $2 where id = $1")
        .bind(id.to_string())
        .bind(now)
        .execute(ex)
        .await?;
    Ok(())
}

/// Erases what identifies the person; the row stays so accounting records that
/// point at it keep their meaning.
pub async fn anonymise<'e, E: Executor<'e, Database = Any>>(ex: E, id: MemberId, now: Micros) -> Result<(), DbError> {
    let done = sqlx::query(
        "update members set email = null, name = null, public_name = null, supporter_name = null,
             last_sign_in_at = null, deleted_at = $2,
             search_email = '', search_text = '', sort_name = '1'
         where id = $1 and deleted_at is null",
    )
    .bind(id.to_string())
    .bind(now)
    .execute(ex)
    .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

pub async fn count<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<i64, DbError> {
    // Kept per standing by a trigger (migration 0019): no scan of every member.
    let (n,): (i64,) =
        sqlx::query_as("select cast(coalesce(sum(members), 0) as bigint) from standing_counts where deleted = 0")
            .fetch_one(ex)
            .await?;
    Ok(n)
}

/// The member's payment-provider customer id, if one was created.
pub async fn customer_id<'e, E: Executor<'e, Database = Any>>(ex: E, id: MemberId) -> Result<Option<String>, DbError> {
    let row: Option<(Option<String>,)> = sqlx::query_as("select stripe_customer_id from members where id = $1")
        .bind(id.to_string())
        .fetch_optional(ex)
        .await?;
    Ok(row.and_then(|(c,)| c))
}

/// Links a customer id unless the member has one already or Stripe deleted that
/// customer; the unique index guarantees one member per customer.
pub async fn link_customer<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: MemberId,
    customer_id: &str,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "update members set stripe_customer_id = $2 where id = $1 and stripe_customer_id is null
           and not exists (select 1 from stripe_deleted_customers where customer_id = $2)",
    )
    .bind(id.to_string())
    .bind(customer_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find_by_customer_id<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    customer_id: &str,
) -> Result<Option<MemberId>, DbError> {
    let row: Option<(String,)> = sqlx::query_as("select id from members where stripe_customer_id = $1")
        .bind(customer_id)
        .fetch_optional(ex)
        .await?;
    row.map(|(id,)| parse_stored("member id", &id)).transpose()
}

pub async fn comped_until<'e, E: Executor<'e, Database = Any>>(ex: E, id: MemberId) -> Result<Option<Micros>, DbError> {
    let row: Option<(Option<i64>,)> = sqlx::query_as("select comped_until from members where id = $1")
        .bind(id.to_string())
        .fetch_optional(ex)
        .await?;
    Ok(row.and_then(|(c,)| c))
}

/// Grants (or, with `None`, ends) complimentary patron status, with why.
pub async fn set_comp<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: MemberId,
    until: Option<Micros>,
    reason: Option<&str>,
) -> Result<(), DbError> {
    let done =
        sqlx::query("update members set comped_until = $2, comp_reason = $3 where id = $1 and deleted_at is null")
            .bind(id.to_string())
            .bind(until)
            .bind(reason)
            .execute(ex)
            .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// Replaces the member's comp reason if it is still `old` (staff may have changed it).
pub async fn replace_comp_reason<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: MemberId,
    old: &str,
    new: &str,
) -> Result<(), DbError> {
    sqlx::query("update members set comp_reason = $3 where id = $1 and comp_reason = $2")
        .bind(id.to_string())
        .bind(old)
        .bind(new)
        .execute(ex)
        .await?;
    Ok(())
}

/// Why the member is (or was last) complimentary.
pub async fn comp_reason<'e, E: Executor<'e, Database = Any>>(ex: E, id: MemberId) -> Result<Option<String>, DbError> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("select comp_reason from members where id = $1").bind(id.to_string()).fetch_optional(ex).await?;
    Ok(row.and_then(|(r,)| r))
}

/// Remembers that Stripe deleted a customer (and whose it was), so it is never
/// linked again. Call [`unlink_customer`] in the same transaction.
pub async fn record_deleted_customer<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    customer_id: &str,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into stripe_deleted_customers (customer_id, member_id, deleted_at)
         values ($1, (select id from members where stripe_customer_id = $1), $2)
         on conflict (customer_id) do nothing",
    )
    .bind(customer_id)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// A customer linked to a member now, or deleted after it was.
pub async fn customer_known<'e, E: Executor<'e, Database = Any>>(ex: E, customer_id: &str) -> Result<bool, DbError> {
    let (n,): (i64,) = sqlx::query_as(
        "select (select count(*) from members where stripe_customer_id = $1)
              + (select count(*) from stripe_deleted_customers where customer_id = $1)",
    )
    .bind(customer_id)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

/// How many of the member's Stripe customers were deleted (each new one is
/// created under a new idempotency key).
pub async fn deleted_customer_count<'e, E: Executor<'e, Database = Any>>(ex: E, id: MemberId) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from stripe_deleted_customers where member_id = $1")
        .bind(id.to_string())
        .fetch_one(ex)
        .await?;
    Ok(n)
}

/// Forgets a customer id Stripe deleted.
pub async fn unlink_customer<'e, E: Executor<'e, Database = Any>>(ex: E, customer_id: &str) -> Result<(), DbError> {
    sqlx::query("update members set stripe_customer_id = null where stripe_customer_id = $1")
        .bind(customer_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Fills in the search keys of members written before they existed (migration
/// 0009 adds them empty; SQL cannot fold text the way [`fold`] does). Run after
/// migrating; does nothing once every row has them.
#[derive(FromRow)]
struct Unkeyed {
    id: String,
    email: Option<String>,
    name: Option<String>,
    public_name: Option<String>,
}

pub async fn backfill_search_keys(db: &super::Db) -> Result<u64, DbError> {
    let mut done = 0;
    loop {
        let rows: Vec<Unkeyed> = sqlx::query_as(
            "select id, email, name, public_name from members where search_email is null order by id limit 500",
        )
        .fetch_all(db.read())
        .await?;
        if rows.is_empty() {
            return Ok(done);
        }
        if done == 0 && db.backend() == super::Backend::Sqlite {
            // Migration 0009 created SQLite's full-text index (external content) over
            // members it did not index; its update trigger would then remove entries
            // that were never added, which FTS5 reports as a corrupt index ("database
            // disk image is malformed"): an upgrade from before 0009 with members
            // failed to start. Index the rows as they are first (the released
            // migration stays as it was).
            sqlx::query("insert into members_search (members_search) values ('rebuild')")
                .execute(&mut *db.write().await?)
                .await?;
        }
        let mut tx = db.transaction().await?;
        for Unkeyed { id, email, name, public_name } in rows {
            let keys = SearchKeys::new(email.as_deref(), name.as_deref(), public_name.as_deref());
            sqlx::query(
                "update members set search_email = $2, search_text = $3, sort_name = coalesce($4, '1' || $2)
                 where id = $1",
            )
            .bind(id)
            .bind(keys.email)
            .bind(keys.text)
            .bind(keys.sort_name)
            .execute(&mut *tx)
            .await?;
            done += 1;
        }
        tx.commit().await?;
    }
}

/// Every member's id, oldest first (for generated data).
pub async fn all_ids<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<MemberId>, DbError> {
    let rows: Vec<(String,)> = sqlx::query_as("select id from members order by created_at, id").fetch_all(ex).await?;
    rows.iter().map(|(id,)| super::parse_stored("member id", id)).collect()
}
