//! A fresh database per test: a SQLite temp file by default, or a new PostgreSQL
//! database on the server named by TEST_DATABASE_URL, dropped afterwards.
use sqlx::migrate::MigrateDatabase;
use sqlx::{Any, Connection};

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
                let name = format!("patronage_test_{id}");
                let url = replace_database(&server_url, &name);
                // Under CI a missing PostgreSQL must fail the run, never skip it.
                Any::create_database(&url).await.unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL could not create a database: {e}")
                });
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

    /// What the test left undone, read over a connection of its own; rounds are
    /// judged due against `now`, the app's clock when the test ended.
    pub async fn leftovers(&self, now: i64) -> Result<Leftovers, sqlx::Error> {
        let mut conn = sqlx::AnyConnection::connect(&self.url).await?;
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
                if let Ok(mut conn) = sqlx::AnyConnection::connect(&server_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {name} with (force)")))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            }
        }
    }
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
