//! Offers and trials for staff who manage payments (`/admin/offers`: make, end,
//! feature on the landing page, each with its shareable link), and the offers
//! report for those who see revenue (`/admin/reports/offers`, with its CSV).
use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::payments::FORM_CURRENCIES;
use super::reports::{export_range, money, range_view, read_range, refuse};
use super::{Authorized, ManagePayments, ViewRevenue, staff_page};
use crate::clock::DAY;
use crate::domain::offer::{normalise_code, parse_slug, slug_from_name};
use crate::domain::{AmountOff, DiscountDuration, Interval, Locale, Money, Offer, OfferBenefit, TierId};
use crate::http::csv;
use crate::http::error::AppError;
use crate::http::extract::{ClientIp, FieldErrors, Form, PageContext};
use crate::http::patron::offer_headline;
use crate::http::state::AppState;
use crate::services::audit::Actor;
use crate::services::offers::{self, OfferError};
use crate::services::tiers;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/offers", get(list_offers).post(create_offer))
        .route("/admin/offers/featured", post(feature_offer))
        .route("/admin/offers/{id}/end", post(end_offer))
        .route("/admin/reports/offers", get(show_offers_report))
        .route("/admin/reports/offers.csv", get(export_offers_csv))
}

#[derive(Serialize)]
struct OfferRow {
    id: String,
    name: String,
    what: String,
    link: String,
    code: Option<String>,
    applies: String,
    ends: Option<String>,
    redeemed: String,
    status: &'static str,
    open: bool,
    featured: bool,
}

#[derive(Serialize)]
struct TierChoice {
    id: String,
    name: String,
    checked: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OfferForm {
    name: String,
    slug: String,
    /// `percent`, `amount` or `trial`.
    kind: String,
    percent: String,
    /// `once`, `repeating` or `forever`.
    duration: String,
    months: String,
    trial_days: String,
    code: String,
    /// `YYYY-MM-DD`: the last day it can be redeemed (the newsroom's zone).
    ends_on: String,
    max_redemptions: String,
    /// `amount_<currency>`, `tier_<id>`, `interval_<month|year>`.
    #[serde(flatten)]
    rest: HashMap<String, String>,
}

impl OfferForm {
    fn ticked(&self, field: &str) -> bool {
        self.rest.get(field).is_some_and(|v| v == "yes")
    }
}

/// "EUR 1.50 / UAH 50.00": what a fixed amount off is in each currency.
fn applies_text(offer: &Offer, names: &HashMap<TierId, String>) -> String {
    let tiers: Vec<&str> = offer.tier_ids.iter().filter_map(|t| names.get(t).map(String::as_str)).collect();
    let intervals: Vec<&str> = offer.intervals.iter().map(|i| i.as_str()).collect();
    format!("{} ({})", tiers.join(", "), intervals.join(", "))
}

fn what_text(state: &AppState, offer: &Offer) -> String {
    let mut what = offer_headline(state, Locale::En, offer, None);
    if let OfferBenefit::Discount { off: AmountOff::Fixed(amounts), .. } = &offer.benefit
        && amounts.len() > 1
    {
        let all: Vec<String> = amounts.iter().map(Money::display).collect();
        what = format!("{what} ({})", all.join(" / "));
    }
    what
}

async fn offers_page(
    state: &AppState,
    staff: &Authorized<ManagePayments>,
    form: &OfferForm,
    errors: &FieldErrors,
) -> Result<PageContext, AppError> {
    let now = state.ctx.clock.now();
    let all_tiers = tiers::list_for_staff(&state.ctx).await?;
    let names: HashMap<TierId, String> = all_tiers.iter().map(|t| (t.tier.id, t.tier.name.clone())).collect();
    let featured = offers::featured_id(&state.ctx).await?;
    let rows: Vec<OfferRow> = offers::list(&state.ctx)
        .await?
        .into_iter()
        .map(|(o, redeemed)| {
            let status = match o.check_open(now, redeemed) {
                Ok(()) => "open",
                Err(_) if o.ended_at.is_some() => "ended by staff",
                Err(crate::domain::OfferRefusal::UsedUp) => "fully redeemed",
                Err(_) => "past its end date",
            };
            OfferRow {
                what: what_text(state, &o),
                link: state.ctx.url(&format!("/patron?offer={}", o.slug)),
                applies: applies_text(&o, &names),
                ends: o.ends_at.map(|t| state.ctx.zone.date(t - 1)),
                redeemed: match o.max_redemptions {
                    Some(max) => format!("{redeemed} of {max}"),
                    None => redeemed.to_string(),
                },
                open: status == "open",
                status,
                featured: featured.as_deref() == Some(o.id.as_str()),
                code: o.code,
                name: o.name,
                id: o.id,
            }
        })
        .collect();
    let tier_choices: Vec<TierChoice> = all_tiers
        .iter()
        .filter(|t| t.tier.active)
        .map(|t| TierChoice {
            id: t.tier.id.to_string(),
            name: t.tier.name.clone(),
            checked: form.ticked(&format!("tier_{}", t.tier.id)),
        })
        .collect();
    let amounts: Vec<(String, String, String)> = FORM_CURRENCIES
        .iter()
        .map(|c| {
            let field = format!("amount_{}", c.as_str());
            (field.clone(), c.code(), form.rest.get(&field).cloned().unwrap_or_default())
        })
        .collect();
    let mut page = staff_page(state, Some(&staff.user), "/admin/offers");
    page.insert("offers", &rows)
        .insert("tier_choices", &tier_choices)
        .insert("amount_fields", &amounts)
        .insert(
            "form",
            &serde_json::json!({
                "name": form.name, "slug": form.slug, "kind": form.kind, "percent": form.percent,
                "duration": form.duration, "months": form.months, "trial_days": form.trial_days, "code": form.code,
                "ends_on": form.ends_on, "max_redemptions": form.max_redemptions,
                "month": form.ticked("interval_month"), "year": form.ticked("interval_year"),
            }),
        )
        .insert("errors", &errors.0);
    Ok(page)
}

async fn list_offers(State(state): State<AppState>, staff: Authorized<ManagePayments>) -> Result<Response, AppError> {
    let form = OfferForm {
        kind: "percent".into(),
        duration: "once".into(),
        rest: HashMap::from([("interval_month".to_string(), "yes".to_string())]),
        ..Default::default()
    };
    let page = offers_page(&state, &staff, &form, &FieldErrors::default()).await?;
    Ok(page.render(&state, "admin/offers.html")?.into_response())
}

fn whole(input: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
    input.trim().parse::<i64>().ok().filter(|n| range.contains(n))
}

/// The form as an offer, or the errors to show (in English, as the staff pages are).
fn parse_offer(state: &AppState, form: &OfferForm, tier_ids: &[TierId]) -> Result<Offer, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.add("name", "Give the offer a name of 1 to 100 characters.".into());
    }
    let slug = if form.slug.trim().is_empty() { parse_slug(&slug_from_name(name)) } else { parse_slug(&form.slug) };
    if slug.is_none() {
        errors.add("slug", "Use 2 to 60 lower-case letters, digits and dashes.".into());
    }
    let duration = match form.duration.as_str() {
        "once" => Some(DiscountDuration::Once),
        "forever" => Some(DiscountDuration::Forever),
        "repeating" => whole(&form.months, 1..=36).map(DiscountDuration::Months),
        _ => None,
    };
    let discount = |off: AmountOff, errors: &mut FieldErrors| match duration {
        Some(duration) => Some(OfferBenefit::Discount { off, duration }),
        None => {
            errors.add("duration", "Choose how long the discount lasts (repeating: 1 to 36 months).".into());
            None
        }
    };
    let benefit = match form.kind.as_str() {
        "percent" => match whole(&form.percent, 1..=100) {
            Some(p) => discount(AmountOff::Percent(p), &mut errors),
            None => {
                errors.add("percent", "A whole percentage from 1 to 100.".into());
                None
            }
        },
        "amount" => {
            let mut amounts = Vec::new();
            let mut bad = false;
            for c in FORM_CURRENCIES {
                let typed = form.rest.get(&format!("amount_{}", c.as_str())).map_or("", |a| a.trim());
                if typed.is_empty() {
                    continue;
                }
                match Money::parse_major(typed, c) {
                    Ok(m) if m.minor > 0 => amounts.push(m),
                    _ => bad = true,
                }
            }
            if bad || amounts.is_empty() {
                errors.add("amounts", "Give an amount off in at least one currency (a positive amount).".into());
                None
            } else {
                discount(AmountOff::Fixed(amounts), &mut errors)
            }
        }
        "trial" => match whole(&form.trial_days, 1..=365) {
            Some(days) => Some(OfferBenefit::Trial { days }),
            None => {
                errors.add("trial_days", "A trial of 1 to 365 days.".into());
                None
            }
        },
        _ => {
            errors.add("kind", "Choose a percent off, an amount off or a free trial.".into());
            None
        }
    };
    let chosen_tiers: Vec<TierId> = tier_ids.iter().copied().filter(|t| form.ticked(&format!("tier_{t}"))).collect();
    if chosen_tiers.is_empty() {
        errors.add("tiers", "Choose at least one tier.".into());
    }
    let intervals: Vec<Interval> =
        [Interval::Month, Interval::Year].into_iter().filter(|i| form.ticked(&format!("interval_{i}"))).collect();
    if intervals.is_empty() {
        errors.add("intervals", "Choose monthly, yearly or both.".into());
    }
    let code = if form.code.trim().is_empty() { Ok(None) } else { normalise_code(&form.code).map(Some).ok_or(()) };
    if code.is_err() {
        errors.add("code", "A code is 3 to 40 letters, digits, dashes or underscores.".into());
    }
    let now = state.ctx.clock.now();
    // Redeemable through the whole of its last day.
    let ends_at = if form.ends_on.trim().is_empty() {
        Ok(None)
    } else {
        state.ctx.zone.parse_date(&form.ends_on).map(|t| Some(t + DAY)).filter(|t| t.is_some_and(|t| t > now)).ok_or(())
    };
    if ends_at.is_err() {
        errors.add("ends_on", "A date (YYYY-MM-DD) from today on.".into());
    }
    let max = if form.max_redemptions.trim().is_empty() {
        Ok(None)
    } else {
        whole(&form.max_redemptions, 1..=1_000_000).map(Some).ok_or(())
    };
    if max.is_err() {
        errors.add("max_redemptions", "A whole number from 1 to 1,000,000.".into());
    }
    let (Some(slug), Some(benefit), Ok(code), Ok(ends_at), Ok(max_redemptions), true) =
        (slug, benefit, code, ends_at, max, errors.is_empty())
    else {
        return Err(errors);
    };
    Ok(Offer {
        id: uuid::Uuid::now_v7().to_string(),
        slug,
        name: name.to_string(),
        benefit,
        tier_ids: chosen_tiers,
        intervals,
        code,
        ends_at,
        max_redemptions,
        stripe_coupon_id: None,
        stripe_promotion_code_id: None,
        created_at: now,
        ended_at: None,
    })
}

async fn create_offer(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManagePayments>,
    Form(form): Form<OfferForm>,
) -> Result<Response, AppError> {
    let tier_ids: Vec<TierId> = tiers::list_for_staff(&state.ctx).await?.iter().map(|t| t.tier.id).collect();
    let errors = match parse_offer(&state, &form, &tier_ids) {
        Err(errors) => errors,
        Ok(offer) => {
            let mut errors = FieldErrors::default();
            match offers::create(&state.ctx, &Actor::staff(&staff.user, &ip), &offer).await {
                Ok(()) => return Ok(Redirect::to("/admin/offers").into_response()),
                Err(OfferError::SlugTaken) => errors.add("slug", "Another offer has this link name.".into()),
                Err(OfferError::CodeTaken) => errors.add("code", "Another offer has this code.".into()),
                Err(e) => return Err(e.into()),
            }
            errors
        }
    };
    let page = offers_page(&state, &staff, &form, &errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page.render(&state, "admin/offers.html")?).into_response())
}

async fn end_offer(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManagePayments>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    if offers::find(&state.ctx, &id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    offers::end(&state.ctx, &Actor::staff(&staff.user, &ip), &id).await?;
    Ok(Redirect::to("/admin/offers").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FeatureForm {
    /// An offer's id, or empty for none.
    offer: String,
}

async fn feature_offer(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManagePayments>,
    Form(form): Form<FeatureForm>,
) -> Result<Response, AppError> {
    let id = Some(form.offer.trim()).filter(|id| !id.is_empty());
    match offers::set_featured(&state.ctx, &Actor::staff(&staff.user, &ip), id).await {
        Ok(()) => Ok(Redirect::to("/admin/offers").into_response()),
        Err(OfferError::Refused(_)) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct ReportLine {
    name: String,
    what: String,
    currency: String,
    redemptions: i64,
    converted: i64,
    mrr: String,
}

/// The report's lines (offer name, what it gives, currency, figures), offers newest first.
async fn report_lines(
    state: &AppState,
    range: &crate::domain::MonthRange,
) -> Result<Vec<(ReportLine, offers::OfferFigures)>, AppError> {
    let (all, figures) = offers::report(&state.ctx, range).await?;
    let mut lines = Vec::new();
    for offer in &all {
        for f in figures.iter().filter(|f| f.offer_id == offer.id) {
            let line = ReportLine {
                name: offer.name.clone(),
                what: what_text(state, offer),
                currency: f.currency.code(),
                redemptions: f.redemptions,
                converted: f.converted,
                mrr: money(f.mrr_minor, f.currency),
            };
            lines.push((line, f.clone()));
        }
    }
    Ok(lines)
}

async fn show_offers_report(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/reports/offers");
    page.insert("zone", state.ctx.zone.name());
    let range = match read_range(&state, raw.as_deref()).await? {
        Ok(r) => r,
        Err(message) => return refuse(&state, page, "admin/reports/offers.html", raw.as_deref(), &message),
    };
    let lines: Vec<ReportLine> = report_lines(&state, &range).await?.into_iter().map(|(l, _)| l).collect();
    page.insert("range", &range_view(&range)).insert("lines", &lines);
    Ok(page.render(&state, "admin/reports/offers.html")?.into_response())
}

async fn export_offers_csv(
    State(state): State<AppState>,
    staff: Authorized<ViewRevenue>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let range = match export_range(&state, &staff.user, &ip, raw.as_deref(), ("offers", "offers"), |_| {}).await? {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let rows: Vec<Vec<String>> = report_lines(&state, &range)
        .await?
        .into_iter()
        .map(|(l, f)| {
            vec![
                f.offer_id,
                l.name,
                l.what,
                l.currency,
                l.redemptions.to_string(),
                l.converted.to_string(),
                Money::new(f.mrr_minor, f.currency).decimal(),
            ]
        })
        .collect();
    let body = csv::to_csv(&["offer_id", "offer", "gives", "currency", "redemptions", "converted", "mrr_now"], &rows);
    Ok(csv::attachment(body, &format!("offers-{}-{}.csv", range.first, range.last)))
}
