use sqlx::{Any, Executor, FromRow};

use super::DbError;
use super::members::MemberRow;
use crate::clock::Micros;
use crate::domain::{Member, MemberId, StaffId, StaffUser};

/// Whose session it is.
#[derive(Clone, Copy, Debug)]
pub enum Owner {
    Member(MemberId),
    Staff(StaffId),
}

#[derive(Clone, Debug)]
pub struct Session {
    /// SHA-256 (hex) of the cookie value.
    pub id: String,
    pub created_at: Micros,
    pub last_seen_at: Micros,
    pub idle_expires_at: Micros,
    pub expires_at: Micros,
    pub user_agent: Option<String>,
}

#[derive(FromRow)]
struct SessionRow {
    id: String,
    created_at: i64,
    last_seen_at: i64,
    idle_expires_at: i64,
    expires_at: i64,
    user_agent: Option<String>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: r.id,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            idle_expires_at: r.idle_expires_at,
            expires_at: r.expires_at,
            user_agent: r.user_agent,
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id_hash: &str,
    owner: Owner,
    now: Micros,
    idle_expires_at: Micros,
    expires_at: Micros,
    user_agent: Option<&str>,
) -> Result<(), DbError> {
    let (member_id, staff_id) = match owner {
        Owner::Member(id) => (Some(id.to_string()), None),
        Owner::Staff(id) => (None, Some(id.to_string())),
    };
    sqlx::query(
        "insert into sessions (id, member_id, staff_id, created_at, last_seen_at, idle_expires_at, expires_at, user_agent)
         values ($1, $2, $3, $4, $4, $5, $6, $7)",
    )
    .bind(id_hash)
    .bind(member_id)
    .bind(staff_id)
    .bind(now)
    .bind(idle_expires_at)
    .bind(expires_at)
    .bind(user_agent)
    .execute(ex)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct MemberSessionRow {
    s_id: String,
    s_created_at: i64,
    s_last_seen_at: i64,
    s_idle_expires_at: i64,
    s_expires_at: i64,
    s_user_agent: Option<String>,
    #[sqlx(flatten)]
    member: MemberRow,
}

/// A live member session and its (not deleted) member, in one round trip.
pub async fn find_member_session<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id_hash: &str,
    now: Micros,
) -> Result<Option<(Session, Member)>, DbError> {
    let row: Option<MemberSessionRow> = sqlx::query_as(
        "select s.id as s_id, s.created_at as s_created_at, s.last_seen_at as s_last_seen_at,
                s.idle_expires_at as s_idle_expires_at, s.expires_at as s_expires_at, s.user_agent as s_user_agent,
                m.id, m.email, m.name, m.public_name, m.locale, m.comped_until, m.created_at, m.last_sign_in_at, m.deleted_at
         from sessions s join members m on m.id = s.member_id
         where s.id = $1 and s.expires_at > $2 and s.idle_expires_at > $2 and m.deleted_at is null",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(ex)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let session = Session {
        id: r.s_id,
        created_at: r.s_created_at,
        last_seen_at: r.s_last_seen_at,
        idle_expires_at: r.s_idle_expires_at,
        expires_at: r.s_expires_at,
        user_agent: r.s_user_agent,
    };
    Ok(Some((session, Member::try_from(r.member)?)))
}

#[derive(FromRow)]
struct StaffSessionRow {
    s_idle_expires_at: i64,
    s_last_seen_at: i64,
    #[sqlx(flatten)]
    user: super::staff::StaffRow,
}

/// A live staff session's owner (who must not be disabled), with the session's
/// last-seen and idle-expiry times, in one round trip.
pub async fn find_staff_session<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id_hash: &str,
    now: Micros,
) -> Result<Option<(StaffUser, Micros, Micros)>, DbError> {
    let row: Option<StaffSessionRow> = sqlx::query_as(
        "select s.idle_expires_at as s_idle_expires_at, s.last_seen_at as s_last_seen_at,
                u.id, u.email, u.role, u.password_hash, u.created_at, u.last_sign_in_at, u.disabled_at
         from sessions s join staff_users u on u.id = s.staff_id
         where s.id = $1 and s.expires_at > $2 and s.idle_expires_at > $2 and u.disabled_at is null",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(ex)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some((StaffUser::try_from(r.user)?, r.s_last_seen_at, r.s_idle_expires_at)))
}

/// Slides the idle expiry forward (never past the absolute expiry).
pub async fn touch<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id_hash: &str,
    now: Micros,
    idle_expires_at: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "update sessions set last_seen_at = $2,
             idle_expires_at = case when $3 < expires_at then $3 else expires_at end
         where id = $1",
    )
    .bind(id_hash)
    .bind(now)
    .bind(idle_expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn delete<'e, E: Executor<'e, Database = Any>>(ex: E, id_hash: &str) -> Result<(), DbError> {
    sqlx::query("delete from sessions where id = $1").bind(id_hash).execute(ex).await?;
    Ok(())
}

pub async fn delete_for_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member_id: MemberId,
) -> Result<u64, DbError> {
    let done = sqlx::query("delete from sessions where member_id = $1").bind(member_id.to_string()).execute(ex).await?;
    Ok(done.rows_affected())
}

/// Ends one of a member's sessions (by the SHA-256 of its cookie); true when it existed.
pub async fn delete_member_session<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member_id: MemberId,
    id_hash: &str,
) -> Result<bool, DbError> {
    let done = sqlx::query("delete from sessions where id = $1 and member_id = $2")
        .bind(id_hash)
        .bind(member_id.to_string())
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_for_staff<'e, E: Executor<'e, Database = Any>>(ex: E, staff_id: StaffId) -> Result<u64, DbError> {
    let done = sqlx::query("delete from sessions where staff_id = $1").bind(staff_id.to_string()).execute(ex).await?;
    Ok(done.rows_affected())
}

pub async fn list_for_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member_id: MemberId,
) -> Result<Vec<Session>, DbError> {
    let rows: Vec<SessionRow> = sqlx::query_as(
        "select id, created_at, last_seen_at, idle_expires_at, expires_at, user_agent
         from sessions where member_id = $1 order by created_at",
    )
    .bind(member_id.to_string())
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(Session::from).collect())
}

pub async fn delete_expired<'e, E: Executor<'e, Database = Any>>(ex: E, now: Micros) -> Result<u64, DbError> {
    let done = sqlx::query("delete from sessions where expires_at <= $1 or idle_expires_at <= $1")
        .bind(now)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}
