//! Backups, moving between backends, and upgrades (README, "Backups, moving and
//! upgrading"): `patronage backup` / `restore` on SQLite, `export` / `import`
//! between SQLite and PostgreSQL, and a database made by an earlier release's
//! migrations started by this one.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use patronage::services::demo_data::{self, Options};
use sqlx::{AnyConnection, AssertSqlSafe, Connection};

use crate::helpers::{TestApp, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_patronage");

/// Runs the binary with only DATABASE_URL (and PATH) set, off the test's runtime.
async fn patronage(database_url: &str, args: &[&str]) -> std::process::Output {
    let url = database_url.to_string();
    let args: Vec<String> = args.iter().map(ToString::to_string).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(BIN)
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .output()
    })
    .await
    .expect("joins")
    .expect("the binary runs")
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "the command failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "the command should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("patronage-tests").join(uuid::Uuid::new_v4().simple().to_string());
    std::fs::create_dir_all(&dir).expect("a temp directory");
    dir
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

fn s(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// The database's base tables, read from its catalog here (not through the code
/// under test): sqlx's bookkeeping, SQLite's own tables and the full-text index's
/// shadow tables left out.
async fn catalog_tables(conn: &mut AnyConnection, postgres: bool) -> Vec<String> {
    let sql = if postgres {
        "select cast(table_name as text) from information_schema.tables
         where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name <> '_sqlx_migrations'
         order by 1"
    } else {
        "select name from pragma_table_list where schema = 'main' and type = 'table'
         and name not like 'sqlite%' and name <> '_sqlx_migrations' order by name"
    };
    let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&mut *conn).await.expect("the catalog");
    rows.into_iter().map(|(n,)| n).collect()
}

/// Every table's row count.
async fn table_counts(url: &str) -> BTreeMap<String, i64> {
    let mut conn = AnyConnection::connect(url).await.expect("connects");
    let mut counts = BTreeMap::new();
    for table in catalog_tables(&mut conn, url.starts_with("postgres")).await {
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(&mut conn)
            .await
            .expect("counts");
        counts.insert(table, n);
    }
    let _ = conn.close().await;
    counts
}

/// Per currency: rows, gross, fee, net of the ledger (optionally only up to a payment id).
async fn ledger_sums(url: &str, up_to_id: Option<&str>) -> Vec<(String, i64, i64, i64, i64)> {
    let mut conn = AnyConnection::connect(url).await.expect("connects");
    let sums = sqlx::query_as(
        "select currency, count(*), cast(sum(gross_minor) as bigint), cast(sum(fee_minor) as bigint),
                cast(sum(net_minor) as bigint)
         from payments where $1 = '' or id <= $1 group by currency order by currency",
    )
    .bind(up_to_id.unwrap_or(""))
    .fetch_all(&mut conn)
    .await
    .expect("the ledger's sums");
    let _ = conn.close().await;
    sums
}

/// The ledger as the reports' aggregates hold it, per currency: rows, gross, fee, net.
async fn aggregate_sums(url: &str) -> Vec<(String, i64, i64, i64, i64)> {
    let mut conn = AnyConnection::connect(url).await.expect("connects");
    let sums = sqlx::query_as(
        "select currency, cast(sum(rows_count) as bigint), cast(sum(gross_minor) as bigint),
                cast(sum(fee_minor) as bigint), cast(sum(net_minor) as bigint)
         from ledger_monthly group by currency having sum(rows_count) <> 0 order by currency",
    )
    .fetch_all(&mut conn)
    .await
    .expect("the aggregates");
    let _ = conn.close().await;
    sums
}

async fn payment_ids(url: &str) -> Vec<String> {
    let mut conn = AnyConnection::connect(url).await.expect("connects");
    let ids: Vec<(String,)> = sqlx::query_as("select id from payments").fetch_all(&mut conn).await.expect("ids");
    let _ = conn.close().await;
    let mut ids: Vec<String> = ids.into_iter().map(|(id,)| id).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_sqlite_backup_taken_during_writes_is_a_consistent_snapshot_that_restores_elsewhere() {
    let app = TestApp::spawn().await;
    let url = app.config.database_url.clone();
    let dir = temp_dir();
    if !url.starts_with("sqlite:") {
        // PostgreSQL has pg_dump for this; the command says so (see the pg_dump test).
        let err = refused(&patronage(&url, &["backup", s(&dir.join("x.db"))]).await);
        assert!(err.contains("pg_dump"), "{err}");
        assert!(!dir.join("x.db").exists());
        let _ = std::fs::remove_dir_all(dir);
        return;
    }
    demo_data::generate(&app.ctx, Options { members: 300, months: 12, seed: 5 }).await.expect("demo data");
    let mut target = app.count("select count(*) from payments").await as u64;
    let before_writes = table_counts(&url).await;

    // A writer books gifts, 100 to a transaction (ledger row and aggregates together),
    // from before the backup starts until after it ends.
    let stop = Arc::new(AtomicBool::new(false));
    target += 100;
    demo_data::top_up_ledger(&app.ctx, target, 12, 0).await.expect("a first batch");
    let writer = {
        let (ctx, stop) = (app.ctx.clone(), stop.clone());
        tokio::spawn(async move {
            let mut batches = 1u64;
            while !stop.load(Ordering::Relaxed) {
                target += 100;
                demo_data::top_up_ledger(&ctx, target, 12, batches).await.expect("a batch of gifts");
                batches += 1;
                tokio::task::yield_now().await;
            }
            batches
        })
    };
    let during = dir.join("during.db");
    let said = ok(&patronage(&url, &["backup", s(&during)]).await);
    assert!(said.contains("integrity ok"), "{said}");
    stop.store(true, Ordering::Relaxed);
    let batches = writer.await.expect("the writer finished");
    assert!(batches >= 2, "the writer kept writing around the backup");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&during).expect("the backup exists").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a backup is readable by its owner only");
    }
    assert!(!dir.join("during.db.partial").exists(), "no temporary file is left behind");

    // Restored into a new location.
    let restored = dir.join("restored").join("patronage.db");
    let restored_url = sqlite_url(&restored);
    let said = ok(&patronage(&restored_url, &["restore", s(&during)]).await);
    assert!(said.contains("Restored"), "{said}");
    let mut conn = AnyConnection::connect(&restored_url).await.expect("the restored database opens");
    let (integrity,): (String,) =
        sqlx::query_as("pragma integrity_check").fetch_one(&mut conn).await.expect("integrity check");
    assert_eq!(integrity, "ok");
    let _ = conn.close().await;

    // A point in time: the copy holds exactly the ledger rows written before some
    // moment (one writer, time-ordered ids), with the aggregates of exactly those.
    let source_ids = payment_ids(&url).await;
    let copy_ids = payment_ids(&restored_url).await;
    assert!(copy_ids.len() >= before_writes["payments"] as usize + 100, "the first batch is in the copy");
    assert_eq!(copy_ids[..], source_ids[..copy_ids.len()], "the copy's ledger is a prefix of the source's");
    let last = copy_ids.last().expect("the copy has ledger rows");
    assert_eq!(ledger_sums(&restored_url, None).await, ledger_sums(&url, Some(last)).await);
    let copy_ledger: Vec<_> = ledger_sums(&restored_url, None).await;
    let copy_aggregates = aggregate_sums(&restored_url).await;
    assert_eq!(
        copy_aggregates,
        copy_ledger.iter().map(|(c, n, g, f, net)| (c.clone(), *n, *g, *f, *net)).collect::<Vec<_>>(),
        "the reports' aggregates in the copy match its ledger: no transaction was copied in part"
    );
    // What the writer does not touch is identical.
    let after_writes = table_counts(&url).await;
    let copy_counts = table_counts(&restored_url).await;
    assert_eq!(copy_counts.keys().collect::<Vec<_>>(), after_writes.keys().collect::<Vec<_>>());
    for (table, n) in &after_writes {
        if before_writes[table] == *n {
            assert_eq!(copy_counts[table], *n, "{table}");
        }
    }

    // With the writes stopped, a second backup is identical to the source: every
    // table's row count and the ledger's sums.
    let quiet = dir.join("quiet.db");
    ok(&patronage(&url, &["backup", s(&quiet)]).await);
    let restored_quiet = dir.join("quiet-restored.db");
    ok(&patronage(&sqlite_url(&restored_quiet), &["restore", s(&quiet)]).await);
    assert_eq!(table_counts(&sqlite_url(&restored_quiet)).await, table_counts(&url).await);
    assert_eq!(ledger_sums(&sqlite_url(&restored_quiet), None).await, ledger_sums(&url, None).await);
    // The restored database starts: migrations are current and it serves.
    ok(&patronage(&sqlite_url(&restored_quiet), &["migrate"]).await);

    // A backup never overwrites a file.
    let err = refused(&patronage(&url, &["backup", s(&quiet)]).await);
    assert!(err.contains("already exists"), "{err}");

    // Restoring over the running app's database is refused without --force, and changes nothing.
    let payments = app.count("select count(*) from payments").await;
    let err = refused(&patronage(&url, &["restore", s(&quiet)]).await);
    assert!(err.contains("in use") && err.contains("--force"), "{err}");
    assert_eq!(app.count("select count(*) from payments").await, payments);
    app.client.get("/").send().await.assert_status(200);

    // A file that is not a database, or is damaged, is refused and nothing is created.
    let junk = dir.join("junk.db");
    std::fs::write(&junk, "not a database, just text\n".repeat(200)).expect("written");
    let nowhere = dir.join("nowhere").join("patronage.db");
    let err = refused(&patronage(&sqlite_url(&nowhere), &["restore", s(&junk)]).await);
    assert!(err.contains("junk.db"), "{err}");
    assert!(!nowhere.exists());

    // Restoring over a stopped database keeps the one it replaces.
    let said = ok(&patronage(&sqlite_url(&restored_quiet), &["restore", s(&during)]).await);
    assert!(said.contains("before-restore"), "{said}");
    assert_eq!(payment_ids(&sqlite_url(&restored_quiet)).await, copy_ids);
    let kept: Vec<_> = std::fs::read_dir(&dir)
        .expect("the directory")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("quiet-restored.db.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "the replaced database is kept beside it");
    let _ = std::fs::remove_dir_all(dir);
}
