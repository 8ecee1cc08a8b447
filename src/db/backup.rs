//! Whole-database copies (`services::backup`): the one list of the tables the
//! newsroom's data lives in ([`TABLES`]), what a database's catalog says it has,
//! reading every row of a table and writing rows back, and SQLite's online copy.
//!
//! Tables and columns come from the catalog (SQLite's `pragma_table_list` and
//! `pragma_table_info`, PostgreSQL's `information_schema`), never from the rows:
//! a value is read and bound as its column's declared type, so a NULL in a BIGINT
//! column stays a typed NULL on PostgreSQL, and text stays text.
use std::path::Path;

use futures_util::TryStreamExt as _;
use sqlx::{Any, AnyConnection, AssertSqlSafe, Connection, Row as _, Transaction};

use super::{Backend, Db, DbError};

/// What an export does with a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Every row goes into the file and comes back on import.
    Rows,
    /// Left out (why); import empties it, so nothing in it outlives a replaced database.
    Skip(&'static str),
    /// Left out and left alone (why): kept by triggers from the rows of other
    /// tables, so emptying and importing those keeps it right.
    Derived(&'static str),
}

/// A table of the current schema.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    pub name: &'static str,
    pub keep: Keep,
    /// A new database has rows here (from the migrations, or from the first start):
    /// they do not make a database "not empty", and an import replaces them.
    pub seeded: bool,
    /// `(column, key)`: a column that refers to another row of the same table by
    /// `key`. Rows are written with it empty, and it is filled in once every row is in.
    pub self_ref: Option<(&'static str, &'static str)>,
}

const fn rows(name: &'static str) -> Table {
    Table { name, keep: Keep::Rows, seeded: false, self_ref: None }
}

const fn seeded(name: &'static str) -> Table {
    Table { name, keep: Keep::Rows, seeded: true, self_ref: None }
}

const fn skip(name: &'static str, why: &'static str) -> Table {
    Table { name, keep: Keep::Skip(why), seeded: false, self_ref: None }
}

const SIGN_IN: &str = "sign-in credentials (session and link hashes): members and staff sign in again";
const COUNTERS: &str = "rate-limit counters of the last minutes";
const fn derived(name: &'static str, why: &'static str) -> Table {
    Table { name, keep: Keep::Derived(why), seeded: false, self_ref: None }
}

const STANDING: &str = "members per standing, kept by triggers as the members are written";
const DONORS: &str = "donor counts, kept by triggers as donor_monthly is written";

/// Every table of the schema, each named once, in an order that writes a row
/// after the rows it refers to (an import goes down the list, emptying goes up it).
/// A migration that adds a table adds it here: `tests/api/backup.rs` compares this
/// list with the catalog of a freshly migrated database.
pub const TABLES: &[Table] = &[
    seeded("settings"),
    rows("sources"),
    rows("members"),
    rows("staff_users"),
    skip("sessions", SIGN_IN),
    skip("login_tokens", SIGN_IN),
    skip("rate_limits", COUNTERS),
    rows("email_outbox"),
    rows("audit_log"),
    seeded("tiers"),
    seeded("tier_prices"),
    rows("offers"),
    rows("subscriptions"),
    rows("offer_redemptions"),
    rows("payments"),
    rows("mrr_movements"),
    rows("tier_changes"),
    rows("cancel_reasons"),
    rows("gift_memberships"),
    rows("stripe_events"),
    rows("stripe_deleted_customers"),
    rows("payment_cards"),
    Table { self_ref: Some(("merged_into", "id")), ..rows("topics") },
    rows("topic_events"),
    rows("topic_articles"),
    rows("topic_followers"),
    rows("topic_goals"),
    rows("rounds"),
    rows("round_topics"),
    rows("ballots"),
    rows("votes"),
    rows("member_notes"),
    rows("corrections"),
    rows("transparency_notes"),
    rows("updates"),
    rows("anniversary_emails"),
    derived("standing_counts", STANDING),
    rows("translations"),
    // The reports' aggregates, kept in the same transactions as the ledger: a
    // snapshot holds them consistent with it, so they are copied, not rebuilt.
    seeded("report_months"),
    rows("ledger_monthly"),
    rows("mrr_monthly"),
    rows("dunning_events"),
    rows("donor_monthly"),
    derived("donor_month_counts", DONORS),
    derived("donor_totals", DONORS),
    derived("donor_counts", DONORS),
    rows("donation_amounts_monthly"),
    rows("cohort_monthly"),
    rows("source_monthly"),
    rows("source_members_monthly"),
    rows("topic_vote_figures"),
];

pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// How a column's values are stored (the schema uses only these two: STACK.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Integer,
    Text,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// One stored value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Integer(i64),
    Text(String),
}

/// The last migration applied to this database (0 when none is).
pub async fn schema_version(conn: &mut AnyConnection) -> Result<i64, DbError> {
    let (v,): (Option<i64>,) = sqlx::query_as("select max(version) from _sqlx_migrations where success = $1")
        .bind(true)
        .fetch_one(&mut *conn)
        .await?;
    Ok(v.unwrap_or(0))
}

/// The base tables of the database, sorted: without sqlx's bookkeeping, SQLite's
/// own tables, and the full-text index's (virtual and shadow tables: derived).
pub async fn catalog_tables(conn: &mut AnyConnection, backend: Backend) -> Result<Vec<String>, DbError> {
    let sql = match backend {
        Backend::Sqlite => {
            "select name from pragma_table_list where schema = 'main' and type = 'table'
             and name not like 'sqlite\\_%' escape '\\' and name <> '_sqlx_migrations' order by name"
        }
        Backend::Postgres => {
            "select cast(table_name as text) from information_schema.tables
             where table_schema = current_schema() and table_type = 'BASE TABLE'
             and table_name <> '_sqlx_migrations' order by 1"
        }
    };
    let names: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&mut *conn).await?;
    Ok(names.into_iter().map(|(n,)| n).collect())
}

/// A table's columns in the catalog's order; an error for a type this module does not handle.
pub async fn columns(conn: &mut AnyConnection, backend: Backend, table: &str) -> Result<Vec<Column>, DbError> {
    let sql = match backend {
        Backend::Sqlite => "select name, type from pragma_table_info($1) order by cid",
        Backend::Postgres => {
            "select cast(column_name as text), cast(data_type as text) from information_schema.columns
             where table_schema = current_schema() and table_name = $1 order by ordinal_position"
        }
    };
    let found: Vec<(String, String)> = sqlx::query_as(sql).bind(table).fetch_all(&mut *conn).await?;
    if found.is_empty() {
        return Err(DbError::other(format!("the database has no table {table}")));
    }
    found
        .into_iter()
        .map(|(name, declared)| {
            let lower = declared.to_ascii_lowercase();
            let kind = if lower.contains("int") {
                Kind::Integer
            } else if lower.contains("text") || lower.contains("char") || lower.contains("clob") {
                Kind::Text
            } else {
                return Err(DbError::other(format!(
                    "column {table}.{name} has type {declared:?}, which export and import do not handle"
                )));
            };
            check_name(&name)?;
            Ok(Column { name, kind })
        })
        .collect()
}

/// Names go into SQL text (quoted): only the characters our schema uses.
fn check_name(name: &str) -> Result<(), DbError> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        Ok(())
    } else {
        Err(DbError::other(format!("unexpected name {name:?} in the catalog")))
    }
}

fn column_list(columns: &[Column]) -> String {
    columns.iter().map(|c| format!("\"{}\"", c.name)).collect::<Vec<_>>().join(", ")
}

/// Rows in `table` (0 or more).
pub async fn count(conn: &mut AnyConnection, table: &str) -> Result<i64, DbError> {
    check_name(table)?;
    let (n,): (i64,) =
        sqlx::query_as(AssertSqlSafe(format!("select count(*) from \"{table}\""))).fetch_one(&mut *conn).await?;
    Ok(n)
}

/// True when `table` has at least one row.
pub async fn has_rows(conn: &mut AnyConnection, table: &str) -> Result<bool, DbError> {
    check_name(table)?;
    let (n,): (i64,) =
        sqlx::query_as(AssertSqlSafe(format!("select count(*) from (select 1 from \"{table}\" limit 1) as any_row")))
            .fetch_one(&mut *conn)
            .await?;
    Ok(n > 0)
}

/// True when `table` holds rows a newsroom wrote: beyond what every database
/// starts with, which for `translations` is the seeded tiers' texts in the
/// other language (`services::tiers::localise_seeded`).
pub async fn has_newsroom_rows(conn: &mut AnyConnection, table: &str) -> Result<bool, DbError> {
    if table != "translations" {
        return has_rows(conn, table).await;
    }
    let [a, b, c] = crate::domain::tier::SEEDED_TIERS.map(|t| t.id);
    let (n,): (i64,) = sqlx::query_as(
        "select count(*) from (select 1 from translations
             where not (kind = 'tier' and item_id in ($1, $2, $3)) limit 1) as any_row",
    )
    .bind(a)
    .bind(b)
    .bind(c)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

/// PostgreSQL: the tables whose triggers keep the derived tables (and the
/// members' standing columns). An import turns them off while it writes: in its
/// one transaction the same few counter rows would be updated hundreds of
/// thousands of times, and each update of a row this transaction already
/// updated walks the chain of its versions, so the cost grows with the square of
/// the rows (a 1,000,000-row import crawled at a second per 500 donor rows).
/// The members' standing columns arrive in the rows themselves; the derived
/// tables are rebuilt afterwards by [`rebuild_derived`].
const PG_TRIGGERED_TABLES: [&str; 4] = ["subscriptions", "members", "donor_monthly", "donor_totals"];

/// Turns the triggers of [`PG_TRIGGERED_TABLES`] off or on (PostgreSQL; inside
/// the caller's transaction, which holds those tables locked until it ends).
pub async fn set_pg_triggers(conn: &mut AnyConnection, enabled: bool) -> Result<(), DbError> {
    let verb = if enabled { "enable" } else { "disable" };
    for table in PG_TRIGGERED_TABLES {
        sqlx::query(AssertSqlSafe(format!("alter table \"{table}\" {verb} trigger user"))).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Every derived table rebuilt from the rows it is derived from, as the
/// migrations that made them first filled them (PostgreSQL import).
const PG_REBUILD: [&str; 9] = [
    "delete from standing_counts",
    "insert into standing_counts (sub_rank, paying, deleted, members)
     select r.sub_rank, p.paying, d.deleted, coalesce(c.n, 0)
     from (values (0), (1), (2), (3)) r (sub_rank) cross join (values (0), (1)) p (paying)
         cross join (values (0), (1)) d (deleted)
     left join (select sub_rank, case when sub_mrr_minor > 0 then 1 else 0 end as paying,
                    case when deleted_at is null then 0 else 1 end as deleted, count(*) as n
                from members group by 1, 2, 3) c
         on c.sub_rank = r.sub_rank and c.paying = p.paying and c.deleted = d.deleted",
    "delete from donor_month_counts",
    "insert into donor_month_counts (month, currency, donors, gifts)
     select month, currency, count(*), sum(gifts) from donor_monthly group by month, currency",
    "delete from donor_totals",
    "insert into donor_totals (currency, donor, months, gifts)
     select currency, donor, count(*), sum(gifts) from donor_monthly group by currency, donor",
    "delete from donor_counts",
    "insert into donor_counts (currency, donors, repeat_donors, gifts)
     select currency, count(*), sum(case when gifts > 1 then 1 else 0 end), sum(gifts) from donor_totals
     group by currency",
    "analyze",
];

/// Rebuilds the derived tables after an import wrote with the triggers off.
pub async fn rebuild_derived(conn: &mut AnyConnection) -> Result<(), DbError> {
    for sql in PG_REBUILD {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

impl Db {
    /// A read-only transaction that sees one point in time while others write:
    /// SQLite's WAL snapshot from its first read, PostgreSQL's repeatable read.
    pub async fn snapshot(&self) -> Result<Transaction<'static, Any>, DbError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin().await?,
            Backend::Postgres => self.pool.begin_with("begin isolation level repeatable read read only").await?,
        })
    }

    /// SQLite only: a consistent copy of the whole database, taken while others
    /// read and write (`VACUUM INTO`, one read transaction), to a new file at `path`.
    pub async fn vacuum_into(&self, path: &Path) -> Result<(), DbError> {
        if self.backend != Backend::Sqlite {
            return Err(DbError::other("VACUUM INTO is SQLite's"));
        }
        let path = path.to_str().ok_or_else(|| DbError::other("the backup path is not valid UTF-8"))?;
        sqlx::query("vacuum into $1").bind(path).execute(&self.pool).await?;
        Ok(())
    }
}

/// Calls `each` with every row of `table` (values in the order of `columns`),
/// streamed; returns how many there were.
pub async fn read_rows<E: From<DbError>>(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[Column],
    mut each: impl FnMut(Vec<Value>) -> Result<(), E>,
) -> Result<u64, E> {
    check_name(table).map_err(E::from)?;
    let sql = format!("select {} from \"{table}\"", column_list(columns));
    let mut stream = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *conn);
    let mut n = 0u64;
    while let Some(row) = stream.try_next().await.map_err(|e| E::from(e.into()))? {
        let mut values = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            let read = match c.kind {
                Kind::Integer => row.try_get::<Option<i64>, _>(i).map(|v| v.map_or(Value::Null, Value::Integer)),
                Kind::Text => row.try_get::<Option<String>, _>(i).map(|v| v.map_or(Value::Null, Value::Text)),
            };
            let value = read.map_err(|e| E::from(DbError::other(format!("{table}.{}: {e}", c.name))))?;
            values.push(value);
        }
        each(values)?;
        n += 1;
    }
    Ok(n)
}

/// How many rows one INSERT carries: SQLite takes up to 32,766 parameters, PostgreSQL 65,535.
pub fn rows_per_insert(columns: usize) -> usize {
    (4000 / columns.max(1)).clamp(1, 500)
}

/// Inserts `rows` (each in the order of `columns`) into `table` in one statement.
pub async fn insert_rows(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[Column],
    rows: &[Vec<Value>],
) -> Result<(), DbError> {
    check_name(table)?;
    if rows.is_empty() {
        return Ok(());
    }
    let width = columns.len();
    let mut sql = format!("insert into \"{table}\" ({}) values ", column_list(columns));
    for r in 0..rows.len() {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * width + c + 1));
        }
        sql.push(')');
    }
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for row in rows {
        if row.len() != width {
            return Err(DbError::other(format!("a row for {table} has {} values for {width} columns", row.len())));
        }
        for (value, column) in row.iter().zip(columns) {
            query = match (value, column.kind) {
                (Value::Null, Kind::Integer) => query.bind(None::<i64>),
                (Value::Null, Kind::Text) => query.bind(None::<String>),
                (Value::Integer(i), Kind::Integer) => query.bind(*i),
                (Value::Text(s), Kind::Text) => query.bind(s.clone()),
                (v, kind) => {
                    return Err(DbError::other(format!(
                        "{table}.{}: {v:?} does not fit a {kind:?} column",
                        column.name
                    )));
                }
            };
        }
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Sets `column` of the row whose `key` is `id` (a reference within the table).
pub async fn set_self_ref(
    conn: &mut AnyConnection,
    table: &str,
    (column, key): (&str, &str),
    id: &str,
    value: &str,
) -> Result<(), DbError> {
    for name in [table, column, key] {
        check_name(name)?;
    }
    let done = sqlx::query(AssertSqlSafe(format!("update \"{table}\" set \"{column}\" = $1 where \"{key}\" = $2")))
        .bind(value)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() != 1 {
        return Err(DbError::other(format!("{table}: no row with {key} = {id:?}")));
    }
    Ok(())
}

/// SQLite: this connection's page cache, in KiB.
pub async fn set_sqlite_cache_kib(conn: &mut AnyConnection, kib: i64) -> Result<(), DbError> {
    sqlx::query(AssertSqlSafe(format!("pragma cache_size = -{}", kib.max(0)))).execute(&mut *conn).await?;
    Ok(())
}

pub async fn delete_all(conn: &mut AnyConnection, table: &str) -> Result<(), DbError> {
    check_name(table)?;
    sqlx::query(AssertSqlSafe(format!("delete from \"{table}\""))).execute(&mut *conn).await?;
    Ok(())
}

/// What a SQLite database file holds, read without changing it.
#[derive(Debug)]
pub struct SqliteFile {
    /// `pragma integrity_check`: "ok", or the first problems it found.
    pub integrity: String,
    /// `None` when it has no migrations table (not a Patronage database).
    pub schema_version: Option<i64>,
}

/// Opens `path` read-only and checks it.
pub async fn inspect_sqlite_file(path: &Path) -> Result<SqliteFile, DbError> {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await?;
    let rows: Vec<(String,)> = sqlx::query_as("pragma integrity_check(10)").fetch_all(&mut conn).await?;
    let integrity = rows.into_iter().map(|(r,)| r).collect::<Vec<_>>().join("; ");
    let (has,): (i64,) =
        sqlx::query_as("select count(*) from sqlite_master where type = 'table' and name = '_sqlx_migrations'")
            .fetch_one(&mut conn)
            .await?;
    let schema_version = if has == 1 { Some(schema_version(&mut conn).await?) } else { None };
    let _ = conn.close().await;
    Ok(SqliteFile { integrity, schema_version })
}

/// True when another connection (any process) has the SQLite database at `path`
/// open: in WAL mode an exclusive lock is granted only to the sole connection.
/// When free, closing this connection as the last one checkpoints the log into
/// the file, so the file alone then holds every commit.
pub async fn sqlite_in_use(path: &Path) -> Result<bool, DbError> {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(&format!("sqlite://{}?mode=rw", path.display())).await?;
    sqlx::query("pragma busy_timeout = 0").execute(&mut conn).await?;
    sqlx::query("pragma locking_mode = exclusive").execute(&mut conn).await?;
    let taken = sqlx::query("begin exclusive").execute(&mut conn).await;
    let in_use = match taken {
        Ok(_) => {
            sqlx::query("rollback").execute(&mut conn).await?;
            false
        }
        Err(sqlx::Error::Database(e)) if e.message().contains("locked") || e.message().contains("busy") => true,
        Err(e) => return Err(e.into()),
    };
    conn.close().await?;
    Ok(in_use)
}
