//! A Stripe-compatible HTTP mock on loopback. Replies are Stripe's own example
//! objects (`tests/fixtures/stripe/`, copied from Stripe's OpenAPI repository with
//! its MIT licence) with ids and fields set per test; every request is recorded so
//! tests can assert what Stripe would have received.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stripe/", $name))
    };
}

pub fn fixture(name: &str) -> Value {
    let text = match name {
        "customer" => fixture!("customer.json"),
        "product" => fixture!("product.json"),
        "price" => fixture!("price.json"),
        "checkout_session" => fixture!("checkout_session.json"),
        "billing_portal_session" => fixture!("billing_portal_session.json"),
        "subscription" => fixture!("subscription.json"),
        "invoice" => fixture!("invoice.json"),
        "charge" => fixture!("charge.json"),
        "balance_transaction" => fixture!("balance_transaction.json"),
        "event" => fixture!("event.json"),
        "refund" => fixture!("refund.json"),
        "dispute" => fixture!("dispute.json"),
        "invoice_payment" => fixture!("invoice_payment.json"),
        "payment_intent" => fixture!("payment_intent.json"),
        "card" => fixture!("card.json"),
        "payment_method" => fixture!("payment_method.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).expect("fixtures are JSON")
}

/// One request the mock received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub form: Vec<(String, String)>,
    pub idempotency_key: Option<String>,
    pub authorization: Option<String>,
}

impl Recorded {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    /// Objects served by GET /v1/<kind>/<id>, keyed by id.
    objects: HashMap<String, Value>,
    counter: u64,
    /// Answer this many of the next requests with HTTP 500.
    fail_next: u32,
    /// Replies to POSTs by idempotency key: Stripe answers a repeated key with
    /// the first reply (for 24 hours), whatever the request.
    idempotent: HashMap<String, Value>,
    /// Seconds since [`SECONDS_BASE`] on Stripe's clock.
    seconds: i64,
}

#[derive(Clone)]
pub struct StripeMock {
    inner: Arc<Mutex<Inner>>,
    gate: Arc<Gate>,
    pub base_url: String,
}

/// Holds every request at the door while closed, as a Stripe that stopped
/// answering would (the caller sees a request that never ends).
#[derive(Default)]
struct Gate {
    /// True while requests are held.
    closed: tokio::sync::watch::Sender<bool>,
    /// Requests waiting at the door right now.
    waiting: std::sync::atomic::AtomicUsize,
}

async fn through_gate(
    State(gate): State<Arc<Gate>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use std::sync::atomic::Ordering;
    let mut closed = gate.closed.subscribe();
    if *closed.borrow_and_update() {
        gate.waiting.fetch_add(1, Ordering::SeqCst);
        let _ = closed.wait_for(|closed| !closed).await;
        gate.waiting.fetch_sub(1, Ordering::SeqCst);
    }
    next.run(request).await
}

impl StripeMock {
    pub async fn start() -> StripeMock {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let gate = Arc::new(Gate::default());
        let app = Router::new()
            .route("/v1/customers", post(create_customer))
            .route("/v1/products", post(create_product))
            .route("/v1/prices", post(create_price))
            .route("/v1/checkout/sessions", post(create_checkout_session))
            .route("/v1/billing_portal/sessions", post(create_portal_session))
            .route("/v1/subscriptions", get(list_subscriptions))
            .route("/v1/invoices", get(list_invoices))
            .route("/v1/charges", get(list_charges))
            .route("/v1/refunds", get(list_refunds))
            .route("/v1/{kind}/{id}", get(retrieve))
            .route(
                "/v1/subscriptions/{id}",
                get(retrieve_subscription).post(update_subscription).delete(cancel_subscription),
            )
            .route("/v1/checkout/sessions/{id}", get(retrieve_session))
            .fallback(unknown)
            .with_state(inner.clone())
            .layer(axum::middleware::from_fn_with_state(gate.clone(), through_gate));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the Stripe mock");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StripeMock { inner, gate, base_url }
    }

    /// From now on, requests wait unanswered until [`Self::release`].
    pub fn hold(&self) {
        self.gate.closed.send_replace(true);
    }

    /// Lets held requests (and later ones) through.
    pub fn release(&self) {
        self.gate.closed.send_replace(false);
    }

    /// How many requests are being held right now.
    pub fn held(&self) -> usize {
        self.gate.waiting.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("mock state lock")
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.method == method && r.path == path).collect()
    }

    /// Serve `object` at GET /v1/<kind>/<its id> from now on (replacing any earlier version).
    pub fn put(&self, object: Value) {
        let id = object["id"].as_str().expect("objects have ids").to_string();
        self.lock().objects.insert(id, object);
    }

    pub fn get(&self, id: &str) -> Option<Value> {
        self.lock().objects.get(id).cloned()
    }

    /// Every object served that `keep` accepts.
    pub fn objects_where(&self, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
        self.lock().objects.values().filter(|o| keep(o)).cloned().collect()
    }

    pub fn fail_next(&self, n: u32) {
        self.lock().fail_next = n;
    }

    /// Stripe's clock for the objects the builders below make: each gets the next second.
    fn tick(&self) -> i64 {
        let mut state = self.lock();
        state.seconds += 1;
        SECONDS_BASE + state.seconds
    }

    /// A balance transaction, served at its id.
    pub fn put_balance_transaction(&self, id: &str, kind: &str, source: &str, settled: Settled) -> Value {
        let mut txn = fixture("balance_transaction");
        txn["id"] = json!(id);
        txn["type"] = json!(kind);
        txn["reporting_category"] = json!(kind);
        txn["source"] = json!(source);
        txn["amount"] = json!(settled.amount);
        txn["fee"] = json!(settled.fee);
        txn["net"] = json!(settled.amount - settled.fee);
        txn["currency"] = json!(settled.currency);
        txn["created"] = json!(self.tick());
        txn["available_on"] = txn["created"].clone();
        self.put(txn.clone());
        txn
    }

    /// A succeeded card charge of `amount` `currency` (of `customer`, through
    /// PaymentIntent `pi_<charge id>`), with its balance transaction `txn_<charge id>`.
    pub fn put_charge(&self, id: &str, amount: i64, currency: &str, customer: Option<&str>, settled: Settled) -> Value {
        self.put_balance_transaction(&format!("txn_{id}"), "charge", id, settled);
        let mut charge = fixture("charge");
        charge["id"] = json!(id);
        charge["amount"] = json!(amount);
        charge["amount_captured"] = json!(amount);
        charge["amount_refunded"] = json!(0);
        charge["refunded"] = json!(false);
        charge["currency"] = json!(currency);
        charge["customer"] = json!(customer);
        charge["balance_transaction"] = json!(format!("txn_{id}"));
        charge["payment_intent"] = json!(format!("pi_{id}"));
        charge["created"] = json!(self.tick());
        charge["refunds"] =
            json!({ "object": "list", "data": [], "has_more": false, "url": format!("/v1/charges/{id}/refunds") });
        self.put(charge.clone());
        let mut intent = fixture("payment_intent");
        intent["id"] = json!(format!("pi_{id}"));
        intent["amount"] = json!(amount);
        intent["amount_received"] = json!(amount);
        intent["currency"] = json!(currency);
        intent["customer"] = json!(customer);
        intent["status"] = json!("succeeded");
        intent["latest_charge"] = json!(id);
        self.put(intent);
        charge
    }

    /// A paid invoice of `subscription`, paid as a card payment is: its payment
    /// names the PaymentIntent, not the charge (made with [`Self::put_charge`]).
    pub fn put_paid_invoice(&self, id: &str, subscription: &str, charge: &str) -> Value {
        let c = self.get(charge).expect("the charge is served");
        let mut payment = fixture("invoice_payment");
        payment["id"] = json!(format!("inpay_{id}"));
        payment["invoice"] = json!(id);
        payment["amount_paid"] = c["amount"].clone();
        payment["amount_requested"] = c["amount"].clone();
        payment["currency"] = c["currency"].clone();
        payment["status"] = json!("paid");
        payment["payment"] = json!({ "type": "payment_intent", "payment_intent": c["payment_intent"] });
        let mut invoice = fixture("invoice");
        invoice["id"] = json!(id);
        invoice["customer"] = c["customer"].clone();
        invoice["status"] = json!("paid");
        invoice["amount_due"] = c["amount"].clone();
        invoice["amount_paid"] = c["amount"].clone();
        invoice["amount_remaining"] = json!(0);
        invoice["currency"] = c["currency"].clone();
        invoice["parent"] = json!({ "type": "subscription_details", "quote_details": null, "subscription_details": { "metadata": {}, "subscription": subscription } });
        invoice["payments"] =
            json!({ "object": "list", "data": [payment], "has_more": false, "url": "/v1/invoice_payments" });
        invoice["status_transitions"]["paid_at"] = c["created"].clone();
        self.put(invoice.clone());
        invoice
    }

    /// Refund `id` of `amount` (in the charge's currency) on `charge`, now in
    /// `status`, as Stripe keeps it: on the charge's list (and `amount_refunded`),
    /// with a balance transaction converted at the charge's rate from when it
    /// was created, and, once failed or canceled, a failure balance transaction
    /// that gives the money back.
    pub fn put_refund(&self, charge: &str, id: &str, amount: i64, status: &str) -> Value {
        let mut c = self.get(charge).expect("the charge is served");
        let txn = self.get(&format!("txn_{charge}")).expect("the charge's balance transaction");
        let converted = amount * txn["amount"].as_i64().expect("amount") / c["amount"].as_i64().expect("amount");
        let currency = txn["currency"].as_str().expect("currency").to_string();
        let mut refund = self.get(id).unwrap_or_else(|| {
            let mut r = fixture("refund");
            r["id"] = json!(id);
            r["created"] = json!(self.tick());
            let settled = Settled { amount: -converted, fee: 0, currency: static_currency(&currency) };
            self.put_balance_transaction(&format!("txn_{id}"), "refund", id, settled);
            r["balance_transaction"] = json!(format!("txn_{id}"));
            r
        });
        refund["amount"] = json!(amount);
        refund["charge"] = json!(charge);
        refund["currency"] = c["currency"].clone();
        refund["payment_intent"] = c["payment_intent"].clone();
        refund["status"] = json!(status);
        if matches!(status, "failed" | "canceled") && refund["failure_balance_transaction"].is_null() {
            let settled = Settled { amount: converted, fee: 0, currency: static_currency(&currency) };
            self.put_balance_transaction(&format!("txn_{id}_failure"), "refund_failure", id, settled);
            refund["failure_balance_transaction"] = json!(format!("txn_{id}_failure"));
            refund["failure_reason"] = json!("expired_or_canceled_card");
        }
        self.put(refund.clone());
        let list = c["refunds"]["data"].as_array_mut().expect("refund list");
        list.retain(|r| r["id"] != id);
        list.insert(0, refund.clone());
        let refunded: i64 = list
            .iter()
            .filter(|r| matches!(r["status"].as_str(), Some("succeeded" | "pending")))
            .map(|r| r["amount"].as_i64().unwrap_or(0))
            .sum();
        c["amount_refunded"] = json!(refunded);
        c["refunded"] = json!(refunded == c["amount"].as_i64().unwrap_or(0));
        self.put(c);
        refund
    }

    /// Dispute `id` of the whole of `charge`, in `status`: opened (`needs_response`,
    /// funds and a 15.00 fee withdrawn), `lost` (nothing more) or `won` (funds
    /// reinstated, the fee kept), with its balance transactions embedded.
    pub fn put_dispute(&self, id: &str, charge: &str, status: &str) -> Value {
        let c = self.get(charge).expect("the charge is served");
        let txn = self.get(&format!("txn_{charge}")).expect("the charge's balance transaction");
        let settled_amount = txn["amount"].as_i64().expect("amount");
        let currency = static_currency(txn["currency"].as_str().expect("currency"));
        let withdrawn = self.get(&format!("txn_{id}")).unwrap_or_else(|| {
            let settled = Settled { amount: -settled_amount, fee: 1500, currency };
            self.put_balance_transaction(&format!("txn_{id}"), "adjustment", id, settled)
        });
        let mut transactions = vec![withdrawn];
        if status == "won" {
            let reinstated = self.get(&format!("txn_{id}_won")).unwrap_or_else(|| {
                let settled = Settled { amount: settled_amount, fee: 0, currency };
                self.put_balance_transaction(&format!("txn_{id}_won"), "adjustment", id, settled)
            });
            transactions.push(reinstated);
        }
        let mut dispute = self.get(id).unwrap_or_else(|| {
            let mut d = fixture("dispute");
            d["id"] = json!(id);
            d["created"] = json!(self.tick());
            d
        });
        dispute["charge"] = json!(charge);
        dispute["payment_intent"] = c["payment_intent"].clone();
        dispute["amount"] = c["amount"].clone();
        dispute["currency"] = c["currency"].clone();
        dispute["status"] = json!(status);
        dispute["balance_transactions"] = json!(transactions);
        self.put(dispute.clone());
        let mut c = c;
        c["disputed"] = json!(true);
        self.put(c);
        dispute
    }

    /// A subscription as Stripe would return it.
    #[allow(clippy::too_many_arguments)]
    pub fn subscription(
        &self,
        id: &str,
        customer: &str,
        price: &str,
        amount: i64,
        currency: &str,
        interval: &str,
        status: &str,
        metadata: Value,
    ) -> Value {
        let mut sub = fixture("subscription");
        sub["id"] = json!(id);
        sub["customer"] = json!(customer);
        sub["status"] = json!(status);
        sub["currency"] = json!(currency);
        sub["metadata"] = metadata;
        sub["cancel_at_period_end"] = json!(false);
        sub["cancel_at"] = Value::Null;
        sub["pause_collection"] = Value::Null;
        sub["canceled_at"] = Value::Null;
        sub["ended_at"] = Value::Null;
        let item = &mut sub["items"]["data"][0];
        item["subscription"] = json!(id);
        item["price"]["id"] = json!(price);
        item["price"]["unit_amount"] = json!(amount);
        item["price"]["unit_amount_decimal"] = json!(amount.to_string());
        item["price"]["currency"] = json!(currency);
        item["price"]["recurring"]["interval"] = json!(interval);
        item["quantity"] = json!(1);
        sub
    }
}

/// Where the builders' clock starts (unix seconds).
pub const SECONDS_BASE: i64 = 1_780_000_000;

/// What a movement came to in the settlement currency: amount and fee (net is
/// the difference).
#[derive(Clone, Copy, Debug)]
pub struct Settled {
    pub amount: i64,
    pub fee: i64,
    pub currency: &'static str,
}

fn static_currency(s: &str) -> &'static str {
    match s {
        "eur" => "eur",
        "usd" => "usd",
        "gbp" => "gbp",
        "jpy" => "jpy",
        "kwd" => "kwd",
        other => panic!("the mock settles in eur, usd, gbp, jpy or kwd, not {other}"),
    }
}

/// Records the request; `None` when the mock was told to fail it.
fn record(inner: &Arc<Mutex<Inner>>, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Option<u64> {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut state = inner.lock().expect("mock state lock");
    state.requests.push(Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        form,
        idempotency_key: headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string),
        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string),
    });
    if state.fail_next > 0 {
        state.fail_next -= 1;
        return None;
    }
    state.counter += 1;
    Some(state.counter)
}

fn failure() -> Response {
    let body = json!({ "error": { "type": "api_error", "message": "mock failure" } });
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

fn form_value(body: &Bytes, key: &str) -> Option<String> {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    form.into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// `metadata[x]=y` form fields → a JSON object.
fn metadata_of(body: &Bytes, prefix: &str) -> Value {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut map = serde_json::Map::new();
    for (k, v) in form {
        if let Some(rest) = k.strip_prefix(prefix).and_then(|r| r.strip_prefix('[')).and_then(|r| r.strip_suffix(']')) {
            map.insert(rest.to_string(), json!(v));
        }
    }
    Value::Object(map)
}

type Mock = State<Arc<Mutex<Inner>>>;

/// The first reply to this request's idempotency key, if it was seen before.
fn replay(inner: &Arc<Mutex<Inner>>, headers: &HeaderMap) -> Option<Response> {
    let key = headers.get("idempotency-key")?.to_str().ok()?;
    inner.lock().expect("lock").idempotent.get(key).map(|v| axum::Json(v.clone()).into_response())
}

fn remember(inner: &Arc<Mutex<Inner>>, headers: &HeaderMap, reply: &Value) {
    if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        inner.lock().expect("lock").idempotent.insert(key.to_string(), reply.clone());
    }
}

async fn create_customer(State(inner): Mock, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Some(n) = record(&inner, &method, &uri, &headers, &body) else { return failure() };
    if let Some(reply) = replay(&inner, &headers) {
        return reply;
    }
    let mut c = fixture("customer");
    c["id"] = json!(format!("cus_mock{n}"));
    c["email"] = json!(form_value(&body, "email"));
    c["metadata"] = metadata_of(&body, "metadata");
    inner.lock().expect("lock").objects.insert(format!("cus_mock{n}"), c.clone());
    remember(&inner, &headers, &c);
    axum::Json(c).into_response()
}

async fn create_product(State(inner): Mock, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Some(n) = record(&inner, &method, &uri, &headers, &body) else { return failure() };
    let mut p = fixture("product");
    p["id"] = json!(format!("prod_mock{n}"));
    p["name"] = json!(form_value(&body, "name"));
    p["metadata"] = metadata_of(&body, "metadata");
    axum::Json(p).into_response()
}

async fn create_price(State(inner): Mock, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Some(n) = record(&inner, &method, &uri, &headers, &body) else { return failure() };
    let mut p = fixture("price");
    p["id"] = json!(format!("price_mock{n}"));
    p["currency"] = json!(form_value(&body, "currency"));
    let amount: i64 = form_value(&body, "unit_amount").and_then(|a| a.parse().ok()).unwrap_or(0);
    p["unit_amount"] = json!(amount);
    p["unit_amount_decimal"] = json!(amount.to_string());
    p["product"] = json!(form_value(&body, "product"));
    p["metadata"] = metadata_of(&body, "metadata");
    if form_value(&body, "recurring[interval]").as_deref() == Some("year") {
        p["recurring"]["interval"] = json!("year");
    }
    // Kept, so that a subscription can be switched to it later.
    inner.lock().expect("lock").objects.insert(format!("price_mock{n}"), p.clone());
    axum::Json(p).into_response()
}

async fn create_checkout_session(
    State(inner): Mock,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(n) = record(&inner, &method, &uri, &headers, &body) else { return failure() };
    let id = format!("cs_mock{n}");
    let mut s = fixture("checkout_session");
    s["id"] = json!(id);
    s["url"] = json!(format!("https://checkout.stripe.com/c/pay/{id}"));
    s["mode"] = json!(form_value(&body, "mode"));
    s["customer"] = json!(form_value(&body, "customer"));
    s["client_reference_id"] = json!(form_value(&body, "client_reference_id"));
    s["metadata"] = metadata_of(&body, "metadata");
    s["success_url"] = json!(form_value(&body, "success_url"));
    s["cancel_url"] = json!(form_value(&body, "cancel_url"));
    inner.lock().expect("lock").objects.insert(id, s.clone());
    axum::Json(s).into_response()
}

async fn create_portal_session(
    State(inner): Mock,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(n) = record(&inner, &method, &uri, &headers, &body) else { return failure() };
    let mut s = fixture("billing_portal_session");
    s["id"] = json!(format!("bps_mock{n}"));
    s["customer"] = json!(form_value(&body, "customer"));
    s["return_url"] = json!(form_value(&body, "return_url"));
    s["url"] = json!(format!("https://billing.stripe.com/p/session/mock{n}"));
    axum::Json(s).into_response()
}

fn not_found(id: &str) -> Response {
    let body = json!({ "error": { "type": "invalid_request_error", "code": "resource_missing", "message": format!("No such object: '{id}'") } });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

async fn retrieve(
    State(inner): Mock,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path((_kind, id)): Path<(String, String)>,
) -> Response {
    if record(&inner, &method, &uri, &headers, &Bytes::new()).is_none() {
        return failure();
    }
    match inner.lock().expect("lock").objects.get(&id) {
        Some(object) => axum::Json(object.clone()).into_response(),
        None => not_found(&id),
    }
}

async fn cancel_subscription(
    State(inner): Mock,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if record(&inner, &method, &uri, &headers, &Bytes::new()).is_none() {
        return failure();
    }
    let mut state = inner.lock().expect("lock");
    let Some(sub) = state.objects.get_mut(&id) else { return not_found(&id) };
    sub["status"] = json!("canceled");
    sub["canceled_at"] = json!(1_790_000_500);
    sub["ended_at"] = json!(1_790_000_500);
    axum::Json(sub.clone()).into_response()
}

fn invalid_request(message: &str) -> Response {
    let body = json!({ "error": { "type": "invalid_request_error", "message": message } });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// `POST /v1/subscriptions/{id}` as Stripe answers it for the fields Patronage
/// sends: `cancel_at_period_end`, `pause_collection[behavior]` with
/// `pause_collection[resumes_at]` (an empty `pause_collection` clears it), and a
/// price switch (`items[0][id]` naming the item, `items[0][price]` a known
/// price, `proration_behavior`, `metadata[…]` merged). An unknown field or price,
/// another item's id, or a change to an ended subscription is refused as Stripe does.
async fn update_subscription(
    State(inner): Mock,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if record(&inner, &method, &uri, &headers, &body).is_none() {
        return failure();
    }
    if let Some(reply) = replay(&inner, &headers) {
        return reply;
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let reply = {
        let mut state = inner.lock().expect("lock");
        state.seconds += 1;
        let now = SECONDS_BASE + state.seconds;
        let prices: HashMap<String, Value> = form
            .iter()
            .filter(|(k, _)| k == "items[0][price]")
            .filter_map(|(_, v)| state.objects.get(v).map(|p| (v.clone(), p.clone())))
            .collect();
        let Some(sub) = state.objects.get_mut(&id) else { return not_found(&id) };
        if sub["status"] == "canceled" {
            return invalid_request("A canceled subscription can only update its cancellation_details and metadata.");
        }
        for (key, value) in form {
            match key.as_str() {
                "items[0][id]" if sub["items"]["data"][0]["id"] != json!(value) => {
                    return invalid_request(&format!("Invalid subscription_item: {value}"));
                }
                "items[0][id]" => {}
                "items[0][price]" => {
                    let Some(price) = prices.get(&value) else {
                        return invalid_request(&format!("No such price: '{value}'"));
                    };
                    sub["items"]["data"][0]["price"] = price.clone();
                    sub["items"]["data"][0]["plan"]["id"] = json!(value);
                    sub["items"]["data"][0]["plan"]["amount"] = price["unit_amount"].clone();
                }
                "proration_behavior" => {
                    if !matches!(value.as_str(), "always_invoice" | "create_prorations" | "none") {
                        return invalid_request("Invalid proration_behavior");
                    }
                }
                k if k.starts_with("metadata[") && k.ends_with(']') => {
                    sub["metadata"][&k[9..k.len() - 1]] = json!(value);
                }
                "cancel_at_period_end" => {
                    let on = value == "true";
                    sub["cancel_at_period_end"] = json!(on);
                    sub["canceled_at"] = if on { json!(now) } else { Value::Null };
                    sub["cancel_at"] =
                        if on { sub["items"]["data"][0]["current_period_end"].clone() } else { Value::Null };
                }
                "pause_collection" if value.is_empty() => sub["pause_collection"] = Value::Null,
                "pause_collection[behavior]" => {
                    if !matches!(value.as_str(), "keep_as_draft" | "mark_uncollectible" | "void") {
                        return invalid_request("Invalid pause_collection[behavior]");
                    }
                    if sub["pause_collection"].is_null() {
                        sub["pause_collection"] = json!({ "behavior": value, "resumes_at": null });
                    } else {
                        sub["pause_collection"]["behavior"] = json!(value);
                    }
                }
                "pause_collection[resumes_at]" => {
                    let Ok(at) = value.parse::<i64>() else { return invalid_request("Invalid integer") };
                    if sub["pause_collection"].is_null() {
                        return invalid_request("Missing required param: pause_collection[behavior].");
                    }
                    sub["pause_collection"]["resumes_at"] = json!(at);
                }
                other => return invalid_request(&format!("Received unknown parameter: {other}")),
            }
        }
        sub.clone()
    };
    remember(&inner, &headers, &reply);
    axum::Json(reply).into_response()
}

fn list_of(inner: &Arc<Mutex<Inner>>, keep: impl Fn(&Value) -> bool, url: &str) -> Response {
    let state = inner.lock().expect("lock");
    let mut data: Vec<Value> = state.objects.values().filter(|o| keep(o)).cloned().collect();
    data.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    axum::Json(json!({ "object": "list", "data": data, "has_more": false, "url": url })).into_response()
}

async fn list_subscriptions(State(inner): Mock, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if record(&inner, &method, &uri, &headers, &Bytes::new()).is_none() {
        return failure();
    }
    list_of(&inner, |o| o["object"] == "subscription", "/v1/subscriptions")
}

async fn list_invoices(State(inner): Mock, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if record(&inner, &method, &uri, &headers, &Bytes::new()).is_none() {
        return failure();
    }
    list_of(&inner, |o| o["object"] == "invoice" && o["status"] == "paid", "/v1/invoices")
}

async fn list_charges(State(inner): Mock, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if record(&inner, &method, &uri, &headers, &Bytes::new()).is_none() {
        return failure();
    }
    list_of(&inner, |o| o["object"] == "charge", "/v1/charges")
}

/// Every refund, or with `?charge=` a charge's.
async fn list_refunds(State(inner): Mock, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if record(&inner, &method, &uri, &headers, &Bytes::new()).is_none() {
        return failure();
    }
    let query: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let charge = query.into_iter().find(|(k, _)| k == "charge").map(|(_, v)| v);
    list_of(&inner, |o| o["object"] == "refund" && charge.as_ref().is_none_or(|c| o["charge"] == *c), "/v1/refunds")
}

async fn retrieve_subscription(
    state: Mock,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    retrieve(state, method, uri, headers, Path(("subscriptions".into(), id))).await
}

async fn retrieve_session(
    state: Mock,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    retrieve(state, method, uri, headers, Path(("checkout_sessions".into(), id))).await
}

async fn unknown(State(inner): Mock, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let _ = record(&inner, &method, &uri, &headers, &body);
    let body = json!({ "error": { "type": "invalid_request_error", "message": "Unrecognized request URL" } });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}
