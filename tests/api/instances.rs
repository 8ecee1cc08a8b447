//! Several real `patronage serve` processes on one PostgreSQL database, over real
//! HTTP on loopback: every job unit runs once, sessions and rate limits are
//! shared, SIGTERM drains one instance (requests and job) while another carries on, and a SIGKILL
//! in the middle of applying Stripe events loses and doubles nothing; and one instance
//! on a PostgreSQL cluster of the test's own answers 503 while it is stopped and
//! serves again once it is started, without a restart.
//!
//! PostgreSQL only (SQLite is one writer on one machine): without
//! TEST_DATABASE_URL these tests print why and pass; under CI=true they fail.
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::stripe_mock::Settled;
use crate::helpers::{
    RequestBuilder, SmtpSink, StripeMock, TempPostgres, TestClient, TestDb, TestResponse, WEBHOOK_SECRET, stripe_event,
    stripe_signature, token_of,
};

const BIN: &str = env!("CARGO_BIN_EXE_patronage");
/// Bounded waits for background work; generous, since three processes share two cores.
const PATIENCE: Duration = Duration::from_secs(60);

/// The fresh PostgreSQL database for one test, or `None` (after saying why) when
/// TEST_DATABASE_URL is not set outside CI.
async fn postgres_db() -> Option<TestDb> {
    if !postgres_wanted() {
        return None;
    }
    let db = TestDb::create().await;
    // Migrated once here, so the instances start together on a ready schema (they
    // would each migrate too, under sqlx's advisory lock).
    let handle = patronage::db::Db::connect(&db.url).await.expect("connect to the test database");
    handle.migrate().await.expect("migrations apply");
    handle.close().await;
    Some(db)
}

/// True when TEST_DATABASE_URL names PostgreSQL; otherwise says why these tests
/// pass without running (and fails under CI=true).
fn postgres_wanted() -> bool {
    if std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()).is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but TEST_DATABASE_URL is not set: the multi-instance tests need PostgreSQL"
        );
        eprintln!(
            "skipping: several instances share one PostgreSQL database; set TEST_DATABASE_URL=postgres://… to run this"
        );
        return false;
    }
    true
}

/// One `patronage serve` process and everything it logged (JSON lines).
struct Instance {
    name: &'static str,
    child: Child,
    base_url: String,
    logs: Arc<Mutex<Vec<Value>>>,
}

struct Cluster<'a> {
    database_url: &'a str,
    smtp: &'a SmtpSink,
    stripe: &'a StripeMock,
    lease_seconds: u32,
}

impl Cluster<'_> {
    /// Starts an instance and waits until it listens.
    async fn start(&self, name: &'static str) -> Instance {
        let mut child = Command::new(BIN)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", self.database_url)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("SECRET_KEY", "instances-test-secret-key-0123456789abcdef")
            .env("SMTP_URL", self.smtp.url())
            .env("MAIL_FROM", "Test Newsroom <members@news.test>")
            .env("STRIPE_SECRET_KEY", "sk_test_patronage")
            .env("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
            .env("STRIPE_API_BASE", &self.stripe.base_url)
            .env("JOB_LEASE_SECONDS", self.lease_seconds.to_string())
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = tokio::sync::oneshot::channel::<String>();
        let kept = logs.clone();
        // Reads every line for the process's life, so it never writes to a closed pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on ").nth(1).and_then(|rest| rest.split([',', ')']).next())
                    && let Some(sender) = tx.take()
                {
                    let _ = sender.send(addr.trim().to_string());
                }
                if let Ok(value) = serde_json::from_str::<Value>(&line) {
                    kept.lock().expect("log lock").push(value);
                }
            }
        });
        let addr = tokio::time::timeout(PATIENCE, rx)
            .await
            .expect("the instance starts listening in time")
            .expect("the banner names the address");
        Instance { name, child, base_url: format!("http://{addr}"), logs }
    }
}

impl Instance {
    fn client(&self) -> TestClient {
        TestClient::new(&self.base_url)
    }

    /// Log lines whose message is `message` and whose `field` is `value`.
    fn logged(&self, message: &str, field: &str, value: &str) -> Vec<Value> {
        self.logs
            .lock()
            .expect("log lock")
            .iter()
            .filter(|l| l["message"] == message && l[field] == value)
            .cloned()
            .collect()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status().expect("kill runs");
        assert!(status.success(), "kill {signal} {}", self.name);
    }

    async fn wait(mut self) -> std::process::ExitStatus {
        let waited = tokio::task::spawn_blocking(move || {
            let status = self.child.wait();
            (self, status)
        });
        let (_, status) = tokio::time::timeout(PATIENCE, waited)
            .await
            .expect("the instance exits in time")
            .expect("the waiter did not panic");
        status.expect("an exit status")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Log lines of every instance for one event or round.
fn logged_everywhere(instances: &[&Instance], message: &str, field: &str, value: &str) -> Vec<Value> {
    instances.iter().flat_map(|i| i.logged(message, field, value)).collect()
}

/// Waits until each of `values` is logged (an instance logs after its commit, so
/// the database may show the work done a moment before the log line is read).
async fn until_logged(instances: &[&Instance], message: &str, field: &str, values: &[String]) {
    until(&format!("every {message:?} is logged"), || async {
        values.iter().all(|v| !logged_everywhere(instances, message, field, v).is_empty())
    })
    .await;
}

async fn until<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    count_with(db, sql, "").await
}

async fn count_with(db: &TestDb, sql: &'static str, bind: &str) -> i64 {
    count_at(&db.url, sql, bind).await
}

async fn count_at(url: &str, sql: &'static str, bind: &str) -> i64 {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect for a count");
    let mut query = sqlx::query_as::<_, (i64,)>(sql);
    if sql.contains("$1") {
        query = query.bind(bind.to_string());
    }
    let (n,) = query.fetch_one(&mut conn).await.expect("the count runs");
    let _ = conn.close().await;
    n
}

async fn execute(db: &TestDb, sql: &'static str, binds: &[i64], id: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.expect("connect");
    let mut query = sqlx::query(sql).bind(id.to_string());
    for b in binds {
        query = query.bind(*b);
    }
    query.execute(&mut conn).await.expect("the statement runs");
    let _ = conn.close().await;
}

fn now_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_micros() as i64
}

/// An anonymous gift through Checkout on `instance`, paid: returns the completed
/// session (the object of its `checkout.session.completed` event) and its charge id.
async fn paid_gift(instance: &Instance, stripe: &StripeMock, n: usize) -> (Value, String) {
    let r = instance.client().post_form("/donate", &[("currency", "EUR"), ("preset", "25")]).send().await;
    r.assert_status(303);
    let id = r.location().expect("to Checkout").rsplit('/').next().expect("a session id").to_string();
    let charge = format!("ch_gift{n}");
    let mut session = stripe.get(&id).expect("the mock holds the session");
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["payment_intent"] = json!(format!("pi_{charge}"));
    stripe.put(session.clone());
    stripe.put_charge(&charge, 2500, "eur", None, Settled { amount: 2500, fee: 63, currency: "eur" });
    (session, charge)
}

/// Delivers a signed event to `instance` as Stripe's servers would.
async fn deliver(instance: &Instance, body: &str) -> TestResponse {
    let header = stripe_signature(body, WEBHOOK_SECRET, now_micros() / 1_000_000);
    instance
        .client()
        .post_raw("/webhooks/stripe", "application/json", body.as_bytes().to_vec())
        .without_default("origin")
        .without_default("sec-fetch-site")
        .header("stripe-signature", &header)
        .send()
        .await
}

#[tokio::test]
async fn three_instances_send_each_email_apply_each_stripe_event_and_close_each_round_once() {
    let Some(db) = postgres_db().await else { return };
    let (smtp, stripe) = (SmtpSink::start().await, StripeMock::start().await);
    // Rounds already due when the instances start: all three race to close them.
    let rounds: Vec<String> = (0..4).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let now = now_micros();
    for id in &rounds {
        execute(
            &db,
            "insert into rounds (id, title, opens_at, closes_at, created_at, updated_at) values ($1, 'Round', $2, $3, $2, $2)",
            &[now - 3_600_000_000, now - 1_000_000],
            id,
        )
        .await;
    }
    let cluster = Cluster { database_url: &db.url, smtp: &smtp, stripe: &stripe, lease_seconds: 120 };
    let (a, b, c) = tokio::join!(cluster.start("a"), cluster.start("b"), cluster.start("c"));
    let instances = [&a, &b, &c];

    // Mail: twelve readers join, each through whichever instance they reach.
    let readers: Vec<String> = (0..12).map(|n| format!("reader{n}@example.org")).collect();
    for (n, email) in readers.iter().enumerate() {
        instances[n % 3].client().post_form("/join", &[("email", email), ("name", "")]).send().await.assert_status(303);
    }
    // Stripe: six paid gifts; each event is delivered twice, to two instances (Stripe retries).
    let mut events = Vec::new();
    for n in 0..6 {
        let (session, charge) = paid_gift(instances[n % 3], &stripe, n).await;
        let (id, body) = stripe_event("checkout.session.completed", session);
        deliver(instances[n % 3], &body).await.assert_status(200);
        deliver(instances[(n + 1) % 3], &body).await.assert_status(200);
        events.push((id, charge));
    }

    until("every email sent, every event applied, every round closed", || async {
        count(&db, "select count(*) from email_outbox where sent_at is null and failed_at is null").await == 0
            && count(&db, "select count(*) from stripe_events where status <> 'applied'").await == 0
            && count(&db, "select count(*) from rounds where closed_at is null").await == 0
            && smtp.count() >= readers.len()
    })
    .await;

    let mail = smtp.received();
    let mut per_reader: HashMap<String, usize> = HashMap::new();
    for m in &mail {
        for to in &m.to {
            *per_reader.entry(to.to_ascii_lowercase()).or_default() += 1;
        }
    }
    assert_eq!(mail.len(), readers.len(), "one email per reader, no more");
    for email in &readers {
        assert_eq!(per_reader.get(email), Some(&1), "{email} got exactly one email");
    }
    assert_eq!(count(&db, "select count(*) from stripe_events").await, 6, "duplicate deliveries are stored once");
    let event_ids: Vec<String> = events.iter().map(|(id, _)| id.clone()).collect();
    until_logged(&instances, "stripe event processed", "stripe.event_id", &event_ids).await;
    until_logged(&instances, "round closed", "round.id", &rounds).await;
    for (id, charge) in &events {
        let applied = logged_everywhere(&instances, "stripe event processed", "stripe.event_id", id);
        assert_eq!(applied.len(), 1, "event {id} was applied by exactly one instance: {applied:?}");
        assert_eq!(count_with(&db, "select count(*) from payments where charge_id = $1", charge).await, 1);
    }
    assert_eq!(count(&db, "select count(*) from payments").await, 6);
    for id in &rounds {
        let closed = logged_everywhere(&instances, "round closed", "round.id", id);
        assert_eq!(closed.len(), 1, "round {id} was closed by exactly one instance: {closed:?}");
    }
    drop((a, b, c));
    db.drop_database().await;
}

#[tokio::test]
async fn a_session_and_the_sign_in_limit_hold_across_instances() {
    let Some(db) = postgres_db().await else { return };
    let (smtp, stripe) = (SmtpSink::start().await, StripeMock::start().await);
    let cluster = Cluster { database_url: &db.url, smtp: &smtp, stripe: &stripe, lease_seconds: 120 };
    let (a, b, c) = tokio::join!(cluster.start("a"), cluster.start("b"), cluster.start("c"));

    // Ask for the link on A, confirm it on B, use the session on C.
    let on_a = a.client();
    on_a.post_form("/join", &[("email", "roaming@example.org"), ("name", "")]).send().await.assert_status(303);
    let mail = smtp.wait_for(1, PATIENCE).await;
    let link = mail[0].first_link_containing("/signin/confirm").expect("a sign-in link");
    let path = link.split_once("/signin/").map(|(_, rest)| format!("/signin/{rest}")).expect("a path");
    let on_b = b.client();
    on_b.get(&path).send().await.assert_status(200);
    let r = on_b.post_form("/signin/confirm", &[("token", &token_of(&link))]).send().await;
    r.assert_status(303);
    let cookie = on_b.cookie("patronage_session").expect("B set the session cookie");
    let on_c = c.client();
    on_c.get("/account").send().await.assert_status(303);
    on_c.set_cookie("patronage_session", &cookie);
    on_c.get("/account").send().await.assert_status(200).assert_contains("roaming@example.org");

    // Five sign-in requests for one address are allowed in a window, whichever
    // instance gets them; the sixth is refused. The window is fifteen minutes by the
    // wall clock: a run that straddles its end is repeated with a new address.
    let window = 15 * 60 * 1_000_000_i64;
    let clients = [a.client(), b.client(), c.client()];
    let mut attempt = 0;
    loop {
        attempt += 1;
        let email = format!("busy{attempt}@example.org");
        let started = now_micros() / window;
        let mut statuses = Vec::new();
        for n in 0..6 {
            statuses.push(clients[n % 3].post_form("/signin", &[("email", &email)]).send().await.status);
        }
        if now_micros() / window != started {
            assert!(attempt < 3, "the rate-limit window kept rolling over");
            continue;
        }
        assert!(statuses[..5].iter().all(|s| *s != 429), "the first five are served: {statuses:?}");
        assert_eq!(statuses[5], 429, "the sixth, on instance {}, is refused: {statuses:?}", ["a", "b", "c"][5 % 3]);
        break;
    }
    // The sign-in emails the allowed requests enqueued go out; none for the refused one.
    until("the sign-in emails are sent", || async {
        count(&db, "select count(*) from email_outbox where sent_at is null and failed_at is null").await == 0
    })
    .await;
    drop((a, b, c));
    db.drop_database().await;
}

#[tokio::test]
async fn sigterm_finishes_the_requests_and_the_job_in_flight_while_the_other_instance_carries_on() {
    let Some(db) = postgres_db().await else { return };
    let (smtp, stripe) = (SmtpSink::start().await, StripeMock::start().await);
    let cluster = Cluster { database_url: &db.url, smtp: &smtp, stripe: &stripe, lease_seconds: 120 };
    let a = cluster.start("a").await;

    // A gift paid earlier, whose event A's job will be applying when it is told to stop.
    let (session, charge) = paid_gift(&a, &stripe, 0).await;
    let (event, body) = stripe_event("checkout.session.completed", session);
    // Four readers on A are half-way through starting a gift, and A's job is half-way
    // through applying that event: A is waiting for Stripe.
    stripe.hold();
    deliver(&a, &body).await.assert_status(200);
    let in_flight: Vec<_> = (0..4)
        .map(|_| {
            let client = a.client();
            tokio::spawn(
                async move { client.post_form("/donate", &[("currency", "EUR"), ("preset", "10")]).send().await },
            )
        })
        .collect();
    until("A's four requests and its job are waiting for Stripe", || async { stripe.held() == 5 }).await;
    // B starts only now, so A's job is the one that took the event.
    let b = cluster.start("b").await;

    a.signal("-TERM");
    // A stops taking connections while its four requests are still open…
    let addr = a.base_url.trim_start_matches("http://").to_string();
    until("A stops listening", || {
        let addr = addr.clone();
        async move { tokio::net::TcpStream::connect(&addr).await.is_err() }
    })
    .await;
    // …and B serves as usual meanwhile.
    b.client().get("/").send().await.assert_status(200);
    stripe.release();
    for request in in_flight {
        let r = request.await.expect("the request task did not panic");
        r.assert_status(303);
        assert!(r.location().is_some(), "a checkout to go to");
    }
    // A finishes the job in hand before it exits (its lease keeps B off the event).
    let event_ids = [event.clone()];
    until_logged(&[&a], "stripe event processed", "stripe.event_id", &event_ids).await;
    let applied = a.logged("stripe event processed", "stripe.event_id", &event);
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0]["status"], "applied");
    assert_eq!(count_with(&db, "select count(*) from payments where charge_id = $1", &charge).await, 1);
    let status = a.wait().await;
    assert!(status.success(), "A exits cleanly after SIGTERM: {status:?}");
    b.client().post_form("/donate", &[("currency", "EUR"), ("preset", "10")]).send().await.assert_status(303);
    drop(b);
    db.drop_database().await;
}

#[tokio::test]
async fn events_an_instance_was_applying_when_killed_are_applied_once_by_another_after_its_lease() {
    let Some(db) = postgres_db().await else { return };
    let (smtp, stripe) = (SmtpSink::start().await, StripeMock::start().await);
    // A short lease (JOB_LEASE_SECONDS), so the test need not wait the default two minutes.
    let cluster = Cluster { database_url: &db.url, smtp: &smtp, stripe: &stripe, lease_seconds: 5 };
    let a = cluster.start("a").await;
    let mut gifts = Vec::new();
    for n in 0..3 {
        let (session, charge) = paid_gift(&a, &stripe, n).await;
        gifts.push((stripe_event("checkout.session.completed", session), charge));
    }
    // Stripe stops answering: A takes the first event and waits in the middle of applying it.
    stripe.hold();
    for ((_, body), _) in &gifts {
        deliver(&a, body).await.assert_status(200);
    }
    until("A is applying an event", || async { stripe.held() >= 1 }).await;
    a.signal("-KILL");
    let status = a.wait().await;
    assert!(!status.success(), "A was killed");
    stripe.release();

    assert_eq!(count(&db, "select count(*) from stripe_events where status = 'pending'").await, 3);
    assert_eq!(
        count(&db, "select count(*) from stripe_events where locked_by is not null and status = 'pending'").await,
        1,
        "A held one event when it died"
    );
    assert_eq!(count(&db, "select count(*) from payments").await, 0, "nothing half-written");

    let (b, c) = tokio::join!(cluster.start("b"), cluster.start("c"));
    until("B and C apply every event", || async {
        count(&db, "select count(*) from stripe_events where status <> 'applied'").await == 0
    })
    .await;
    let event_ids: Vec<String> = gifts.iter().map(|((id, _), _)| id.clone()).collect();
    until_logged(&[&b, &c], "stripe event processed", "stripe.event_id", &event_ids).await;
    for (((id, _), charge), n) in gifts.iter().zip(1..) {
        let applied = logged_everywhere(&[&b, &c], "stripe event processed", "stripe.event_id", id);
        assert_eq!(applied.len(), 1, "event {n} ({id}) was applied exactly once: {applied:?}");
        assert_eq!(count_with(&db, "select count(*) from payments where charge_id = $1", charge).await, 1);
    }
    assert_eq!(count(&db, "select count(*) from payments").await, 3);
    assert_eq!(
        count(&db, "select cast(coalesce(sum(gross_minor), 0) as bigint) from payments where kind = 'donation'").await,
        3 * 2500
    );
    drop((b, c));
    db.drop_database().await;
}

/// The request answered at all before the client gives up: the app's own request
/// timeout plus a margin. A liveness bound (no hang), not a performance assertion.
async fn answered(request: RequestBuilder<'_>) -> TestResponse {
    let started = std::time::Instant::now();
    let bound = patronage::http::REQUEST_TIMEOUT + Duration::from_secs(15);
    let response = tokio::time::timeout(bound, request.send()).await.expect("answered within the request timeout");
    eprintln!("answered {} in {} ms", response.status, started.elapsed().as_millis());
    response
}

#[tokio::test]
async fn postgres_stopped_and_started_again_answers_503_meanwhile_and_recovers_without_restarting_the_app() {
    if !postgres_wanted() {
        return;
    }
    let Some(mut pg) = TempPostgres::start().await else { return };
    let (smtp, stripe) = (SmtpSink::start().await, StripeMock::start().await);
    let database_url = pg.database_url("patronage");
    let cluster = Cluster { database_url: &database_url, smtp: &smtp, stripe: &stripe, lease_seconds: 120 };
    let a = cluster.start("a").await;

    // A member signs in, and a gift is paid whose event Stripe has not delivered yet.
    let member = a.client();
    member.post_form("/join", &[("email", "steady@example.org"), ("name", "")]).send().await.assert_status(303);
    let link = smtp.wait_for(1, PATIENCE).await[0].first_link_containing("/signin/confirm").expect("a sign-in link");
    member.post_form("/signin/confirm", &[("token", &token_of(&link))]).send().await.assert_status(303);
    member.get("/account").send().await.assert_status(200).assert_contains("steady@example.org");
    let (session, charge) = paid_gift(&a, &stripe, 0).await;
    let (event, body) = stripe_event("checkout.session.completed", session);
    // Traffic leaves the pool and the reader connections open (and idle) when PostgreSQL stops.
    let reader = a.client();
    let busy: Vec<_> = (0..8)
        .map(|_| {
            let client = a.client();
            tokio::spawn(async move { client.get("/topics").send().await.status })
        })
        .collect();
    for request in busy {
        assert_eq!(request.await.expect("the request task did not panic"), 200);
    }
    reader.get("/readyz").send().await.assert_status(200);

    pg.stop().await;
    // Pages that need the database: 503, the friendly page, Retry-After, in time.
    for _ in 0..3 {
        let r = answered(reader.post_form("/join", &[("email", "during@example.org"), ("name", "")])).await;
        r.assert_status(503).assert_contains("cannot reach our records right now");
        assert!(r.header("retry-after").is_some(), "a 503 says when to come back");
    }
    let r = answered(reader.get("/rounds").header("accept-language", "uk")).await;
    r.assert_status(503).assert_contains("база даних перезапускається");
    // A signed-in member is not taken for a stranger (sent to sign in again): 503.
    answered(member.post_form("/account", &[("name", "Steady")])).await.assert_status(503);
    // The process is alive; it is not ready.
    answered(reader.get("/healthz")).await.assert_status(200);
    let r = answered(reader.get("/readyz")).await;
    r.assert_status(503).assert_contains("unreachable");
    // Stripe's delivery could not be stored: not 2xx, so Stripe delivers it again later.
    let r = tokio::time::timeout(PATIENCE, deliver(&a, &body)).await.expect("the webhook is answered");
    assert!(!(200..300).contains(&r.status), "a webhook that was not stored is not acknowledged: {}", r.status);

    pg.start_again().await;
    // The same requests succeed again, from the first, with the same process.
    reader.get("/readyz").send().await.assert_status(200);
    for _ in 0..8 {
        reader.get("/rounds").send().await.assert_status(200);
    }
    reader.post_form("/join", &[("email", "after@example.org"), ("name", "")]).send().await.assert_status(303);
    member.get("/account").send().await.assert_status(200).assert_contains("steady@example.org");
    // Stripe retries the delivery: stored now, and applied once.
    deliver(&a, &body).await.assert_status(200);
    until_logged(&[&a], "stripe event processed", "stripe.event_id", std::slice::from_ref(&event)).await;
    deliver(&a, &body).await.assert_status(200);
    assert_eq!(count_at(&database_url, "select count(*) from stripe_events where id = $1", &event).await, 1);
    assert_eq!(count_at(&database_url, "select count(*) from payments where charge_id = $1", &charge).await, 1);
    assert_eq!(a.logged("stripe event processed", "stripe.event_id", &event).len(), 1, "applied exactly once");
    assert_eq!(
        count_at(&database_url, "select count(*) from members where email = $1", "during@example.org").await,
        0,
        "nothing was stored during the outage"
    );

    // A quick restart with no request in between (as `systemctl restart`): the pool's
    // idle connections all died with the server. The first request to meet one may
    // fail; the connections idle since then are tested before use, so the rest succeed.
    let warm: Vec<_> = (0..8)
        .map(|_| {
            let client = a.client();
            tokio::spawn(async move { client.get("/rounds").send().await.status })
        })
        .collect();
    for request in warm {
        assert_eq!(request.await.expect("the request task did not panic"), 200);
    }
    pg.stop().await;
    pg.start_again().await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(answered(reader.get("/rounds")).await.status);
    }
    eprintln!("after a quick restart: {statuses:?}");
    assert!(statuses.iter().all(|s| [200, 503].contains(s)), "{statuses:?}");
    assert!(statuses[1..].iter().all(|s| *s == 200), "only the first request may meet a dead connection: {statuses:?}");
    drop(a);
    drop(pg);
}
