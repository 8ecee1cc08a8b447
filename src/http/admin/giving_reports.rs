//! The tiers and donations reports under /admin/reports (admins and analysts:
//! `ViewRevenue`), each with its CSV; ranges and refusals as in `reports`.
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::reports::{axis_money, export_range, money, pct, pct_csv, range_view, read_range, refuse};
use super::{Authorized, ViewRevenue, staff_page};
use crate::domain::{Currency, DonationMonthRow, DonationReport, Money, TierFigures, TierReport};
use crate::http::charts::{self, Series};
use crate::http::csv;
use crate::http::error::AppError;
use crate::http::extract::ClientIp;
use crate::http::state::AppState;
use crate::services::giving_reports;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/reports/tiers", get(show_tiers_report))
        .route("/admin/reports/tiers.csv", get(export_tiers_csv))
        .route("/admin/reports/donations", get(show_donations_report))
        .route("/admin/reports/donations.csv", get(export_donations_csv))
}

fn optional_money(v: Option<i64>, c: Currency) -> String {
    v.map_or_else(|| "–".to_string(), |v| money(v, c))
}

fn months(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.1}"))
}

// --- Tiers ---

#[derive(Serialize)]
struct TierLineView {
    tier: String,
    interval: String,
    patrons: i64,
    mrr: String,
    arpu: String,
    tenure: String,
    lifetime: String,
    ltv: String,
    joined: i64,
    ended: i64,
}

fn tier_line_view(tier: String, interval: String, f: &TierFigures, c: Currency) -> TierLineView {
    TierLineView {
        tier,
        interval,
        patrons: f.patrons,
        mrr: money(f.mrr_minor, c),
        arpu: optional_money(f.arpu(), c),
        tenure: months(f.average_tenure_months()),
        lifetime: months(f.average_lifetime_months()),
        ltv: optional_money(f.lifetime_value(), c),
        joined: f.joined_in_range,
        ended: f.ended_in_range,
    }
}

#[derive(Serialize)]
struct TierMoveView {
    from: String,
    to: String,
    upgrades: i64,
    downgrades: i64,
    mrr_delta: String,
}

#[derive(Serialize)]
struct TierCurrencyView {
    code: String,
    lines: Vec<TierLineView>,
    total: TierLineView,
    moves: Vec<TierMoveView>,
    chart: String,
}

fn tier_view(r: &TierReport) -> TierCurrencyView {
    let c = r.currency;
    let labels: Vec<String> = r.lines.iter().map(|l| format!("{} ({})", l.tier_name, l.interval)).collect();
    let chart = charts::bars(
        &format!("tiers-{}", c.as_str()),
        &format!("MRR per tier and interval ({})", c.code()),
        &format!(
            "MRR now per tier and interval in {}, {} in all from {} paying patrons.",
            c.code(),
            money(r.total.mrr_minor, c),
            r.total.patrons
        ),
        ("Tier", &format!("MRR ({})", c.code())),
        &labels,
        &[Series { name: "MRR", class: "s1", values: r.lines.iter().map(|l| l.figures.mrr_minor).collect() }],
        &axis_money(c),
    );
    TierCurrencyView {
        code: c.code(),
        lines: r
            .lines
            .iter()
            .map(|l| tier_line_view(l.tier_name.clone(), l.interval.to_string(), &l.figures, c))
            .collect(),
        total: tier_line_view("All tiers".to_string(), String::new(), &r.total, c),
        moves: r
            .moves
            .iter()
            .map(|m| TierMoveView {
                from: m.from.clone(),
                to: m.to.clone(),
                upgrades: m.upgrades,
                downgrades: m.downgrades,
                mrr_delta: money(m.mrr_delta_minor, c),
            })
            .collect(),
        chart,
    }
}

async fn show_tiers_report(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/reports/tiers");
    page.insert("zone", state.ctx.zone.name());
    let range = match read_range(&state, raw.as_deref()).await? {
        Ok(r) => r,
        Err(message) => return refuse(&state, page, "admin/reports/tiers.html", raw.as_deref(), &message),
    };
    let views: Vec<TierCurrencyView> =
        giving_reports::tiers_report(&state.ctx, &range).await?.iter().map(tier_view).collect();
    page.insert("range", &range_view(&range)).insert("currencies", &views);
    Ok(page.render(&state, "admin/reports/tiers.html")?.into_response())
}

async fn export_tiers_csv(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let range = match export_range(&state, &staff.user, &ip, raw.as_deref(), ("tiers", "tiers"), |_| {}).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in giving_reports::tiers_report(&state.ctx, &range).await? {
        let c = r.currency;
        let d = |v: Option<i64>| v.map(|v| Money::new(v, c).decimal()).unwrap_or_default();
        let m = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
        let lines = r.lines.iter().map(|l| (l.tier_name.clone(), l.interval.to_string(), &l.figures));
        for (tier, interval, f) in lines.chain(std::iter::once(("total".to_string(), String::new(), &r.total))) {
            rows.push(vec![
                tier,
                interval,
                c.code(),
                f.patrons.to_string(),
                d(Some(f.mrr_minor)),
                d(f.arpu()),
                m(f.average_tenure_months()),
                m(f.average_lifetime_months()),
                d(f.lifetime_value()),
                f.joined_in_range.to_string(),
                f.ended_in_range.to_string(),
            ]);
        }
    }
    let body = csv::to_csv(
        &[
            "tier",
            "interval",
            "currency",
            "patrons",
            "mrr",
            "arpu",
            "average_tenure_months",
            "average_lifetime_months",
            "lifetime_value",
            "joined_in_range",
            "ended_in_range",
        ],
        &rows,
    );
    Ok(csv::attachment(body, &format!("tiers-{}-{}.csv", range.first, range.last)))
}

// --- Donations ---

#[derive(Serialize)]
struct DonationRowView {
    month: String,
    gifts: i64,
    donors: i64,
    one_time: String,
    recurring: String,
    one_time_share: String,
    average: String,
    median: String,
}

fn donation_row_view(r: &DonationMonthRow, c: Currency) -> DonationRowView {
    DonationRowView {
        month: r.month.map_or_else(|| "Total".to_string(), |m| m.key()),
        gifts: r.gifts,
        donors: r.donors,
        one_time: money(r.one_time_minor, c),
        recurring: money(r.recurring_minor, c),
        one_time_share: pct(r.one_time_share()),
        average: optional_money(r.average(), c),
        median: optional_money(r.median(), c),
    }
}

#[derive(Serialize)]
struct GiftView {
    amount: String,
    date: String,
    name: String,
}

#[derive(Serialize)]
struct DonationCurrencyView {
    code: String,
    rows: Vec<DonationRowView>,
    total: DonationRowView,
    repeat_donors: i64,
    largest: Vec<GiftView>,
    chart: String,
}

fn donation_view(state: &AppState, r: &DonationReport) -> DonationCurrencyView {
    let c = r.currency;
    let labels: Vec<String> = r.months.iter().map(|m| m.month.map(|m| m.key()).unwrap_or_default()).collect();
    let chart = charts::bars(
        &format!("donations-{}", c.as_str()),
        &format!("One-time and recurring revenue per month ({})", c.code()),
        &format!(
            "What readers gave per month in {}: {} in one-time gifts and {} in memberships over the range.",
            c.code(),
            money(r.total.one_time_minor, c),
            money(r.total.recurring_minor, c)
        ),
        ("Month", &c.code()),
        &labels,
        &[
            Series { name: "One-time", class: "s1", values: r.months.iter().map(|m| m.one_time_minor).collect() },
            Series { name: "Recurring", class: "s2", values: r.months.iter().map(|m| m.recurring_minor).collect() },
        ],
        &axis_money(c),
    );
    DonationCurrencyView {
        code: c.code(),
        rows: r.months.iter().map(|m| donation_row_view(m, c)).collect(),
        total: donation_row_view(&r.total, c),
        repeat_donors: r.repeat_donors,
        largest: r
            .largest
            .iter()
            .map(|g| GiftView {
                amount: money(g.amount_minor, c),
                date: state.ctx.zone.format(g.occurred_at),
                name: g.public_name.clone().unwrap_or_default(),
            })
            .collect(),
        chart,
    }
}

/// Gift memberships sold in one currency, for their section of the donations page.
#[derive(Serialize)]
struct GiftSalesView {
    code: String,
    /// `(month, how many, gross)`.
    months: Vec<(String, i64, String)>,
    count: i64,
    gross: String,
}

async fn show_donations_report(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/reports/donations");
    page.insert("zone", state.ctx.zone.name()).insert("largest_max", &giving_reports::LARGEST_GIFTS);
    let range = match read_range(&state, raw.as_deref()).await? {
        Ok(r) => r,
        Err(message) => return refuse(&state, page, "admin/reports/donations.html", raw.as_deref(), &message),
    };
    let views: Vec<DonationCurrencyView> =
        giving_reports::donations_report(&state.ctx, &range).await?.iter().map(|r| donation_view(&state, r)).collect();
    let gift_sales: Vec<GiftSalesView> = giving_reports::gift_sales(&state.ctx, &range)
        .await?
        .into_iter()
        .filter_map(|g| {
            let c = g.currency?;
            Some(GiftSalesView {
                code: c.code(),
                months: g.months.into_iter().map(|(month, n, gross)| (month, n, money(gross, c))).collect(),
                count: g.count,
                gross: money(g.gross_minor, c),
            })
        })
        .collect();
    page.insert("range", &range_view(&range)).insert("currencies", &views).insert("gift_sales", &gift_sales);
    Ok(page.render(&state, "admin/reports/donations.html")?.into_response())
}

async fn export_donations_csv(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let range = match export_range(&state, &staff.user, &ip, raw.as_deref(), ("donations", "donations"), |page| {
        page.insert("largest_max", &giving_reports::LARGEST_GIFTS);
    })
    .await?
    {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in giving_reports::donations_report(&state.ctx, &range).await? {
        let c = r.currency;
        let d = |v: Option<i64>| v.map(|v| Money::new(v, c).decimal()).unwrap_or_default();
        for m in r.months.iter().chain(std::iter::once(&r.total)) {
            let total = m.month.is_none();
            rows.push(vec![
                m.month.map_or_else(|| "total".to_string(), |m| m.key()),
                c.code(),
                m.gifts.to_string(),
                m.donors.to_string(),
                if total { r.repeat_donors.to_string() } else { String::new() },
                d(Some(m.one_time_minor)),
                d(Some(m.recurring_minor)),
                pct_csv(m.one_time_share()),
                d(m.average()),
                d(m.median()),
            ]);
        }
    }
    let body = csv::to_csv(
        &[
            "month",
            "currency",
            "gifts",
            "donors",
            "repeat_donors",
            "one_time",
            "recurring",
            "one_time_share_percent",
            "average_gift",
            "median_gift",
        ],
        &rows,
    );
    Ok(csv::attachment(body, &format!("donations-{}-{}.csv", range.first, range.last)))
}
