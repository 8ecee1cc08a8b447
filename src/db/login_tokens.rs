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

pub async fn delete_for_member<'e, E: Executor<'e, Database = Any>>(ex: E, member_id: MemberId) -> Result<(), DbError> {
    sqlx::query("delete from login_tokens where member_id = $1").bind(member_id.to_string()).execute(ex).await?;
    Ok(())
}

/// Removes tokens that expired before `before`.
pub async fn delete_expired<'e, E: Executor<'e, Database = Any>>(ex: E, before: Micros) -> Result<u64, DbError> {
    let done = sqlx::query("delete from login_tokens where expires_at < $1").bind(before).execute(ex).await?;
    Ok(done.rows_affected())
}
