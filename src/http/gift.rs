//! Gift memberships: the form a reader buys one on, the thanks page, and the
//! page the recipient redeems it on (a signed, single-use link from their email).
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::extract::{ClientIp, FieldErrors, Form, PageContext, UserAgent};
use super::patron::currency_choices;
use super::session::member_cookie;
use super::state::AppState;
use crate::domain::{Currency, Email, GiftMessage, GiftMonths, Locale, PersonName, TierId};
use crate::services::checkout::{CheckoutError, CheckoutStart};
use crate::services::gifts::{self, GiftOrder, RedeemError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/gift", get(show_gift_form).post(submit_gift))
        .route("/gift/thanks", get(show_gift_thanks))
        .route("/gift/redeem", get(show_redeem).post(submit_redeem))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GiftForm {
    currency: String,
    tier: String,
    months: String,
    recipient_name: String,
    recipient_email: String,
    message: String,
    deliver_on: String,
    /// The language the recipient is written to in (`en`, `uk`).
    lang: String,
    giver_email: String,
    giver_name: String,
}

#[derive(Serialize)]
struct OfferView {
    id: String,
    name: String,
    /// "3 months: €15.00", one per length.
    prices: Vec<String>,
}

#[derive(Serialize)]
struct LanguageView {
    code: &'static str,
    name: &'static str,
}

impl From<RedeemError> for AppError {
    fn from(e: RedeemError) -> Self {
        match e {
            RedeemError::InvalidLink => Self::InvalidLink,
            RedeemError::AlreadyRedeemed => Self::Conflict("gift-already-redeemed"),
            RedeemError::Db(e) => crate::services::StorageError::from(e).into(),
            RedeemError::Outbox(e) => e.into(),
        }
    }
}

/// The currency the form is in: the one asked for if some tier can be given in
/// it, else the reader's language's, else the first one there is.
fn form_currency(currencies: &[Currency], asked: &str, locale: Locale) -> Option<Currency> {
    let language = if locale == Locale::Uk { Currency::UAH } else { Currency::EUR };
    Currency::parse(asked)
        .ok()
        .filter(|c| currencies.contains(c))
        .or_else(|| currencies.contains(&language).then_some(language))
        .or_else(|| currencies.first().copied())
}

async fn gift_page(
    state: &AppState,
    page: &mut PageContext,
    form: &GiftForm,
    errors: &FieldErrors,
) -> Result<axum::response::Html<String>, AppError> {
    let currencies = gifts::currencies(&state.ctx).await?;
    let shown = form_currency(&currencies, &form.currency, page.locale);
    let texts = crate::services::content::localiser(&state.ctx, page.locale).await?;
    let mut offers = Vec::new();
    if let Some(currency) = shown {
        for offer in gifts::offers(&state.ctx, currency).await? {
            let mut tier = offer.tier.clone();
            texts.tier(&mut tier);
            let prices = offer
                .prices
                .iter()
                .map(|(months, price)| {
                    let months = months_label(state, page.locale, *months);
                    format!("{months}: {}", crate::numbers::money(page.locale, *price))
                })
                .collect();
            offers.push(OfferView { id: tier.id.to_string(), name: tier.name, prices });
        }
    }
    let months: Vec<(String, String)> = crate::domain::gift::GIFT_MONTHS
        .iter()
        .filter_map(|m| GiftMonths::new(*m))
        .map(|m| (m.get().to_string(), months_label(state, page.locale, m)))
        .collect();
    let email_languages: Vec<LanguageView> =
        Locale::ALL.iter().map(|l| LanguageView { code: l.as_str(), name: l.native_name() }).collect();
    let now = state.ctx.clock.now();
    let today = state.ctx.zone.date(now);
    let last = state.ctx.zone.date(now + crate::domain::gift::MAX_DELIVERY_DAYS_AHEAD * crate::clock::DAY);
    let signed_in_email = page.member.as_ref().and_then(|m| m.email.as_ref()).map(|e| e.to_string());
    let giver_email =
        if form.giver_email.is_empty() { signed_in_email.unwrap_or_default() } else { form.giver_email.clone() };
    let giver_name = match (&page.member, form.giver_name.is_empty()) {
        (Some(m), true) => m.name.clone().unwrap_or_default(),
        _ => form.giver_name.clone(),
    };
    let lang = if form.lang.is_empty() { page.locale.as_str().to_string() } else { form.lang.clone() };
    page.insert("currencies", &currency_choices(currencies, shown))
        .insert("form_currency", &shown.map(|c| c.as_str().to_string()))
        .insert("offers", &offers)
        .insert("month_choices", &months)
        .insert("email_languages", &email_languages)
        .insert("today", &today)
        .insert("last_day", &last)
        .insert("form_tier", &form.tier)
        .insert("form_months", &form.months)
        .insert("form_recipient_name", &form.recipient_name)
        .insert("form_recipient_email", &form.recipient_email)
        .insert("form_message", &form.message)
        .insert("form_deliver_on", &if form.deliver_on.is_empty() { today.clone() } else { form.deliver_on.clone() })
        .insert("form_lang", &lang)
        .insert("form_giver_email", &giver_email)
        .insert("form_giver_name", &giver_name)
        .insert("errors", &errors.0);
    page.render(state, "gift/gift.html")
}

fn months_label(state: &AppState, locale: Locale, months: GiftMonths) -> String {
    state.ctx.views.i18n().t(locale, "gift-months", &[("months", crate::i18n::Arg::Num(months.get() as f64))])
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GiftQuery {
    currency: String,
}

async fn show_gift_form(
    State(state): State<AppState>,
    Query(query): Query<GiftQuery>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let form = GiftForm { currency: query.currency, months: "6".into(), ..Default::default() };
    Ok(gift_page(&state, &mut page, &form, &FieldErrors::default()).await?.into_response())
}

/// Every field of the form parsed, or the errors beside the fields.
/// `offered`: the currencies some tier can be given in.
fn parse_order(
    state: &AppState,
    page: &PageContext,
    form: &GiftForm,
    offered: &[Currency],
) -> Result<GiftOrder, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut field = |name: &'static str, key: &str| errors.add(name, page.t(state, key));
    let currency = Currency::parse(&form.currency).ok().filter(|c| offered.contains(c));
    if currency.is_none() {
        field("currency", "error-currency");
    }
    let tier = form.tier.trim().parse::<TierId>().map_err(|_| field("tier", "error-choose-tier")).ok();
    let months = form.months.parse::<GiftMonths>().map_err(|e| field("months", e.message_key())).ok();
    let recipient_name = match PersonName::parse_optional(&form.recipient_name) {
        Ok(Some(name)) => Some(name),
        Ok(None) => {
            field("recipient_name", "error-gift-recipient-name");
            None
        }
        Err(e) => {
            field("recipient_name", e.message_key());
            None
        }
    };
    let recipient_email =
        Email::parse(&form.recipient_email).map_err(|e| field("recipient_email", e.message_key())).ok();
    let message = GiftMessage::parse(&form.message).map_err(|e| field("message", e.message_key())).ok();
    let deliver_on =
        gifts::delivery_day(&state.ctx, &form.deliver_on).map_err(|e| field("deliver_on", e.message_key())).ok();
    let recipient_locale = form.lang.parse::<Locale>().map_err(|_| field("lang", "error-gift-language")).ok();
    // A signed-in giver gives as themselves.
    let signed_in = page.member.as_ref().and_then(|m| m.email.clone());
    let giver_email = match signed_in {
        Some(email) => Some(email),
        None => Email::parse(&form.giver_email).map_err(|e| field("giver_email", e.message_key())).ok(),
    };
    let giver_name =
        PersonName::parse_optional(&form.giver_name).map_err(|e| field("giver_name", e.message_key())).ok();
    match (
        currency,
        tier,
        months,
        recipient_name,
        recipient_email,
        message,
        deliver_on,
        recipient_locale,
        giver_email,
        giver_name,
    ) {
        (
            Some(currency),
            Some(tier_id),
            Some(months),
            Some(recipient_name),
            Some(recipient_email),
            Some(message),
            Some(deliver_on),
            Some(recipient_locale),
            Some(giver_email),
            Some(giver_name),
        ) if errors.is_empty() => Ok(GiftOrder {
            tier_id,
            months,
            currency,
            recipient_name,
            recipient_email,
            message,
            deliver_on,
            recipient_locale,
            giver_email,
            giver_name,
        }),
        _ => Err(errors),
    }
}

#[tracing::instrument(skip_all)]
async fn submit_gift(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    mut page: PageContext,
    Form(form): Form<GiftForm>,
) -> Result<Response, AppError> {
    let offered = gifts::currencies(&state.ctx).await?;
    let order = match parse_order(&state, &page, &form, &offered) {
        Ok(order) => order,
        Err(errors) => {
            let html = gift_page(&state, &mut page, &form, &errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    match gifts::start_checkout(&state.ctx, &order, page.locale, &ip).await {
        Ok(CheckoutStart::Redirect(url)) => Ok(Redirect::to(&url).into_response()),
        Ok(CheckoutStart::AlreadyPatron) => Ok(Redirect::to("/gift").into_response()),
        // The tier has no price in this currency (or was archived meanwhile).
        Err(CheckoutError::UnknownPrice) => {
            let mut errors = FieldErrors::default();
            errors.add("tier", page.t(&state, "error-gift-tier"));
            let html = gift_page(&state, &mut page, &form, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn show_gift_thanks(State(state): State<AppState>, page: PageContext) -> Result<Response, AppError> {
    Ok(page.render(&state, "gift/thanks.html")?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RedeemParams {
    t: String,
}

async fn show_redeem(
    State(state): State<AppState>,
    Query(params): Query<RedeemParams>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let view = gifts::for_token(&state.ctx, &params.t).await?;
    let mut tier = view.tier.clone();
    if let Some(t) = tier.as_mut() {
        crate::services::content::localiser(&state.ctx, page.locale).await?.tier(t);
    }
    let g = &view.gift;
    page.insert("token", &params.t)
        .insert("recipient_name", &g.details.recipient_name)
        .insert("giver_name", &g.details.giver_name)
        .insert("message", &g.details.message)
        .insert("tier", &tier.map(|t| t.name))
        .insert("months", &g.details.months.get())
        .insert("redeemed", &g.redeemed_at.is_some());
    let status = if g.redeemed_at.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    Ok((status, page.render(&state, "gift/redeem.html")?).into_response())
}

async fn submit_redeem(
    State(state): State<AppState>,
    jar: CookieJar,
    UserAgent(ua): UserAgent,
    Form(params): Form<RedeemParams>,
) -> Result<Response, AppError> {
    let redeemed = gifts::redeem(&state.ctx, &params.t, ua.as_deref()).await?;
    Ok((jar.add(member_cookie(&state, redeemed.cookie)), Redirect::to("/account")).into_response())
}
