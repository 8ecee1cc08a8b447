//! Copies of the whole newsroom (README, "Backups, moving and upgrading"):
//! - **backup / restore** (SQLite): a consistent copy of the database file taken
//!   while the site serves (`VACUUM INTO`), checked before it is kept; restoring
//!   puts one back in place of a database nobody has open, keeping the old file.
//!   PostgreSQL has `pg_dump` / `pg_restore` for this.
//! - **export / import** (either backend, either way): every row of every table
//!   in [`db::backup::TABLES`] as JSON lines, for moving between SQLite and
//!   PostgreSQL. One snapshot is read; one transaction writes, so a failed import
//!   leaves nothing.
//!
//! The export format, version 1 (UTF-8, one JSON object per line):
//! 1. a header: `{"patronage_export":1,"schema_version":13,"backend":"sqlite",
//!    "patronage_version":"0.1.0","exported_at":"…","tables":[…]}` (the last migration
//!    applied to the database it came from, and the tables that follow, in order);
//! 2. one line per row: `{"table":"members","row":{"created_at":…,"email":"…",…}}`,
//!    columns by name, values as stored: integers as JSON integers (every BIGINT
//!    exactly), text as JSON strings, NULL as null;
//! 3. a trailer with every table's row count, `{"end":{"rows":{"members":2000,…}}}`:
//!    a file cut short has none and is refused.
use std::io::{BufRead, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::db::backup::{self as store, Column, Keep, Value};
use crate::db::{Backend, Db, DbError};

/// The format's version (the header's `patronage_export`).
pub const FORMAT_VERSION: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Refused before anything changed, with what to do instead.
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The export file is not one import can read; nothing was stored.
    #[error("{path}, line {line}: {why}; nothing was imported")]
    BadFile { path: PathBuf, line: u64, why: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.to_path_buf(), source }
}

const PG_BACKUP: &str = "on PostgreSQL, back up with pg_dump and restore with pg_restore (README, \"Backups, moving and upgrading\"): \
     pg_dump --format=custom --file=FILE \"$DATABASE_URL\"";

/// What [`backup`] wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub schema_version: i64,
}

/// Copies the SQLite database to a new file at `to`, while others keep reading and
/// writing: written under a temporary name, synced, checked (`integrity_check`),
/// and only then given its name. An existing file is never overwritten.
pub async fn backup(db: &Db, to: &Path) -> Result<BackupReport, BackupError> {
    if db.backend() != Backend::Sqlite {
        return Err(BackupError::Refused(format!("patronage backup copies SQLite databases; {PG_BACKUP}")));
    }
    if to.exists() {
        return Err(BackupError::Refused(format!(
            "{} already exists: a backup never overwrites a file; choose a new name",
            to.display()
        )));
    }
    let partial = with_suffix(to, ".partial");
    // Left by a backup that was stopped half-way: ours, and never given its name.
    let _ = std::fs::remove_file(&partial);
    db.vacuum_into(&partial).await?;
    let kept = async {
        // Like an export, it holds members' addresses, password hashes and the secret key.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o600)).map_err(io(&partial))?;
        }
        sync_file(&partial)?;
        let file = store::inspect_sqlite_file(&partial).await?;
        if file.integrity != "ok" {
            return Err(BackupError::Refused(format!("the copy failed its integrity check: {}", file.integrity)));
        }
        // A hard link gives the name only if nothing has it yet (no overwrite, even in a race).
        std::fs::hard_link(&partial, to).map_err(io(to))?;
        sync_dir(to)?;
        let bytes = std::fs::metadata(to).map_err(io(to))?.len();
        Ok(BackupReport { path: to.to_path_buf(), bytes, schema_version: file.schema_version.unwrap_or(0) })
    }
    .await;
    let _ = std::fs::remove_file(&partial);
    kept
}

/// What [`restore`] did.
#[derive(Debug)]
pub struct RestoreReport {
    pub path: PathBuf,
    /// Where the database it replaced was kept, if there was one.
    pub kept: Option<PathBuf>,
    pub schema_version: i64,
}

/// Puts the SQLite backup `from` in place of the database `database_url` names.
/// Refused when the backup is damaged, is not a Patronage database, comes from a
/// newer Patronage than `latest_migration`, or when the database is open in a
/// running process (stop it first; `force` restores anyway). The database it
/// replaces is kept beside it, renamed `…before-restore-<unix seconds>`.
pub async fn restore(
    database_url: &str,
    from: &Path,
    force: bool,
    latest_migration: i64,
    now_secs: i64,
) -> Result<RestoreReport, BackupError> {
    let Some(target) = crate::db::sqlite_path(database_url) else {
        return Err(BackupError::Refused(format!(
            "patronage restore puts back SQLite backups; {PG_BACKUP}, then pg_restore --clean --if-exists --no-owner --dbname=\"$DATABASE_URL\" FILE"
        )));
    };
    if !from.is_file() {
        return Err(BackupError::Refused(format!("{}: no such backup file", from.display())));
    }
    let file = store::inspect_sqlite_file(from)
        .await
        .map_err(|e| BackupError::Refused(format!("{} is not a readable SQLite database: {e}", from.display())))?;
    if file.integrity != "ok" {
        return Err(BackupError::Refused(format!(
            "{} failed its integrity check ({}): not restored",
            from.display(),
            file.integrity
        )));
    }
    let Some(version) = file.schema_version else {
        return Err(BackupError::Refused(format!(
            "{} is not a Patronage database (no migrations table)",
            from.display()
        )));
    };
    if version > latest_migration {
        return Err(BackupError::Refused(format!(
            "{} comes from a newer Patronage (schema {version}; this one knows up to {latest_migration}): restore it with that release",
            from.display()
        )));
    }
    let mut kept = None;
    if target.exists() {
        if store::sqlite_in_use(&target).await? {
            if !force {
                return Err(BackupError::Refused(format!(
                    "{} is in use (a running Patronage, or another program, has it open): stop it, restore, then start it \
                     (README, \"Backups, moving and upgrading\"); --force restores anyway, and what the running process \
                     writes afterwards is lost",
                    target.display()
                )));
            }
            tracing::warn!(db.path = %target.display(), "restoring over a database that is in use (--force)");
        }
        // The database file with its log (if a process still has one open), renamed together.
        let aside = with_suffix(&target, &format!(".before-restore-{now_secs}"));
        for suffix in ["-wal", "-shm"] {
            let log = with_suffix(&target, suffix);
            if log.exists() {
                std::fs::rename(&log, with_suffix(&aside, suffix)).map_err(io(&log))?;
            }
        }
        std::fs::rename(&target, &aside).map_err(io(&target))?;
        kept = Some(aside);
    } else if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let incoming = with_suffix(&target, ".restoring");
    std::fs::copy(from, &incoming).map_err(io(&incoming))?;
    sync_file(&incoming)?;
    std::fs::rename(&incoming, &target).map_err(io(&target))?;
    sync_dir(&target)?;
    Ok(RestoreReport { path: target, kept, schema_version: version })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn sync_file(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(io(path))
}

/// Makes a new name in the directory durable.
fn sync_dir(path: &Path) -> Result<(), BackupError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::File::open(dir).and_then(|f| f.sync_all()).map_err(io(dir))
}

/// What [`export`] wrote.
#[derive(Debug)]
pub struct ExportReport {
    pub path: PathBuf,
    pub schema_version: i64,
    pub tables: usize,
    pub rows: u64,
}

/// Writes every row of every exported table, read in one snapshot (the site may
/// keep serving), to a new file at `to` (mode 0600: it holds members' addresses,
/// staff password hashes and the secret key). An existing file is never overwritten.
pub async fn export(db: &Db, to: &Path, now: crate::clock::Micros) -> Result<ExportReport, BackupError> {
    if to.exists() {
        return Err(BackupError::Refused(format!(
            "{} already exists: an export never overwrites a file; choose a new name",
            to.display()
        )));
    }
    let partial = with_suffix(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    let written = write_export(db, &partial, now).await;
    let done = match written {
        Ok(report) => std::fs::hard_link(&partial, to).map_err(io(to)).and_then(|()| sync_dir(to)).map(|()| report),
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_file(&partial);
    done.map(|r| ExportReport { path: to.to_path_buf(), ..r })
}

async fn write_export(db: &Db, path: &Path, now: crate::clock::Micros) -> Result<ExportReport, BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(io(path))?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let backend = db.backend();
    let mut tx = db.snapshot().await?;
    let schema_version = store::schema_version(&mut tx).await?;
    let latest = db.latest_migration();
    if schema_version != latest {
        return Err(BackupError::Refused(format!(
            "the database is at schema {schema_version} and this Patronage at {latest}: run `patronage migrate` first"
        )));
    }
    refuse_unknown_tables(&mut tx, backend).await?;
    let exported: Vec<&store::Table> = store::TABLES.iter().filter(|t| t.keep == Keep::Rows).collect();
    let header = serde_json::json!({
        "patronage_export": FORMAT_VERSION,
        "schema_version": schema_version,
        "backend": match backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" },
        "patronage_version": env!("CARGO_PKG_VERSION"),
        "exported_at": crate::clock::format_rfc3339(now),
        "tables": exported.iter().map(|t| t.name).collect::<Vec<_>>(),
    });
    writeln!(out, "{header}").map_err(io(path))?;
    let mut counts = serde_json::Map::new();
    let mut total = 0u64;
    for table in &exported {
        let mut columns = store::columns(&mut tx, backend, table.name).await?;
        columns.sort_by(|a, b| a.name.cmp(&b.name));
        // The fixed part of every line of this table: `{"table":"x","row":{"a":`, `,"b":` …
        let prefixes: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let open = if i == 0 { format!("{{\"table\":\"{}\",\"row\":{{", table.name) } else { ",".into() };
                format!("{open}\"{}\":", c.name)
            })
            .collect();
        let mut line = String::new();
        let n = store::read_rows(&mut tx, table.name, &columns, |values| {
            line.clear();
            for (prefix, value) in prefixes.iter().zip(&values) {
                line.push_str(prefix);
                match value {
                    Value::Null => line.push_str("null"),
                    Value::Integer(i) => line.push_str(&i.to_string()),
                    Value::Text(s) => line.push_str(&serde_json::Value::from(s.as_str()).to_string()),
                }
            }
            line.push_str("}}\n");
            out.write_all(line.as_bytes()).map_err(io(path))
        })
        .await?;
        counts.insert(table.name.to_string(), n.into());
        total += n;
    }
    drop(tx);
    writeln!(out, "{}", serde_json::json!({ "end": { "rows": counts } })).map_err(io(path))?;
    let file = out.into_inner().map_err(|e| io(path)(e.into_error()))?;
    file.sync_all().map_err(io(path))?;
    Ok(ExportReport { path: path.to_path_buf(), schema_version, tables: exported.len(), rows: total })
}

/// A table the list does not name would be left out of an export (or left
/// full by `--replace`) without a word: refused instead. (A migration that adds
/// a table adds it to [`store::TABLES`]; a test checks.)
async fn refuse_unknown_tables(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<(), BackupError> {
    let unknown: Vec<String> =
        store::catalog_tables(conn, backend).await?.into_iter().filter(|t| store::table(t).is_none()).collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(BackupError::Refused(format!(
            "the database has tables this Patronage's export does not know ({}): nothing was done",
            unknown.join(", ")
        )))
    }
}

/// The tables holding a newsroom's data (anything but what a new database
/// starts with: settings, the first tiers and their texts): an import, or
/// `demo-data` on PostgreSQL, wants none.
pub async fn tables_with_data(conn: &mut sqlx::AnyConnection) -> Result<Vec<&'static str>, DbError> {
    let mut holding = Vec::new();
    for table in store::TABLES.iter().filter(|t| t.keep == Keep::Rows && !t.seeded) {
        if store::has_newsroom_rows(conn, table.name).await? {
            holding.push(table.name);
        }
    }
    Ok(holding)
}

/// SQLite's page cache for the import's connection, while it imports.
const IMPORT_CACHE_KIB: i64 = 64 * 1024;

/// What [`import`] stored.
#[derive(Debug)]
pub struct ImportReport {
    pub schema_version: i64,
    pub from_backend: String,
    pub rows: u64,
}

/// Reads an export file into `db`, in one transaction: all of it or nothing.
/// Refused when the file is from another schema version than the database (a
/// newer Patronage, or an older one: see README), or when the database already
/// holds a newsroom's data, unless `replace` says to empty it first.
pub async fn import(db: &Db, from: &Path, replace: bool) -> Result<ImportReport, BackupError> {
    let file = std::fs::File::open(from).map_err(io(from))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let bad = |line: u64, why: String| BackupError::BadFile { path: from.to_path_buf(), line, why };
    let mut text = String::new();
    reader.read_line(&mut text).map_err(io(from))?;
    let header: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(1, format!("not a Patronage export header ({e})")))?;
    if header.get("patronage_export").and_then(serde_json::Value::as_i64) != Some(FORMAT_VERSION) {
        return Err(bad(1, format!("not a Patronage export of format {FORMAT_VERSION}")));
    }
    let file_version = header.get("schema_version").and_then(serde_json::Value::as_i64).unwrap_or(-1);
    let from_backend = header.get("backend").and_then(serde_json::Value::as_str).unwrap_or("?").to_string();
    let latest = db.latest_migration();
    if file_version > latest {
        return Err(BackupError::Refused(format!(
            "{} comes from a newer Patronage (schema {file_version}; this one knows up to {latest}): upgrade Patronage, then import",
            from.display()
        )));
    }
    if file_version != latest {
        return Err(BackupError::Refused(format!(
            "{} comes from an older Patronage (schema {file_version}; this one is at {latest}): start this Patronage once on \
             the database it came from (which upgrades it), export again, and import that file",
            from.display()
        )));
    }

    let backend = db.backend();
    let mut tx = db.transaction().await?;
    if backend == Backend::Sqlite {
        // The whole import is one transaction: with the pool's small page cache
        // its changed pages would spill to the log again and again.
        store::set_sqlite_cache_kib(&mut tx, IMPORT_CACHE_KIB).await?;
    }
    refuse_unknown_tables(&mut tx, backend).await?;
    let holding = tables_with_data(&mut tx).await?;
    if !holding.is_empty() && !replace {
        return Err(BackupError::Refused(format!(
            "the database already holds a newsroom's data (rows in {}): import into a new database, \
             or pass --replace to delete everything in it first",
            holding.join(", ")
        )));
    }
    // PostgreSQL writes with the counting triggers off and rebuilds what they keep
    // at the end (see `set_pg_triggers`); SQLite keeps them as it goes.
    let rebuild = backend == Backend::Postgres;
    if rebuild {
        store::set_pg_triggers(&mut tx, false).await?;
    }
    for table in store::TABLES.iter().rev().filter(|t| rebuild || !matches!(t.keep, Keep::Derived(_))) {
        store::delete_all(&mut tx, table.name).await?;
    }

    struct Current {
        index: usize,
        columns: Vec<Column>,
        batch: Vec<Vec<Value>>,
        per_insert: usize,
        /// `(key, reference)` pairs held back for a self-referencing column.
        refs: Vec<(String, String)>,
        rows: u64,
    }
    async fn flush(tx: &mut crate::db::Tx, current: &mut Current) -> Result<(), DbError> {
        let table = store::TABLES[current.index].name;
        store::insert_rows(tx, table, &current.columns, &current.batch).await?;
        current.batch.clear();
        Ok(())
    }
    async fn finish(tx: &mut crate::db::Tx, mut current: Current) -> Result<(String, u64), DbError> {
        flush(tx, &mut current).await?;
        let table = &store::TABLES[current.index];
        if let Some(self_ref) = table.self_ref {
            for (id, reference) in &current.refs {
                store::set_self_ref(tx, table.name, self_ref, id, reference).await?;
            }
        }
        Ok((table.name.to_string(), current.rows))
    }

    let mut current: Option<Current> = None;
    let mut imported: Vec<(String, u64)> = Vec::new();
    let mut line_no = 1u64;
    let mut trailer: Option<serde_json::Map<String, serde_json::Value>> = None;
    loop {
        text.clear();
        let read = reader.read_line(&mut text).map_err(io(from))?;
        if read == 0 {
            break;
        }
        line_no += 1;
        if text.trim().is_empty() {
            continue;
        }
        if trailer.is_some() {
            return Err(bad(line_no, "more lines after the last one".into()));
        }
        let mut line: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| bad(line_no, format!("not a JSON object ({e})")))?;
        if let Some(end) = line.remove("end") {
            let rows = end.get("rows").and_then(serde_json::Value::as_object).cloned();
            trailer = Some(rows.ok_or_else(|| bad(line_no, "the last line has no row counts".into()))?);
            if let Some(done) = current.take() {
                imported.push(finish(&mut tx, done).await?);
            }
            continue;
        }
        let name = line.get("table").and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
        let Some(row) = line.remove("row").and_then(|r| match r {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }) else {
            return Err(bad(line_no, "a line without \"table\" and \"row\"".into()));
        };
        let index = store::TABLES
            .iter()
            .position(|t| t.name == name && t.keep == Keep::Rows)
            .ok_or_else(|| bad(line_no, format!("{name:?} is not a table this Patronage imports")))?;
        if current.as_ref().is_none_or(|c| c.index != index) {
            if let Some(previous) = current.take() {
                if index <= previous.index {
                    return Err(bad(
                        line_no,
                        format!("rows of {name} after those of {}", store::TABLES[previous.index].name),
                    ));
                }
                imported.push(finish(&mut tx, previous).await?);
            }
            let mut columns = store::columns(&mut tx, backend, &name).await?;
            columns.sort_by(|a, b| a.name.cmp(&b.name));
            let per_insert = store::rows_per_insert(columns.len());
            current = Some(Current { index, columns, batch: Vec::new(), per_insert, refs: Vec::new(), rows: 0 });
        }
        let Some(cur) = current.as_mut() else { continue };
        let mut values = Vec::with_capacity(cur.columns.len());
        for column in &cur.columns {
            let value = match row.get(&column.name) {
                None => return Err(bad(line_no, format!("the row of {name} has no {}", column.name))),
                Some(serde_json::Value::Null) => Value::Null,
                Some(serde_json::Value::Number(n)) if column.kind == store::Kind::Integer => Value::Integer(
                    n.as_i64()
                        .ok_or_else(|| bad(line_no, format!("{name}.{}: {n} is not a 64-bit integer", column.name)))?,
                ),
                Some(serde_json::Value::String(s)) if column.kind == store::Kind::Text => Value::Text(s.clone()),
                Some(other) => {
                    return Err(bad(
                        line_no,
                        format!("{name}.{}: {other} does not fit a {:?} column", column.name, column.kind),
                    ));
                }
            };
            values.push(value);
        }
        if row.len() != cur.columns.len() {
            let unknown: Vec<&String> = row.keys().filter(|k| !cur.columns.iter().any(|c| &c.name == *k)).collect();
            return Err(bad(line_no, format!("the row of {name} has columns this database does not: {unknown:?}")));
        }
        if let Some((column, key)) = store::TABLES[index].self_ref {
            let at = |n: &str| cur.columns.iter().position(|c| c.name == n);
            if let (Some(c), Some(k)) = (at(column), at(key))
                && let (Value::Text(reference), Value::Text(id)) = (&values[c], &values[k])
            {
                cur.refs.push((id.clone(), reference.clone()));
                values[c] = Value::Null;
            }
        }
        cur.batch.push(values);
        cur.rows += 1;
        if cur.batch.len() >= cur.per_insert {
            flush(&mut tx, cur).await?;
        }
    }
    let Some(expected) = trailer else {
        return Err(bad(line_no, "the file ends before its last line (cut short?)".into()));
    };
    let mut total = 0;
    for table in store::TABLES.iter().filter(|t| t.keep == Keep::Rows) {
        let got = imported.iter().find(|(n, _)| n == table.name).map_or(0, |(_, n)| *n);
        let want = expected.get(table.name).and_then(serde_json::Value::as_u64);
        if want != Some(got) {
            return Err(bad(
                line_no,
                format!("the last line counts {want:?} rows of {} but the file holds {got}", table.name),
            ));
        }
        total += got;
    }
    if backend == Backend::Sqlite {
        store::set_sqlite_cache_kib(&mut tx, crate::db::SQLITE_CACHE_KIB).await?;
    }
    if rebuild {
        store::rebuild_derived(&mut tx).await?;
        store::set_pg_triggers(&mut tx, true).await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(ImportReport { schema_version: file_version, from_backend, rows: total })
}
