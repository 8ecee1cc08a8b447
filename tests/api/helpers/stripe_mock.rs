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
}

#[derive(Clone)]
pub struct StripeMock {
    inner: Arc<Mutex<Inner>>,
    pub base_url: String,
}

impl StripeMock {
    pub async fn start() -> StripeMock {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/v1/customers", post(create_customer))
            .route("/v1/products", post(create_product))
            .route("/v1/prices", post(create_price))
            .route("/v1/checkout/sessions", post(create_checkout_session))
            .route("/v1/billing_portal/sessions", post(create_portal_session))
            .route("/v1/subscriptions", get(list_subscriptions))
            .route("/v1/invoices", get(list_invoices))
            .route("/v1/charges", get(list_charges))
            .route("/v1/{kind}/{id}", get(retrieve))
            .route("/v1/subscriptions/{id}", get(retrieve_subscription).delete(cancel_subscription))
            .route("/v1/checkout/sessions/{id}", get(retrieve_session))
            .fallback(unknown)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the Stripe mock");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StripeMock { inner, base_url }
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

    pub fn fail_next(&self, n: u32) {
        self.lock().fail_next = n;
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
