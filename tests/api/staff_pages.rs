//! The staff pages of a demo newsroom in a real browser at desktop width: the
//! dashboard with its charts, the reports, the member list, the boxes page and
//! the corrections queue; no sideways scrolling, tap targets of at least 44 px,
//! no heading said twice, and no serious or critical axe-core violation.
//! Screenshots go to `target/screenshots/staff/`.
use patronage::domain::Role;
use patronage::services::demo_data::{self, Options};

use crate::helpers::TestApp;
use crate::helpers::browser::{Browser, DESKTOP, screenshot_path};

#[tokio::test]
async fn the_staff_pages_of_a_demo_newsroom_render_their_charts_in_a_browser() {
    let app = TestApp::builder().trusted_origin("https://news.example").spawn().await;
    demo_data::generate(&app.ctx, Options { members: 150, months: 18, seed: 5 }).await.expect("demo data");
    let http = app.new_browser();
    app.sign_in_staff(&http, "admin@news.test", Role::Admin).await;
    let cookie = http.cookie("patronage_staff").expect("a staff session");
    let Some(browser) = Browser::open("en").await else { return };
    browser.goto(&app.base_url).await;
    browser.add_cookie("patronage_staff", &cookie).await;
    browser.set_width(DESKTOP).await;
    let pages = [
        ("dashboard", "/admin", true),
        ("report-mrr", "/admin/reports/mrr?range=12m", true),
        ("report-churn", "/admin/reports/churn?range=12m", true),
        ("report-revenue", "/admin/reports/revenue?range=12m", false),
        ("report-cohorts", "/admin/reports/cohorts?range=12m", false),
        ("report-dunning", "/admin/reports/dunning?range=12m", false),
        ("report-votes", "/admin/reports/votes?range=all", false),
        ("report-tiers", "/admin/reports/tiers?range=all", true),
        ("report-donations", "/admin/reports/donations?range=12m", true),
        ("report-sources", "/admin/reports/sources?range=12m", false),
        ("members", "/admin/members", false),
        ("embeds", "/admin/embeds", false),
        ("corrections", "/admin/corrections", false),
        ("transparency", "/admin/transparency", false),
    ];
    let mut problems = Vec::new();
    for (name, path, chart) in pages {
        browser.goto(&format!("{}{path}", app.base_url)).await;
        problems.extend(browser.check_page(true).await.problems.into_iter().map(|p| format!("{path}: {p}")));
        let text = browser.text().await;
        assert!(!text.contains("Something went wrong") && !text.contains("Sign in"), "{path}: {text}");
        if chart {
            let charts =
                browser.run("return document.querySelectorAll('svg.chart').length;", serde_json::json!([])).await;
            assert!(charts.as_i64().unwrap_or(0) >= 1, "{path} shows its charts");
        }
        browser.screenshot(&screenshot_path(&format!("staff/{name}-1280"))).await;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
