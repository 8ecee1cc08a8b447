//! Headless Chromium for what a person sees, driven over WebDriver (W3C) through
//! ChromeDriver on a loopback port, with the same hyper client the other tests
//! use. One ChromeDriver serves the whole test binary; each test opens its own
//! browser session (a fresh profile: no cookies shared between tests).
//!
//! Why not a WebDriver crate: fantoccini, the maintained one, pulls in the
//! `webdriver` crate and with it http 0.2, cookie 0.16 and ICU4X's segmenter, a
//! second copy of crates we already build; what the tests need (open a page,
//! run a script, resize, screenshot, click) is a dozen JSON requests.
//!
//! Without Chromium the browser tests print why and pass, except under `CI=true`,
//! where a missing browser fails them (`.ci/run` installs it).
#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// axe-core, vendored with its licence (see `tests/browser/axe/README.md`).
const AXE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/axe/axe.min.js"));

/// The phone and desktop widths every reader page is checked at.
pub const PHONE_NARROW: u32 = 360;
pub const PHONE: u32 = 390;
pub const DESKTOP: u32 = 1280;

/// The ChromeDriver for this test binary, started on first use: its base URL,
/// or `None` (after printing why) when Chromium is not installed and not under CI.
fn driver() -> Option<&'static str> {
    static DRIVER: OnceLock<Option<String>> = OnceLock::new();
    DRIVER
        .get_or_init(|| {
            let installed = Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists();
            if !installed {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true but Chromium is not installed ({CHROMIUM}, {CHROMEDRIVER}): .ci/run installs it"
                );
                eprintln!("skipping browser checks: {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)");
                return None;
            }
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            // Started from a thread that lives as long as the test binary, and told
            // to exit when that thread does (the kernel signals a child when the
            // thread that started it ends, not the process).
            std::thread::spawn(move || {
                let mut command = Command::new(CHROMEDRIVER);
                command.arg(format!("--port={port}")).arg("--allowed-ips=127.0.0.1");
                command.stdout(Stdio::null()).stderr(Stdio::null());
                // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
                unsafe {
                    command.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        Ok(())
                    });
                }
                let mut child: Child = command.spawn().expect("chromedriver starts");
                // This thread waits as long as chromedriver runs (and reaps it).
                let _ = child.wait();
            });
            for _ in 0..400 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(format!("http://127.0.0.1:{port}"));
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            panic!("chromedriver did not listen on {port}");
        })
        .as_deref()
}

/// One browser window (a WebDriver session).
pub struct Browser {
    http: Client<HttpConnector, Full<Bytes>>,
    session: String,
    driver: &'static str,
}

/// What [`Browser::check_page`] found wrong with a page.
#[derive(Debug, Default)]
pub struct Findings {
    pub problems: Vec<String>,
}

/// One axe-core rule a page breaks: its id, how much it matters (`minor`,
/// `moderate`, `serious` or `critical`) and the first few elements that break it.
#[derive(Debug, Clone)]
pub struct AxeViolation {
    pub id: String,
    pub impact: String,
    pub targets: Vec<String>,
}

impl AxeViolation {
    /// Serious or critical: what the browser tests fail on.
    pub fn blocks(&self) -> bool {
        matches!(self.impact.as_str(), "serious" | "critical")
    }
}

impl std::fmt::Display for AxeViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.id, self.impact, self.targets.join(", "))
    }
}

impl Browser {
    /// A headless Chromium whose preferred language is `lang` (`en` or `uk`), or
    /// `None` when the browser is not installed (outside CI).
    pub async fn open(lang: &str) -> Option<Browser> {
        let driver = driver()?;
        let http = Client::builder(TokioExecutor::new()).build_http();
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--disable-dev-shm-usage", "--hide-scrollbars", format!("--lang={lang}"),
                         "--window-size=1280,900"],
                "prefs": { "intl.accept_languages": lang },
            },
        }}});
        let mut browser = Browser { http, session: String::new(), driver };
        let created = browser.call(Method::POST, "/session", Some(capabilities)).await;
        browser.session = created["sessionId"].as_str().expect("a WebDriver session id").to_string();
        Some(browser)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.driver)
        } else {
            format!("{}/session/{}{path}", self.driver, self.session)
        };
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = Request::builder()
            .method(method.clone())
            .uri(&url)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("a WebDriver request");
        let response = tokio::time::timeout(Duration::from_secs(60), self.http.request(request))
            .await
            .unwrap_or_else(|_| panic!("WebDriver {method} {path} timed out"))
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("a WebDriver answer").to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert!(status.is_success(), "WebDriver {method} {path}: {status} {value}");
        value["value"].clone()
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.call(Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    pub async fn current_url(&self) -> String {
        self.call(Method::GET, "/url", None).await.as_str().unwrap_or_default().to_string()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns what it
    /// returns; a returned promise is awaited.
    pub async fn run(&self, script: &str, args: Value) -> Value {
        self.call(Method::POST, "/execute/sync", Some(json!({ "script": script, "args": args }))).await
    }

    /// Sets the viewport to a phone (`width` ≤ 600: touch, 2× pixels) or a desktop.
    pub async fn set_width(&self, width: u32) {
        let mobile = width <= 600;
        self.set_viewport(width, if mobile { 800 } else { 900 }).await;
    }

    async fn set_viewport(&self, width: u32, height: u32) {
        let mobile = width <= 600;
        let params = json!({ "width": width, "height": height,
            "deviceScaleFactor": if mobile { 2 } else { 1 }, "mobile": mobile });
        self.call(
            Method::POST,
            "/goog/cdp/execute",
            Some(json!({ "cmd": "Emulation.setDeviceMetricsOverride", "params": params })),
        )
        .await;
    }

    /// A cookie for the page's site (open a page of the site first).
    pub async fn add_cookie(&self, name: &str, value: &str) {
        self.call(Method::POST, "/cookie", Some(json!({ "cookie": { "name": name, "value": value, "path": "/" } })))
            .await;
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        let found = self.call(Method::POST, "/element", Some(json!({ "using": "css selector", "value": css }))).await;
        let id = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string();
        self.call(Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    /// Types `text` into the first element matching `css` (focusing it first).
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(Method::POST, &format!("/element/{id}/value"), Some(json!({ "text": text }))).await;
    }

    /// Presses Ctrl+Enter (as a person would, through the browser's input
    /// pipeline) on whatever has the focus.
    pub async fn press_ctrl_enter(&self) {
        let (ctrl, enter) = ("\u{E009}", "\u{E007}");
        let keys = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
            { "type": "keyDown", "value": ctrl }, { "type": "keyDown", "value": enter },
            { "type": "keyUp", "value": enter }, { "type": "keyUp", "value": ctrl } ] }] });
        self.call(Method::POST, "/actions", Some(keys)).await;
        self.call(Method::DELETE, "/actions", None).await;
    }

    /// Presses one key (a WebDriver key code such as `"\u{E004}"` for Tab) on whatever has the focus.
    pub async fn press(&self, key: &str) {
        let keys = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
            { "type": "keyDown", "value": key }, { "type": "keyUp", "value": key } ] }] });
        self.call(Method::POST, "/actions", Some(keys)).await;
        self.call(Method::DELETE, "/actions", None).await;
    }

    /// Runs `script` (see [`Browser::run`]) until it returns something truthy, for
    /// up to ten seconds; returns that, or `Null` if it never did.
    pub async fn wait_for(&self, script: &str) -> Value {
        for _ in 0..100 {
            let value = self.run(script, json!([])).await;
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
                _ => true,
            };
            if truthy {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Value::Null
    }

    async fn element(&self, css: &str) -> String {
        let found = self.call(Method::POST, "/element", Some(json!({ "using": "css selector", "value": css }))).await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    /// Looks inside the first frame matching `css` (until [`Browser::top`]).
    pub async fn enter_frame(&self, css: &str) {
        let found = self.call(Method::POST, "/element", Some(json!({ "using": "css selector", "value": css }))).await;
        self.call(Method::POST, "/frame", Some(json!({ "id": found }))).await;
    }

    /// Back to the top-level page.
    pub async fn top(&self) {
        self.call(Method::POST, "/frame", Some(json!({ "id": null }))).await;
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.run("return document.body.innerText;", json!([])).await.as_str().unwrap_or_default().to_string()
    }

    /// A full-page PNG at `path` (its folder is created).
    /// The viewport is made as tall as the page while it is taken: Chromium does not
    /// paint a frame from another origin below the viewport into a capture.
    pub async fn screenshot(&self, path: &Path) {
        let height = self.run("return document.documentElement.scrollHeight;", json!([])).await;
        let width = self.run("return window.innerWidth;", json!([])).await;
        let viewport = self.run("return window.innerHeight;", json!([])).await;
        let (w, h, v) = (
            width.as_u64().unwrap_or(1280) as u32,
            height.as_u64().unwrap_or(900) as u32,
            viewport.as_u64().unwrap_or(900) as u32,
        );
        if h > v {
            self.set_viewport(w, h).await;
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        let png = self
            .call(
                Method::POST,
                "/goog/cdp/execute",
                Some(json!({ "cmd": "Page.captureScreenshot", "params": {
                    "format": "png", "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 } } })),
            )
            .await;
        let data = png["data"].as_str().expect("screenshot data");
        let bytes = base64::engine::general_purpose::STANDARD.decode(data).expect("screenshot base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot folder");
        }
        std::fs::write(path, bytes).expect("screenshot written");
        if h > v {
            self.set_viewport(w, v).await;
        }
    }

    /// What a reader would trip over on the open page at the current width:
    /// sideways scrolling, content cut off at the right edge, tap targets under
    /// 44 px, and (with `axe`) axe-core's serious or critical violations.
    pub async fn check_page(&self, axe: bool) -> Findings {
        let mut problems = Vec::new();
        let layout = self
            .run(
                "const d = document.documentElement;
                 // Inside a box that scrolls (a wide table's wrapper) is not cut off, if the box fits.
                 const scrolled = e => { for (let a = e.parentElement; a; a = a.parentElement) {
                     if (getComputedStyle(a).overflowX !== 'visible')
                       return a.getBoundingClientRect().right <= window.innerWidth + 1; }
                   return false; };
                 const wide = [...document.querySelectorAll('body *')]
                   .filter(e => { const r = e.getBoundingClientRect();
                     return r.width > 0 && r.height > 0 && r.right > window.innerWidth + 1 && !scrolled(e); })
                   .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                     + ' \"' + (e.innerText || '').trim().slice(0, 30) + '\"');
                 const small = [...document.querySelectorAll(
                     'button, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea, summary, nav a, a.button, label:has(input[type=radio]), label:has(input[type=checkbox])')]
                   .filter(e => e.offsetParent !== null)
                   .filter(e => { const r = e.getBoundingClientRect(); return r.height < 44 || r.width < 44; })
                   .slice(0, 8).map(e => { const r = e.getBoundingClientRect();
                     return e.tagName.toLowerCase() + ' \"' + (e.innerText || e.value || e.name || '').trim().slice(0, 30) + '\" ' + Math.round(r.width) + 'x' + Math.round(r.height); });
                 const seen = {};
                 const repeated = [...document.querySelectorAll('h1, h2')].filter(e => e.offsetParent !== null)
                   .map(e => e.innerText.trim()).filter(t => t && (seen[t] = (seen[t] || 0) + 1) === 2);
                 return { scroll: d.scrollWidth, inner: window.innerWidth, wide, small, repeated };",
                json!([]),
            )
            .await;
        let (scroll, inner) = (layout["scroll"].as_i64().unwrap_or(0), layout["inner"].as_i64().unwrap_or(0));
        if scroll > inner {
            problems.push(format!("scrolls sideways: {scroll} px wide in {inner} px ({})", layout["wide"]));
        } else if layout["wide"].as_array().is_some_and(|w| !w.is_empty()) {
            problems.push(format!("cut off at the right edge: {}", layout["wide"]));
        }
        if let Some(small) = layout["small"].as_array().filter(|s| !s.is_empty()) {
            problems.push(format!("tap targets under 44 px: {small:?}"));
        }
        // Two sections under one heading read as one (a translation that said the same twice).
        if let Some(repeated) = layout["repeated"].as_array().filter(|r| !r.is_empty()) {
            problems.push(format!("headings repeated: {repeated:?}"));
        }
        if !axe {
            return Findings { problems };
        }
        for violation in self.axe().await.iter().filter(|v| v.blocks()) {
            problems.push(format!("axe: {}: {}", violation.id, violation.targets.join(", ")));
        }
        Findings { problems }
    }

    /// Every axe-core violation on the open page, whatever its impact.
    pub async fn axe(&self) -> Vec<AxeViolation> {
        let found = self
            .run(
                &format!(
                    "if (!window.axe) {{ {AXE}\n }}
                     const r = await axe.run(document, {{ resultTypes: ['violations'] }});
                     return r.violations.map(v => ({{ id: v.id, impact: v.impact || '',
                       targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }}));"
                ),
                json!([]),
            )
            .await;
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        found
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| AxeViolation {
                id: text(&v["id"]),
                impact: text(&v["impact"]),
                targets: v["targets"].as_array().into_iter().flatten().map(text).collect(),
            })
            .collect()
    }

    /// Types `keys` (characters, or WebDriver key codes such as `"\u{E003}"` for
    /// Backspace) into whatever has the focus, as a keyboard would.
    pub async fn type_keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                [
                    json!({ "type": "keyDown", "value": c.to_string() }),
                    json!({ "type": "keyUp", "value": c.to_string() }),
                ]
            })
            .collect();
        let keys = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] });
        self.call(Method::POST, "/actions", Some(keys)).await;
        self.call(Method::DELETE, "/actions", None).await;
    }

    /// Marks the open page, so [`Browser::wait_for_next_page`] can tell when
    /// another one (even the same address again) has replaced it.
    pub async fn mark_page(&self) {
        self.run("window.__patronageOld = true;", json!([])).await;
    }

    /// Waits until a page loaded after [`Browser::mark_page`] has finished loading.
    pub async fn wait_for_next_page(&self) {
        let loaded = self.wait_for("return !window.__patronageOld && document.readyState === 'complete';").await;
        assert_eq!(loaded, json!(true), "no new page loaded (still {})", self.current_url().await);
    }
}

/// Ends the session, so its Chromium exits, even when the test failed: a plain
/// blocking request, as `Drop` cannot wait for the async client.
impl Drop for Browser {
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let Some(address) = self.driver.strip_prefix("http://") else { return };
        let Ok(mut stream) = std::net::TcpStream::connect(address) else { return };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.session
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return;
        }
        // ChromeDriver answers once Chromium has quit but keeps the connection
        // open whatever the request said: read the one answer, not to the end
        // (which waited out the read timeout, 30 s a test).
        let (mut answer, mut chunk) = (Vec::new(), [0u8; 4096]);
        while let Ok(n) = stream.read(&mut chunk) {
            answer.extend_from_slice(&chunk[..n]);
            if n == 0 || answer_complete(&answer) {
                break;
            }
        }
    }
}

/// Whether `answer` holds a whole HTTP response: its headers and as many bytes
/// of body as its `Content-Length` says.
fn answer_complete(answer: &[u8]) -> bool {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
    let headers = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    let length = headers
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    answer.len() >= end + 4 + length
}

/// Where screenshots go: `target/screenshots/<name>.png`.
pub fn screenshot_path(name: &str) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{}/target", env!("CARGO_MANIFEST_DIR")));
    PathBuf::from(target).join("screenshots").join(format!("{name}.png"))
}
