//! A fresh database per test: a SQLite temp file by default, or a new PostgreSQL
//! database on the server named by TEST_DATABASE_URL, dropped afterwards.
//!
//! On PostgreSQL each test's database is a copy of a migrated template
//! (`patronage_template_<hash of migrations/postgres>`), which the first test to need it
//! creates; copying takes a fraction of the time of running every migration.
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AssertSqlSafe, Connection};
use tokio::sync::OnceCell;

/// Work a test left for a job that never ran.
pub struct Leftovers {
    /// Mail neither sent nor given up on.
    pub pending_mail: i64,
    /// Stripe events stored but not applied yet: the job would (re)try them.
    pub pending_stripe_events: i64,
    /// Voting rounds whose closing time has come that nobody has closed and counted.
    pub unclosed_rounds: i64,
}

pub struct TestDb {
    pub url: String,
    kind: Kind,
}

enum Kind {
    Sqlite { path: std::path::PathBuf },
    Postgres { server_url: String, name: String },
}

impl TestDb {
    pub async fn create() -> TestDb {
        sqlx::any::install_default_drivers();
        let id = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(server_url) => {
                assert!(server_url.starts_with("postgres"), "TEST_DATABASE_URL must be a postgres:// URL");
                let server_url = patronage::db::plain_on_loopback(&server_url).into_owned();
                let template = template(&server_url).await;
                let name = format!("patronage_test_{id}");
                let mut server = connect_to_server(&server_url).await;
                execute(&mut server, format!("create database {name} template {template}")).await.unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL could not create a database: {e}")
                });
                let _ = server.close().await;
                let url = replace_database(&server_url, &name);
                TestDb { url, kind: Kind::Postgres { server_url, name } }
            }
            None => {
                let dir = std::env::temp_dir().join("patronage-tests");
                std::fs::create_dir_all(&dir).expect("the temp directory is writable");
                let path = dir.join(format!("{id}.db"));
                TestDb { url: format!("sqlite://{}?mode=rwc", path.display()), kind: Kind::Sqlite { path } }
            }
        }
    }

    /// A database with nothing in it (no migrations applied): a SQLite file not
    /// created yet, or, with `postgres` and TEST_DATABASE_URL set, a new PostgreSQL
    /// database. `None` for PostgreSQL without TEST_DATABASE_URL.
    pub async fn create_empty(postgres: bool) -> Option<TestDb> {
        sqlx::any::install_default_drivers();
        let id = uuid::Uuid::new_v4().simple().to_string();
        if postgres {
            let server_url = postgres_server_url()?;
            let name = format!("patronage_test_{id}");
            let mut server = connect_to_server(&server_url).await;
            execute(&mut server, format!("create database {name}")).await.expect("PostgreSQL creates a database");
            let _ = server.close().await;
            let url = replace_database(&server_url, &name);
            return Some(TestDb { url, kind: Kind::Postgres { server_url, name } });
        }
        let dir = std::env::temp_dir().join("patronage-tests");
        std::fs::create_dir_all(&dir).expect("the temp directory is writable");
        let path = dir.join(format!("{id}.db"));
        Some(TestDb { url: format!("sqlite://{}?mode=rwc", path.display()), kind: Kind::Sqlite { path } })
    }

    /// A SQLite database at `path` (created when the app starts), removed with it.
    pub fn sqlite_at(path: std::path::PathBuf) -> TestDb {
        sqlx::any::install_default_drivers();
        TestDb { url: format!("sqlite://{}?mode=rwc", path.display()), kind: Kind::Sqlite { path } }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.kind, Kind::Postgres { .. })
    }

    /// What the test left undone, read over a connection of its own; rounds are
    /// judged due against `now`, the app's clock when the test ended.
    pub async fn leftovers(&self, now: i64) -> Result<Leftovers, sqlx::Error> {
        let mut conn = AnyConnection::connect(&self.url).await?;
        let counts = sqlx::query_as(
            "select
                 (select count(*) from email_outbox where sent_at is null and failed_at is null),
                 (select count(*) from stripe_events where status = 'pending'),
                 (select count(*) from rounds where closed_at is null and closes_at <= $1)",
        )
        .bind(now)
        .fetch_one(&mut conn)
        .await;
        let _ = conn.close().await;
        let (pending_mail, pending_stripe_events, unclosed_rounds) = counts?;
        Ok(Leftovers { pending_mail, pending_stripe_events, unclosed_rounds })
    }

    pub async fn drop_database(self) {
        match self.kind {
            Kind::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Kind::Postgres { server_url, name } => {
                if let Ok(mut conn) = AnyConnection::connect(&server_url).await {
                    let _ = execute(&mut conn, format!("drop database if exists {name} with (force)")).await;
                    let _ = conn.close().await;
                }
            }
        }
    }
}

/// TEST_DATABASE_URL (loopback made plain), when set.
pub fn postgres_server_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
    Some(patronage::db::plain_on_loopback(&url).into_owned())
}

/// Held by whoever is creating a template, across every test process using the server.
const TEMPLATE_LOCK: i64 = 0x7061_7472_6f6e_6167; // "patronag"

/// The name of the migrated template for this checkout's migrations, created if missing.
/// Decided once per test process.
async fn template(server_url: &str) -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE.get_or_init(|| create_template_if_missing(server_url)).await
}

/// Creates `patronage_template_<hash>` unless a test process already did. Under an advisory
/// lock, so processes starting together create it once; built under a temporary name and
/// renamed when fully migrated, so nobody ever copies a half-migrated template. It takes
/// no connections, since PostgreSQL cannot copy a database anyone is connected to.
async fn create_template_if_missing(server_url: &str) -> String {
    let name = format!("patronage_template_{}", migrations_hash());
    let mut server = connect_to_server(server_url).await;
    // Released when this connection ends, also if the test panics half-way.
    sqlx::query("select pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut server)
        .await
        .expect("wait for the template lock");
    let (exists,): (i64,) = sqlx::query_as("select count(*) from pg_database where datname = $1")
        .bind(&name)
        .fetch_one(&mut server)
        .await
        .expect("look the template up");
    if exists == 0 {
        let building = format!("{name}_building");
        // A process that died while building leaves this behind; it was never renamed, so never used.
        execute(&mut server, format!("drop database if exists {building} with (force)"))
            .await
            .expect("drop a half-built template");
        execute(&mut server, format!("create database {building}")).await.expect("create the template");
        let db = patronage::db::Db::connect(&replace_database(server_url, &building))
            .await
            .expect("connect to the new template");
        db.migrate().await.expect("the migrations apply to an empty database");
        db.close().await;
        execute(&mut server, format!("alter database {building} with is_template true allow_connections false"))
            .await
            .expect("mark the template");
        execute(&mut server, format!("alter database {building} rename to {name}")).await.expect("name the template");
    }
    let _ = sqlx::query("select pg_advisory_unlock($1)").bind(TEMPLATE_LOCK).execute(&mut server).await;
    let _ = server.close().await;
    name
}

/// 16 hex digits of the SHA-256 over every PostgreSQL migration's file name and
/// contents: a changed, added or removed migration gets a template of its own.
fn migrations_hash() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("migrations/postgres is readable")
        .map(|entry| entry.expect("a readable directory entry").path())
        .collect();
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        hash.update(file.file_name().expect("a file name").as_encoded_bytes());
        hash.update([0]);
        hash.update(std::fs::read(&file).expect("a readable migration"));
        hash.update([0]);
    }
    patronage::tokens::hex(&hash.finalize()[..8])
}

async fn connect_to_server(server_url: &str) -> AnyConnection {
    // Under CI a missing PostgreSQL must fail the run, never skip it.
    AnyConnection::connect(server_url)
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL cannot be reached: {e}"))
}

async fn execute(conn: &mut AnyConnection, sql: String) -> Result<(), sqlx::Error> {
    sqlx::query(AssertSqlSafe(sql)).execute(conn).await.map(|_| ())
}

/// `postgres://u@h:5432/postgres?x=y` → `postgres://u@h:5432/<name>?x=y`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}
