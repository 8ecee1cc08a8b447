//! The sources report under /admin/reports/sources (admins and analysts:
//! `ViewRevenue`): new members, new patrons, memberships and gifts by article,
//! by campaign and by referring host, with its CSV; ranges and refusals as in
//! `reports`.
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::reports::{export_range, money, range_view, read_range, refuse};
use super::{Authorized, ViewRevenue, staff_page};
use crate::domain::{Currency, Money, SourceDimension, SourceFigures, SourceLine};
use crate::http::csv;
use crate::http::error::AppError;
use crate::http::extract::ClientIp;
use crate::http::state::AppState;
use crate::services::sources;

/// Lines shown per table on the page; the CSV has them all.
const SHOWN: usize = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/reports/sources", get(show_sources_report))
        .route("/admin/reports/sources.csv", get(export_sources_csv))
}

fn heading(d: SourceDimension) -> &'static str {
    match d {
        SourceDimension::Article => "Article",
        SourceDimension::Campaign => "Campaign (source / medium)",
        SourceDimension::Referrer => "Referring site",
    }
}

fn noun(d: SourceDimension) -> &'static str {
    match d {
        SourceDimension::Article => "article",
        SourceDimension::Campaign => "campaign",
        SourceDimension::Referrer => "referring site",
    }
}

fn none_label(d: SourceDimension) -> &'static str {
    match d {
        SourceDimension::Article => "(no article)",
        SourceDimension::Campaign => "(no campaign)",
        SourceDimension::Referrer => "(no referrer)",
    }
}

#[derive(Serialize)]
struct JoinLineView {
    key: String,
    none: bool,
    members: i64,
}

#[derive(Serialize)]
struct JoinTableView {
    id: &'static str,
    heading: &'static str,
    noun: &'static str,
    lines: Vec<JoinLineView>,
    more: usize,
}

#[derive(Serialize)]
struct MoneyLineView {
    key: String,
    none: bool,
    new_patrons: i64,
    memberships: i64,
    membership: String,
    gifts: i64,
    gift: String,
    revenue: String,
}

fn money_line(key: String, none: bool, f: &SourceFigures, c: Currency) -> MoneyLineView {
    MoneyLineView {
        key,
        none,
        new_patrons: f.new_patrons,
        memberships: f.memberships,
        membership: money(f.membership_minor, c),
        gifts: f.gifts,
        gift: money(f.gift_minor, c),
        revenue: money(f.revenue_minor(), c),
    }
}

#[derive(Serialize)]
struct MoneyTableView {
    id: &'static str,
    heading: &'static str,
    noun: &'static str,
    lines: Vec<MoneyLineView>,
    more: usize,
}

#[derive(Serialize)]
struct CurrencyView {
    code: String,
    slug: String,
    tables: Vec<MoneyTableView>,
    total: MoneyLineView,
}

fn key_view(d: SourceDimension, key: &str) -> (String, bool) {
    if key.is_empty() { (none_label(d).to_string(), true) } else { (key.to_string(), false) }
}

async fn show_sources_report(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/reports/sources");
    page.insert("zone", state.ctx.zone.name());
    let range = match read_range(&state, raw.as_deref()).await? {
        Ok(r) => r,
        Err(message) => return refuse(&state, page, "admin/reports/sources.html", raw.as_deref(), &message),
    };
    let report = sources::report(&state.ctx, &range).await?;
    let joins: Vec<JoinTableView> = report
        .joins
        .tables
        .iter()
        .map(|(d, lines)| JoinTableView {
            id: d.as_str(),
            heading: heading(*d),
            noun: noun(*d),
            more: lines.len().saturating_sub(SHOWN),
            lines: lines
                .iter()
                .take(SHOWN)
                .map(|l: &SourceLine<i64>| {
                    let (key, none) = key_view(*d, &l.key);
                    JoinLineView { key, none, members: l.figures }
                })
                .collect(),
        })
        .collect();
    let currencies: Vec<CurrencyView> = report
        .currencies
        .iter()
        .map(|(c, t)| CurrencyView {
            code: c.code(),
            slug: c.as_str().to_string(),
            tables: t
                .tables
                .iter()
                .map(|(d, lines)| MoneyTableView {
                    id: d.as_str(),
                    heading: heading(*d),
                    noun: noun(*d),
                    more: lines.len().saturating_sub(SHOWN),
                    lines: lines
                        .iter()
                        .take(SHOWN)
                        .map(|l| {
                            let (key, none) = key_view(*d, &l.key);
                            money_line(key, none, &l.figures, *c)
                        })
                        .collect(),
                })
                .collect(),
            total: money_line("All".to_string(), false, &t.total, *c),
        })
        .collect();
    page.insert("range", &range_view(&range))
        .insert("joins", &joins)
        .insert("joined", &report.joins.total)
        .insert("currencies", &currencies);
    Ok(page.render(&state, "admin/reports/sources.html")?.into_response())
}

async fn export_sources_csv(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let range = match export_range(&state, &staff.user, &ip, raw.as_deref(), ("sources", "sources"), |_| {}).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let report = sources::report(&state.ctx, &range).await?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (d, lines) in &report.joins.tables {
        for l in lines {
            let mut row = vec![d.as_str().to_string(), l.key.clone(), String::new(), l.figures.to_string()];
            row.extend(std::iter::repeat_n(String::new(), 6));
            rows.push(row);
        }
    }
    for (c, t) in &report.currencies {
        let d = |v: i64| Money::new(v, *c).decimal();
        for (dim, lines) in &t.tables {
            for l in lines {
                let f = &l.figures;
                rows.push(vec![
                    dim.as_str().to_string(),
                    l.key.clone(),
                    c.code(),
                    String::new(),
                    f.new_patrons.to_string(),
                    f.memberships.to_string(),
                    d(f.membership_minor),
                    f.gifts.to_string(),
                    d(f.gift_minor),
                    d(f.revenue_minor()),
                ]);
            }
        }
    }
    let body = csv::to_csv(
        &[
            "dimension",
            "value",
            "currency",
            "new_members",
            "new_patrons",
            "membership_payments",
            "membership_revenue",
            "gifts",
            "gift_revenue",
            "revenue",
        ],
        &rows,
    );
    Ok(csv::attachment(body, &format!("sources-{}-{}.csv", range.first, range.last)))
}
