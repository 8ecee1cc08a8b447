use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn().await;
    let r = app.client.get("/healthz").send().await;
    r.assert_status(200);
    assert_eq!(r.body, "ok");
}

#[tokio::test]
async fn readyz_reports_database_and_migrations() {
    let app = TestApp::spawn().await;
    let r = app.client.get("/readyz").send().await;
    r.assert_status(200);
    let json = r.json();
    assert_eq!(json["status"], "ready");
    assert_eq!(json["migrations"], "current");
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.db().close().await;
    let r = app.client.get("/readyz").send().await;
    r.assert_status(503);
    assert_eq!(r.json()["database"], "unreachable");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    app.client.get("/signin").send().await.assert_status(200);
    app.client.get("/no-such-page").send().await.assert_status(404);
    let r = app.client.get("/metrics").send().await;
    r.assert_status(200);
    assert!(r.header("content-type").unwrap_or_default().starts_with("text/plain"));
    let lines: Vec<&str> = r.body.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("http_requests_total{")
            && l.contains("route=\"/signin\"")
            && l.contains("status=\"200\"")),
        "{}",
        r.body
    );
    assert!(
        lines.iter().any(|l| l.starts_with("http_request_duration_seconds_bucket{") && l.contains("route=\"/signin\""))
    );
    assert!(lines.iter().any(|l| l.starts_with("http_requests_total{") && l.contains("status=\"404\"")));
    assert!(lines.iter().any(|l| l.starts_with("db_pool_connections")), "{}", r.body);
}

#[tokio::test]
async fn responses_carry_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    let r = app.client.get("/").send().await;
    r.assert_status(200);
    let csp = r.header("content-security-policy").expect("a CSP");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(r.header("referrer-policy").is_some());
    assert!(r.header("x-request-id").is_some_and(|v| v.len() >= 32));
}

#[tokio::test]
async fn the_stylesheet_is_served_with_long_cache_headers() {
    let app = TestApp::spawn().await;
    let page = app.client.get("/").send().await;
    let href = page
        .body
        .split("href=\"/static/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the layout links a stylesheet");
    let css = app.client.get(&format!("/static/{href}")).send().await;
    css.assert_status(200);
    assert!(css.header("content-type").unwrap_or_default().starts_with("text/css"));
    assert!(css.header("cache-control").unwrap_or_default().contains("immutable"));
    app.client.get("/static/nope.css").send().await.assert_status(404);
}

#[tokio::test]
async fn anonymous_pages_come_gzipped_to_clients_that_ask_and_plain_to_others() {
    let app = TestApp::spawn().await;
    for path in ["/", "/topics"] {
        let plain = app.new_browser().get(path).send().await;
        plain.assert_status(200).assert_contains("</html>");
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        let gz = app.new_browser().get(path).header("accept-encoding", "gzip").send().await;
        gz.assert_status(200);
        assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"), "{path}");
        assert!(gz.header("vary").unwrap_or_default().to_ascii_lowercase().contains("accept-encoding"));
        assert!(gz.header("x-request-id").is_some() && gz.header("content-security-policy").is_some());
    }
}
