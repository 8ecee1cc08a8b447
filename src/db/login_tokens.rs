//! One-time links: member sign-in, staff set-password, first-admin set-up.
//! Only the SHA-256 of a token is stored.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{LoginPurpose, MemberId, StaffId};

/// Whom a consumed token was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenOwner {
    pub member_id: Option<MemberId>,
    pub staff_id: Option<StaffId>,
}

#[derive(FromRow)]
struct OwnerRow {
    member_id: Option<String>,
    staff_id: Option<String>,
}

impl TryFrom<OwnerRow> for TokenOwner {
    type Error = DbError;
    fn try_from(r: OwnerRow) -> Result<Self, DbError> {
        Ok(TokenOwner {
            member_id: r.member_id.as_deref().map(|s| parse_stored("member id", s)).transpose()?,
            staff_id: r.staff_id.as_deref().map(|s| parse_stored("staff id", s)).transpose()?,
        })
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    token_hash: &str,
    purpose: LoginPurpose,
    member_id: Option<MemberId>,
    staff_id: Option<StaffId>,
    now: Micros,
    expires_at: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into login_tokens (id, token_hash, purpose, member_id, staff_id, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(member_id.map(|m| m.to_string()))
    .bind(staff_id.map(|s| s.to_string()))
    .bind(now)
    .bind(expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// Uses up every still-valid token of this purpose for the member, the staff
/// user, or (both `None`) every owner-less token: a newer link replaces older ones.
pub async fn supersede<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    purpose: LoginPurpose,
    member_id: Option<MemberId>,
    staff_id: Option<StaffId>,
    now: Micros,
) -> Result<u64, DbError> {
    let done = sqlx::query(
        "update login_tokens set used_at = $4
         where purpose = $1 and used_at is null
           and coalesce(member_id, '') = coalesce($2, '') and coalesce(staff_id, '') = coalesce($3, '')",
    )
    .bind(purpose.as_str())
    .bind(member_id.map(|m| m.to_string()))
    .bind(staff_id.map(|s| s.to_string()))
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

/// Marks a valid token used and returns its owner, in one conditional statement,
/// so two concurrent uses cannot both succeed.
pub async fn consume<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    token_hash: &str,
    purpose: LoginPurpose,
    now: Micros,
) -> Result<Option<TokenOwner>, DbError> {
    let row: Option<OwnerRow> = sqlx::query_as(
        "update login_tokens set used_at = $3
         where token_hash = $1 and purpose = $2 and used_at is null and expires_at > $3
         returning member_id, staff_id",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(ex)
    .await?;
    row.map(TokenOwner::try_from).transpose()
}

/// Whether the token could be used now, without using it.
pub async fn is_valid<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    token_hash: &str,
    purpose: LoginPurpose,
    now: Micros,
) -> Result<bool, DbError> {
    let row: Option<(String,)> = sqlx::query_as(
        "select id from login_tokens where token_hash = $1 and purpose = $2 and used_at is null and expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(ex)
    .await?;
    Ok(row.is_some())
}

/// A member sign-in (link and code on one row), or a stand-in for an address
/// of no member (`member_id` and `code_hash` null), so entering a code for it
/// behaves exactly the same: attempts counted, then dead, then expired.
pub struct NewSignIn<'a> {
    pub token_hash: &'a str,
    pub member_id: Option<MemberId>,
    pub email_hash: &'a str,
    pub code_hash: Option<&'a str>,
    pub now: Micros,
    pub expires_at: Micros,
}

/// Ends every live sign-in asked for this address (or by this member), then
/// stores the new one: a newer email replaces every older link and code.
pub async fn replace_sign_in(tx: &mut sqlx::AnyConnection, new: &NewSignIn<'_>) -> Result<(), DbError> {
    sqlx::query(
        "update login_tokens set used_at = $3
         where purpose = $1 and used_at is null and (email_hash = $2 or member_id = $4)",
    )
    .bind(LoginPurpose::MemberSignIn.as_str())
    .bind(new.email_hash)
    .bind(new.now)
    .bind(new.member_id.map(|m| m.to_string()))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into login_tokens (id, token_hash, purpose, member_id, staff_id, created_at, expires_at, code_hash, email_hash)
         values ($1, $2, $3, $4, null, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(new.token_hash)
    .bind(LoginPurpose::MemberSignIn.as_str())
    .bind(new.member_id.map(|m| m.to_string()))
    .bind(new.now)
    .bind(new.expires_at)
    .bind(new.code_hash)
    .bind(new.email_hash)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// One try at the code of the live sign-in for an address, counted before the
/// code is compared (so no more than `max` comparisons ever happen, however
/// many arrive at once).
#[derive(Debug)]
pub struct CodeAttempt {
    pub id: String,
    pub token_hash: String,
    pub code_hash: Option<String>,
    pub member_id: Option<MemberId>,
    pub attempts: i64,
}

#[derive(FromRow)]
struct AttemptRow {
    id: String,
    token_hash: String,
    code_hash: Option<String>,
    member_id: Option<String>,
    code_attempts: i64,
}

/// Why no try was granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoAttempt {
    /// No live sign-in for the address (never asked, used, replaced or expired).
    NoneLive,
    /// The live one's code was tried `max` times already.
    Exhausted,
}

pub async fn claim_code_attempt(
    tx: &mut sqlx::AnyConnection,
    email_hash: &str,
    max: i64,
    now: Micros,
) -> Result<Result<CodeAttempt, NoAttempt>, DbError> {
    let row: Option<AttemptRow> = sqlx::query_as(
        "update login_tokens set code_attempts = code_attempts + 1
         where id = (select id from login_tokens
                     where email_hash = $1 and purpose = $2 and used_at is null and expires_at > $3
                     order by created_at desc limit 1)
           and code_attempts < $4 and used_at is null
         returning id, token_hash, code_hash, member_id, code_attempts",
    )
    .bind(email_hash)
    .bind(LoginPurpose::MemberSignIn.as_str())
    .bind(now)
    .bind(max)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(r) = row {
        return Ok(Ok(CodeAttempt {
            member_id: r.member_id.as_deref().map(|s| parse_stored("member id", s)).transpose()?,
            id: r.id,
            token_hash: r.token_hash,
            code_hash: r.code_hash,
            attempts: r.code_attempts,
        }));
    }
    let live: Option<(i64,)> = sqlx::query_as(
        "select code_attempts from login_tokens
         where email_hash = $1 and purpose = $2 and used_at is null and expires_at > $3
         order by created_at desc limit 1",
    )
    .bind(email_hash)
    .bind(LoginPurpose::MemberSignIn.as_str())
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(Err(if live.is_some() { NoAttempt::Exhausted } else { NoAttempt::NoneLive }))
}

/// Uses up a sign-in by its id (the right code was entered): the link dies too.
pub async fn consume_by_id<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str, now: Micros) -> Result<bool, DbError> {
    let done =
        sqlx::query("update login_tokens set used_at = $2 where id = $1 and used_at is null and expires_at > $2")
            .bind(id)
            .bind(now)
            .execute(ex)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_for_member<'e, E: Executor<'e, Database = Any>>(ex: E, member_id: MemberId) -> Result<(), DbError> {
    sqlx::query("delete from login_tokens where member_id = $1").bind(member_id.to_string()).execute(ex).await?;
    Ok(())
}

/// Removes tokens that expired before `before`.
pub async fn delete_expired<'e, E: Executor<'e, Database = Any>>(ex: E, before: Micros) -> Result<u64, DbError> {
    let done = sqlx::query("delete from login_tokens where expires_at < $1").bind(before).execute(ex).await?;
    Ok(done.rows_affected())
}
