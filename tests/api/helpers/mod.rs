//! The test harness: the real application on 127.0.0.1:0 with a fresh database
//! (SQLite temp file, or a fresh PostgreSQL database when TEST_DATABASE_URL is
//! set), a real SMTP sink, and an HTTP client with a cookie jar.
#![allow(dead_code)]
pub mod browser;
mod concurrency;
pub mod http_client;
pub mod smtp_sink;
pub mod stripe_mock;
pub mod temp_postgres;
pub mod test_db;
pub mod voting;

use std::time::Duration;

use patronage::clock::{Clock, Micros};
use patronage::config::{Config, LogFormat, Settings};
use patronage::db::{self, Db};

use patronage::domain::{Email, Role};
use patronage::mail::Mailer;
use patronage::services::Context;
use patronage::services::audit::Actor;
use patronage::services::staff;
use patronage::startup::Application;
use tokio::sync::oneshot;

pub use concurrency::concurrently;
pub use http_client::{RequestBuilder, TestClient, TestResponse};
pub use smtp_sink::{ReceivedMail, SmtpSink};
pub use stripe_mock::StripeMock;
pub use temp_postgres::TempPostgres;
pub use test_db::TestDb;

pub const STAFF_PASSWORD: &str = "correct horse battery staple";
pub const WEBHOOK_SECRET: &str = "whsec_test_secret_for_patronage";

pub struct TestAppBuilder {
    trusted_origins: Vec<String>,
    newsroom_site_origins: Vec<String>,
    trust_forwarded_for: bool,
    run_jobs: bool,
    public_url: Option<String>,
    stripe: bool,
    serve_limits: Option<patronage::server::Limits>,
    job_poll: Option<Duration>,
    card_fees: Option<String>,
    timezone: Option<String>,
    database: Option<TestDb>,
    legal: Option<(String, String)>,
}

pub struct TestApp {
    pub base_url: String,
    /// A browser: cookie jar, same-origin form posts.
    pub client: TestClient,
    pub smtp: SmtpSink,
    pub ctx: Context,
    pub config: Config,
    /// The Stripe mock, when the app was built `with_stripe()`.
    pub stripe: Option<StripeMock>,
    mailer: Mailer,
    worker: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    test_db: Option<TestDb>,
    allow_pending_mail: bool,
    allow_pending_stripe_events: bool,
    allow_unclosed_rounds: bool,
}

impl TestAppBuilder {
    pub fn trusted_origin(mut self, origin: &str) -> Self {
        self.trusted_origins.push(origin.to_string());
        self
    }

    /// NEWSROOM_SITE_ORIGINS (default: the trusted origins).
    pub fn newsroom_site(mut self, origin: &str) -> Self {
        self.newsroom_site_origins.push(origin.to_string());
        self
    }

    /// TRUST_FORWARDED_FOR: the client address is the last `X-Forwarded-For` hop, so
    /// a test can speak from many addresses.
    pub fn trust_forwarded_for(mut self) -> Self {
        self.trust_forwarded_for = true;
        self
    }

    /// Runs the background job loops, as `patronage serve` does.
    pub fn with_background_jobs(mut self) -> Self {
        self.run_jobs = true;
        self
    }

    /// Real Stripe code paths, pointed at a loopback mock.
    pub fn with_stripe(mut self) -> Self {
        self.stripe = true;
        self
    }

    /// How long a request's headers may take and how many connections one client may hold.
    pub fn serve_limits(mut self, limits: patronage::server::Limits) -> Self {
        self.serve_limits = Some(limits);
        self
    }

    /// How often the background jobs look for work nothing woke them for.
    pub fn job_poll(mut self, every: Duration) -> Self {
        self.job_poll = Some(every);
        self
    }

    /// CARD_FEES, e.g. `eur=1.5%+0.25,jpy=3.6%`.
    pub fn card_fees(mut self, fees: &str) -> Self {
        self.card_fees = Some(fees.to_string());
        self
    }

    /// `NEWSROOM_TIMEZONE` (default UTC).
    pub fn timezone(mut self, zone: &str) -> Self {
        self.timezone = Some(zone.to_string());
        self
    }

    /// `NEWSROOM_LEGAL_NAME` and `NEWSROOM_ADDRESS` (default: the newsroom's name, no address).
    pub fn legal_entity(mut self, name: &str, address: &str) -> Self {
        self.legal = Some((name.to_string(), address.to_string()));
        self
    }

    /// Runs on a database the test prepared (e.g. in an older schema) instead of a
    /// fresh one; it is migrated as the app starts, and dropped with the app.
    pub fn on_database(mut self, db: TestDb) -> Self {
        self.database = Some(db);
        self
    }

    pub fn public_url(mut self, url: &str) -> Self {
        self.public_url = Some(url.to_string());
        self
    }

    pub async fn spawn(self) -> TestApp {
        // Logs go through libtest's capture: shown for failing tests only.
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
        let test_db = match self.database {
            Some(db) => db,
            None => TestDb::create().await,
        };
        let smtp = SmtpSink::start().await;
        let stripe = if self.stripe { Some(StripeMock::start().await) } else { None };
        let settings = Settings {
            database_url: test_db.url.clone(),
            bind_addr: "127.0.0.1:0".parse().expect("a valid socket address"),
            public_url: self.public_url,
            secret_key: Some("test-secret-key-test-secret-key-0123456789".into()),
            smtp_url: Some(smtp.url()),
            mail_from: "Test Newsroom <members@news.test>".into(),
            trusted_origins: self.trusted_origins.join(","),
            newsroom_site_origins: self.newsroom_site_origins.join(","),
            newsroom_name: "The Test Gazette".into(),
            newsroom_legal_name: self.legal.as_ref().map(|l| l.0.clone()).unwrap_or_default(),
            newsroom_address: self.legal.as_ref().map(|l| l.1.clone()).unwrap_or_default(),
            newsroom_language: "en".into(),
            log_format: LogFormat::Text,
            trust_forwarded_for: self.trust_forwarded_for,
            stripe_secret_key: stripe.as_ref().map(|_| "sk_test_patronage".to_string()),
            stripe_webhook_secret: stripe.as_ref().map(|_| WEBHOOK_SECRET.to_string()),
            stripe_api_base: stripe.as_ref().map(|m| m.base_url.clone()),
            past_due_grace_days: 14,
            newsroom_timezone: self.timezone.unwrap_or_else(|| "UTC".into()),
            header_read_timeout_ms: 10_000,
            max_connections_per_client: 256,
            job_lease_seconds: 120,
            card_fees: self.card_fees.unwrap_or_default(),
        };
        let mut config = Config::from_settings(settings).expect("the test configuration is valid");
        config.run_jobs = self.run_jobs;
        if let Some(every) = self.job_poll {
            config.job_poll = every;
        }
        if let Some(limits) = self.serve_limits {
            config.serve_limits = limits;
        }
        let app = Application::build_with_clock(config, Clock::default()).await.expect("the application builds");
        let base_url = format!("http://{}", app.local_addr());
        let ctx = app.context().clone();
        let mailer = app.mailer().clone();
        let config = app.config().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        TestApp {
            client: TestClient::new(&base_url),
            base_url,
            smtp,
            ctx,
            config,
            stripe,
            mailer,
            worker: patronage::jobs::worker_id(),
            shutdown: Some(tx),
            server: Some(server),
            test_db: Some(test_db),
            allow_pending_mail: false,
            allow_pending_stripe_events: false,
            allow_unclosed_rounds: false,
        }
    }
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            trusted_origins: Vec::new(),
            newsroom_site_origins: Vec::new(),
            trust_forwarded_for: false,
            run_jobs: false,
            public_url: None,
            stripe: false,
            serve_limits: None,
            job_poll: None,
            card_fees: None,
            timezone: None,
            database: None,
            legal: None,
        }
    }

    pub async fn spawn() -> TestApp {
        Self::builder().spawn().await
    }

    pub fn db(&self) -> &Db {
        &self.ctx.db
    }

    pub fn clock(&self) -> &Clock {
        &self.ctx.clock
    }

    pub fn advance_clock(&self, by: Micros) {
        self.ctx.clock.advance(by);
    }

    /// Moves the clock to a second after the next `limit` window starts, so a test counting hits
    /// against a rate limit never sees the window roll over half-way.
    pub fn start_a_fresh_window(&self, limit: patronage::services::rate_limit::Limit) {
        let now = self.clock().now();
        self.advance_clock(limit.window - now.rem_euclid(limit.window) + patronage::clock::SECOND);
    }

    /// A second browser with its own cookies.
    pub fn new_browser(&self) -> TestClient {
        self.client.fork_without_cookies()
    }

    /// Runs every queue (the mail outbox) until nothing is due.
    pub async fn drain_jobs(&self) -> usize {
        patronage::jobs::drain(&self.ctx, &self.mailer, &self.worker).await.expect("jobs run")
    }

    /// Drains the queues and returns the mail that arrived at the sink since `before`.
    pub async fn deliver_mail(&self) -> Vec<ReceivedMail> {
        let before = self.smtp.count();
        self.drain_jobs().await;
        self.smtp.received().into_iter().skip(before).collect()
    }

    /// Stops the app as SIGTERM would: no new connections, requests in flight and the
    /// background jobs' current work finish first.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let finished = tokio::time::timeout(WAIT, server).await.expect("the app stops within the wait");
            finished.expect("the server task did not panic").expect("the server stopped cleanly");
        }
    }

    /// The test ends with mail still queued on purpose (e.g. the mail server is down).
    pub fn allow_pending_mail(&mut self) {
        self.allow_pending_mail = true;
    }

    /// The test ends with Stripe events still waiting to be applied on purpose (e.g. Stripe
    /// is down, so they stay pending for a retry).
    pub fn allow_pending_stripe_events(&mut self) {
        self.allow_pending_stripe_events = true;
    }

    /// The test ends with a voting round past its closing time that no job has closed,
    /// on purpose (e.g. it checks what readers see before the count).
    pub fn allow_unclosed_rounds(&mut self) {
        self.allow_unclosed_rounds = true;
    }

    pub async fn post_join(&self, browser: &TestClient, email: &str, name: &str) -> TestResponse {
        browser.post_form("/join", &[("email", email), ("name", name)]).send().await
    }

    /// Joins (or signs in) with `email` through the real pages and the real email,
    /// leaving `browser` signed in.
    pub async fn sign_in_member(&self, browser: &TestClient, email: &str) -> TestResponse {
        self.post_join(browser, email, "").await.assert_status(303);
        let mail = self.deliver_mail().await;
        let mail = mail
            .iter()
            .rev()
            .find(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(email)))
            .expect("a sign-in email arrived");
        let link = mail.first_link_containing("/signin/confirm").expect("the email has a sign-in link");
        let token = token_of(&link);
        browser.get(&link).send().await.assert_status(200);
        let response = browser.post_form("/signin/confirm", &[("token", &token)]).send().await;
        response.assert_status(303);
        assert_eq!(response.location().as_deref(), Some("/account"));
        response
    }

    /// Creates a staff account with a password and signs `browser` in with it.
    pub async fn sign_in_staff(&self, browser: &TestClient, email: &str, role: Role) {
        let parsed = Email::parse(email).expect("a valid test email");
        let (user, _link) = staff::invite(&self.ctx, &Actor::cli(), &parsed, role, true).await.expect("staff invited");
        let hash = staff::hash_password(&patronage::domain::Password::parse(STAFF_PASSWORD).expect("long enough"))
            .await
            .expect("hashed");
        db::staff::set_password_hash(&mut *self.db().write().await.expect("a write"), user.id, &hash)
            .await
            .expect("password stored");
        browser
            .post_form("/admin/login", &[("email", email), ("password", STAFF_PASSWORD)])
            .send()
            .await
            .assert_status(303);
    }

    /// Our live price id for a tier slug, interval and currency.
    pub async fn price_id(&self, slug: &str, interval: &str, currency: &str) -> String {
        let (id,): (String,) = sqlx::query_as(
            "select p.id from tier_prices p join tiers t on t.id = p.tier_id
             where t.slug = $1 and p.interval = $2 and p.currency = $3 and p.archived_at is null",
        )
        .bind(slug)
        .bind(interval)
        .bind(currency)
        .fetch_one(self.db().read())
        .await
        .expect("a live price");
        id
    }

    pub fn stripe(&self) -> &StripeMock {
        self.stripe.as_ref().expect("the app was built with_stripe()")
    }

    /// Delivers a Stripe event signed with the real scheme (HMAC-SHA256 over
    /// `"<t>.<body>"`), as Stripe's servers would, then applies it as the background
    /// job would on being woken (see [`TestApp::stripe_event_status`] for the outcome).
    pub async fn send_stripe_event(&self, event_type: &str, object: serde_json::Value) -> (String, TestResponse) {
        let (id, body) = stripe_event(event_type, object);
        let r = self.deliver_signed(&body).await;
        if r.status == 200 {
            self.apply_stripe_event(&id).await;
        }
        (id, r)
    }

    /// Delivers a signed event body and leaves it stored, not applied.
    pub async fn deliver_signed(&self, body: &str) -> TestResponse {
        let header = stripe_signature(body, WEBHOOK_SECRET, self.clock().now() / 1_000_000);
        self.post_webhook(body, Some(&header)).await
    }

    /// Applies one stored Stripe event if it is due, as the job does.
    pub async fn apply_stripe_event(&self, id: &str) {
        patronage::services::stripe_events::process(&self.ctx, Some(id), &self.worker)
            .await
            .expect("the event's attempt is recorded");
    }

    /// A stored event's status: pending, applied, ignored, unmatched, failed or unreadable.
    pub async fn stripe_event_status(&self, id: &str) -> String {
        let (status,): (String,) = sqlx::query_as("select status from stripe_events where id = $1")
            .bind(id)
            .fetch_one(self.db().read())
            .await
            .expect("the event is stored");
        status
    }

    pub async fn post_webhook(&self, body: &str, signature: Option<&str>) -> TestResponse {
        let stripe = self.new_browser();
        let mut request = stripe
            .post_raw("/webhooks/stripe", "application/json", body.as_bytes().to_vec())
            .without_default("origin")
            .without_default("sec-fetch-site");
        if let Some(sig) = signature {
            request = request.header("stripe-signature", sig);
        }
        request.send().await
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(self.db().read()).await.expect("count query runs");
        n
    }

    /// The id of the member with `email`.
    pub async fn member_id(&self, email: &str) -> patronage::domain::MemberId {
        let (id,): (String,) = sqlx::query_as("select id from members where email = $1")
            .bind(email)
            .fetch_one(self.db().read())
            .await
            .expect("the member");
        id.parse().expect("a member id")
    }

    /// The id of the tier with `slug`.
    pub async fn tier_id(&self, slug: &str) -> String {
        let (id,): (String,) = sqlx::query_as("select id from tiers where slug = $1")
            .bind(slug)
            .fetch_one(self.db().read())
            .await
            .expect("tier");
        id
    }

    pub async fn member_count(&self) -> i64 {
        self.count("select count(*) from members").await
    }

    pub async fn outbox_count(&self) -> i64 {
        self.count("select count(*) from email_outbox").await
    }
}

/// A Stripe event envelope (Stripe's own example) around `object`; returns its id and JSON.
pub fn stripe_event(event_type: &str, object: serde_json::Value) -> (String, String) {
    let id = format!("evt_test{}", uuid::Uuid::new_v4().simple());
    let mut event = stripe_mock::fixture("event");
    event["id"] = serde_json::json!(id);
    event["type"] = serde_json::json!(event_type);
    event["created"] = serde_json::json!(1_790_000_000);
    event["data"] = serde_json::json!({ "object": object });
    (id, event.to_string())
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn stripe_signature(body: &str, secret: &str, timestamp: i64) -> String {
    format!("t={timestamp},v1={}", stripe_v1(body, secret, timestamp))
}

pub fn stripe_v1(body: &str, secret: &str, timestamp: i64) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    patronage::tokens::hex(&mac.finalize().into_bytes())
}

/// The `token` query parameter of a link.
pub fn token_of(link: &str) -> String {
    link.split("token=").nth(1).map(|t| t.split('&').next().unwrap_or(t).to_string()).expect("the link carries a token")
}

impl Drop for TestApp {
    /// Stops the app, fails the test if it left work for a job that never ran (mail in
    /// the outbox, Stripe events not applied, rounds due to close but open), and drops
    /// the database.
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        let test_db = self.test_db.take();
        let check_leftovers = !std::thread::panicking();
        // The test may have moved the app's clock: a round is due by the app's time.
        let now = self.clock().now();
        // Dropped inside the test's (blocked) runtime: the app's pool belongs to it, so
        // check and clean up over a fresh connection on a runtime of our own.
        let outcome = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for cleanup");
            rt.block_on(async move {
                let test_db = test_db?;
                let leftovers = if check_leftovers { Some(test_db.leftovers(now).await) } else { None };
                test_db.drop_database().await;
                leftovers
            })
        })
        .join();
        let Ok(Some(leftovers)) = outcome else { return };
        let left = leftovers.unwrap_or_else(|e| panic!("could not check what the test left undone: {e}"));
        let mut complaints = Vec::new();
        if left.pending_mail > 0 && !self.allow_pending_mail {
            complaints.push(format!(
                "{} email(s) still in the outbox: send them with app.deliver_mail() (or app.drain_jobs()), \
                 or call app.allow_pending_mail() if the test leaves them on purpose",
                left.pending_mail
            ));
        }
        if left.pending_stripe_events > 0 && !self.allow_pending_stripe_events {
            complaints.push(format!(
                "{} Stripe event(s) still pending (stored, not applied, to be retried): apply them with \
                 app.drain_jobs() (advance the clock first if their retry is not due yet), \
                 or call app.allow_pending_stripe_events() if the test leaves them on purpose",
                left.pending_stripe_events
            ));
        }
        if left.unclosed_rounds > 0 && !self.allow_unclosed_rounds {
            complaints.push(format!(
                "{} voting round(s) past their closing time by the app's clock but not closed: close them with \
                 app.drain_jobs(), or call app.allow_unclosed_rounds() if the test leaves them on purpose",
                left.unclosed_rounds
            ));
        }
        assert!(complaints.is_empty(), "the test left work undone:\n  {}", complaints.join("\n  "));
    }
}

/// How long to wait for something that happens in the background.
pub const WAIT: Duration = Duration::from_secs(10);
