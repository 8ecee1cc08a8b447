//! Staff notes about a member (migration 0009). Only staff read them; the
//! audit log keeps who wrote or changed what.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{MemberId, StaffId};

#[derive(Clone, Debug)]
pub struct Note {
    pub id: String,
    pub member_id: MemberId,
    pub body: String,
    pub created_by_email: Option<String>,
    pub created_at: Micros,
    pub updated_by_email: Option<String>,
    pub updated_at: Option<Micros>,
}

#[derive(FromRow)]
struct NoteRow {
    id: String,
    member_id: String,
    body: String,
    created_by_email: Option<String>,
    created_at: i64,
    updated_by_email: Option<String>,
    updated_at: Option<i64>,
}

impl TryFrom<NoteRow> for Note {
    type Error = DbError;
    fn try_from(r: NoteRow) -> Result<Self, DbError> {
        Ok(Note {
            id: r.id,
            member_id: parse_stored("member id", &r.member_id)?,
            body: r.body,
            created_by_email: r.created_by_email,
            created_at: r.created_at,
            updated_by_email: r.updated_by_email,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, member_id, body, created_by_email, created_at, updated_by_email, updated_at";

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    member: MemberId,
    body: &str,
    by: (Option<StaffId>, Option<&str>),
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into member_notes (id, member_id, body, created_by, created_by_email, created_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(member.to_string())
    .bind(body)
    .bind(by.0.map(|s| s.to_string()))
    .bind(by.1)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Replaces a note's text; `NotFound` unless the note is the member's.
pub async fn update<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    member: MemberId,
    body: &str,
    by_email: Option<&str>,
    now: Micros,
) -> Result<(), DbError> {
    let done = sqlx::query(
        "update member_notes set body = $3, updated_by_email = $4, updated_at = $5 where id = $1 and member_id = $2",
    )
    .bind(id)
    .bind(member.to_string())
    .bind(body)
    .bind(by_email)
    .bind(now)
    .execute(ex)
    .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str) -> Result<Option<Note>, DbError> {
    let row: Option<NoteRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from member_notes where id = $1")))
            .bind(id)
            .fetch_optional(ex)
            .await?;
    row.map(Note::try_from).transpose()
}

/// A member's notes, newest first.
pub async fn list_for_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Vec<Note>, DbError> {
    let rows: Vec<NoteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from member_notes where member_id = $1 order by created_at desc, id desc"
    )))
    .bind(member.to_string())
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(Note::try_from).collect()
}
