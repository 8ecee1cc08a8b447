//! Staff accounts.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{Email, Role, StaffId, StaffUser};

#[derive(FromRow)]
pub(super) struct StaffRow {
    id: String,
    email: String,
    role: String,
    password_hash: Option<String>,
    created_at: i64,
    last_sign_in_at: Option<i64>,
    disabled_at: Option<i64>,
}

impl TryFrom<StaffRow> for StaffUser {
    type Error = DbError;
    fn try_from(r: StaffRow) -> Result<Self, DbError> {
        Ok(StaffUser {
            id: parse_stored("staff id", &r.id)?,
            email: Email::parse(&r.email).map_err(|_| DbError::other("stored staff email cannot be read"))?,
            role: parse_stored("staff role", &r.role)?,
            password_hash: r.password_hash,
            created_at: r.created_at,
            last_sign_in_at: r.last_sign_in_at,
            disabled_at: r.disabled_at,
        })
    }
}

const SELECT: &str = "select id, email, role, password_hash, created_at, last_sign_in_at, disabled_at from staff_users";

/// Inserts a staff user; fails with a conflict on `staff_users_email_key`.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: StaffId,
    email: &Email,
    role: Role,
    password_hash: Option<&str>,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query("insert into staff_users (id, email, role, password_hash, created_at) values ($1, $2, $3, $4, $5)")
        .bind(id.to_string())
        .bind(email.as_str())
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn find_by_email<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    email: &Email,
) -> Result<Option<StaffUser>, DbError> {
    let row: Option<StaffRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} where email = $1")))
        .bind(email.as_str())
        .fetch_optional(ex)
        .await?;
    row.map(StaffUser::try_from).transpose()
}

pub async fn find_by_id<'e, E: Executor<'e, Database = Any>>(ex: E, id: StaffId) -> Result<Option<StaffUser>, DbError> {
    let row: Option<StaffRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} where id = $1")))
        .bind(id.to_string())
        .fetch_optional(ex)
        .await?;
    row.map(StaffUser::try_from).transpose()
}

pub async fn list<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<StaffUser>, DbError> {
    let rows: Vec<StaffRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} order by created_at"))).fetch_all(ex).await?;
    rows.into_iter().map(StaffUser::try_from).collect()
}

pub async fn count<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from staff_users").fetch_one(ex).await?;
    Ok(n)
}

pub async fn count_active_admins<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from staff_users where role = 'admin' and disabled_at is null")
        .fetch_one(ex)
        .await?;
    Ok(n)
}

pub async fn set_password_hash<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: StaffId,
    hash: &str,
) -> Result<(), DbError> {
    sqlx::query("update staff_users set password_hash = $2 where id = $1")
        .bind(id.to_string())
        .bind(hash)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn set_role<'e, E: Executor<'e, Database = Any>>(ex: E, id: StaffId, role: Role) -> Result<(), DbError> {
    let done = sqlx::query("update staff_users set role = $2 where id = $1")
        .bind(id.to_string())
        .bind(role.as_str())
        .execute(ex)
        .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// `Some(now)` disables the account, `None` enables it again.
pub async fn set_disabled<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: StaffId,
    at: Option<Micros>,
) -> Result<(), DbError> {
    let done = sqlx::query("update staff_users set disabled_at = $2 where id = $1")
        .bind(id.to_string())
        .bind(at)
        .execute(ex)
        .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

pub async fn touch_sign_in<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: StaffId,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query("update staff_users set last_sign_in_at = $2 where id = $1")
        .bind(id.to_string())
        .bind(now)
        .execute(ex)
        .await?;
    Ok(())
}
