//! Becoming a patron, giving once, and the demo checkout and billing portal.
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::extract::{ClientIp, FieldErrors, Form, PageContext, SignedInMember, UserAgent};
use super::session::member_cookie;
use super::state::AppState;
use crate::clock::format_utc;
use crate::domain::{
    AmountOff, Currency, DiscountDuration, Email, Locale, Member, Money, Offer, OfferBenefit, PersonName,
};
use crate::payments::demo::{CheckoutKind, DemoCheckout};
use crate::services::checkout::{self, CheckoutError, CheckoutStart, DONATION_CURRENCIES, DemoOutcome, DemoResult};
use crate::services::goals::{self, GoalServiceError};
use crate::services::offers::{self, OfferError};
use crate::services::retention;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/demo/checkout", get(show_demo_checkout).post(complete_demo_checkout))
        .route("/patron/welcome", get(show_welcome))
        .route("/patron/failed", get(show_failed))
        .route("/donate/thanks", get(show_donation_thanks))
        .route("/account/billing", post(open_billing_portal))
        .route("/demo/portal", get(show_demo_portal).post(submit_demo_portal))
}

/// Forms the newsroom's own website may post (origins in `TRUSTED_ORIGINS`).
pub fn embeddable_forms_router() -> Router<AppState> {
    Router::new()
        .route("/patron", get(show_patron_form).post(submit_patron))
        .route("/donate", get(show_donation_form).post(submit_donation))
}

#[derive(Serialize)]
pub(super) struct PriceOption {
    id: String,
    label: String,
    flexible: bool,
    /// With an offer that applies to it: what the reader pays, and after.
    offer_label: Option<String>,
}

#[derive(Serialize)]
pub(super) struct TierView {
    id: String,
    name: String,
    description: String,
    /// What the voting rules give this tier (from the settings, never typed),
    /// then the benefits staff entered.
    benefits: Vec<String>,
    vote_weight: i64,
    /// Its prices in the currency shown.
    prices: Vec<PriceOption>,
    /// The lowest pay-what-you-want price in that currency, if any.
    flexible_from: Option<String>,
    /// What the reader typed in its pay-what-you-want field (shown again after an error).
    typed: String,
}

#[derive(Serialize)]
pub(super) struct CurrencyChoice {
    code: String,
    label: String,
    current: bool,
}

/// The currency switch of a form: each currency, the shown one marked.
pub(super) fn currency_choices(currencies: Vec<Currency>, shown: Option<Currency>) -> Vec<CurrencyChoice> {
    currencies
        .into_iter()
        .map(|c| CurrencyChoice { code: c.as_str().to_string(), label: c.code(), current: Some(c) == shown })
        .collect()
}

/// The currency the tiers are shown in: the one asked for (`?currency=`) if some
/// tier is priced in it, else the reader's language's (hryvnia for Ukrainian,
/// euro otherwise) if in use, else the first one in use.
fn shown_currency(prices: &[crate::domain::TierPrice], locale: Locale, asked: &str) -> Option<Currency> {
    let in_use = |c: Currency| prices.iter().any(|p| p.amount.currency == c);
    let language = match locale {
        Locale::Uk => Currency::UAH,
        _ => Currency::EUR,
    };
    Currency::parse(asked)
        .ok()
        .filter(|c| in_use(*c))
        .or_else(|| in_use(language).then_some(language))
        .or_else(|| prices.first().map(|p| p.amount.currency))
}

/// "€3.00 a month", "3,00 € на місяць".
pub fn price_label(state: &AppState, locale: Locale, amount: Money, interval: crate::domain::Interval) -> String {
    let per = state.ctx.views.i18n().t(locale, &format!("per-{interval}"), &[]);
    format!("{} {per}", crate::numbers::money(locale, amount))
}

/// Active tiers with their live prices in the currency shown, for the patron
/// form; and the currencies a reader may switch to.
pub(super) async fn tier_views(
    state: &AppState,
    locale: Locale,
    asked_currency: &str,
    typed: &std::collections::HashMap<String, String>,
) -> Result<(Vec<TierView>, Vec<CurrencyChoice>, Option<Currency>), AppError> {
    let catalog = crate::services::tiers::catalog(&state.ctx).await?;
    let settings = crate::services::voting::settings(&state.ctx).await?;
    let texts = crate::services::content::localiser(&state.ctx, locale).await?;
    let shown = shown_currency(&catalog.prices, locale, asked_currency);
    let mut currencies: Vec<Currency> = catalog.prices.iter().map(|p| p.amount.currency).collect();
    currencies.sort_by_key(|c| (*c != Currency::UAH, *c != Currency::EUR, c.code()));
    currencies.dedup();
    let choices = currency_choices(currencies, shown);
    let tiers = catalog
        .tiers
        .iter()
        .map(|t| {
            let mut t = t.clone();
            texts.tier(&mut t);
            let t = &t;
            let prices: Vec<&crate::domain::TierPrice> =
                catalog.prices.iter().filter(|p| p.tier_id == t.id && Some(p.amount.currency) == shown).collect();
            let flexible_from = prices.iter().filter(|p| p.flexible).map(|p| p.amount).min_by_key(|m| m.minor);
            let mut benefits = voting_benefits(state, locale, &settings, t.vote_weight);
            benefits.extend(t.benefits.iter().cloned());
            TierView {
                id: t.id.to_string(),
                prices: prices
                    .iter()
                    .map(|p| PriceOption {
                        id: p.id.clone(),
                        label: price_label(state, locale, p.amount, p.interval),
                        flexible: p.flexible,
                        offer_label: None,
                    })
                    .collect(),
                flexible_from: flexible_from.map(|m| crate::numbers::money(locale, m)),
                typed: typed.get(&format!("amount-{}", t.id)).cloned().unwrap_or_default(),
                name: t.name.clone(),
                description: t.description.clone(),
                benefits,
                vote_weight: t.vote_weight,
            }
        })
        .filter(|t| !t.prices.is_empty())
        .collect();
    Ok((tiers, choices, shown))
}

/// What a tier's patrons get from the voting rules as they are set now, so the
/// page never promises a weight or a right the settings do not give.
pub(super) fn voting_benefits(
    state: &AppState,
    locale: Locale,
    settings: &crate::domain::VotingSettings,
    tier_weight: i64,
) -> Vec<String> {
    use crate::domain::{Eligibility, WeightMode};
    use crate::i18n::Arg;
    let i18n = state.ctx.views.i18n();
    let mut benefits = Vec::new();
    if settings.eligibility == Eligibility::Patrons {
        benefits.push(i18n.t(locale, "benefit-vote", &[]));
    }
    match settings.weight {
        WeightMode::Tier if tier_weight > 1 => {
            benefits.push(i18n.t(locale, "benefit-weight", &[("weight", Arg::Num(tier_weight as f64))]));
        }
        WeightMode::Tenure => {
            let cap = settings.tenure_cap_months as f64;
            benefits.push(i18n.t(locale, "benefit-tenure", &[("cap", Arg::Num(cap))]));
        }
        _ => {}
    }
    benefits
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PatronForm {
    pub price: String,
    pub email: String,
    pub name: String,
    /// Pay what you want (flexible prices only), in major units, as a form on
    /// the newsroom's own site may post it.
    pub amount: String,
    pub lang: String,
    /// The currency the tiers are shown in.
    pub currency: String,
    /// The offer's link (`?offer=<id or slug>`), carried by the form.
    pub offer: String,
    /// An offer code the reader typed (any case).
    pub code: String,
    /// Our own form's pay-what-you-want fields, one per tier: `amount-<tier id>`.
    #[serde(flatten)]
    pub tier_amounts: std::collections::HashMap<String, String>,
}

impl PatronForm {
    /// The amount typed for the tier of the chosen price (or the plain `amount`).
    fn typed_amount(&self, tier: crate::domain::TierId) -> &str {
        match self.amount.trim() {
            "" => self.tier_amounts.get(&format!("amount-{tier}")).map_or("", |a| a.trim()),
            amount => amount,
        }
    }
}

pub async fn patron_form_context(
    state: &AppState,
    page: &mut PageContext,
    form: &PatronForm,
    errors: &FieldErrors,
) -> Result<(), AppError> {
    let (mut tiers, currencies, shown) = tier_views(state, page.locale, &form.currency, &form.tier_amounts).await?;
    let mut errors = errors.clone();
    let chosen = match offers::chosen(&state.ctx, &form.offer, &form.code).await {
        Ok(chosen) => chosen,
        Err(OfferError::Refused(r)) => {
            errors.0.entry("offer").or_insert_with(|| page.t(state, r.message_key()));
            None
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(chosen) = &chosen {
        let catalog = crate::services::tiers::catalog(&state.ctx).await?;
        for price in tiers.iter_mut().flat_map(|t| t.prices.iter_mut()) {
            if let Some(p) = catalog.prices.iter().find(|p| p.id == price.id)
                && chosen.offer.applies_to(p).is_ok()
            {
                price.offer_label = Some(offer_price_label(state, page.locale, &chosen.offer, p.amount, p.interval));
            }
        }
        page.insert(
            "offer",
            &OfferView {
                headline: offer_headline(state, page.locale, &chosen.offer, shown),
                link: if chosen.by_code { String::new() } else { form.offer.trim().to_string() },
                code: if chosen.by_code { form.code.trim().to_string() } else { String::new() },
            },
        );
    }
    page.insert("tiers", &tiers)
        .insert("currencies", &currencies)
        .insert("currency", &shown.map(|c| c.as_str().to_string()))
        .insert("patron_price", &form.price)
        .insert("patron_email", &form.email)
        .insert("patron_name", &form.name)
        .insert("patron_amount", &form.amount)
        .insert("patron_code", &form.code)
        .insert("patron_errors", &errors.0);
    Ok(())
}

/// The offer on the patron form: what it gives, and how the form carries it.
#[derive(Serialize)]
struct OfferView {
    headline: String,
    link: String,
    code: String,
}

/// What an offer gives, in the reader's language: "50% off for 3 months",
/// "Free for 14 days". A fixed amount is shown in `currency` when the offer has one.
pub(super) fn offer_headline(state: &AppState, locale: Locale, offer: &Offer, currency: Option<Currency>) -> String {
    use crate::i18n::Arg;
    let i18n = state.ctx.views.i18n();
    let (off, duration) = match &offer.benefit {
        OfferBenefit::Trial { days } => {
            return i18n.t(locale, "offer-headline-trial", &[("days", Arg::Num(*days as f64))]);
        }
        OfferBenefit::Discount { off: AmountOff::Percent(p), duration } => (format!("{p}%"), duration),
        OfferBenefit::Discount { off: AmountOff::Fixed(amounts), duration } => {
            let m = amounts.iter().find(|m| Some(m.currency) == currency).or(amounts.first());
            (m.map(|m| crate::numbers::money(locale, *m)).unwrap_or_default(), duration)
        }
    };
    let off = Arg::Str(&off);
    match duration {
        DiscountDuration::Once => i18n.t(locale, "offer-headline-once", &[("off", off)]),
        DiscountDuration::Months(n) => {
            i18n.t(locale, "offer-headline-months", &[("off", off), ("months", Arg::Num(*n as f64))])
        }
        DiscountDuration::Forever => i18n.t(locale, "offer-headline-forever", &[("off", off)]),
    }
}

/// What a reader pays with the offer and after it: "€2.25 a month for 3
/// months, then €4.50 a month", "Free for 14 days, then €4.50 a month".
pub(super) fn offer_price_label(
    state: &AppState,
    locale: Locale,
    offer: &Offer,
    amount: Money,
    interval: crate::domain::Interval,
) -> String {
    use crate::domain::Interval;
    use crate::i18n::Arg;
    let i18n = state.ctx.views.i18n();
    let full = price_label(state, locale, amount, interval);
    let full = Arg::Str(&full);
    let OfferBenefit::Discount { duration, .. } = &offer.benefit else {
        let days = offer.trial_days().unwrap_or(0) as f64;
        return i18n.t(locale, "offer-price-trial", &[("days", Arg::Num(days)), ("full", full)]);
    };
    let discounted = crate::numbers::money(locale, offer.first_charge(amount));
    let discounted = Arg::Str(&discounted);
    let (once, many, count) = match interval {
        Interval::Month => ("offer-price-once-month", "offer-price-months", "months"),
        Interval::Year => ("offer-price-once-year", "offer-price-years", "years"),
    };
    match duration.invoices(interval) {
        None => {
            i18n.t(locale, &format!("offer-price-forever-{interval}"), &[("discounted", discounted), ("full", full)])
        }
        Some(1) => i18n.t(locale, once, &[("discounted", discounted), ("full", full)]),
        Some(n) => i18n.t(locale, many, &[("discounted", discounted), (count, Arg::Num(n as f64)), ("full", full)]),
    }
}

/// `?currency=`: the currency the tiers are shown in.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CurrencyQuery {
    pub currency: String,
}

/// `?currency=&price=`: the currency shown and a price chosen already (the
/// patron box on the newsroom's pages links here).
#[derive(Deserialize, Default)]
#[serde(default)]
struct PatronQuery {
    currency: String,
    price: String,
    /// An offer's shareable link: its id or slug.
    offer: String,
    /// An offer code typed into the form's "Apply" box.
    code: String,
}

async fn show_patron_form(
    State(state): State<AppState>,
    Query(query): Query<PatronQuery>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let form = PatronForm {
        currency: query.currency,
        price: query.price,
        offer: query.offer,
        code: query.code,
        ..Default::default()
    };
    patron_form_context(&state, &mut page, &form, &FieldErrors::default()).await?;
    Ok(page.render(&state, "patron/patron.html")?.into_response())
}

#[tracing::instrument(skip_all)]
async fn submit_patron(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    mut page: PageContext,
    Form(form): Form<PatronForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let signed_in_email = page.member.as_ref().and_then(|m| m.email.clone());
    let email = match &signed_in_email {
        Some(e) => Some(e.clone()),
        None => Email::parse(&form.email).map_err(|e| errors.add("email", page.t(&state, e.message_key()))).ok(),
    };
    let name =
        PersonName::parse_optional(&form.name).map_err(|e| errors.add("name", page.t(&state, e.message_key()))).ok();
    let price = match checkout::offered_price(&state.ctx, form.price.trim()).await {
        Ok(p) => Some(p),
        Err(CheckoutError::UnknownPrice) => {
            errors.add("price", page.t(&state, "error-choose-tier"));
            None
        }
        Err(e) => return Err(e.into()),
    };
    let typed = price.as_ref().map_or("", |p| form.typed_amount(p.tier_id));
    let amount = match &price {
        // An amount next to a fixed price is refused, never silently dropped.
        Some(p) if !p.flexible && !typed.is_empty() => {
            errors.add("amount", page.t(&state, "error-amount-fixed-price"));
            None
        }
        Some(p) if p.flexible && !typed.is_empty() => match Money::parse_major(typed, p.amount.currency) {
            Ok(m) => match checkout::amount_for(p, Some(m)) {
                Ok(m) => Some(m),
                Err(_) => {
                    errors.add("amount", page.t(&state, "error-below-minimum"));
                    None
                }
            },
            Err(e) => {
                errors.add("amount", page.t(&state, e.message_key()));
                None
            }
        },
        Some(p) => Some(p.amount),
        None => None,
    };
    // An offer must be open and for the price chosen; otherwise nothing is stored.
    let offer = match offers::chosen(&state.ctx, &form.offer, &form.code).await {
        Ok(chosen) => chosen,
        Err(OfferError::Refused(r)) => {
            errors.add("offer", page.t(&state, r.message_key()));
            None
        }
        Err(e) => return Err(e.into()),
    };
    if let (Some(chosen), Some(price)) = (&offer, &price)
        && let Err(r) = offers::check_price(chosen, price)
    {
        errors.add("offer", page.t(&state, r.message_key()));
    }
    let (Some(email), Some(name), Some(price), Some(amount), true) = (email, name, price, amount, errors.is_empty())
    else {
        patron_form_context(&state, &mut page, &form, &errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page.render(&state, "patron/patron.html")?).into_response());
    };
    let locale = form.lang.parse::<Locale>().unwrap_or(page.locale);
    // Posted by a form on the newsroom's site, the source fields arrive with the others.
    let posted = crate::domain::RawSource::from_pairs(
        form.tier_amounts.iter().map(|(k, v)| (k.as_str().into(), v.as_str().into())),
    );
    let source = super::source::source_for(&state, &posted, &headers);
    let start = checkout::start_patron_checkout(
        &state.ctx,
        &email,
        name.as_ref(),
        locale,
        &price,
        amount,
        &ip,
        source.as_ref(),
        offer.as_ref(),
    );
    match start.await? {
        CheckoutStart::Redirect(url) => Ok(Redirect::to(&url).into_response()),
        CheckoutStart::AlreadyPatron => Ok(Redirect::to("/signin/sent").into_response()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DonationForm {
    currency: String,
    preset: String,
    amount: String,
    name: String,
    anonymous: String,
    cover_fee: String,
    /// Optional: the topic the gift goes toward (it must have an open goal).
    topic: String,
    /// Optional: where the reader came from (`article`, `referrer`, `utm_*`).
    #[serde(flatten)]
    source: crate::domain::RawSource,
}

/// `?currency=&topic=`: the donation form's currency, and the topic a gift goes toward.
#[derive(Deserialize, Default)]
#[serde(default)]
struct DonationQuery {
    currency: String,
    topic: String,
}

/// A topic's goal as pages show it.
#[derive(Serialize)]
pub(super) struct GoalView {
    pub topic_id: String,
    pub title: String,
    pub goal: String,
    pub raised: String,
    pub percent: i64,
    pub reached: bool,
    pub currency: String,
}

impl GoalView {
    pub fn of(locale: Locale, progress: &crate::domain::GoalProgress, title: &str) -> Self {
        Self {
            topic_id: progress.topic_id.to_string(),
            title: title.to_string(),
            goal: crate::numbers::money(locale, progress.goal),
            raised: crate::numbers::money(locale, progress.raised()),
            percent: progress.percent(),
            reached: progress.is_reached(),
            currency: progress.goal.currency.as_str().to_string(),
        }
    }
}

#[derive(Serialize)]
struct PresetView {
    value: String,
    label: String,
    /// The cover-the-fee label for this amount (for the small script that
    /// updates it when another preset is picked).
    cover_label: String,
}

/// The currency the donation form is in: the one asked for, else the reader's
/// language's (hryvnia for Ukrainian, euro otherwise).
fn donation_currency(asked: &str, locale: Locale) -> Currency {
    let language = if locale == Locale::Uk { Currency::UAH } else { Currency::EUR };
    Currency::parse(asked).ok().filter(|c| DONATION_CURRENCIES.contains(c)).unwrap_or(language)
}

async fn donation_page(
    state: &AppState,
    page: &mut PageContext,
    form: &DonationForm,
    errors: &FieldErrors,
) -> Result<axum::response::Html<String>, AppError> {
    let mut currency = donation_currency(&form.currency, page.locale);
    // A gift toward a topic is in its goal's currency.
    if !form.topic.is_empty()
        && let Ok(target) = goals::gift_target(&state.ctx, &form.topic).await
    {
        currency = target.progress.goal.currency;
        let mut title = target.title.clone();
        crate::services::content::localiser(&state.ctx, page.locale).await?.topic_texts(
            &target.topic_id.to_string(),
            &mut title,
            None,
        );
        page.insert("toward", &GoalView::of(page.locale, &target.progress, &title));
    }
    let currencies: Vec<CurrencyChoice> = DONATION_CURRENCIES
        .iter()
        .map(|c| CurrencyChoice { code: c.as_str().to_string(), label: c.code(), current: *c == currency })
        .collect();
    let presets: Vec<PresetView> = checkout::donation_presets(&state.ctx, currency)
        .await
        .map_err(crate::services::StorageError::from)?
        .iter()
        .map(|p| {
            let gift = Money::new(p * 10_i64.pow(currency.exponent()), currency);
            PresetView {
                value: p.to_string(),
                label: crate::numbers::money(page.locale, gift),
                cover_label: cover_label_for(state, page, gift),
            }
        })
        .collect();
    let label = cover_label(state, page, form, currency);
    let generic_label = page.t(state, "donate-cover-fee");
    page.insert("currencies", &currencies)
        .insert("form_currency", &currency.as_str())
        .insert("presets", &presets)
        .insert("cover_label", &label)
        .insert("cover_label_generic", &generic_label)
        .insert("form_preset", &form.preset)
        .insert("form_amount", &form.amount)
        .insert("form_name", &form.name)
        .insert("form_anonymous", &(form.anonymous == "yes"))
        .insert("form_cover_fee", &(form.cover_fee == "yes"))
        .insert("min_amount", &checkout::DONATION_MIN_MAJOR)
        .insert("max_amount", &checkout::DONATION_MAX_MAJOR)
        .insert("errors", &errors.0);
    page.render(state, "patron/donate.html")
}

/// "Add €0.45 so all of my €10.00 gift reaches the newsroom", for the amount
/// chosen on the form (the preset, or a valid amount typed), computed here from
/// the currency's card fee; the plain label when there is no amount yet.
fn cover_label(state: &AppState, page: &PageContext, form: &DonationForm, currency: Currency) -> String {
    let typed = if form.amount.trim().is_empty() { form.preset.as_str() } else { form.amount.as_str() };
    match Money::parse_major(typed, currency) {
        Ok(gift) => cover_label_for(state, page, gift),
        Err(_) => page.t(state, "donate-cover-fee"),
    }
}

fn cover_label_for(state: &AppState, page: &PageContext, gift: Money) -> String {
    let extra = crate::numbers::money(page.locale, checkout::fee_cover(&state.ctx, gift));
    let amount = crate::numbers::money(page.locale, gift);
    state.ctx.views.i18n().t(
        page.locale,
        "donate-cover-fee-amount",
        &[("extra", crate::i18n::Arg::Str(&extra)), ("amount", crate::i18n::Arg::Str(&amount))],
    )
}

async fn show_donation_form(
    State(state): State<AppState>,
    Query(query): Query<DonationQuery>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let mut currency = donation_currency(&query.currency, page.locale);
    if !query.topic.is_empty() {
        // Only a topic with an open goal takes gifts: anything else is not found.
        currency = goals::gift_target(&state.ctx, &query.topic).await?.progress.goal.currency;
    }
    // The second suggestion is preselected (the first is the smallest, "a cup of coffee").
    let presets =
        checkout::donation_presets(&state.ctx, currency).await.map_err(crate::services::StorageError::from)?;
    let preset = presets.get(1).or(presets.first()).map(i64::to_string).unwrap_or_default();
    let form =
        DonationForm { preset, currency: currency.as_str().to_string(), topic: query.topic, ..Default::default() };
    Ok(donation_page(&state, &mut page, &form, &FieldErrors::default()).await?.into_response())
}

#[tracing::instrument(skip_all)]
async fn submit_donation(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    mut page: PageContext,
    Form(form): Form<DonationForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let currency = Currency::parse(&form.currency).ok().filter(|c| DONATION_CURRENCIES.contains(c));
    if currency.is_none() {
        errors.add("currency", page.t(&state, "error-currency"));
    }
    let typed = if form.amount.trim().is_empty() { form.preset.as_str() } else { form.amount.as_str() };
    let amount = currency.and_then(|c| match Money::parse_major(typed, c) {
        Ok(m) => Some(m),
        Err(e) => {
            errors.add("amount", page.t(&state, e.message_key()));
            None
        }
    });
    // Toward a topic: it must have an open goal, in the gift's currency.
    let toward = if form.topic.is_empty() {
        None
    } else {
        match goals::gift_target(&state.ctx, &form.topic).await {
            Ok(target) => {
                if currency.is_some_and(|c| c != target.progress.goal.currency) {
                    errors.add("topic", page.t(&state, "error-gift-currency"));
                }
                Some(target)
            }
            Err(e @ (GoalServiceError::Db(_) | GoalServiceError::Outbox(_))) => return Err(e.into()),
            Err(e) => {
                errors.add("topic", page.t(&state, e.message_key()));
                None
            }
        }
    };
    let anonymous = form.anonymous == "yes";
    let name =
        PersonName::parse_optional(&form.name).map_err(|e| errors.add("name", page.t(&state, e.message_key()))).ok();
    let (Some(amount), Some(name), true) = (amount, name, errors.is_empty()) else {
        return Ok(
            (StatusCode::UNPROCESSABLE_ENTITY, donation_page(&state, &mut page, &form, &errors).await?).into_response()
        );
    };
    let donor = if anonymous { None } else { page.member.as_ref().map(|m| m.id) };
    let name = if anonymous { None } else { name };
    let cover_fee = form.cover_fee == "yes";
    let source = super::source::source_for(&state, &form.source, &headers);
    let start = checkout::start_donation_checkout(
        &state.ctx,
        amount,
        donor,
        name.as_ref(),
        cover_fee,
        page.locale,
        &ip,
        source.as_ref(),
        toward.as_ref(),
    );
    match start.await {
        Ok(CheckoutStart::Redirect(url)) => Ok(Redirect::to(&url).into_response()),
        Ok(CheckoutStart::AlreadyPatron) => Ok(Redirect::to("/donate").into_response()),
        Err(CheckoutError::AmountOutOfRange) => {
            errors.add("amount", page.t(&state, "error-donation-range"));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, donation_page(&state, &mut page, &form, &errors).await?)
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DemoCheckoutParams {
    c: String,
    s: String,
    outcome: String,
}

/// The demo checkout and portal exist only while payments are simulated: with
/// Stripe configured they would change records behind Stripe's back.
fn require_demo(state: &AppState) -> Result<(), AppError> {
    if state.ctx.payments.is_demo() { Ok(()) } else { Err(AppError::NotFound) }
}

fn open_checkout(state: &AppState, params: &DemoCheckoutParams) -> Result<DemoCheckout, AppError> {
    require_demo(state)?;
    DemoCheckout::open(&state.ctx.keys, &params.c, &params.s, state.ctx.clock.now()).map_err(|_| AppError::InvalidLink)
}

async fn show_demo_checkout(
    State(state): State<AppState>,
    mut page: PageContext,
    Query(params): Query<DemoCheckoutParams>,
) -> Result<Response, AppError> {
    let checkout = open_checkout(&state, &params)?;
    let what = match (&checkout.kind, checkout.price_id.as_deref()) {
        (CheckoutKind::Subscription, Some(price_id)) => {
            let (mut tier, price) =
                checkout::subscription_offer(&state.ctx, price_id).await?.ok_or(AppError::InvalidLink)?;
            crate::services::content::localiser(&state.ctx, page.locale).await?.tier(&mut tier);
            let offer = match checkout.offer_id.as_deref() {
                Some(id) => Some(offers::find(&state.ctx, id).await?.ok_or(AppError::InvalidLink)?),
                None => None,
            };
            let label = match &offer {
                Some(o) => offer_price_label(&state, page.locale, o, checkout.amount(), price.interval),
                None => price_label(&state, page.locale, checkout.amount(), price.interval),
            };
            format!("{} — {label}", tier.name)
        }
        (CheckoutKind::Gift, _) => {
            let gift = crate::services::gifts::checkout_label(&state.ctx, page.locale, checkout.gift_id.as_deref());
            gift.await?.ok_or(AppError::InvalidLink)?
        }
        _ => {
            let gift = Money::new(checkout.gift_minor.unwrap_or(checkout.amount_minor), checkout.currency);
            checkout::donation_label(&state.ctx, page.locale, gift, checkout.amount())
        }
    };
    let amount = crate::numbers::money(page.locale, checkout.due_now());
    page.insert("what", &what).insert("amount", &amount).insert("c", &params.c).insert("s", &params.s);
    Ok(page.render(&state, "patron/demo_checkout.html")?.into_response())
}

async fn complete_demo_checkout(
    State(state): State<AppState>,
    jar: CookieJar,
    UserAgent(ua): UserAgent,
    Form(params): Form<DemoCheckoutParams>,
) -> Result<Response, AppError> {
    let checkout = open_checkout(&state, &params)?;
    let outcome = match params.outcome.as_str() {
        "succeed" => DemoOutcome::Succeed,
        "fail" => DemoOutcome::Fail,
        "cancel" => DemoOutcome::Cancel,
        _ => return Err(AppError::BadRequest("error-bad-request")),
    };
    let back = match checkout.kind {
        CheckoutKind::Donation => "/donate",
        CheckoutKind::Gift => "/gift",
        CheckoutKind::Subscription => "/patron",
    };
    Ok(match checkout::complete_demo_checkout(&state.ctx, &checkout, outcome, ua.as_deref()).await? {
        DemoResult::Subscribed { cookie: Some(cookie), .. } => {
            (jar.add(member_cookie(&state, cookie)), Redirect::to("/patron/welcome")).into_response()
        }
        DemoResult::Subscribed { cookie: None, .. } => Redirect::to("/patron/welcome").into_response(),
        DemoResult::Donated => Redirect::to("/donate/thanks").into_response(),
        DemoResult::Gifted => Redirect::to("/gift/thanks").into_response(),
        DemoResult::Failed => Redirect::to("/patron/failed").into_response(),
        DemoResult::Canceled => Redirect::to(back).into_response(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WelcomeParams {
    session_id: String,
}

async fn show_welcome(
    State(state): State<AppState>,
    jar: CookieJar,
    UserAgent(ua): UserAgent,
    mut page: PageContext,
    Query(params): Query<WelcomeParams>,
) -> Result<Response, AppError> {
    if !params.session_id.is_empty() && page.member.is_none() {
        // The webhook confirms the payment anyway; a failure here only means the
        // visitor signs in by email instead.
        match checkout::confirm_stripe_checkout(&state.ctx, &params.session_id, ua.as_deref()).await {
            Ok(Some(cookie)) => {
                page.insert("signed_in", &true);
                let html = page.render(&state, "patron/welcome.html")?;
                return Ok((jar.add(member_cookie(&state, cookie)), html).into_response());
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "checkout session could not be confirmed on the success page"),
        }
    }
    Ok(page.render(&state, "patron/welcome.html")?.into_response())
}

async fn show_failed(State(state): State<AppState>, page: PageContext) -> Result<Response, AppError> {
    Ok(page.render(&state, "patron/failed.html")?.into_response())
}

async fn show_donation_thanks(State(state): State<AppState>, page: PageContext) -> Result<Response, AppError> {
    Ok(page.render(&state, "patron/donation_thanks.html")?.into_response())
}

/// "Manage billing": Stripe's Customer Portal, or the demo stand-in.
async fn open_billing_portal(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
) -> Result<Response, AppError> {
    let url = checkout::billing_portal_url(&state.ctx, member.id).await?;
    Ok(Redirect::to(&url).into_response())
}

async fn show_demo_portal(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    mut page: PageContext,
) -> Result<Response, AppError> {
    require_demo(&state)?;
    let blank = (super::retention::CancelForm::default(), FieldErrors::default());
    Ok(demo_portal_page(&state, &mut page, &member, None, &blank.0, &blank.1).await?.into_response())
}

/// The demo portal; with `confirming`, the step that asks before cancelling,
/// with the same offer as the account's (pause, pay less) and the survey.
async fn demo_portal_page(
    state: &AppState,
    page: &mut PageContext,
    member: &Member,
    confirming: Option<&str>,
    form: &super::retention::CancelForm,
    errors: &FieldErrors,
) -> Result<axum::response::Html<String>, AppError> {
    let standing = crate::services::billing::standing(&state.ctx, member.id).await?;
    let sub = standing.subscription.filter(|s| !s.status.is_terminal());
    let texts = crate::services::content::localiser(&state.ctx, page.locale).await?;
    let tier = standing.tier.map(|mut t| {
        texts.tier(&mut t);
        t.name
    });
    if let (Some(sub), Some(_)) = (&sub, confirming) {
        super::retention::insert_offer(state, page, sub, form, errors).await?;
    }
    page.insert("has_subscription", &sub.is_some())
        .insert("cancel_at_period_end", &sub.as_ref().is_some_and(|s| s.cancel_at_period_end))
        .insert("subscription_id", &sub.as_ref().map(|s| s.id.clone()))
        .insert("tier", &tier)
        .insert("period_end", &sub.and_then(|s| s.current_period_end).map(format_utc))
        .insert("confirming", &confirming);
    page.render(state, "patron/demo_portal.html")
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PortalForm {
    action: String,
    confirm: String,
    #[serde(flatten)]
    survey: super::retention::CancelForm,
}

/// The demo portal's buttons, through the same use case as the account page's.
async fn submit_demo_portal(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    mut page: PageContext,
    Form(form): Form<PortalForm>,
) -> Result<Response, AppError> {
    require_demo(&state)?;
    if !matches!(form.action.as_str(), "cancel_at_period_end" | "resume" | "cancel_now") {
        return Err(AppError::BadRequest("error-bad-request"));
    }
    let Some(sub) = crate::services::billing::standing(&state.ctx, member.id)
        .await?
        .subscription
        .filter(|s| !s.status.is_terminal())
    else {
        return Ok(Redirect::to("/account").into_response());
    };
    if form.action == "resume" {
        retention::change(&state.ctx, member.id, &sub.id, retention::Ask::Resume).await?;
        return Ok(Redirect::to("/account").into_response());
    }
    // Cancelling asks first, as Stripe's portal does, and offers a pause instead.
    let blank = FieldErrors::default();
    if form.confirm != "yes" {
        let html = demo_portal_page(&state, &mut page, &member, Some(&form.action), &form.survey, &blank).await?;
        return Ok(html.into_response());
    }
    let survey = match super::retention::parse_survey(&state, &page, &form.survey) {
        Ok(survey) => survey,
        Err(errors) => {
            let html = demo_portal_page(&state, &mut page, &member, Some(&form.action), &form.survey, &errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    let ask = match form.action.as_str() {
        "cancel_now" => retention::Ask::CancelNow(survey),
        _ => retention::Ask::Cancel(survey),
    };
    retention::change(&state.ctx, member.id, &sub.id, ask).await?;
    Ok(Redirect::to("/account").into_response())
}
