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
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("quiet-restored.db.before-restore-") && !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    assert_eq!(kept.len(), 1, "the replaced database is kept beside it");
    let _ = std::fs::remove_dir_all(dir);
}

/// The row lines of an export file (everything but the header and trailer), sorted.
fn row_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("the export is readable");
    let mut lines: Vec<String> = text.lines().filter(|l| l.starts_with("{\"table\":")).map(str::to_string).collect();
    lines.sort();
    lines
}

fn header(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("the export is readable");
    serde_json::from_str(text.lines().next().expect("a header")).expect("the header is JSON")
}

/// Values at the edges: the largest and smallest BIGINT, an empty string beside a
/// NULL, and text in many scripts with emoji, combining marks, quotes, backslashes,
/// control characters and Unicode line separators.
const ODD_TEXT: &str = "Ґанна «Лис» 🦊 O'Brien \"q\" \\ e\u{301} שלום 𝄞 👩‍👩‍👧 \t tab \r\n line\u{2028}sep \u{7f} 日本語";

#[tokio::test]
async fn export_then_import_round_trips_every_row_between_sqlite_and_postgresql() {
    let app = TestApp::spawn().await;
    let source = app.config.database_url.clone();
    let source_is_pg = source.starts_with("postgres");
    let pg_available = crate::helpers::test_db::postgres_server_url().is_some();
    demo_data::generate(&app.ctx, Options { members: 300, months: 12, seed: 11 }).await.expect("demo data");
    app.post_join(&app.client, "hanna@news.test", "Ґанна «Лис» 🦊 O'Brien \"q\" \\ é").await.assert_status(303);
    app.deliver_mail().await;
    for (key, value, at) in [("test_max", ODD_TEXT, i64::MAX), ("test_min", "", i64::MIN), ("test_zero", "0", 0)] {
        sqlx::query("insert into settings (key, value, updated_at) values ($1, $2, $3)")
            .bind(key)
            .bind(value)
            .bind(at)
            .execute(app.db().read())
            .await
            .expect("a setting");
    }
    // A topic merged into a newer one: rows that refer to a later row of their own table.
    sqlx::query(
        "update topics set status = 'merged', merged_into = (select max(id) from topics)
         where id = (select min(id) from topics where status = 'suggested')",
    )
    .execute(app.db().read())
    .await
    .expect("a merge");
    assert_eq!(app.count("select count(*) from topics where merged_into is not null").await, 1);
    // Rows of tables the demo newsroom leaves empty: a plan change and a cancellation's reason.
    let (sub, member): (String, Option<String>) =
        sqlx::query_as("select id, member_id from subscriptions order by id limit 1")
            .fetch_one(app.db().read())
            .await
            .expect("a subscription");
    sqlx::query(
        "insert into tier_changes (id, subscription_id, member_id, from_tier_id, from_interval, to_tier_id,
             to_interval, currency, mrr_before_minor, mrr_after_minor, occurred_at)
         values ('01900000-0000-7000-8000-0000000a0001', $1, $2, '00000000-0000-7000-8000-000000000001', 'month',
             '00000000-0000-7000-8000-000000000002', 'year', 'eur', 300, 500, 1790000000000000)",
    )
    .bind(&sub)
    .bind(&member)
    .execute(app.db().read())
    .await
    .expect("a plan change");
    sqlx::query(
        "insert into cancel_reasons (id, subscription_id, reason, comment, currency, created_at)
         values ('01900000-0000-7000-8000-0000000b0001', $1, 'too_expensive', $2, 'eur', 1790000000000000)",
    )
    .bind(&sub)
    .bind(ODD_TEXT)
    .execute(app.db().read())
    .await
    .expect("a cancellation reason");
    let source_counts = table_counts(&source).await;

    let dir = temp_dir();
    let first = dir.join("first.jsonl");
    let said = ok(&patronage(&source, &["export", "--format", "json", s(&first)]).await);
    assert!(said.contains("Exported"), "{said}");

    // To the other backend when PostgreSQL is at hand, then back: SQLite → PostgreSQL
    // → SQLite, or PostgreSQL → SQLite → PostgreSQL (two SQLite files without it).
    let (one_pg, two_pg) = match (source_is_pg, pg_available) {
        (false, true) => (true, false),
        (true, _) => (false, true),
        (false, false) => (false, false),
    };
    let one = TestDb::create_empty(one_pg).await.expect("a database");
    let two = TestDb::create_empty(two_pg).await.expect("a database");
    let said = ok(&patronage(&one.url, &["import", s(&first)]).await);
    assert!(said.contains("Imported"), "{said}");
    let second = dir.join("second.jsonl");
    ok(&patronage(&one.url, &["export", s(&second)]).await);
    ok(&patronage(&two.url, &["import", s(&second)]).await);
    let third = dir.join("third.jsonl");
    ok(&patronage(&two.url, &["export", s(&third)]).await);

    // Every row of every exported table, value for value.
    let rows = row_lines(&first);
    assert!(rows.len() > 3000, "a whole newsroom: {} rows", rows.len());
    assert!(rows == row_lines(&second), "the first import holds every row as exported");
    assert!(rows == row_lines(&third), "and so does the second");
    assert_eq!(header(&first)["schema_version"], header(&third)["schema_version"]);
    assert_eq!(header(&second)["backend"], if one_pg { "postgres" } else { "sqlite" });

    // Read back without the exporter: the same tables with the same row counts
    // (sign-in credentials and rate-limit counters stay behind), the values at the edges.
    let skipped = ["sessions", "login_tokens", "rate_limits"];
    for target in [&one, &two] {
        let counts = table_counts(&target.url).await;
        assert_eq!(counts.keys().collect::<Vec<_>>(), source_counts.keys().collect::<Vec<_>>());
        for (table, n) in &source_counts {
            let want = if skipped.contains(&table.as_str()) { 0 } else { *n };
            assert_eq!(counts[table], want, "{table} in {}", target.url);
        }
        // Not exported: kept by triggers as the members are written, so the same as the source's.
        assert_eq!(standing_counts(&target.url).await, standing_counts(&source).await);
        // PostgreSQL rebuilds them after writing with its counting triggers off.
        let donors = donor_counts(&source).await;
        assert!(donors.len() > 10, "the demo newsroom has donors: {donors:?}");
        assert_eq!(donor_counts(&target.url).await, donors);
        assert_eq!(ledger_sums(&target.url, None).await, ledger_sums(&source, None).await);
        let mut conn = AnyConnection::connect(&target.url).await.expect("connects");
        let odd: Vec<(String, String, i64)> =
            sqlx::query_as("select key, value, updated_at from settings where key like 'test_%' order by key")
                .fetch_all(&mut conn)
                .await
                .expect("the settings");
        assert_eq!(
            odd,
            vec![
                ("test_max".to_string(), ODD_TEXT.to_string(), i64::MAX),
                ("test_min".to_string(), String::new(), i64::MIN),
                ("test_zero".to_string(), "0".to_string(), 0),
            ]
        );
        let (name,): (Option<String>,) = sqlx::query_as("select name from members where email = 'hanna@news.test'")
            .fetch_one(&mut conn)
            .await
            .expect("the member");
        assert_eq!(name.as_deref(), Some("Ґанна «Лис» 🦊 O'Brien \"q\" \\ é"));
        let _ = conn.close().await;
    }
    one.drop_database().await;

    // The newsroom works on the database it moved to: the demo patron signs in and is a patron.
    let moved = TestApp::builder().on_database(two).spawn().await;
    moved.sign_in_member(&moved.client, demo_data::DEMO_PATRON).await;
    moved.client.get("/account").send().await.assert_status(200).assert_contains(">Patron<");
    // And its counting triggers are on again: a new member is counted.
    let counted = "select cast(sum(members) as bigint) from standing_counts";
    let before = moved.count(counted).await;
    moved.post_join(&moved.new_browser(), "after.import@news.test", "After").await.assert_status(303);
    assert_eq!(moved.count(counted).await, before + 1);
    moved.deliver_mail().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn import_refuses_other_schemas_damaged_files_and_a_database_with_data_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let source = app.config.database_url.clone();
    demo_data::generate(&app.ctx, Options { members: 60, months: 6, seed: 3 }).await.expect("demo data");
    let dir = temp_dir();
    let good = dir.join("good.jsonl");
    ok(&patronage(&source, &["export", s(&good)]).await);
    let err = refused(&patronage(&source, &["export", s(&good)]).await);
    assert!(err.contains("already exists"), "an export never overwrites a file: {err}");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&good).expect("written").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "an export is readable by its owner only");
    }
    let text = std::fs::read_to_string(&good).expect("readable");
    let lines: Vec<&str> = text.lines().collect();
    let with_header = |version: i64| {
        let mut h = header(&good);
        h["schema_version"] = version.into();
        std::iter::once(h.to_string()).chain(lines[1..].iter().map(|l| l.to_string())).collect::<Vec<_>>().join("\n")
    };
    let latest = header(&good)["schema_version"].as_i64().expect("a schema version");
    let member_line = lines.iter().position(|l| l.starts_with("{\"table\":\"members\"")).expect("a member row");
    let bad_value: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == member_line + 5 {
                l.replacen("\"created_at\":", "\"created_at\":\"soon\",\"x\":", 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    let cases = [
        ("newer", with_header(latest + 4), "newer Patronage"),
        ("older", with_header(latest - 1), "older Patronage"),
        ("cut", lines[..lines.len() - 40].join("\n"), "cut short"),
        ("value", bad_value.join("\n"), "members.created_at"),
        ("junk", "this is not an export\n".to_string(), "not a Patronage export"),
    ];
    let target = TestDb::create_empty(source.starts_with("postgres")).await.expect("a database");
    for (name, body, says) in cases {
        let file = dir.join(format!("{name}.jsonl"));
        std::fs::write(&file, body).expect("written");
        let err = refused(&patronage(&target.url, &["import", s(&file)]).await);
        assert!(err.contains(says), "{name}: {err}");
        let counts = table_counts(&target.url).await;
        for table in ["members", "payments", "subscriptions", "topics", "votes", "audit_log"] {
            assert_eq!(counts[table], 0, "{name}: nothing stored in {table}");
        }
    }

    // A database that holds a newsroom is refused unless told to replace it.
    ok(&patronage(&target.url, &["import", s(&good)]).await);
    let imported = table_counts(&target.url).await;
    let err = refused(&patronage(&target.url, &["import", s(&good)]).await);
    assert!(err.contains("already holds") && err.contains("--replace"), "{err}");
    assert_eq!(table_counts(&target.url).await, imported);
    let again = dir.join("again.jsonl");
    ok(&patronage(&target.url, &["import", "--replace", s(&good)]).await);
    ok(&patronage(&target.url, &["export", s(&again)]).await);
    assert!(row_lines(&good) == row_lines(&again), "replaced by exactly the file's rows");

    // A table the list does not know (a migration that forgot it) is never left out
    // silently: export and import refuse, naming it.
    for url in [&source, &target.url] {
        sqlx::query("create table stray_notes (id text primary key)")
            .execute(&mut AnyConnection::connect(url).await.expect("connects"))
            .await
            .expect("a stray table");
    }
    let err = refused(&patronage(&source, &["export", s(&dir.join("stray.jsonl"))]).await);
    assert!(err.contains("stray_notes"), "{err}");
    assert!(!dir.join("stray.jsonl").exists());
    let err = refused(&patronage(&target.url, &["import", "--replace", s(&good)]).await);
    assert!(err.contains("stray_notes"), "{err}");
    target.drop_database().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Fails when a migration adds a table that `db::backup::TABLES` does not list (or
/// the list names one the schema no longer has): the catalog of this checkout's
/// freshly migrated database is read as the test runs.
#[tokio::test]
async fn export_knows_every_table_of_the_schema() {
    let app = TestApp::spawn().await;
    let url = app.config.database_url.clone();
    let mut conn = AnyConnection::connect(&url).await.expect("connects");
    let catalog = catalog_tables(&mut conn, url.starts_with("postgres")).await;
    let _ = conn.close().await;
    let known: Vec<&str> = patronage::db::backup::TABLES.iter().map(|t| t.name).collect();
    let unknown: Vec<&String> = catalog.iter().filter(|t| !known.contains(&t.as_str())).collect();
    assert!(
        unknown.is_empty(),
        "tables export does not know: {unknown:?}. Add each to TABLES in src/db/backup.rs, after the tables \
         it refers to: `rows(..)` (exported), `seeded(..)` (a new database has rows), or `skip(.., why)`"
    );
    let gone: Vec<&&str> = known.iter().filter(|t| !catalog.iter().any(|c| c == *t)).collect();
    assert!(gone.is_empty(), "TABLES names tables the schema does not have: {gone:?}");
    let mut sorted = known.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), known.len(), "each table is listed once");
}

/// The migrations of the release before the members directory, the report
/// aggregates and everything after them (0008 onwards).
const PREVIOUS_RELEASE: usize = 7;

/// Applies only the first `n` migration files of `migrations/<backend>/`, as the
/// binary of a release that had those would have (same files, same checksums).
async fn migrate_like_an_earlier_release(url: &str, n: usize) {
    let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let all = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&all)
        .expect("the migrations folder")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    let earlier = temp_dir();
    for file in files.iter().take(n) {
        std::fs::copy(file, earlier.join(file.file_name().expect("a name"))).expect("copied");
    }
    let migrator = sqlx::migrate::Migrator::new(earlier.as_path()).await.expect("the earlier migrations load");
    let mut conn = AnyConnection::connect(url).await.expect("connects");
    migrator.run(&mut conn).await.expect("the earlier migrations apply");
    let (applied,): (i64,) =
        sqlx::query_as("select max(version) from _sqlx_migrations").fetch_one(&mut conn).await.expect("the version");
    assert_eq!(applied, n as i64);
    let _ = conn.close().await;
    let _ = std::fs::remove_dir_all(earlier);
}

#[tokio::test]
async fn a_database_of_the_previous_release_with_data_upgrades_and_works() {
    use patronage::clock::DAY;
    let postgres = crate::helpers::test_db::postgres_server_url().is_some();
    let db = TestDb::create_empty(postgres).await.expect("a database");
    migrate_like_an_earlier_release(&db.url, PREVIOUS_RELEASE).await;

    // Data as that release wrote it: a patron with a subscription and two payments,
    // an anonymous gift, a staff account with a password, a topic in an open round
    // with the patron's vote.
    let now = patronage::clock::Clock::default().now();
    let hash = patronage::services::staff::hash_password(
        &patronage::domain::Password::parse(crate::helpers::STAFF_PASSWORD).expect("long enough"),
    )
    .await
    .expect("hashed");
    let (patron, other, sub, topic, round) = (
        "01900000-0000-7000-8000-00000000a001",
        "01900000-0000-7000-8000-00000000a002",
        "01900000-0000-7000-8000-00000000b001",
        "01900000-0000-7000-8000-00000000c001",
        "01900000-0000-7000-8000-00000000d001",
    );
    let supporter = "00000000-0000-7000-8000-000000000002";
    let mut conn = AnyConnection::connect(&db.url).await.expect("connects");
    let statements: Vec<(&str, Vec<Bind>)> = vec![
        (
            "insert into members (id, email, name, locale, created_at, stripe_customer_id, public_name) values ($1, $2, $3, 'en', $4, $5, $6)",
            vec![patron.into(), "olena@news.test".into(), "Олена Петренко".into(), (now - 60 * DAY).into(), "demo_cus_olena".into(), "Олена".into()],
        ),
        (
            "insert into members (id, email, name, locale, created_at) values ($1, $2, null, 'en', $3)",
            vec![other.into(), "reader@news.test".into(), (now - 5 * DAY).into()],
        ),
        (
            "insert into staff_users (id, email, password_hash, role, created_at) values ($1, 'chief@news.test', $2, 'admin', $3)",
            vec!["01900000-0000-7000-8000-00000000e001".into(), hash.as_str().into(), (now - 90 * DAY).into()],
        ),
        (
            "insert into subscriptions (id, provider_id, member_id, customer_id, tier_id, price_id, status, interval, amount_minor,
                 currency, current_period_end, started_at, first_paid_at, mrr_minor, created_at, updated_at)
             values ($1, 'demo_sub_olena', $2, 'demo_cus_olena', $3, '00000000-0000-7000-9000-000000000005', 'active', 'month', 600,
                 'eur', $4, $5, $5, 600, $5, $5)",
            vec![sub.into(), patron.into(), supporter.into(), (now + 20 * DAY).into(), (now - 40 * DAY).into()],
        ),
        (
            "insert into mrr_movements (id, subscription_id, member_id, kind, delta_minor, mrr_after_minor, currency, occurred_at, created_at)
             values ('01900000-0000-7000-8000-00000000f001', $1, $2, 'new', 600, 600, 'eur', $3, $3)",
            vec![sub.into(), patron.into(), (now - 40 * DAY).into()],
        ),
    ];
    for (sql, binds) in statements {
        bind_all(sqlx::query(sql), binds).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    for (i, (kind, member, gross, fee, days_ago, description)) in [
        ("subscription", Some(patron), 600, 34, 40, "Membership"),
        ("subscription", Some(patron), 600, 34, 10, "Membership"),
        ("donation", None, 1000, 40, 3, "Anonymous donation"),
    ]
    .into_iter()
    .enumerate()
    {
        sqlx::query(
            "insert into payments (id, kind, provider_id, member_id, subscription_id, gross_minor, currency,
                 settlement_gross_minor, fee_minor, net_minor, settlement_currency, charge_id, description, occurred_at, created_at)
             values ($1, $2, $3, $4, $5, $6, 'eur', $6, $7, $8, 'eur', $9, $10, $11, $11)",
        )
        .bind(format!("01900000-0000-7000-8000-0000000010{i:02}"))
        .bind(kind)
        .bind(format!("demo_{kind}_{i}"))
        .bind(member)
        .bind(member.map(|_| sub))
        .bind(gross)
        .bind(fee)
        .bind(gross - fee)
        .bind(format!("ch_demo_{i}"))
        .bind(description)
        .bind(now - days_ago * DAY)
        .execute(&mut conn)
        .await
        .expect("a ledger row");
    }
    for (sql, binds) in [
        (
            "insert into topics (id, title, description, status, created_at, updated_at) values ($1, 'Why the tram is late', 'Twice a week', 'open', $2, $2)",
            vec![topic.into(), (now - 7 * DAY).into()],
        ),
        (
            "insert into rounds (id, title, description, opens_at, closes_at, max_votes, created_at, updated_at)
             values ($1, 'What should we cover next?', '', $2, $3, 3, $2, $2)",
            vec![round.into(), (now - DAY).into(), (now + 6 * DAY).into()],
        ),
        (
            "insert into round_topics (round_id, topic_id, position) values ($1, $2, 0)",
            vec![round.into(), topic.into()],
        ),
        ("insert into ballots (round_id, member_id, used) values ($1, $2, 1)", vec![round.into(), patron.into()]),
        (
            "insert into votes (id, round_id, topic_id, member_id, weight, created_at) values ('01900000-0000-7000-8000-000000002001', $1, $2, $3, 1, $4)",
            vec![round.into(), topic.into(), patron.into(), (now - DAY / 2).into()],
        ),
    ] {
        bind_all(sqlx::query(sql), binds).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let _ = conn.close().await;

    // This release starts on it: the remaining migrations apply as it starts.
    let app = TestApp::builder().on_database(db).spawn().await;
    let (latest,): (i64,) = sqlx::query_as("select max(version) from _sqlx_migrations")
        .fetch_one(app.db().read())
        .await
        .expect("the version");
    assert!(latest > PREVIOUS_RELEASE as i64);
    app.client.get("/readyz").send().await.assert_status(200);
    assert_eq!(app.member_count().await, 2);

    // The patron signs in and is a patron, with their vote counted.
    app.sign_in_member(&app.client, "olena@news.test").await;
    app.client
        .get("/account")
        .send()
        .await
        .assert_status(200)
        .assert_contains("Олена Петренко")
        .assert_contains(">Patron<");
    app.client
        .get("/topics")
        .send()
        .await
        .assert_status(200)
        .assert_contains("Why the tram is late")
        .assert_contains("You have 2 votes left of 3.");

    // Staff sign in with the password they had; the directory finds the patron by a
    // folded name (search keys filled in on upgrade) and knows they are a patron.
    let staff = app.new_browser();
    staff
        .post_form("/admin/login", &[("email", "chief@news.test"), ("password", crate::helpers::STAFF_PASSWORD)])
        .send()
        .await
        .assert_status(303);
    let found = staff.get("/admin/members?q=%D0%BE%D0%BB%D0%B5%D0%BD%D0%B0&status=patron").send().await;
    found.assert_status(200).assert_contains("olena@news.test").assert_not_contains("reader@news.test");

    // The ledger's sums appear in the revenue report (aggregates built on upgrade).
    let revenue = crate::reports::parse_csv(&staff.get("/admin/reports/revenue.csv?range=all").send().await.body);
    // Two memberships of €6.00 and a gift of €10.00, fees €0.34, €0.34 and €0.40.
    let total = revenue.iter().find(|r| r[0] == "total").expect("a total row");
    assert_eq!(total[1..7], ["EUR", "3", "12.00", "10.00", "22.00", "1.08"], "{revenue:?}");
    assert_eq!(total[11], "20.92", "{revenue:?}");
    staff.get("/admin").send().await.assert_status(200);
}

/// A value bound to a statement in the old schema.
enum Bind {
    Text(String),
    Int(i64),
}

impl From<&str> for Bind {
    fn from(s: &str) -> Self {
        Bind::Text(s.to_string())
    }
}

impl From<i64> for Bind {
    fn from(i: i64) -> Self {
        Bind::Int(i)
    }
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s),
            Bind::Int(i) => q.bind(i),
        };
    }
    q
}

/// Tests that need PostgreSQL: `.ci/run` runs them in its PostgreSQL step and skips
/// `postgres_only::` in its SQLite step.
mod postgres_only {
    use super::*;

    /// The README's PostgreSQL backup, as written there: `pg_dump --format=custom`, then
    /// `pg_restore --no-owner` into a new, empty database gives back every row. Runs
    /// only on PostgreSQL with `pg_dump` installed (it prints why it passes without,
    /// and fails under CI=true).
    #[tokio::test]
    async fn a_backup_with_pg_dump_restores_every_row_with_pg_restore() {
        let app = TestApp::spawn().await;
        let url = app.config.database_url.clone();
        let tools = std::process::Command::new("pg_dump").arg("--version").output().is_ok_and(|o| o.status.success());
        if !url.starts_with("postgres") || !tools {
            let why = if tools { "TEST_DATABASE_URL is not set" } else { "pg_dump is not installed" };
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {why}");
            eprintln!("skipped: {why}");
            return;
        }
        demo_data::generate(&app.ctx, Options { members: 200, months: 12, seed: 2 }).await.expect("demo data");
        let dir = temp_dir();
        let dump = dir.join("patronage.dump");
        let run = |program: &str, args: Vec<String>| {
            let out = std::process::Command::new(program).args(&args).output().expect("the tool runs");
            assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        run("pg_dump", vec!["--format=custom".into(), format!("--file={}", dump.display()), url.clone()]);
        let target = TestDb::create_empty(true).await.expect("a database");
        run(
            "pg_restore",
            vec!["--no-owner".into(), "--exit-on-error".into(), format!("--dbname={}", target.url), s(&dump).into()],
        );
        assert_eq!(table_counts(&target.url).await, table_counts(&url).await);
        let (before, after) = (dir.join("before.jsonl"), dir.join("after.jsonl"));
        ok(&patronage(&url, &["export", s(&before)]).await);
        ok(&patronage(&target.url, &["export", s(&after)]).await);
        assert!(row_lines(&before) == row_lines(&after), "every row is back");
        target.drop_database().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Unmounts a test's file system when dropped (also when the test fails).
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// SQLite on a full disk: the database lives on a small tmpfs of its own, which the
/// test fills (a real ENOSPC, SQLite's "database or disk is full"; the tests run
/// as root, so file permissions could not make it read-only, and remounting it
/// read-only is refused while the file is open for writing). Needs permission to
/// mount; without it the test prints why and passes.
#[tokio::test]
async fn on_a_full_disk_changes_get_503_store_nothing_and_work_again_once_space_is_freed() {
    if crate::helpers::test_db::postgres_server_url().is_some() {
        eprintln!("skipped: a SQLite condition");
        return;
    }
    let dir = temp_dir();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
        .arg(&dir)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)");
        let _ = std::fs::remove_dir_all(dir);
        return;
    }
    let mount = Mounted(dir.clone());
    let app = TestApp::builder().on_database(TestDb::sqlite_at(dir.join("patronage.db"))).spawn().await;
    app.post_join(&app.client, "first@news.test", "").await.assert_status(303);
    app.deliver_mail().await;

    let filler = dir.join("filler");
    {
        use std::io::Write as _;
        let mut file = std::fs::File::create(&filler).expect("a filler file");
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).and_then(|()| file.flush()).is_ok() {}
    }
    let reader = app.new_browser();
    // Every attempt, not only the first: a refused transaction must not leave its
    // pooled connection unusable for the next.
    for _ in 0..4 {
        let full = app.post_join(&reader, "second@news.test", "Second").await;
        full.assert_status(503).assert_contains("cannot save anything right now");
        assert_eq!(full.header("retry-after").as_deref(), Some("60"));
    }
    // Reading goes on; nothing was stored and no mail is queued.
    assert_eq!(app.member_count().await, 1);
    assert_eq!(app.outbox_count().await, 1, "only the first member's sign-in mail, sent");
    app.client.get("/healthz").send().await.assert_status(200);
    app.client.get("/topics").send().await.assert_status(200);
    // In the reader's language.
    let ukrainian = app.new_browser();
    let again = ukrainian
        .post_form("/join", &[("email", "third@news.test"), ("name", "")])
        .header("accept-language", "uk")
        .send()
        .await;
    again.assert_status(503).assert_contains("Зараз ми не можемо нічого зберегти");

    // Space comes back: the same process takes changes again.
    std::fs::remove_file(&filler).expect("the filler goes");
    for (n, email) in ["second@news.test", "third@news.test", "fourth@news.test", "fifth@news.test"].iter().enumerate()
    {
        app.post_join(&app.new_browser(), email, "").await.assert_status(303);
        assert_eq!(app.member_count().await, n as i64 + 2);
    }
    app.deliver_mail().await;
    drop(app);
    drop(mount);
}

/// Members per standing bucket, as the trigger keeps them.
async fn standing_counts(url: &str) -> Vec<(i64, i64, i64, i64)> {
    let mut conn = AnyConnection::connect(url).await.expect("connects");
    sqlx::query_as("select sub_rank, paying, deleted, members from standing_counts order by 1, 2, 3")
        .fetch_all(&mut conn)
        .await
        .expect("standing counts")
}

/// The donor counts kept by triggers (migration 0028), every row, as text.
async fn donor_counts(url: &str) -> Vec<String> {
    let mut conn = AnyConnection::connect(url).await.expect("connects");
    let mut rows = Vec::new();
    for sql in [
        "select month || ' ' || currency || ' ' || cast(donors as text) || ' ' || cast(gifts as text)
         from donor_month_counts order by month, currency",
        "select currency || ' ' || donor || ' ' || cast(months as text) || ' ' || cast(gifts as text)
         from donor_totals order by currency, donor",
        "select currency || ' ' || cast(donors as text) || ' ' || cast(repeat_donors as text) || ' ' || cast(gifts as text)
         from donor_counts order by currency",
    ] {
        let some: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&mut conn).await.expect("donor counts");
        rows.extend(some.into_iter().map(|(r,)| r));
    }
    rows
}
