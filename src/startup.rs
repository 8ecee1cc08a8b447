//! Building and running the application: what `patronage serve` and the tests run.
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, Db};
use crate::http::state::Shared;
use crate::http::{self, AppState};
use crate::i18n::I18n;
use crate::jobs;
use crate::mail::Mailer;
use crate::payments::Payments;
use crate::services::Context;
use crate::telemetry;
use crate::tokens::{self, Keys};
use crate::views::Views;

const SECRET_KEY_SETTING: &str = "secret_key";

/// Connects to the database DATABASE_URL names, which must exist, and migrates it:
/// for the commands that copy a database (backup, export, import into a new one
/// is created by `create`).
pub async fn open_database(config: &Config, create: bool) -> anyhow::Result<Db> {
    if !create && !Db::exists(&config.database_url).await.unwrap_or(false) {
        anyhow::bail!("DATABASE_URL: no database there");
    }
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: cannot open the database: {e:#}"))?;
    db.migrate().await?;
    Ok(db)
}

/// Connects, migrates and loads the secret key: everything the CLI commands share.
pub async fn open_context(config: &Config, clock: Clock) -> anyhow::Result<Context> {
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: cannot open the database: {e:#}"))?;
    db.migrate().await?;
    let secret = match &config.secret_key {
        Some(secret) => secret.expose().to_string(),
        None => load_or_create_secret(&db, &clock).await?,
    };
    let i18n = Arc::new(I18n::load()?);
    let views = Arc::new(Views::load(i18n)?);
    // What a write through this instance changed is forgotten by its caches once committed.
    let caches = Arc::new(crate::services::cache::Caches::default());
    let db = db.on_change(caches.clone());
    let ctx = Context {
        db,
        clock,
        views,
        keys: Arc::new(Keys::new(&secret)),
        public_url: config.public_url.clone(),
        newsroom_name: config.newsroom_name.clone(),
        legal: config.legal.clone(),
        newsroom_language: config.newsroom_language,
        zone: config.zone.clone(),
        mail_wakeup: Arc::new(Notify::new()),
        stripe_wakeup: Arc::new(Notify::new()),
        caches,
        votes: Arc::default(),
        job_lease: config.job_lease,
        sources: Arc::new(crate::domain::SourcePolicy::new(&config.trusted_origins, &config.public_url)),
        past_due_grace: i64::from(config.past_due_grace_days) * crate::clock::DAY,
        card_fees: Arc::new(config.card_fees.clone()),
        payments: Payments::from_config(config.stripe.as_ref())
            .map_err(|e| anyhow::anyhow!("STRIPE_SECRET_KEY: {e}"))?,
    };
    crate::services::reports::prepare(&ctx)
        .await
        .map_err(|e| anyhow::anyhow!("cannot prepare the report months for NEWSROOM_TIMEZONE: {e}"))?;
    crate::services::tiers::localise_seeded(&ctx)
        .await
        .map_err(|e| anyhow::anyhow!("cannot give the first tiers their texts in both languages: {e}"))?;
    Ok(ctx)
}

/// The generated key is stored once; concurrent first starts agree on the winner.
async fn load_or_create_secret(db: &Db, clock: &Clock) -> anyhow::Result<String> {
    let candidate = tokens::new_token();
    if db::settings::insert_if_absent(&mut *db.write().await?, SECRET_KEY_SETTING, &candidate, clock.now()).await? {
        tracing::info!("generated a secret key and stored it in the database (set SECRET_KEY to manage it yourself)");
    }
    db::settings::get(db.read(), SECRET_KEY_SETTING)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the secret key setting vanished"))
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    mailer: Mailer,
    /// How often the background jobs poll, when this process runs them.
    jobs: Option<std::time::Duration>,
}

impl Application {
    /// Opens the database, applies migrations and binds the listener (so the port
    /// is known, and connections queue, before `run_until_stopped`).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Clock::default()).await
    }

    pub async fn build_with_clock(mut config: Config, clock: Clock) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind_addr)
            .await
            .map_err(|e| anyhow::anyhow!("BIND_ADDR: cannot listen on {}: {e}", config.bind_addr))?;
        if config.public_url_from_bind {
            config.public_url = format!("http://{}", listener.local_addr()?);
        }
        let ctx = open_context(&config, clock).await?;
        let mailer = Mailer::from_config(config.smtp_url.as_ref().map(|s| s.expose()), &config.mail_from)?;
        let job_poll = config.run_jobs.then_some(config.job_poll);
        let state = AppState::new(Shared {
            ctx,
            metrics: telemetry::metrics_handle(),
            css_url: http::public::css_url().into(),
            worker_id: jobs::worker_id().into(),
            pages: Arc::default(),
            member_pages: Arc::new(crate::http::page_cache::PageCache::per_member()),
            config: Arc::new(config),
        });
        Ok(Self { listener, state, mailer, jobs: job_poll })
    }

    pub fn config(&self) -> &Config {
        &self.state.config
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound TCP listener has a local address")
    }

    pub fn context(&self) -> &Context {
        &self.state.ctx
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// Serves until `shutdown` resolves, then stops taking connections, finishes
    /// in-flight requests and stops the background jobs cleanly.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let upkeep = tokio::spawn(metrics_upkeep(self.state.metrics.clone(), stop_rx.clone()));
        let jobs = match self.jobs {
            Some(poll) => jobs::spawn(self.state.ctx.clone(), self.mailer.clone(), poll, stop_rx),
            None => Vec::new(),
        };
        let db = self.state.ctx.db.clone();
        let limits = self.state.config.serve_limits;
        let app = http::router(self.state)?;
        crate::server::serve(self.listener, app, limits, shutdown).await?;
        let _ = stop_tx.send(true);
        for job in jobs {
            let _ = job.await;
        }
        let _ = upkeep.await;
        db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// How often the recorder folds its histogram samples into their buckets. The
/// samples wait in blocks on the heap until then: every second, at 30,000
/// requests a second that is about 0.3 MB instead of 1.5 MB at five.
const METRICS_UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The recorder keeps every histogram sample until it is folded into its
/// buckets, which only a `/metrics` scrape did: a newsroom that runs no
/// Prometheus grew by about 20 bytes a request, without end (measured: 22 MB in
/// 30 s of the landing page at 40,000 req/s). Folds them in every few seconds.
async fn metrics_upkeep(handle: metrics_exporter_prometheus::PrometheusHandle, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(METRICS_UPKEEP_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => handle.run_upkeep(),
            _ = stop.changed() => return,
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
