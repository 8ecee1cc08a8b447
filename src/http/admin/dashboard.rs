//! The staff dashboard and the audit log. Its counters of members and mail are
//! up to 5 s old; its revenue figures (admins and analysts only) and its vote
//! side are read from the report aggregates and are as current as the last
//! applied event.
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::reports::{mrr_line, mrr_waterfall, query_pairs};
use super::{Authorized, ViewAuditLog, ViewDashboard, staff_page};
use crate::clock::format_utc;
use crate::domain::{Currency, Money, MrrReport, Permission};
use crate::http::charts::{self, Series};
use crate::http::error::AppError;
use crate::http::state::AppState;
use crate::services::reports;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin", get(show_dashboard)).route("/admin/audit", get(show_audit_log))
}

async fn show_dashboard(
    State(state): State<AppState>,
    staff: Authorized<ViewDashboard>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let figures = reports::dashboard(&state.ctx).await?;
    let mut page = staff_page(&state, Some(&staff.user), "/admin");
    page.insert("members", &figures.members)
        .insert("pending_mail", &figures.pending_mail)
        .insert("failed_mail", &figures.failed_mail);
    let currency = match query_pairs(raw.as_deref(), &["currency"]) {
        Ok(pairs) => match pairs.get("currency").map(|c| Currency::parse(c)) {
            None => None,
            Some(Ok(c)) => Some(c),
            Some(Err(_)) => {
                page.insert("query_error", "Unknown currency: use a three-letter code such as EUR.");
                return Ok((StatusCode::BAD_REQUEST, page.render(&state, "admin/dashboard.html")?).into_response());
            }
        },
        Err(message) => {
            page.insert("query_error", &message);
            return Ok((StatusCode::BAD_REQUEST, page.render(&state, "admin/dashboard.html")?).into_response());
        }
    };
    let votes = reports::vote_side(&state.ctx).await?;
    if staff.user.role.allows(Permission::ViewRevenue) {
        let revenue = reports::dashboard_revenue(&state.ctx, currency).await?;
        page.insert("revenue", &revenue_view(&revenue, &votes.patrons));
    }
    let with_access = votes.patrons.paying + votes.patrons.past_due + votes.patrons.comped;
    let rounds: Vec<RoundTurnout> = votes
        .open_rounds
        .iter()
        .map(|r| RoundTurnout {
            id: r.id.clone(),
            title: r.title.clone(),
            closes: state.ctx.zone.format(r.closes_at),
            voters: r.voters,
            share: percent(r.voters, with_access),
        })
        .collect();
    let covered: Vec<CoveredView> = votes
        .covered
        .iter()
        .map(|t| CoveredView {
            id: t.id.clone(),
            title: t.title.clone(),
            covered: t.covered_at.map(|at| state.ctx.zone.date(at)).unwrap_or_default(),
            voters: t.voters,
            patron_voters: t.patron_voters,
        })
        .collect();
    page.insert("open_rounds", &rounds).insert("covered", &covered).insert("with_access", &with_access);
    Ok(page.render(&state, "admin/dashboard.html")?.into_response())
}

#[derive(Serialize)]
struct RoundTurnout {
    id: String,
    title: String,
    closes: String,
    voters: i64,
    share: String,
}

#[derive(Serialize)]
struct CoveredView {
    id: String,
    title: String,
    covered: String,
    voters: i64,
    patron_voters: i64,
}

/// `12.5 %` (one decimal), or `–` without a base.
fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "–".into();
    }
    let tenths = (part * 1000 + whole / 2) / whole;
    format!("{}.{} %", tenths / 10, tenths % 10)
}

/// A figure this month beside the previous month's.
#[derive(Serialize)]
struct Compared {
    now: String,
    before: String,
    /// `up`, `down` or `same`.
    trend: &'static str,
}

fn compared(now: i64, before: i64, show: impl Fn(i64) -> String) -> Compared {
    let trend = match now.cmp(&before) {
        std::cmp::Ordering::Greater => "up",
        std::cmp::Ordering::Less => "down",
        std::cmp::Ordering::Equal => "same",
    };
    Compared { now: show(now), before: show(before), trend }
}

#[derive(Serialize)]
struct MonthFigures {
    month: String,
    mrr_end: String,
    new: i64,
    churned: i64,
}

#[derive(Serialize)]
struct RevenueView {
    currency: String,
    currencies: Vec<(String, bool)>,
    month: String,
    mrr: Compared,
    arr: Compared,
    paying: i64,
    past_due: i64,
    comped: i64,
    donations: Compared,
    gifts: Compared,
    donors: Compared,
    net: Compared,
    gross: String,
    fees: String,
    refunds: String,
    disputes: String,
    dispute_fees: String,
    mrr_chart: String,
    patrons_chart: String,
    waterfall_chart: String,
    months: Vec<MonthFigures>,
    last_12: Vec<MonthFigures>,
}

fn revenue_view(r: &reports::DashboardRevenue, patrons: &reports::PatronCounts) -> RevenueView {
    let c = r.currency;
    let m = |v: i64| Money::new(v, c).display();
    let n = |v: i64| v.to_string();
    let empty = MrrReport { currency: c, months: Vec::new(), total: Default::default(), mrr_now: 0 };
    let mrr = r.mrr.as_ref().unwrap_or(&empty);
    // MRR now is the subscriptions' own sum; the end of last month from the movements.
    let before = mrr.months.iter().rev().nth(1).map_or(0, |m| m.end);
    let (now_rev, before_rev) = match &r.revenue {
        Some(rev) => (rev.months.last().cloned().unwrap_or_default(), rev.months.first().cloned().unwrap_or_default()),
        None => Default::default(),
    };
    let [gifts_now, gifts_before] = r.donations;
    let months: Vec<MonthFigures> = mrr
        .months
        .iter()
        .map(|row| MonthFigures {
            month: row.month.map(|m| m.label()).unwrap_or_default(),
            mrr_end: m(row.end),
            new: row.patrons_new + row.patrons_reactivated,
            churned: row.patrons_churned_voluntary + row.patrons_churned_involuntary,
        })
        .collect();
    // The last 12 months, for the waterfall and the new-versus-churned chart.
    let recent: Vec<_> = mrr.months.iter().rev().take(12).rev().cloned().collect();
    let last_12 = MrrReport {
        currency: c,
        total: crate::domain::MrrMonthRow {
            month: None,
            start: recent.first().map_or(0, |m| m.start),
            new: recent.iter().map(|m| m.new).sum(),
            expansion: recent.iter().map(|m| m.expansion).sum(),
            reactivation: recent.iter().map(|m| m.reactivation).sum(),
            contraction: recent.iter().map(|m| m.contraction).sum(),
            churn: recent.iter().map(|m| m.churn).sum(),
            end: recent.last().map_or(0, |m| m.end),
            ..Default::default()
        },
        months: recent.clone(),
        mrr_now: mrr.mrr_now,
    };
    let labels: Vec<String> = recent.iter().map(|m| m.month.map(|m| m.key()).unwrap_or_default()).collect();
    let gained: Vec<i64> = recent.iter().map(|m| m.patrons_new + m.patrons_reactivated).collect();
    let lost: Vec<i64> = recent.iter().map(|m| m.patrons_churned_voluntary + m.patrons_churned_involuntary).collect();
    let patrons_chart = charts::bars(
        "patrons",
        &format!("New and churned patrons per month ({})", c.code()),
        &format!(
            "Patrons gained (new and returning) and lost per month over the last 12 months: {} gained, {} lost.",
            gained.iter().sum::<i64>(),
            lost.iter().sum::<i64>()
        ),
        ("Month", "Patrons"),
        &labels,
        &[Series { name: "New", class: "up", values: gained }, Series { name: "Churned", class: "down", values: lost }],
        &|v| v.to_string(),
    );
    RevenueView {
        currency: c.code(),
        currencies: r.currencies.iter().map(|x| (x.code(), *x == c)).collect(),
        month: r.this_month.label(),
        mrr: compared(mrr.mrr_now, before, m),
        arr: compared(mrr.mrr_now * 12, before * 12, m),
        paying: patrons.paying,
        past_due: patrons.past_due,
        comped: patrons.comped,
        donations: compared(gifts_now.2, gifts_before.2, m),
        gifts: compared(gifts_now.0, gifts_before.0, n),
        donors: compared(gifts_now.1, gifts_before.1, n),
        net: compared(now_rev.net, before_rev.net, m),
        gross: m(now_rev.gross()),
        fees: m(now_rev.fees),
        refunds: m(now_rev.refunds),
        disputes: m(now_rev.disputes_withdrawn + now_rev.disputes_reinstated),
        dispute_fees: m(now_rev.dispute_fees),
        mrr_chart: mrr_line("mrr36", mrr),
        patrons_chart,
        waterfall_chart: mrr_waterfall("waterfall12", &last_12, "the last 12 months"),
        months,
        last_12: recent
            .iter()
            .map(|row| MonthFigures {
                month: row.month.map(|m| m.label()).unwrap_or_default(),
                mrr_end: m(row.end),
                new: row.patrons_new + row.patrons_reactivated,
                churned: row.patrons_churned_voluntary + row.patrons_churned_involuntary,
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
    ip: String,
}

async fn show_audit_log(State(state): State<AppState>, staff: Authorized<ViewAuditLog>) -> Result<Response, AppError> {
    let rows: Vec<AuditRow> = reports::audit_log(&state.ctx, 200)
        .await?
        .into_iter()
        .map(|e| AuditRow {
            at: format_utc(e.created_at),
            actor: e.actor_email.unwrap_or_default(),
            action: e.action,
            target: e.target.unwrap_or_default(),
            detail: e.detail.unwrap_or_default(),
            ip: e.ip.unwrap_or_default(),
        })
        .collect();
    let mut page = staff_page(&state, Some(&staff.user), "/admin/audit");
    page.insert("entries", &rows);
    Ok(page.render(&state, "admin/audit.html")?.into_response())
}
