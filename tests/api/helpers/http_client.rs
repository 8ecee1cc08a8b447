//! A small HTTP/1.1 client for driving the app over loopback the way a browser
//! would: it keeps cookies, sends same-origin form headers and never follows
//! redirects, so tests can assert on each hop.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::error::Error;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

#[derive(Clone)]
pub struct TestClient {
    base_url: String,
    jar: Arc<Mutex<BTreeMap<String, String>>>,
    // Sent with every request; they override the per-request defaults
    // (Origin, Sec-Fetch-Site, Content-Type) but not `.header()`.
    default_headers: Vec<(HeaderName, HeaderValue)>,
    http: HttpClient,
}

impl TestClient {
    /// `base_url` is e.g. `http://127.0.0.1:PORT`; a trailing slash is ignored.
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            jar: Arc::default(),
            default_headers: Vec::new(),
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// A second "browser" against the same app (sharing the connection pool)
    /// that starts with no cookies.
    pub fn fork_without_cookies(&self) -> Self {
        Self { jar: Arc::default(), ..self.clone() }
    }

    /// Returns a client that sends `name: value` with every request.
    pub fn with_default_header(mut self, name: &str, value: &str) -> Self {
        self.default_headers.push(parse_header(name, value));
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn get(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::GET, path, Bytes::new())
    }

    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> RequestBuilder<'_> {
        let body = serde_urlencoded::to_string(fields)
            .unwrap_or_else(|err| panic!("encoding form fields {fields:?} failed: {err}"));
        self.post_raw(path, "application/x-www-form-urlencoded", body.into_bytes())
    }

    pub fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> RequestBuilder<'_> {
        let mut builder = self.request(Method::POST, path, Bytes::from(body));
        // What a browser sends when submitting a form on one of the app's own
        // pages; CSRF protection looks at these.
        builder.defaults.extend([
            parse_header("content-type", content_type),
            parse_header("origin", &self.base_url),
            parse_header("sec-fetch-site", "same-origin"),
        ]);
        builder
    }

    /// Any method; `path` may also be an absolute `http://` URL (for example
    /// a link taken from a mail or a `Location` header).
    pub fn request(&self, method: Method, path: &str, body: Bytes) -> RequestBuilder<'_> {
        RequestBuilder {
            client: self,
            method,
            url: self.url_for(path),
            body,
            defaults: Vec::new(),
            explicit: Vec::new(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar().insert(name.to_owned(), value.to_owned());
    }

    pub fn clear_cookies(&self) {
        self.jar().clear();
    }

    fn jar(&self) -> MutexGuard<'_, BTreeMap<String, String>> {
        self.jar.lock().expect("cookie jar mutex poisoned by a panicking test thread")
    }

    fn url_for(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else if path.starts_with('/') {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}/{path}", self.base_url)
        }
    }

    fn cookie_header(&self) -> Option<HeaderValue> {
        let jar = self.jar();
        if jar.is_empty() {
            return None;
        }
        let joined = jar.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ");
        let value = HeaderValue::from_str(&joined)
            .unwrap_or_else(|err| panic!("cookie jar holds an invalid header value {joined:?}: {err}"));
        Some(value)
    }

    fn store_cookies(&self, headers: &HeaderMap) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs() as i64);
        let mut jar = self.jar();
        for value in headers.get_all(header::SET_COOKIE) {
            apply_set_cookie(&mut jar, &String::from_utf8_lossy(value.as_bytes()), now);
        }
    }
}

pub struct RequestBuilder<'a> {
    client: &'a TestClient,
    method: Method,
    url: String,
    body: Bytes,
    defaults: Vec<(HeaderName, HeaderValue)>,
    explicit: Vec<(HeaderName, HeaderValue)>,
}

impl RequestBuilder<'_> {
    /// Adds a header, replacing any default of the same name (including the
    /// jar's `Cookie`); repeating a name sends it several times.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.explicit.push(parse_header(name, value));
        self
    }

    /// Drops a default header (e.g. `sec-fetch-site`, to act like an older browser).
    pub fn without_default(mut self, name: &str) -> Self {
        self.defaults.retain(|(n, _)| !n.as_str().eq_ignore_ascii_case(name));
        self
    }

    pub async fn send(self) -> TestResponse {
        let request_line = format!("{} {}", self.method, self.url);

        let mut headers = HeaderMap::new();
        override_headers(&mut headers, self.defaults);
        override_headers(&mut headers, self.client.default_headers.iter().cloned());
        if let Some(cookies) = self.client.cookie_header() {
            headers.insert(header::COOKIE, cookies);
        }
        override_headers(&mut headers, self.explicit);

        let mut request = Request::builder()
            .method(self.method)
            .uri(&self.url)
            .body(Full::new(self.body))
            .unwrap_or_else(|err| panic!("building request {request_line} failed: {err}"));
        *request.headers_mut() = headers;

        let response = self
            .client
            .http
            .request(request)
            .await
            .unwrap_or_else(|err| panic!("{request_line} failed: {}", error_chain(&err)));
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .unwrap_or_else(|err| panic!("{request_line}: reading the response body failed: {}", error_chain(&err)))
            .to_bytes();

        self.client.store_cookies(&parts.headers);
        TestResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            request_line,
        }
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
    // Only for failure messages, so a failing assertion says which request.
    request_line: String,
}

impl TestResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
    }

    pub fn location(&self) -> Option<String> {
        self.header("location")
    }

    #[track_caller]
    pub fn assert_status(&self, code: u16) -> &Self {
        assert!(
            self.status == code,
            "{}: expected status {code}, got {}\nheaders: {:?}\nbody:\n{}",
            self.request_line,
            self.status,
            self.headers,
            self.body
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| {
            panic!("{}: response (status {}) is not JSON ({err}); body:\n{}", self.request_line, self.status, self.body)
        })
    }

    #[track_caller]
    pub fn assert_contains(&self, needle: &str) -> &Self {
        assert!(
            self.body.contains(needle),
            "{}: body (status {}) does not contain {needle:?}; body:\n{}",
            self.request_line,
            self.status,
            self.body
        );
        self
    }

    #[track_caller]
    pub fn assert_not_contains(&self, needle: &str) -> &Self {
        assert!(
            !self.body.contains(needle),
            "{}: body (status {}) unexpectedly contains {needle:?}; body:\n{}",
            self.request_line,
            self.status,
            self.body
        );
        self
    }
}

#[track_caller]
fn parse_header(name: &str, value: &str) -> (HeaderName, HeaderValue) {
    let parsed_name =
        HeaderName::from_bytes(name.as_bytes()).unwrap_or_else(|err| panic!("invalid header name {name:?}: {err}"));
    let parsed_value =
        HeaderValue::from_str(value).unwrap_or_else(|err| panic!("invalid value for header {name}: {value:?}: {err}"));
    (parsed_name, parsed_value)
}

/// Replaces every existing value of each name in `overrides`, while keeping
/// repeated names within `overrides` itself.
fn override_headers(headers: &mut HeaderMap, overrides: impl IntoIterator<Item = (HeaderName, HeaderValue)>) {
    let mut replaced = HashSet::new();
    for (name, value) in overrides {
        if replaced.insert(name.clone()) {
            headers.remove(&name);
        }
        headers.append(name, value);
    }
}

/// hyper's errors say little at the top level ("client error (Connect)"); the
/// cause (e.g. "connection refused") is further down the chain.
fn error_chain(err: &dyn Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Applies one `Set-Cookie` header. Domain, Path, Secure and the like are
/// ignored: the jar talks to a single loopback origin.
fn apply_set_cookie(jar: &mut BTreeMap<String, String>, set_cookie: &str, now: i64) {
    let mut segments = set_cookie.split(';');
    let Some((name, value)) = segments.next().and_then(|pair| pair.split_once('=')) else {
        return;
    };
    let (name, value) = (name.trim(), value.trim());
    if name.is_empty() {
        return;
    }

    let mut max_age = None;
    let mut expires = None;
    for attribute in segments {
        let (key, attr_value) = attribute.split_once('=').unwrap_or((attribute, ""));
        let key = key.trim();
        if key.eq_ignore_ascii_case("max-age") {
            max_age = attr_value.trim().parse::<i64>().ok();
        } else if key.eq_ignore_ascii_case("expires") {
            expires = parse_http_date(attr_value.trim());
        }
    }
    // RFC 6265 §5.3: Max-Age wins over Expires when both are present.
    let expired = match max_age {
        Some(seconds) => seconds <= 0,
        None => expires.is_some_and(|at| at <= now),
    };

    if expired || value.is_empty() {
        jar.remove(name);
    } else {
        jar.insert(name.to_owned(), value.to_owned());
    }
}

/// Parses the date formats found in `Expires` (IMF-fixdate, RFC 850 and
/// asctime, all assumed GMT) into Unix seconds, by picking out the fields
/// rather than matching one exact layout.
fn parse_http_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let (mut day, mut month, mut year, mut time) = (None, None, None, None);
    for token in text.split(|c: char| c.is_whitespace() || c == ',' || c == '-').filter(|token| !token.is_empty()) {
        if token.contains(':') {
            time = Some(token);
        } else if let Some(index) =
            MONTHS.iter().position(|name| token.get(..3).is_some_and(|prefix| prefix.eq_ignore_ascii_case(name)))
        {
            month = Some(index as i64 + 1);
        } else if let Ok(number) = token.parse::<i64>() {
            if day.is_none() && token.len() <= 2 {
                day = Some(number);
            } else {
                year = Some(number);
            }
        }
    }

    let year = match year? {
        two_digit @ 0..=69 => two_digit + 2000,
        two_digit @ 70..=99 => two_digit + 1900,
        full => full,
    };
    let mut clock = time?.split(':').map(|part| part.parse::<i64>().ok());
    let (hours, minutes, seconds) = (clock.next()??, clock.next()??, clock.next()??);
    let days = days_from_civil(year, month?, day?);
    Some(days * 86_400 + hours * 3_600 + minutes * 60 + seconds)
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar, counting years
/// from March so the leap day falls at the end of the cycle.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}
