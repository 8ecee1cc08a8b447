//! Staff pages for money: tiers and prices, the Stripe event log (with retry),
//! the ledger, and complimentary memberships.
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::{Authorized, ManagePayments, ViewPayments, staff_page};
use crate::clock::{DAY, format_utc};
use crate::domain::{COMP_NO_END, CompReason, Currency, Email, GiftError, Interval, Money, Permission, TierId};
use crate::http::error::AppError;
use crate::http::extract::{ClientIp, FieldErrors, Form};
use crate::http::state::AppState;
use crate::services::audit::Actor;
use crate::services::tiers::{self, TierError, TierInput, TierWithPrices};
use crate::services::{StorageError, billing, checkout, reports, stripe_events};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/tiers", get(list_tiers).post(create_tier))
        .route("/admin/tiers/{id}", get(show_tier).post(update_tier))
        .route("/admin/events", get(list_events))
        .route("/admin/events/{id}/retry", post(retry_event))
        .route("/admin/ledger", get(show_ledger))
        .route("/admin/comps", post(comp_member))
        .route("/admin/members/{id}/comp", post(comp_member_by_id))
        .route("/admin/donation-presets", post(set_donation_presets))
        .route("/admin/site", post(set_site))
        .route("/admin/statements", post(email_statements))
}

/// Currencies offered in the tier form (more appear once a price uses them).
pub(super) const FORM_CURRENCIES: [Currency; 3] = [Currency::UAH, Currency::EUR, Currency::USD];

#[derive(Serialize)]
struct PriceCell {
    field: String,
    label: String,
    amount: String,
    flexible: bool,
}

#[derive(Serialize)]
struct TierRow {
    id: String,
    name: String,
    slug: String,
    active: bool,
    vote_weight: i64,
    prices: Vec<String>,
    synced: bool,
}

async fn list_tiers(State(state): State<AppState>, staff: Authorized<ManagePayments>) -> Result<Response, AppError> {
    let rows: Vec<TierRow> = tiers::list_for_staff(&state.ctx)
        .await?
        .into_iter()
        .map(|TierWithPrices { tier: t, prices }| TierRow {
            id: t.id.to_string(),
            synced: t.stripe_product_id.is_some() && prices.iter().all(|p| p.stripe_price_id.is_some()),
            prices: prices.iter().map(|p| format!("{} / {}", p.amount, p.interval)).collect(),
            name: t.name,
            slug: t.slug,
            active: t.active,
            vote_weight: t.vote_weight,
        })
        .collect();
    let mut page = staff_page(&state, Some(&staff.user), "/admin/tiers");
    page.insert("tiers", &rows).insert("stripe", &!state.ctx.payments.is_demo());
    insert_presets(&state, &mut page).await?;
    let form = TierForm::default();
    insert_form(&mut page, &form, &FieldErrors::default(), &[]);
    Ok(page.render(&state, "admin/tiers.html")?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TierForm {
    name: String,
    slug: String,
    description: String,
    benefits: String,
    vote_weight: String,
    position: String,
    active: String,
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

fn cells(form: &TierForm, currencies: &[Currency]) -> Vec<PriceCell> {
    let mut out = Vec::new();
    for currency in currencies {
        for interval in [Interval::Month, Interval::Year] {
            let field = format!("price_{}_{}", interval.as_str(), currency.as_str());
            out.push(PriceCell {
                amount: form.rest.get(&field).cloned().unwrap_or_default(),
                flexible: form
                    .rest
                    .get(&format!("flexible_{}_{}", interval.as_str(), currency.as_str()))
                    .is_some_and(|v| v == "yes"),
                label: format!("{} / {}", currency.code(), interval.as_str()),
                field,
            });
        }
    }
    out
}

fn insert_form(
    page: &mut crate::http::extract::PageContext,
    form: &TierForm,
    errors: &FieldErrors,
    currencies: &[Currency],
) {
    let currencies: Vec<Currency> = if currencies.is_empty() { FORM_CURRENCIES.to_vec() } else { currencies.to_vec() };
    page.insert("form_name", &form.name)
        .insert("form_slug", &form.slug)
        .insert("form_description", &form.description)
        .insert("form_benefits", &form.benefits)
        .insert("form_vote_weight", &form.vote_weight)
        .insert("form_position", &form.position)
        .insert("form_active", &(form.active == "yes"))
        .insert("price_cells", &cells(form, &currencies))
        .insert("errors", &errors.0);
}

fn parse_tier(form: &TierForm, currencies: &[Currency], errors: &mut FieldErrors) -> Option<TierInput> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        errors.add("name", "Give the tier a name of 1 to 60 characters.".into());
    }
    let slug = form.slug.trim().to_ascii_lowercase();
    if slug.is_empty()
        || slug.len() > 40
        || !slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        errors.add("slug", "Use 1 to 40 lower-case letters, digits and dashes.".into());
    }
    if form.description.chars().count() > 500 {
        errors.add("description", "At most 500 characters.".into());
    }
    if form.benefits.chars().count() > 2000 {
        errors.add("benefits", "At most 2,000 characters.".into());
    }
    let vote_weight = form.vote_weight.trim().parse::<i64>().ok().filter(|w| (1..=100).contains(w));
    if vote_weight.is_none() {
        errors.add("vote_weight", "A whole number from 1 to 100.".into());
    }
    let position = if form.position.trim().is_empty() {
        Some(0)
    } else {
        form.position.trim().parse::<i64>().ok().filter(|p| p.abs() <= 1000)
    };
    if position.is_none() {
        errors.add("position", "A whole number from -1000 to 1000.".into());
    }
    let mut prices = Vec::new();
    for cell in cells(form, currencies) {
        if cell.amount.trim().is_empty() {
            continue;
        }
        let (_, rest) = cell.field.split_once('_').unwrap_or_default();
        let (interval, currency) = rest.split_once('_').unwrap_or_default();
        let (Ok(interval), Ok(currency)) = (interval.parse::<Interval>(), Currency::parse(currency)) else { continue };
        match Money::parse_major(&cell.amount, currency) {
            Ok(m) => prices.push((interval, m, cell.flexible)),
            Err(e) => errors.add("prices", format!("{}: {e}", cell.label)),
        }
    }
    if form.active == "yes" && prices.is_empty() {
        errors.add("prices", "An active tier needs at least one price.".into());
    }
    if !errors.is_empty() {
        return None;
    }
    Some(TierInput {
        slug,
        name: name.to_string(),
        description: form.description.trim().to_string(),
        benefits: form.benefits.trim().to_string(),
        vote_weight: vote_weight?,
        position: position?,
        active: form.active == "yes",
        prices,
    })
}

async fn create_tier(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManagePayments>,
    Form(form): Form<TierForm>,
) -> Result<Response, AppError> {
    save_tier(state, ip, staff, None, form).await
}

async fn update_tier(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManagePayments>,
    Path(id): Path<String>,
    Form(form): Form<TierForm>,
) -> Result<Response, AppError> {
    let id: TierId = id.parse().map_err(|_| AppError::NotFound)?;
    let existing = tiers::find_for_staff(&state.ctx, id).await?;
    save_tier(state, ip, staff, Some(&existing), form).await
}

/// The currencies the form has price cells for: the usual ones, and any other
/// the tier has a live price in.
fn tier_currencies(existing: Option<&TierWithPrices>) -> Vec<Currency> {
    let mut currencies = FORM_CURRENCIES.to_vec();
    for p in existing.map(|t| t.prices.as_slice()).unwrap_or_default() {
        if !currencies.contains(&p.amount.currency) {
            currencies.push(p.amount.currency);
        }
    }
    currencies
}

async fn save_tier(
    state: AppState,
    ip: String,
    staff: Authorized<ManagePayments>,
    existing: Option<&TierWithPrices>,
    form: TierForm,
) -> Result<Response, AppError> {
    let id = existing.map(|t| t.tier.id);
    let currencies = tier_currencies(existing);
    let mut errors = FieldErrors::default();
    if let Some(input) = parse_tier(&form, &currencies, &mut errors) {
        match tiers::save(&state.ctx, &Actor::staff(&staff.user, &ip), id, &input).await {
            Ok(_) => return Ok(Redirect::to("/admin/tiers").into_response()),
            Err(TierError::SlugTaken) => errors.add("slug", "Another tier uses this short name.".into()),
            Err(e) => return Err(e.into()),
        }
    }
    let path = id.map_or_else(|| "/admin/tiers".to_string(), |i| format!("/admin/tiers/{i}"));
    let mut page = staff_page(&state, Some(&staff.user), &path);
    insert_form(&mut page, &form, &errors, &currencies);
    page.insert("tier_id", &id.map(|i| i.to_string()));
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page.render(&state, "admin/tier_form.html")?).into_response())
}

async fn show_tier(
    State(state): State<AppState>,
    staff: Authorized<ManagePayments>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id: TierId = id.parse().map_err(|_| AppError::NotFound)?;
    let existing = tiers::find_for_staff(&state.ctx, id).await?;
    let currencies = tier_currencies(Some(&existing));
    let TierWithPrices { tier, prices } = existing;
    let mut rest = std::collections::HashMap::new();
    for p in prices {
        let unit = 10_i64.pow(p.amount.currency.exponent());
        let major = if unit == 1 {
            p.amount.minor.to_string()
        } else {
            format!("{}.{:02}", p.amount.minor / unit, p.amount.minor % unit)
        };
        rest.insert(format!("price_{}_{}", p.interval.as_str(), p.amount.currency.as_str()), major);
        if p.flexible {
            rest.insert(format!("flexible_{}_{}", p.interval.as_str(), p.amount.currency.as_str()), "yes".into());
        }
    }
    let form = TierForm {
        name: tier.name.clone(),
        slug: tier.slug.clone(),
        description: tier.description.clone(),
        benefits: tier.benefits.join("\n"),
        vote_weight: tier.vote_weight.to_string(),
        position: tier.position.to_string(),
        active: if tier.active { "yes".into() } else { String::new() },
        rest,
    };
    let mut page = staff_page(&state, Some(&staff.user), &format!("/admin/tiers/{id}"));
    insert_form(&mut page, &form, &FieldErrors::default(), &currencies);
    page.insert("tier_id", &Some(id.to_string()));
    Ok(page.render(&state, "admin/tier_form.html")?.into_response())
}

#[derive(Serialize)]
struct EventRow {
    id: String,
    event_type: String,
    status: String,
    attempts: i64,
    error: String,
    received: String,
    retryable: bool,
}

async fn list_events(State(state): State<AppState>, staff: Authorized<ViewPayments>) -> Result<Response, AppError> {
    let rows: Vec<EventRow> = reports::stripe_event_log(&state.ctx, 200)
        .await?
        .into_iter()
        .map(|e| EventRow {
            retryable: e.status.can_retry(),
            id: e.id,
            event_type: e.event_type,
            status: e.status.as_str().to_string(),
            attempts: e.attempts,
            error: e.last_error.unwrap_or_default(),
            received: format_utc(e.received_at),
        })
        .collect();
    let mut page = staff_page(&state, Some(&staff.user), "/admin/events");
    page.insert("events", &rows).insert("can_retry", &staff.user.role.allows(Permission::ManagePayments));
    Ok(page.render(&state, "admin/events.html")?.into_response())
}

async fn retry_event(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManagePayments>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    if !stripe_events::retry(&state.ctx, &Actor::staff(&staff.user, &ip), &id, &state.worker_id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/admin/events").into_response())
}

#[derive(Serialize)]
struct LedgerView {
    date: String,
    kind: String,
    provider_id: String,
    member: String,
    gross: String,
    fee: String,
    net: String,
    description: String,
}

/// `?statements=<n>&year=<year>`: what pressing "email the statements" did.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LedgerQuery {
    statements: Option<u32>,
    year: Option<i16>,
}

async fn show_ledger(
    State(state): State<AppState>,
    staff: Authorized<ViewPayments>,
    axum::extract::Query(query): axum::extract::Query<LedgerQuery>,
) -> Result<Response, AppError> {
    let rows: Vec<LedgerView> = reports::ledger(&state.ctx, 200)
        .await?
        .into_iter()
        .map(|r| LedgerView {
            date: format_utc(r.occurred_at),
            kind: r.kind.as_str().to_string(),
            provider_id: r.provider_id,
            member: r.member_id.map(|m| m.to_string()).unwrap_or_default(),
            // Charged in one currency, perhaps settled in another: each amount in its own.
            gross: if r.settled.currency == r.currency {
                Money::new(r.gross_minor, r.currency).display()
            } else {
                format!(
                    "{} ({})",
                    Money::new(r.gross_minor, r.currency).display(),
                    Money::new(r.settled.gross_minor, r.settled.currency).display()
                )
            },
            fee: Money::new(r.settled.fee_minor, r.settled.currency).display(),
            net: Money::new(r.settled.net_minor, r.settled.currency).display(),
            description: r.description.unwrap_or_default(),
        })
        .collect();
    let mut page = staff_page(&state, Some(&staff.user), "/admin/ledger");
    // Statements are emailed in January for the year just ended.
    let last_year = state.ctx.zone.month_of(state.ctx.clock.now()).year() - 1;
    page.insert("rows", &rows)
        .insert("can_comp", &staff.user.role.allows(Permission::ManagePayments))
        .insert("statement_year", &last_year)
        .insert("statements_sent", &query.statements)
        .insert("statements_sent_year", &query.year);
    Ok(page.render(&state, "admin/ledger.html")?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CompForm {
    /// On the ledger page: whose (the member page posts to the member's own address).
    email: String,
    reason: String,
    /// `YYYY-MM-DD`: complimentary through that day (the newsroom's); empty: no end.
    until: String,
    /// `end` ends the comp; anything else grants it.
    action: String,
}

/// A comp as staff typed it: `None` ends it; a grant needs a reason and an
/// end date after today, or none.
fn parse_comp(state: &AppState, form: &CompForm) -> Result<Option<billing::CompGrant>, AppError> {
    if form.action == "end" {
        return Ok(None);
    }
    let reason = CompReason::parse(&form.reason).map_err(|e| AppError::BadRequest(e.message_key()))?;
    let until = match form.until.trim() {
        "" => None,
        day => {
            let end = state.ctx.zone.parse_date(day).map(|start| start + DAY);
            Some(
                end.filter(|end| *end > state.ctx.clock.now() + DAY)
                    .ok_or(AppError::BadRequest(GiftError::CompEnd.message_key()))?,
            )
        }
    };
    Ok(Some(billing::CompGrant { until, reason }))
}

/// How a comp's end shows on staff pages: its date, "no end date", or empty.
pub(super) fn comp_end(until: Option<crate::clock::Micros>) -> String {
    match until {
        Some(COMP_NO_END) => "no end date".to_string(),
        Some(at) => format_utc(at),
        None => String::new(),
    }
}

#[derive(Serialize)]
struct PresetsRow {
    code: String,
    amounts: String,
}

/// The suggested one-time gifts per currency, for their form on the tiers page.
async fn insert_presets(state: &AppState, page: &mut crate::http::extract::PageContext) -> Result<(), AppError> {
    let mut rows = Vec::new();
    for currency in checkout::DONATION_CURRENCIES {
        let amounts = checkout::donation_presets(&state.ctx, currency).await.map_err(StorageError::from)?;
        let amounts = amounts.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        rows.push(PresetsRow { code: currency.code(), amounts });
    }
    page.insert("donation_presets", &rows);
    let shows = checkout::shows_patron_count(&state.ctx).await.map_err(StorageError::from)?;
    page.insert("show_patron_count", &shows);
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SiteForm {
    show_patron_count: String,
}

/// Admins choose what the landing page says about the newsroom's patrons.
async fn set_site(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManagePayments>,
    Form(form): Form<SiteForm>,
) -> Result<Response, AppError> {
    let show = match form.show_patron_count.as_str() {
        "yes" => true,
        "" | "no" => false,
        _ => return Err(AppError::BadRequest("error-bad-request")),
    };
    checkout::set_show_patron_count(&state.ctx, &Actor::staff(&staff.user, &ip), show)
        .await
        .map_err(StorageError::from)?;
    Ok(Redirect::to("/admin/tiers#site").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PresetsForm {
    currency: String,
    amounts: String,
}

/// Admins set the suggested one-time gifts of a currency ("a cup of coffee" first).
async fn set_donation_presets(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManagePayments>,
    Form(form): Form<PresetsForm>,
) -> Result<Response, AppError> {
    let currency = Currency::parse(&form.currency)
        .ok()
        .filter(|c| checkout::DONATION_CURRENCIES.contains(c))
        .ok_or(AppError::BadRequest("error-currency"))?;
    let amounts = checkout::parse_presets(&form.amounts).map_err(AppError::BadRequest)?;
    checkout::set_donation_presets(&state.ctx, &Actor::staff(&staff.user, &ip), currency, &amounts)
        .await
        .map_err(StorageError::from)?;
    Ok(Redirect::to("/admin/tiers#donation-presets").into_response())
}

async fn comp_member(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManagePayments>,
    Form(form): Form<CompForm>,
) -> Result<Response, AppError> {
    let email = Email::parse(&form.email).map_err(|_| AppError::BadRequest("error-email-invalid"))?;
    let grant = parse_comp(&state, &form)?;
    if !billing::comp_by_email(&state.ctx, &Actor::staff(&staff.user, &ip), &email, grant.as_ref()).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/admin/ledger").into_response())
}

/// The member page's comp form: grant (with a reason and an optional end) or end it.
async fn comp_member_by_id(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManagePayments>,
    Path(id): Path<String>,
    Form(form): Form<CompForm>,
) -> Result<Response, AppError> {
    let member: crate::domain::MemberId = id.parse().map_err(|_| AppError::NotFound)?;
    let grant = parse_comp(&state, &form)?;
    if !billing::comp(&state.ctx, &Actor::staff(&staff.user, &ip), member, grant.as_ref()).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/admin/members/{member}#comp")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatementsForm {
    year: String,
}

/// Admins email the giving statements of a year that is over to every member
/// who paid in it (once each, however often this is pressed; audit-logged).
async fn email_statements(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManagePayments>,
    Form(form): Form<StatementsForm>,
) -> Result<Response, AppError> {
    let actor = Actor::staff(&staff.user, &ip);
    let sent = crate::services::receipts::email_statements(&state.ctx, &actor, &form.year).await?;
    let year = form.year.trim();
    Ok(Redirect::to(&format!("/admin/ledger?statements={sent}&year={year}#statements")).into_response())
}
