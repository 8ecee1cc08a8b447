//! The command line: `serve` (default), `migrate`, `staff add`, `demo-data`, `stripe sync`,
//! `backup`, `restore`, `export`, `import`, `healthcheck`, `version`.
use clap::{Parser, Subcommand};

use crate::clock::Clock;
use crate::config::{Config, Settings};
use crate::domain::{Email, Role};
use crate::services::audit::Actor;
use crate::services::staff;
use crate::startup::{self, Application};
use crate::telemetry;

#[derive(Parser, Debug)]
#[command(
    name = "patronage",
    version,
    about = "Reader membership, donations and topic voting for independent newsrooms"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the site (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Fill the database with a realistic, deterministic demo newsroom.
    DemoData {
        /// How many members to create.
        #[arg(long, default_value_t = 2000)]
        members: u32,
        /// Over how many months they joined.
        #[arg(long, default_value_t = 24)]
        months: u32,
        /// The same seed gives the same newsroom.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// For load testing: afterwards sign in this many members who may vote
        /// (ordinary 30-day sessions) and write their session cookie values to
        /// --sessions-file, one per line.
        #[arg(long, default_value_t = 0, requires = "sessions_file")]
        sessions: u32,
        /// Where --sessions writes the cookie values (created with mode 0600).
        #[arg(long, requires = "sessions")]
        sessions_file: Option<std::path::PathBuf>,
        /// For load testing at scale: add one-time gifts until the ledger holds
        /// at least this many rows (e.g. 1000000).
        #[arg(long, default_value_t = 0)]
        payments: u64,
    },
    /// Stripe maintenance.
    Stripe {
        #[command(subcommand)]
        command: StripeCommand,
    },
    /// SQLite: copy the database to a new FILE while the site serves (a consistent
    /// snapshot, checked). On PostgreSQL use pg_dump (README).
    Backup {
        /// The new file (never overwritten).
        file: std::path::PathBuf,
    },
    /// SQLite: put a backup FILE in place of the database (stop Patronage first);
    /// the database it replaces is kept beside it.
    Restore {
        file: std::path::PathBuf,
        /// Restore even though a process has the database open (what it writes afterwards is lost).
        #[arg(long)]
        force: bool,
    },
    /// Write the whole newsroom (every table's rows) to a new FILE, from one snapshot.
    Export {
        /// The only format: JSON lines (README, "Backups, moving and upgrading").
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
        /// The new file (never overwritten; created readable by its owner only).
        file: std::path::PathBuf,
    },
    /// Read a file written by `export` into the database, in one transaction.
    Import {
        file: std::path::PathBuf,
        /// Delete everything in the database first (otherwise a database that holds
        /// a newsroom's data is refused).
        #[arg(long)]
        replace: bool,
    },
    /// Exit 0 when the instance on BIND_ADDR answers `GET /readyz` with 200 (for
    /// container health checks: the image has no curl).
    Healthcheck,
    /// Print the version.
    Version,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ExportFormat {
    Json,
}

#[derive(Subcommand, Debug)]
pub enum StripeCommand {
    /// Re-read every subscription and paid invoice from Stripe and repair our records (idempotent).
    Sync,
}

#[derive(Subcommand, Debug)]
pub enum StaffCommand {
    /// Create a staff account (or change an existing one's role) and print a one-time set-password link.
    Add {
        #[arg(long)]
        email: String,
        /// admin, editor or analyst
        #[arg(long)]
        role: String,
    },
}

/// Prints a banner line; a closed stdout (e.g. piped into `head`) must not stop the server.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Version = command {
        say!("patronage {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let config = Config::from_settings(cli.settings)?;
    if let Command::Healthcheck = command {
        return healthcheck(config.bind_addr).await;
    }
    telemetry::init_logging(config.log_format);
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            startup::open_context(&config, Clock::default()).await?;
            say!("migrations applied");
            Ok(())
        }
        Command::Staff { command: StaffCommand::Add { email, role } } => {
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let ctx = startup::open_context(&config, Clock::default()).await?;
            let (user, link) = staff::invite(&ctx, &Actor::cli(), &email, role, true).await?;
            say!(
                "Staff account {} ({}). One-time link to set the password (valid 3 days):\n{link}",
                user.email,
                user.role
            );
            Ok(())
        }
        Command::DemoData { members, months, seed, sessions, sessions_file, payments } => {
            let mut ctx = startup::open_context(&config, Clock::default()).await?;
            let started = std::time::Instant::now();
            let options = crate::services::demo_data::Options { members, months, seed };
            let (r, added) = if ctx.db.backend() == crate::db::Backend::Postgres {
                let (report, added) = demo_data_through_sqlite(&config, &ctx, options, payments).await?;
                // The import replaced the settings: read them (and the key) afresh.
                ctx = startup::open_context(&config, Clock::default()).await?;
                (report, Some(added))
            } else {
                (crate::services::demo_data::generate(&ctx, options).await?, None)
            };
            say!(
                "Demo newsroom ready in {:.1} s: {} members, {} subscriptions, {} ledger rows, {} MRR movements, \
                 {} topics, {} voting rounds, {} votes.\n\
                 Sign in as a demo patron: ask for a link for {} (with no SMTP_URL it is printed in the server log).",
                started.elapsed().as_secs_f64(),
                r.members,
                r.subscriptions,
                r.ledger_rows,
                r.mrr_movements,
                r.topics,
                r.rounds,
                r.votes,
                crate::services::demo_data::DEMO_PATRON
            );
            if let Some(added) = added {
                say!("{added} one-time gifts among them: the ledger holds at least {payments} rows.");
            } else if payments > 0 {
                let started = std::time::Instant::now();
                let added = crate::services::demo_data::top_up_ledger(&ctx, payments, months, seed).await?;
                say!(
                    "{added} one-time gifts added in {:.1} s: the ledger holds at least {payments} rows.",
                    started.elapsed().as_secs_f64()
                );
            }
            if let Some(path) = sessions_file {
                let cookies = crate::services::demo_data::sign_in_voters(&ctx, sessions).await?;
                write_secret_lines(&path, &cookies)?;
                say!(
                    "{} member sessions of patrons who may vote written to {} (asked for {sessions}).",
                    cookies.len(),
                    path.display()
                );
            }
            Ok(())
        }
        Command::Stripe { command: StripeCommand::Sync } => {
            let ctx = startup::open_context(&config, Clock::default()).await?;
            let r = crate::services::stripe_events::sync_all(&ctx).await?;
            say!(
                "Stripe sync done: {} subscriptions, {} paid invoices and {} refunded charges applied, {} not ours, {} waiting (no member yet, or a refund whose payment is not recorded)",
                r.subscriptions,
                r.invoices,
                r.refunded_charges,
                r.ignored,
                r.unmatched
            );
            Ok(())
        }
        Command::Backup { file } => {
            let db = startup::open_database(&config, false).await?;
            let started = std::time::Instant::now();
            let r = crate::services::backup::backup(&db, &file).await;
            db.close().await;
            let r = r?;
            say!(
                "Backup written to {} ({} bytes, schema {}, integrity ok) in {:.1} s.",
                r.path.display(),
                r.bytes,
                r.schema_version,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { file, force } => {
            // The newest schema this binary knows, without opening the target.
            let latest = crate::db::Db::latest_known_migration(&config.database_url);
            let now = Clock::default().now() / crate::clock::SECOND;
            let r = crate::services::backup::restore(&config.database_url, &file, force, latest, now).await?;
            say!("Restored {} from {} (schema {}).", r.path.display(), file.display(), r.schema_version);
            if let Some(kept) = r.kept {
                say!("The database it replaced is kept as {}.", kept.display());
            }
            say!("Start Patronage on it now; it applies any newer migrations as it starts.");
            Ok(())
        }
        Command::Export { format: ExportFormat::Json, file } => {
            let db = startup::open_database(&config, false).await?;
            let started = std::time::Instant::now();
            let r = crate::services::backup::export(&db, &file, Clock::default().now()).await;
            db.close().await;
            let r = r?;
            say!(
                "Exported {} rows of {} tables (schema {}) to {} in {:.1} s.",
                r.rows,
                r.tables,
                r.schema_version,
                r.path.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Import { file, replace } => {
            if !file.is_file() {
                anyhow::bail!("{}: no such export file", file.display());
            }
            let db = startup::open_database(&config, true).await?;
            let started = std::time::Instant::now();
            let r = crate::services::backup::import(&db, &file, replace).await;
            db.close().await;
            let r = r?;
            say!(
                "Imported {} rows (schema {}, exported from {}) in {:.1} s.",
                r.rows,
                r.schema_version,
                r.from_backend,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Version | Command::Healthcheck => Ok(()),
    }
}

/// `demo-data` on PostgreSQL: the same newsroom, made in a scratch SQLite file
/// and imported (`patronage import`'s multi-row inserts, one transaction). Made
/// there, it writes each row with its aggregates in-process; made over the wire,
/// each of those statements is a round trip, and 100,000 members took over an
/// hour. The scratch starts as a copy of this database's settings, key and tiers,
/// so the newsroom is made from them and keeps them; like an import, it wants a
/// database without a newsroom's data. Returns the report and the gifts added.
async fn demo_data_through_sqlite(
    config: &Config,
    target: &crate::services::Context,
    options: crate::services::demo_data::Options,
    payments: u64,
) -> anyhow::Result<(crate::services::demo_data::Report, u64)> {
    use crate::services::{backup, demo_data};
    {
        let mut tx = target.db.snapshot().await?;
        let holding = backup::tables_with_data(&mut tx).await?;
        if !holding.is_empty() {
            anyhow::bail!(
                "demo data on PostgreSQL needs a database without a newsroom's data (this one has rows in {}); \
                 create a new database for it",
                holding.join(", ")
            );
        }
    }
    let dir = std::env::temp_dir().join(format!("patronage-demo-{}-{}", std::process::id(), uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let made = async {
        let clock = Clock::default();
        let scratch_config =
            Config { database_url: format!("sqlite://{}?mode=rwc", dir.join("demo.db").display()), ..config.clone() };
        let (settings, newsroom) = (dir.join("settings.jsonl"), dir.join("newsroom.jsonl"));
        backup::export(&target.db, &settings, clock.now()).await?;
        let scratch = startup::open_database(&scratch_config, true).await?;
        let copied = backup::import(&scratch, &settings, false).await;
        scratch.close().await;
        copied?;
        let scratch = startup::open_context(&scratch_config, clock.clone()).await?;
        let report = demo_data::generate(&scratch, options).await?;
        let added = demo_data::top_up_ledger(&scratch, payments, options.months, options.seed).await?;
        let exported = backup::export(&scratch.db, &newsroom, scratch.clock.now()).await;
        scratch.db.close().await;
        exported?;
        backup::import(&target.db, &newsroom, false).await?;
        anyhow::Ok((report, added))
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    made
}

/// `GET /readyz` on this machine's instance at `bind_addr` (a wildcard address is
/// reached over loopback), within five seconds; an error unless the answer is 200.
async fn healthcheck(bind_addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut addr = bind_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = Vec::new();
        stream.take(4096).read_to_end(&mut head).await?;
        Ok::<_, std::io::Error>(head)
    };
    let head = tokio::time::timeout(std::time::Duration::from_secs(5), check)
        .await
        .map_err(|_| anyhow::anyhow!("http://{addr}/readyz did not answer within 5 s"))?
        .map_err(|e| anyhow::anyhow!("http://{addr}/readyz: {e}"))?;
    let head = String::from_utf8_lossy(&head);
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        say!("ready");
        Ok(())
    } else {
        Err(anyhow::anyhow!("http://{addr}/readyz answered {status:?}: not ready"))
    }
}

/// Writes `lines` to a new file only its owner can read (the values are credentials).
fn write_secret_lines(path: &std::path::Path, lines: &[String]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        // `mode` applies only when the file is created; tighten an existing one too.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut file = std::io::BufWriter::new(
        options.open(path).map_err(|e| anyhow::anyhow!("--sessions-file {}: {e}", path.display()))?,
    );
    for line in lines {
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    let addr = app.local_addr();
    let config = app.config().clone();
    let backend = if config.database_url.starts_with("sqlite:") { "SQLite" } else { "PostgreSQL" };
    say!("Patronage is serving {} at {}  (listening on {addr}, {backend})", config.newsroom_name, config.public_url);
    if let Some(link) = staff::setup_link_if_needed(app.context()).await? {
        say!("No staff account exists yet. Create the first administrator here (link valid 24 hours):\n  {link}");
    } else {
        say!(
            "Staff sign in at {}/admin/login  (new accounts: `patronage staff add --email E --role admin`)",
            config.public_url
        );
    }
    if config.smtp_url.is_none() {
        say!("SMTP_URL is not set: emails (with their sign-in links) are written to this log.");
    }
    app.run_until_stopped(startup::shutdown_signal()).await
}
