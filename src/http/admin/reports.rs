//! Revenue reports under /admin/reports (admins and analysts: `ViewRevenue`).
//! Each report covers a range of whole months in the newsroom's zone (last 30
//! days, 12 months, all time, custom) and has a CSV export of its table; every
//! export is audit-logged. A range that makes no sense (inverted, in the future,
//! not a month) or a parameter the page does not know is answered with the
//! report's page, status 400, saying what is wrong.
use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::{Authorized, ViewRevenue, staff_page};
use crate::domain::StaffUser;
use crate::domain::{
    CancelReason, Currency, DunningMonthRow, Money, MonthRange, MrrMonthRow, MrrReport, RangePreset, RevenueMonthRow,
    RevenueReport,
};
use crate::http::charts::{self, Series, Step};
use crate::http::csv;
use crate::http::error::AppError;
use crate::http::extract::{ClientIp, PageContext};
use crate::http::state::AppState;
use crate::services::audit::Actor;
use crate::services::reports;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/reports", get(list_reports))
        .route("/admin/reports/mrr", get(show_mrr_report))
        .route("/admin/reports/mrr.csv", get(export_mrr_csv))
        .route("/admin/reports/churn", get(show_churn_report))
        .route("/admin/reports/churn.csv", get(export_churn_csv))
        .route("/admin/reports/churn-reasons.csv", get(export_cancel_comments_csv))
        .route("/admin/reports/dunning", get(show_dunning_report))
        .route("/admin/reports/dunning.csv", get(export_dunning_csv))
        .route("/admin/reports/cohorts", get(show_cohort_report))
        .route("/admin/reports/cohorts.csv", get(export_cohort_csv))
        .route("/admin/reports/votes", get(show_votes_report))
        .route("/admin/reports/votes.csv", get(export_votes_csv))
        .route("/admin/reports/revenue", get(show_revenue_report))
        .route("/admin/reports/revenue.csv", get(export_revenue_csv))
}

/// The query of a page, as pairs; a parameter not in `allowed`, or given twice,
/// is refused with a message naming it.
pub(super) fn query_pairs(raw: Option<&str>, allowed: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if !allowed.contains(&k.as_ref()) {
            let shown: String = k.chars().take(40).collect();
            return Err(format!("Unknown parameter “{shown}”: this page takes {}.", allowed.join(", ")));
        }
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(format!("The parameter “{k}” is given twice."));
        }
    }
    Ok(out)
}

/// The range a report page asks for, or why it cannot be shown.
pub(super) async fn read_range(state: &AppState, raw: Option<&str>) -> Result<Result<MonthRange, String>, AppError> {
    let pairs = match query_pairs(raw, &["range", "from", "to"]) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let (current, month_30_days_ago, first) = reports::range_bounds(&state.ctx).await?;
    Ok(MonthRange::parse(
        pairs.get("range").map(String::as_str),
        pairs.get("from").map(String::as_str),
        pairs.get("to").map(String::as_str),
        current,
        month_30_days_ago,
        first,
    )
    .map_err(|e| e.to_string()))
}

#[derive(Serialize)]
pub(super) struct RangeView {
    preset: &'static str,
    from: String,
    to: String,
    label: String,
    query: String,
}

/// The range a CSV export asks for, once the export is in the audit log (`what`
/// and its range); a bad range is answered as the page of `report` answers it
/// (`prepare` adds what that page shows besides the range).
pub(super) async fn export_range(
    state: &AppState,
    staff: &StaffUser,
    ip: &str,
    raw: Option<&str>,
    (report, what): (&str, &str),
    prepare: impl FnOnce(&mut PageContext),
) -> Result<Result<MonthRange, Response>, AppError> {
    let range = match read_range(state, raw).await? {
        Ok(r) => r,
        Err(message) => {
            let mut page = staff_page(state, Some(staff), &format!("/admin/reports/{report}"));
            prepare(&mut page);
            return Ok(Err(refuse(state, page, &format!("admin/reports/{report}.html"), raw, &message)?));
        }
    };
    let actor = Actor::staff(staff, ip);
    reports::record_export(&state.ctx, &actor, what, format!("{} to {}", range.first, range.last)).await?;
    Ok(Ok(range))
}

pub(super) fn range_view(range: &MonthRange) -> RangeView {
    let query = match range.preset {
        RangePreset::Custom => format!("range=custom&from={}&to={}", range.first, range.last),
        other => format!("range={}", other.as_str()),
    };
    let label = if range.first == range.last {
        range.first.label()
    } else {
        format!("{} – {}", range.first.label(), range.last.label())
    };
    RangeView { preset: range.preset.as_str(), from: range.first.key(), to: range.last.key(), label, query }
}

/// The range form as the visitor filled it, for a page that refuses it.
fn raw_range_view(raw: Option<&str>) -> RangeView {
    let pairs: BTreeMap<String, String> = url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    RangeView {
        preset: match pairs.get("range").map(String::as_str) {
            Some("30d") => "30d",
            Some("all") => "all",
            Some("custom") => "custom",
            _ => "12m",
        },
        from: pairs.get("from").cloned().unwrap_or_default(),
        to: pairs.get("to").cloned().unwrap_or_default(),
        label: String::new(),
        query: String::new(),
    }
}

pub(super) fn refuse(
    state: &AppState,
    mut page: PageContext,
    template: &str,
    raw: Option<&str>,
    message: &str,
) -> Result<Response, AppError> {
    page.insert("range", &raw_range_view(raw)).insert("range_error", message).insert("zone", state.ctx.zone.name());
    Ok((StatusCode::BAD_REQUEST, page.render(state, template)?).into_response())
}

pub(super) fn money(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).display()
}

/// `12.34` in the currency's major unit: the y-axis and tooltips of charts.
pub(super) fn axis_money(currency: Currency) -> impl Fn(i64) -> String {
    move |v| Money::new(v, currency).display()
}

async fn list_reports(State(state): State<AppState>, staff: Authorized<ViewRevenue>) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/reports");
    page.insert("zone", state.ctx.zone.name());
    Ok(page.render(&state, "admin/reports/index.html")?.into_response())
}

// --- MRR movements ---

#[derive(Serialize)]
struct MrrRowView {
    month: String,
    start: String,
    new: String,
    expansion: String,
    reactivation: String,
    contraction: String,
    churn: String,
    end: String,
    patrons_new: i64,
    patrons_reactivated: i64,
    patrons_churned: i64,
}

#[derive(Serialize)]
struct MrrCurrencyView {
    code: String,
    rows: Vec<MrrRowView>,
    total: MrrRowView,
    mrr_now: String,
    /// The last month's end equals the subscriptions' MRR now.
    matches_now: bool,
    ends_this_month: bool,
    waterfall: String,
    line: String,
}

fn mrr_row_view(r: &MrrMonthRow, c: Currency) -> MrrRowView {
    MrrRowView {
        month: r.month.map_or_else(|| "Whole range".to_string(), |m| m.label()),
        start: money(r.start, c),
        new: money(r.new, c),
        expansion: money(r.expansion, c),
        reactivation: money(r.reactivation, c),
        contraction: money(r.contraction, c),
        churn: money(r.churn, c),
        end: money(r.end, c),
        patrons_new: r.patrons_new,
        patrons_reactivated: r.patrons_reactivated,
        patrons_churned: r.patrons_churned_voluntary + r.patrons_churned_involuntary,
    }
}

/// The waterfall of a range: start, the five movements, end.
pub(super) fn mrr_waterfall(id: &str, report: &MrrReport, what: &str) -> String {
    let t = &report.total;
    let steps = [
        Step { label: "Start", value: t.start, total: true },
        Step { label: "New", value: t.new, total: false },
        Step { label: "Expansion", value: t.expansion, total: false },
        Step { label: "Reactivation", value: t.reactivation, total: false },
        Step { label: "Contraction", value: -t.contraction, total: false },
        Step { label: "Churn", value: -t.churn, total: false },
        Step { label: "End", value: t.end, total: true },
    ];
    let c = report.currency;
    let desc = format!(
        "{what} in {}: start {}, new {}, expansion {}, reactivation {}, contraction {}, churn {}, end {}.",
        c.code(),
        money(t.start, c),
        money(t.new, c),
        money(t.expansion, c),
        money(t.reactivation, c),
        money(t.contraction, c),
        money(t.churn, c),
        money(t.end, c)
    );
    charts::waterfall(
        id,
        &format!("MRR waterfall, {what} ({})", c.code()),
        &desc,
        ("Movement", &format!("MRR ({})", c.code())),
        &steps,
        &axis_money(c),
    )
}

/// MRR at the end of each month of the report.
pub(super) fn mrr_line(id: &str, report: &MrrReport) -> String {
    let c = report.currency;
    let labels: Vec<String> = report.months.iter().map(|m| m.month.map(|m| m.key()).unwrap_or_default()).collect();
    let values: Vec<i64> = report.months.iter().map(|m| m.end).collect();
    let desc = format!(
        "MRR at the end of each month from {} to {}, in {}; from {} to {}.",
        labels.first().cloned().unwrap_or_default(),
        labels.last().cloned().unwrap_or_default(),
        c.code(),
        money(report.total.start, c),
        money(report.total.end, c)
    );
    charts::line(
        id,
        &format!("MRR by month ({})", c.code()),
        &desc,
        ("Month", &format!("MRR ({})", c.code())),
        &labels,
        &[Series { name: "MRR", class: "s1", values }],
        &axis_money(c),
    )
}

async fn show_mrr_report(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/reports/mrr");
    page.insert("zone", state.ctx.zone.name());
    let range = match read_range(&state, raw.as_deref()).await? {
        Ok(r) => r,
        Err(message) => return refuse(&state, page, "admin/reports/mrr.html", raw.as_deref(), &message),
    };
    let (current, _, _) = reports::range_bounds(&state.ctx).await?;
    let reports = reports::mrr_report(&state.ctx, &range, reports::MrrNow::FromSubscriptions).await?;
    let views: Vec<MrrCurrencyView> = reports
        .iter()
        .map(|r| MrrCurrencyView {
            code: r.currency.code(),
            rows: r.months.iter().map(|m| mrr_row_view(m, r.currency)).collect(),
            total: mrr_row_view(&r.total, r.currency),
            mrr_now: money(r.mrr_now, r.currency),
            matches_now: r.total.end == r.mrr_now,
            ends_this_month: range.last == current,
            waterfall: mrr_waterfall(&format!("waterfall-{}", r.currency.as_str()), r, "the range"),
            line: mrr_line(&format!("mrr-{}", r.currency.as_str()), r),
        })
        .collect();
    page.insert("range", &range_view(&range)).insert("currencies", &views);
    Ok(page.render(&state, "admin/reports/mrr.html")?.into_response())
}

async fn export_mrr_csv(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let range = match export_range(&state, &staff.user, &ip, raw.as_deref(), ("mrr", "mrr"), |_| {}).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in reports::mrr_report(&state.ctx, &range, reports::MrrNow::FromMovements).await? {
        let c = r.currency;
        let d = |v: i64| Money::new(v, c).decimal();
        for m in &r.months {
            rows.push(vec![
                m.month.map(|m| m.key()).unwrap_or_default(),
                c.code(),
                d(m.start),
                d(m.new),
                d(m.expansion),
                d(m.reactivation),
                d(m.contraction),
                d(m.churn),
                d(m.end),
                m.patrons_new.to_string(),
                m.patrons_reactivated.to_string(),
                m.patrons_churned_voluntary.to_string(),
                m.patrons_churned_involuntary.to_string(),
            ]);
        }
    }
    let body = csv::to_csv(
        &[
            "month",
            "currency",
            "start",
            "new",
            "expansion",
            "reactivation",
            "contraction",
            "churn",
            "end",
            "new_patrons",
            "reactivated_patrons",
            "churned_voluntary",
            "churned_involuntary",
        ],
        &rows,
    );
    Ok(csv::attachment(body, &format!("mrr-{}-{}.csv", range.first, range.last)))
}

// --- Revenue ---

#[derive(Serialize)]
struct RevenueRowView {
    month: String,
    rows: i64,
    recurring: String,
    one_time: String,
    gross: String,
    fees: String,
    refunds: String,
    disputes_withdrawn: String,
    dispute_fees: String,
    disputes_reinstated: String,
    net: String,
}

#[derive(Serialize)]
struct RevenueCurrencyView {
    code: String,
    rows: Vec<RevenueRowView>,
    total: RevenueRowView,
    chart: String,
    holds: bool,
}

fn revenue_row_view(r: &RevenueMonthRow, c: Currency) -> RevenueRowView {
    RevenueRowView {
        month: r.month.map_or_else(|| "Total".to_string(), |m| m.label()),
        rows: r.rows,
        recurring: money(r.recurring, c),
        one_time: money(r.one_time, c),
        gross: money(r.gross(), c),
        fees: money(r.fees, c),
        refunds: money(r.refunds, c),
        disputes_withdrawn: money(r.disputes_withdrawn, c),
        dispute_fees: money(r.dispute_fees, c),
        disputes_reinstated: money(r.disputes_reinstated, c),
        net: money(r.net, c),
    }
}

fn revenue_chart(id: &str, report: &RevenueReport) -> String {
    let c = report.currency;
    let labels: Vec<String> = report.months.iter().map(|m| m.month.map(|m| m.key()).unwrap_or_default()).collect();
    charts::bars(
        id,
        &format!("Gross and net revenue by month ({}, settled)", c.code()),
        &format!(
            "Gross and net revenue per month in {}, settlement currency; over the range gross {}, net {}.",
            c.code(),
            money(report.total.gross(), c),
            money(report.total.net, c)
        ),
        ("Month", &format!("Amount ({})", c.code())),
        &labels,
        &[
            Series { name: "Gross", class: "s1", values: report.months.iter().map(RevenueMonthRow::gross).collect() },
            Series { name: "Net", class: "s2", values: report.months.iter().map(|m| m.net).collect() },
        ],
        &axis_money(c),
    )
}

async fn show_revenue_report(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/reports/revenue");
    page.insert("zone", state.ctx.zone.name());
    let range = match read_range(&state, raw.as_deref()).await? {
        Ok(r) => r,
        Err(message) => return refuse(&state, page, "admin/reports/revenue.html", raw.as_deref(), &message),
    };
    let views: Vec<RevenueCurrencyView> = reports::revenue_report(&state.ctx, &range)
        .await?
        .iter()
        .map(|r| RevenueCurrencyView {
            code: r.currency.code(),
            rows: r.months.iter().map(|m| revenue_row_view(m, r.currency)).collect(),
            total: revenue_row_view(&r.total, r.currency),
            chart: revenue_chart(&format!("revenue-{}", r.currency.as_str()), r),
            holds: r.total.holds() && r.months.iter().all(RevenueMonthRow::holds),
        })
        .collect();
    let (start, _) = state.ctx.zone.bounds(range.first);
    let (_, end) = state.ctx.zone.bounds(range.last);
    page.insert("range", &range_view(&range))
        .insert("currencies", &views)
        .insert("from_instant", &crate::clock::format_utc(start))
        .insert("to_instant", &crate::clock::format_utc(end));
    Ok(page.render(&state, "admin/reports/revenue.html")?.into_response())
}

async fn export_revenue_csv(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let range = match export_range(&state, &staff.user, &ip, raw.as_deref(), ("revenue", "revenue"), |_| {}).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in reports::revenue_report(&state.ctx, &range).await? {
        let c = r.currency;
        let d = |v: i64| Money::new(v, c).decimal();
        for m in r.months.iter().chain(std::iter::once(&r.total)) {
            rows.push(vec![
                m.month.map_or_else(|| "total".to_string(), |m| m.key()),
                c.code(),
                m.rows.to_string(),
                d(m.recurring),
                d(m.one_time),
                d(m.gross()),
                d(m.fees),
                d(m.refunds),
                d(m.disputes_withdrawn),
                d(m.dispute_fees),
                d(m.disputes_reinstated),
                d(m.net),
            ]);
        }
    }
    let body = csv::to_csv(
        &[
            "month",
            "settlement_currency",
            "ledger_rows",
            "recurring",
            "one_time",
            "gross",
            "fees",
            "refunds",
            "disputes_withdrawn",
            "dispute_fees",
            "disputes_reinstated",
            "net",
        ],
        &rows,
    );
    Ok(csv::attachment(body, &format!("revenue-{}-{}.csv", range.first, range.last)))
}

// --- Churn ---

pub(super) fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.1} %"))
}

pub(super) fn pct_csv(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.2}"))
}

#[derive(Serialize)]
struct ChurnRowView {
    month: String,
    patrons_start: i64,
    voluntary: i64,
    involuntary: i64,
    logo_churn: String,
    mrr_start: String,
    churn_voluntary: String,
    churn_involuntary: String,
    contraction: String,
    expansion: String,
    revenue_churn: String,
    grr: String,
    nrr: String,
}

#[derive(Serialize)]
struct ChurnCurrencyView {
    code: String,
    rows: Vec<ChurnRowView>,
    total: ChurnRowView,
    chart: String,
}

fn churn_row_view(r: &MrrMonthRow, c: Currency) -> ChurnRowView {
    ChurnRowView {
        month: r.month.map_or_else(|| "Whole range".to_string(), |m| m.label()),
        patrons_start: r.patrons_start,
        voluntary: r.patrons_churned_voluntary,
        involuntary: r.patrons_churned_involuntary,
        logo_churn: pct(r.logo_churn_rate()),
        mrr_start: money(r.start, c),
        churn_voluntary: money(r.churn - r.churn_involuntary, c),
        churn_involuntary: money(r.churn_involuntary, c),
        contraction: money(r.contraction, c),
        expansion: money(r.expansion, c),
        revenue_churn: pct(r.revenue_churn_rate()),
        grr: pct(r.grr()),
        nrr: pct(r.nrr()),
    }
}

fn churn_chart(id: &str, report: &MrrReport) -> String {
    let labels: Vec<String> = report.months.iter().map(|m| m.month.map(|m| m.key()).unwrap_or_default()).collect();
    let t = &report.total;
    charts::bars(
        id,
        &format!("Patrons lost per month ({})", report.currency.code()),
        &format!(
            "Patrons lost per month, voluntary (cancelled) and involuntary (payments failed): {} and {} over the range.",
            t.patrons_churned_voluntary, t.patrons_churned_involuntary
        ),
        ("Month", "Patrons lost"),
        &labels,
        &[
            Series {
                name: "Voluntary",
                class: "s1",
                values: report.months.iter().map(|m| m.patrons_churned_voluntary).collect(),
            },
            Series {
                name: "Involuntary",
                class: "down",
                values: report.months.iter().map(|m| m.patrons_churned_involuntary).collect(),
            },
        ],
        &|v| v.to_string(),
    )
}

async fn show_churn_report(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/reports/churn");
    page.insert("zone", state.ctx.zone.name());
    let range = match read_range(&state, raw.as_deref()).await? {
        Ok(r) => r,
        Err(message) => return refuse(&state, page, "admin/reports/churn.html", raw.as_deref(), &message),
    };
    let views: Vec<ChurnCurrencyView> = reports::mrr_report(&state.ctx, &range, reports::MrrNow::FromMovements)
        .await?
        .iter()
        .map(|r| ChurnCurrencyView {
            code: r.currency.code(),
            rows: r.months.iter().map(|m| churn_row_view(m, r.currency)).collect(),
            total: churn_row_view(&r.total, r.currency),
            chart: churn_chart(&format!("churn-{}", r.currency.as_str()), r),
        })
        .collect();
    let reasons = reports::cancel_reasons(&state.ctx, &range).await?;
    page.insert("range", &range_view(&range))
        .insert("currencies", &views)
        .insert("reasons", &reason_rows(&state, &reasons))
        .insert("comments", &comment_rows(&state, &reasons));
    Ok(page.render(&state, "admin/reports/churn.html")?.into_response())
}

/// A cancel reason as staff read it (the patrons' own label, in English).
fn reason_label(state: &AppState, reason: &str) -> String {
    match reason.parse::<CancelReason>() {
        Ok(r) => state.ctx.views.i18n().t(crate::domain::Locale::En, &r.label_key(), &[]),
        Err(_) => reason.to_string(),
    }
}

#[derive(Serialize)]
struct ReasonRowView {
    reason: String,
    currency: String,
    count: i64,
}

/// Each reason given in the range, per currency, most given first.
fn reason_rows(state: &AppState, reasons: &reports::CancelReasons) -> Vec<ReasonRowView> {
    let mut rows: Vec<ReasonRowView> = reasons
        .totals()
        .into_iter()
        .map(|((currency, reason), count)| ReasonRowView {
            reason: reason_label(state, reason.as_str()),
            currency: currency.code(),
            count,
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.currency.cmp(&b.currency)));
    rows
}

#[derive(Serialize)]
struct CommentView {
    date: String,
    reason: String,
    currency: String,
    comment: String,
}

fn comment_rows(state: &AppState, reasons: &reports::CancelReasons) -> Vec<CommentView> {
    reasons
        .comments
        .iter()
        .map(|c| CommentView {
            date: state.ctx.zone.date(c.created_at),
            reason: reason_label(state, &c.reason),
            currency: c.currency.to_uppercase(),
            comment: c.comment.clone(),
        })
        .collect()
}

/// The cancel survey's answers in the patrons' own words, for the range (one
/// row each; the churn CSV counts the reasons per month).
async fn export_cancel_comments_csv(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let range = match export_range(&state, &staff.user, &ip, raw.as_deref(), ("churn", "churn-reasons"), |_| {}).await?
    {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let reasons = reports::cancel_reasons(&state.ctx, &range).await?;
    let rows: Vec<Vec<String>> = reasons
        .comments
        .iter()
        .map(|c| {
            vec![state.ctx.zone.date(c.created_at), c.currency.to_uppercase(), c.reason.clone(), c.comment.clone()]
        })
        .collect();
    let body = csv::to_csv(&["date", "currency", "reason", "comment"], &rows);
    Ok(csv::attachment(body, &format!("churn-reasons-{}-{}.csv", range.first, range.last)))
}

async fn export_churn_csv(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let range = match export_range(&state, &staff.user, &ip, raw.as_deref(), ("churn", "churn"), |_| {}).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let reasons = reports::cancel_reasons(&state.ctx, &range).await?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in reports::mrr_report(&state.ctx, &range, reports::MrrNow::FromMovements).await? {
        let c = r.currency;
        let d = |v: i64| Money::new(v, c).decimal();
        for m in r.months.iter().chain(std::iter::once(&r.total)) {
            let month = m.month.map(|m| m.key());
            let mut row = vec![
                m.month.map_or_else(|| "range".to_string(), |m| m.key()),
                c.code(),
                m.patrons_start.to_string(),
                m.patrons_churned_voluntary.to_string(),
                m.patrons_churned_involuntary.to_string(),
                pct_csv(m.logo_churn_rate()),
                d(m.start),
                d(m.churn - m.churn_involuntary),
                d(m.churn_involuntary),
                d(m.contraction),
                d(m.expansion),
                pct_csv(m.revenue_churn_rate()),
                pct_csv(m.grr()),
                pct_csv(m.nrr()),
            ];
            // How many cancellations gave each reason (the survey's answers).
            row.extend(CancelReason::ALL.iter().map(|reason| reasons.count(month.as_deref(), c, *reason).to_string()));
            rows.push(row);
        }
    }
    let reason_columns: Vec<String> = CancelReason::ALL.iter().map(|r| format!("reason_{}", r.as_str())).collect();
    let mut header = vec![
        "month",
        "currency",
        "patrons_start",
        "lost_voluntary",
        "lost_involuntary",
        "logo_churn_pct",
        "mrr_start",
        "churned_mrr_voluntary",
        "churned_mrr_involuntary",
        "contraction",
        "expansion",
        "revenue_churn_pct",
        "grr_pct",
        "nrr_pct",
    ];
    header.extend(reason_columns.iter().map(String::as_str));
    let body = csv::to_csv(&header, &rows);
    Ok(csv::attachment(body, &format!("churn-{}-{}.csv", range.first, range.last)))
}

// --- Dunning ---

#[derive(Serialize)]
struct PastDueView {
    member: String,
    email: String,
    name: String,
    amount: String,
    mrr: String,
    since: String,
    failures: i64,
    last_failure: String,
    grace_end: String,
    grace_over: bool,
}

#[derive(Serialize)]
struct DunningRowView {
    month: String,
    failed: i64,
    failed_mrr: String,
    recovered: i64,
    recovered_mrr: String,
    lost: i64,
    lost_mrr: String,
    recovery_rate: String,
}

#[derive(Serialize)]
struct DunningCurrencyView {
    code: String,
    rows: Vec<DunningRowView>,
    total: DunningRowView,
    chart: String,
}

fn dunning_row_view(r: &DunningMonthRow, c: Currency) -> DunningRowView {
    DunningRowView {
        month: r.month.map_or_else(|| "Whole range".to_string(), |m| m.label()),
        failed: r.failed,
        failed_mrr: money(r.failed_mrr, c),
        recovered: r.recovered,
        recovered_mrr: money(r.recovered_mrr, c),
        lost: r.lost,
        lost_mrr: money(r.lost_mrr, c),
        recovery_rate: pct(crate::domain::report::ratio(r.recovered, r.recovered + r.lost)),
    }
}

async fn show_dunning_report(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/reports/dunning");
    page.insert("zone", state.ctx.zone.name())
        .insert("past_due", &Vec::<PastDueView>::new())
        .insert("listed_max", &reports::PAST_DUE_LISTED)
        .insert("grace_days", &(state.ctx.past_due_grace / crate::clock::DAY));
    let range = match read_range(&state, raw.as_deref()).await? {
        Ok(r) => r,
        Err(message) => return refuse(&state, page, "admin/reports/dunning.html", raw.as_deref(), &message),
    };
    let report = reports::dunning_report(&state.ctx, &range).await?;
    let now = state.ctx.clock.now();
    let zone = &state.ctx.zone;
    let past_due: Vec<PastDueView> = report
        .past_due
        .iter()
        .map(|(p, grace_end)| PastDueView {
            member: p.member_id.clone().unwrap_or_default(),
            email: p.email.clone().unwrap_or_default(),
            name: p.name.clone().unwrap_or_default(),
            amount: format!("{} / {}", money(p.amount_minor, p.currency), p.interval),
            mrr: money(p.mrr_minor, p.currency),
            since: p.past_due_since.map(|t| zone.format(t)).unwrap_or_default(),
            failures: p.failures,
            last_failure: p.last_failure.map(|t| zone.format(t)).unwrap_or_default(),
            grace_end: zone.format(*grace_end),
            grace_over: *grace_end <= now,
        })
        .collect();
    let views: Vec<DunningCurrencyView> = report
        .months
        .iter()
        .map(|(c, rows, total)| {
            let labels: Vec<String> = rows.iter().map(|m| m.month.map(|m| m.key()).unwrap_or_default()).collect();
            let chart = charts::bars(
                &format!("dunning-{}", c.as_str()),
                &format!("Recovered and lost MRR per month ({})", c.code()),
                &format!(
                    "MRR of past-due subscriptions recovered and lost per month in {}: {} recovered, {} lost over the range.",
                    c.code(),
                    money(total.recovered_mrr, *c),
                    money(total.lost_mrr, *c)
                ),
                ("Month", &format!("MRR ({})", c.code())),
                &labels,
                &[
                    Series { name: "Recovered", class: "up", values: rows.iter().map(|r| r.recovered_mrr).collect() },
                    Series { name: "Lost", class: "down", values: rows.iter().map(|r| r.lost_mrr).collect() },
                ],
                &axis_money(*c),
            );
            DunningCurrencyView {
                code: c.code(),
                rows: rows.iter().map(|r| dunning_row_view(r, *c)).collect(),
                total: dunning_row_view(total, *c),
                chart,
            }
        })
        .collect();
    page.insert("range", &range_view(&range)).insert("past_due", &past_due).insert("currencies", &views);
    Ok(page.render(&state, "admin/reports/dunning.html")?.into_response())
}

async fn export_dunning_csv(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let range = match export_range(&state, &staff.user, &ip, raw.as_deref(), ("dunning", "dunning"), |page| {
        page.insert("past_due", &Vec::<PastDueView>::new())
            .insert("listed_max", &reports::PAST_DUE_LISTED)
            .insert("grace_days", &(state.ctx.past_due_grace / crate::clock::DAY));
    })
    .await?
    {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let report = reports::dunning_report(&state.ctx, &range).await?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (c, months, total) in &report.months {
        let d = |v: i64| Money::new(v, *c).decimal();
        for m in months.iter().chain(std::iter::once(total)) {
            rows.push(vec![
                m.month.map_or_else(|| "range".to_string(), |m| m.key()),
                c.code(),
                m.failed.to_string(),
                d(m.failed_mrr),
                m.recovered.to_string(),
                d(m.recovered_mrr),
                m.lost.to_string(),
                d(m.lost_mrr),
            ]);
        }
    }
    let body = csv::to_csv(
        &["month", "currency", "went_past_due", "past_due_mrr", "recovered", "recovered_mrr", "lost", "lost_mrr"],
        &rows,
    );
    Ok(csv::attachment(body, &format!("dunning-{}-{}.csv", range.first, range.last)))
}

// --- Retention cohorts ---

#[derive(Serialize)]
struct CohortCell {
    text: String,
    /// 0 (none) to 5 (all): the shade of the heat map.
    heat: u8,
    detail: String,
}

#[derive(Serialize)]
struct CohortRowView {
    cohort: String,
    size: i64,
    mrr: String,
    patrons: Vec<CohortCell>,
    revenue: Vec<CohortCell>,
}

#[derive(Serialize)]
struct CohortCurrencyView {
    code: String,
    columns: Vec<usize>,
    rows: Vec<CohortRowView>,
}

fn heat(share: Option<f64>) -> u8 {
    match share {
        None => 0,
        Some(s) if s <= 0.0 => 0,
        Some(s) => (s / 20.0).ceil().clamp(1.0, 5.0) as u8,
    }
}

fn cohort_cell(share: Option<f64>, detail: String) -> CohortCell {
    CohortCell { text: share.map_or_else(|| "–".into(), |s| format!("{s:.0} %")), heat: heat(share), detail }
}

async fn show_cohort_report(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/reports/cohorts");
    page.insert("zone", state.ctx.zone.name());
    let range = match read_range(&state, raw.as_deref()).await? {
        Ok(r) => r,
        Err(message) => return refuse(&state, page, "admin/reports/cohorts.html", raw.as_deref(), &message),
    };
    let views: Vec<CohortCurrencyView> = reports::cohort_report(&state.ctx, &range)
        .await?
        .iter()
        .map(|r| {
            let c = r.currency;
            let width = r.cohorts.iter().map(|row| row.cells.len()).max().unwrap_or(0);
            CohortCurrencyView {
                code: c.code(),
                columns: (0..width).collect(),
                rows: r
                    .cohorts
                    .iter()
                    .map(|row| {
                        let (size, mrr0) = row.cells.first().copied().unwrap_or_default();
                        CohortRowView {
                            cohort: row.cohort.label(),
                            size,
                            mrr: money(mrr0, c),
                            patrons: (0..row.cells.len())
                                .map(|k| cohort_cell(row.patron_share(k), format!("{} patrons", row.cells[k].0)))
                                .collect(),
                            revenue: (0..row.cells.len())
                                .map(|k| cohort_cell(row.mrr_share(k), money(row.cells[k].1, c)))
                                .collect(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    page.insert("range", &range_view(&range)).insert("currencies", &views);
    Ok(page.render(&state, "admin/reports/cohorts.html")?.into_response())
}

async fn export_cohort_csv(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let range = match export_range(&state, &staff.user, &ip, raw.as_deref(), ("cohorts", "cohorts"), |_| {}).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in reports::cohort_report(&state.ctx, &range).await? {
        for row in &r.cohorts {
            for (k, (patrons, mrr)) in row.cells.iter().enumerate() {
                rows.push(vec![
                    row.cohort.key(),
                    r.currency.code(),
                    k.to_string(),
                    patrons.to_string(),
                    pct_csv(row.patron_share(k)),
                    Money::new(*mrr, r.currency).decimal(),
                    pct_csv(row.mrr_share(k)),
                ]);
            }
        }
    }
    let body = csv::to_csv(&["cohort", "currency", "months_since", "patrons", "patrons_pct", "mrr", "mrr_pct"], &rows);
    Ok(csv::attachment(body, &format!("cohorts-{}-{}.csv", range.first, range.last)))
}

// --- Votes and revenue ---

#[derive(Serialize)]
struct CoveredRevenueView {
    id: String,
    title: String,
    covered: String,
    voters: i64,
    patron_voters: i64,
    mrr: String,
    joined_after: i64,
}

#[derive(Serialize)]
struct TurnoutView {
    round_id: String,
    title: String,
    closes: String,
    tier: String,
    patrons: String,
    voters: i64,
    turnout: String,
}

fn amounts(list: &[(Currency, i64)]) -> String {
    if list.is_empty() {
        return "–".into();
    }
    list.iter().map(|(c, v)| money(*v, *c)).collect::<Vec<_>>().join(", ")
}

async fn show_votes_report(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/reports/votes");
    page.insert("zone", state.ctx.zone.name());
    let range = match read_range(&state, raw.as_deref()).await? {
        Ok(r) => r,
        Err(message) => return refuse(&state, page, "admin/reports/votes.html", raw.as_deref(), &message),
    };
    let report = reports::votes_report(&state.ctx, &range).await?;
    let zone = &state.ctx.zone;
    let covered: Vec<CoveredRevenueView> = report
        .covered
        .iter()
        .map(|t| CoveredRevenueView {
            id: t.id.clone(),
            title: t.title.clone(),
            covered: zone.date(t.covered_at),
            voters: t.voters,
            patron_voters: t.patron_voters,
            mrr: amounts(&t.voters_mrr),
            joined_after: t.joined_after,
        })
        .collect();
    let rounds: Vec<TurnoutView> = report
        .rounds
        .iter()
        .map(|r| TurnoutView {
            round_id: r.round_id.clone(),
            title: r.title.clone(),
            closes: zone.format(r.closes_at),
            tier: r.tier.clone().unwrap_or_else(|| "Not a patron".into()),
            patrons: if r.tier.is_some() { r.patrons.to_string() } else { "–".into() },
            voters: r.voters,
            turnout: if r.tier.is_some() {
                pct(crate::domain::report::ratio(r.voters, r.patrons))
            } else {
                "–".into()
            },
        })
        .collect();
    page.insert("range", &range_view(&range)).insert("covered", &covered).insert("rounds", &rounds);
    Ok(page.render(&state, "admin/reports/votes.html")?.into_response())
}

async fn export_votes_csv(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let range = match export_range(&state, &staff.user, &ip, raw.as_deref(), ("votes", "votes"), |_| {}).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let report = reports::votes_report(&state.ctx, &range).await?;
    let zone = &state.ctx.zone;
    let rows: Vec<Vec<String>> = report
        .covered
        .iter()
        .map(|t| {
            let mrr = t
                .voters_mrr
                .iter()
                .map(|(c, v)| format!("{} {}", Money::new(*v, *c).decimal(), c.code()))
                .collect::<Vec<_>>();
            vec![
                t.id.clone(),
                t.title.clone(),
                zone.date(t.covered_at),
                t.voters.to_string(),
                t.patron_voters.to_string(),
                mrr.join("; "),
                t.joined_after.to_string(),
            ]
        })
        .collect();
    let body = csv::to_csv(
        &[
            "topic_id",
            "topic",
            "covered_on",
            "voters",
            "patron_voters",
            "voters_mrr_now",
            "patrons_joined_within_30_days",
        ],
        &rows,
    );
    Ok(csv::attachment(body, &format!("votes-revenue-{}-{}.csv", range.first, range.last)))
}
