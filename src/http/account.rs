//! The member's own account: profile, sign-out, data export, deletion.
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::error::AppError;
use super::extract::{FieldErrors, Form, PageContext, SignedInMember};
use super::page_cache::PageKey;
use super::session::{lang_cookie, names, removal};
use super::state::AppState;
use crate::clock::{format_date, format_utc};
use crate::domain::retention::{Effect, Request, decide};
use crate::domain::{Locale, Member, MemberStatus, Money, PersonName};
use crate::services::billing;
use crate::services::voting::pages;
use crate::services::{membership, receipts, sessions};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(show_account).post(update_account))
        .route("/account/supporter", post(update_supporter))
        .route("/account/updates", post(update_updates))
        .route("/account/export", get(export_my_data))
        .route("/account/receipts", get(list_receipts))
        .route("/account/receipts/{id}", get(show_receipt))
        .route("/account/statement/{year}", get(show_statement))
        .route("/account/delete", post(delete_account))
        .route("/signout", post(sign_out))
        .route("/signout/everywhere", post(sign_out_everywhere))
        .route("/goodbye", get(show_goodbye))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProfileForm {
    name: String,
    public_name: String,
    lang: String,
}

#[derive(serde::Serialize)]
struct PaymentView {
    date: String,
    kind_key: String,
    amount: String,
    description: String,
}

/// The membership part of the account page: one clear statement of where the
/// member stands (and the one action that fits it), and a page of payments.
async fn insert_billing(
    state: &AppState,
    page: &mut PageContext,
    member: &Member,
    cursor: Option<&str>,
) -> Result<(), AppError> {
    let billing::AccountBilling { standing, payments, older } =
        billing::account_billing(&state.ctx, member, cursor).await?;
    let sub = standing.subscription.as_ref();
    let status = standing.status;
    // What to say about the period: renews, ends (cancelled, still a patron),
    // ended (lapsed), or complimentary until.
    let (period_key, period_date) = match (status, sub) {
        (MemberStatus::Comped, _) if standing.comped_until == Some(crate::domain::COMP_NO_END) => {
            ("account-period-comped-open", None)
        }
        (MemberStatus::Comped, _) => ("account-period-comped", standing.comped_until),
        (MemberStatus::Patron | MemberStatus::PastDue, Some(_)) if standing.pause.is_some() => {
            match standing.pause.and_then(|p| p.resumes_at) {
                Some(at) => ("account-period-paused", Some(at)),
                None => ("account-period-paused-open", None),
            }
        }
        (MemberStatus::Lapsed, Some(s)) => {
            ("account-period-ended", s.ended_at.or(s.canceled_at).or(s.current_period_end))
        }
        (MemberStatus::Patron | MemberStatus::PastDue, Some(s)) if s.cancel_at_period_end => {
            ("account-period-ends", s.current_period_end)
        }
        (MemberStatus::Patron | MemberStatus::PastDue, Some(s)) => ("account-period-renews", s.current_period_end),
        _ => ("", None),
    };
    let payments: Vec<PaymentView> = payments
        .into_iter()
        .map(|p| PaymentView {
            date: format_date(p.occurred_at),
            kind_key: format!("payment-kind-{}", p.kind),
            amount: crate::numbers::money(page.locale, Money::new(p.gross_minor, p.currency)),
            description: p.description.unwrap_or_default(),
        })
        .collect();
    let texts = crate::services::content::localiser(&state.ctx, page.locale).await?;
    let tier_name = standing.tier.clone().filter(|_| status != MemberStatus::Lapsed).map(|mut t| {
        texts.tier(&mut t);
        t.name
    });
    let tier_price = sub
        .filter(|_| status != MemberStatus::Lapsed)
        .map(|s| super::patron::price_label(state, page.locale, Money::new(s.amount_minor, s.currency), s.interval));
    // Billing can be managed while there is a subscription that has not ended.
    let manages_billing = sub.is_some_and(|s| !s.status.is_terminal()) && status != MemberStatus::Lapsed;
    // Resume (a pause, or a cancellation before it takes effect) and cancel, by the one rule.
    let now = state.ctx.clock.now();
    let live = sub.filter(|_| status != MemberStatus::Lapsed);
    let can_resume = live.is_some_and(|s| decide(s, Request::Resume, now).is_ok());
    let can_cancel = live.is_some_and(|s| decide(s, Request::Cancel, now) == Ok(Effect::CancelAtPeriodEnd));
    let shown_status = if standing.pause.is_some() { "paused" } else { status.as_str() };
    page.insert("status", status.as_str())
        .insert("status_key", &format!("account-status-{shown_status}"))
        .insert("paused", &standing.pause.is_some())
        .insert("can_resume", &can_resume)
        .insert("can_cancel", &can_cancel)
        .insert("subscription_id", &live.map(|s| s.id.clone()))
        .insert("tier_name", &tier_name)
        .insert("tier_price", &tier_price)
        .insert("period_key", period_key)
        .insert("period_date", &period_date.map(format_date))
        .insert("manages_billing", &manages_billing)
        .insert("payments", &payments)
        .insert("older_payments", &older)
        .insert("paged", &cursor.is_some());
    Ok(())
}

#[derive(serde::Serialize)]
struct RoundVotesView {
    id: String,
    title: String,
    closes: String,
    voted: Vec<TopicLink>,
    remaining: i64,
}

/// A topic as the account page links it.
#[derive(serde::Serialize)]
struct TopicLink {
    id: String,
    title: String,
    status: String,
}

/// The co-creator's side: their votes in the open rounds, the stories they
/// helped commission, the topics they follow.
async fn insert_voting(state: &AppState, page: &mut PageContext, member: &Member) -> Result<(), AppError> {
    let voting = pages::member_voting(&state.ctx, member).await?;
    let texts = crate::services::content::localiser(&state.ctx, page.locale).await?;
    let link = |id: String, mut title: String, status: String| {
        texts.topic_texts(&id, &mut title, None);
        TopicLink { id, title, status }
    };
    let rounds: Vec<RoundVotesView> = voting
        .rounds
        .into_iter()
        .map(|mut r| {
            texts.round_title(&r.id.to_string(), &mut r.title);
            RoundVotesView {
                id: r.id.to_string(),
                title: r.title,
                closes: format_utc(r.closes_at),
                voted: r.voted.into_iter().map(|(id, title)| link(id, title, String::new())).collect(),
                remaining: r.remaining,
            }
        })
        .collect();
    let commissioned = pages::commissioned(&state.ctx, member.id).await?;
    let commissioned_count = commissioned.len();
    let commissioned: Vec<TopicLink> =
        commissioned.into_iter().take(ACCOUNT_COMMISSIONED).map(|(c, _)| link(c.id, c.title, c.status)).collect();
    let followed: Vec<TopicLink> =
        voting.followed.into_iter().map(|(id, title, status)| link(id.to_string(), title, status)).collect();
    page.insert("open_rounds", &rounds)
        .insert("commissioned", &commissioned)
        .insert("commissioned_more", &(commissioned_count > ACCOUNT_COMMISSIONED))
        .insert("followed", &followed);
    Ok(())
}

/// How many commissioned stories the account page lists (all on their own page).
const ACCOUNT_COMMISSIONED: usize = 5;

/// The profile form as typed (or as stored, on first show).
struct Profile<'a> {
    name: &'a str,
    public_name: &'a str,
    lang: &'a str,
}

impl<'a> Profile<'a> {
    fn stored(member: &'a Member) -> Self {
        Self {
            name: member.name.as_deref().unwrap_or_default(),
            public_name: member.public_name.as_deref().unwrap_or_default(),
            lang: member.locale.as_str(),
        }
    }
}

async fn account_page(
    state: &AppState,
    page: &mut PageContext,
    member: &Member,
    form: &Profile<'_>,
    errors: &FieldErrors,
    payments_cursor: Option<&str>,
) -> Result<axum::response::Html<String>, AppError> {
    account_page_with(state, page, member, form, errors, payments_cursor, None).await
}

/// [`account_page`], with the supporter name as typed (when refused).
async fn account_page_with(
    state: &AppState,
    page: &mut PageContext,
    member: &Member,
    form: &Profile<'_>,
    errors: &FieldErrors,
    payments_cursor: Option<&str>,
    typed_supporter: Option<&str>,
) -> Result<axum::response::Html<String>, AppError> {
    insert_billing(state, page, member, payments_cursor).await?;
    insert_voting(state, page, member).await?;
    let supporter = crate::services::transparency::supporter_name(&state.ctx, member.id).await?;
    page.insert(
        "form_supporter_name",
        &typed_supporter.map(str::to_string).or_else(|| supporter.clone()).unwrap_or_default(),
    );
    page.insert("supporter_name", &supporter);
    let unsubscribed = crate::services::updates::unsubscribed_at(&state.ctx, member.id).await?;
    page.insert("updates_off_since", &unsubscribed.map(format_date));
    page.insert("email", &member.email.as_ref().map(|e| e.to_string()))
        .insert("form_name", form.name)
        .insert("form_public_name", form.public_name)
        .insert("form_lang", form.lang)
        .insert("joined", &format_utc(member.created_at))
        .insert("errors", &errors.0);
    page.render(state, "account/account.html")
}

/// `?payments=<cursor>`: an older page of the payment history.
#[derive(Deserialize, Default)]
#[serde(default)]
struct AccountQuery {
    payments: Option<String>,
}

async fn show_account(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Query(query): Query<AccountQuery>,
    headers: axum::http::HeaderMap,
    mut page: PageContext,
) -> Result<Response, AppError> {
    if query.payments.is_some() {
        let profile = Profile::stored(&member);
        let cursor = query.payments.as_deref();
        let html = account_page(&state, &mut page, &member, &profile, &FieldErrors::default(), cursor).await?;
        return Ok(html.into_response());
    }
    // The first page is kept for a few seconds, until something it shows of the
    // member (or of the newsroom) changes through this instance.
    let key =
        PageKey::Account { member: member.id, lang: page.locale, version: state.ctx.caches.member_version(member.id) };
    let generation = state.ctx.caches.generation();
    let cached = state
        .member_pages
        .get_or_render(&state.ctx.clock, generation, key, || async {
            let profile = Profile::stored(&member);
            Ok::<_, AppError>(
                account_page(&state, &mut page, &member, &profile, &FieldErrors::default(), None).await?.0,
            )
        })
        .await?;
    Ok(cached.respond(&headers))
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn update_account(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    jar: CookieJar,
    mut page: PageContext,
    Form(form): Form<ProfileForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let name =
        PersonName::parse_optional(&form.name).map_err(|e| errors.add("name", page.t(&state, e.message_key()))).ok();
    let public_name = PersonName::parse_optional(&form.public_name)
        .map_err(|e| errors.add("public_name", page.t(&state, e.message_key())))
        .ok();
    let locale = form.lang.parse::<Locale>().map_err(|_| errors.add("lang", page.t(&state, "error-language"))).ok();
    let (Some(name), Some(public_name), Some(locale)) = (name, public_name, locale) else {
        let profile = Profile { name: &form.name, public_name: &form.public_name, lang: &form.lang };
        let html = account_page(&state, &mut page, &member, &profile, &errors, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    membership::update_profile(&state.ctx, member.id, name.as_ref(), public_name.as_ref(), locale).await?;
    let jar = jar.add(lang_cookie(&state, locale.as_str()));
    Ok((jar, Redirect::to("/account")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SupporterForm {
    supporter_name: String,
    /// `remove`: take me off the list.
    action: String,
}

/// "List me as a supporter": the member opts in under the name they choose
/// (a pseudonym is fine), or out.
#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn update_supporter(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    mut page: PageContext,
    Form(form): Form<SupporterForm>,
) -> Result<Response, AppError> {
    let name = if form.action == "remove" {
        None
    } else {
        match crate::domain::SupporterName::parse(&form.supporter_name) {
            Ok(name) => Some(name),
            Err(e) => {
                let mut errors = FieldErrors::default();
                errors.add("supporter_name", page.t(&state, e.message_key()));
                let profile = Profile::stored(&member);
                let typed = Some(form.supporter_name.as_str());
                let html = account_page_with(&state, &mut page, &member, &profile, &errors, None, typed).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
            }
        }
    };
    crate::services::transparency::set_supporter_name(&state.ctx, member.id, name.as_ref()).await?;
    Ok(Redirect::to("/account#supporter").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UpdatesForm {
    /// `on` or `off`.
    updates: String,
}

/// Updates and anniversary emails on or off (receipts and account mail are not
/// affected); the same setting the one-click link in those emails turns off.
#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn update_updates(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Form(form): Form<UpdatesForm>,
) -> Result<Response, AppError> {
    let receive = match form.updates.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::BadRequest("error-bad-request")),
    };
    crate::services::updates::set_receives_updates(&state.ctx, member.id, receive)
        .await
        .map_err(crate::services::StorageError::from)?;
    Ok(Redirect::to("/account#updates").into_response())
}

async fn sign_out(State(state): State<AppState>, jar: CookieJar) -> Result<Response, AppError> {
    if let Some(cookie) = jar.get(names(&state).member) {
        sessions::end(&state.ctx, cookie.value()).await?;
    }
    let jar = jar.add(removal(&state, names(&state).member, "/"));
    Ok((jar, Redirect::to("/")).into_response())
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    jar: CookieJar,
) -> Result<Response, AppError> {
    membership::sign_out_everywhere(&state.ctx, member.id).await?;
    let jar = jar.add(removal(&state, names(&state).member, "/"));
    Ok((jar, Redirect::to("/")).into_response())
}

async fn export_my_data(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
) -> Result<Response, AppError> {
    let export = membership::export(&state.ctx, member.id).await?;
    let body = serde_json::to_string_pretty(&export).map_err(anyhow::Error::new)?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"my-patronage-data.json\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteForm {
    confirm: String,
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn delete_account(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    jar: CookieJar,
    mut page: PageContext,
    Form(form): Form<DeleteForm>,
) -> Result<Response, AppError> {
    if form.confirm != "yes" {
        let mut errors = FieldErrors::default();
        errors.add("confirm", page.t(&state, "error-confirm-delete"));
        let html = account_page(&state, &mut page, &member, &Profile::stored(&member), &errors, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    membership::delete_account(&state.ctx, member.id).await?;
    let jar = jar.add(removal(&state, names(&state).member, "/")).add(lang_cookie(&state, page.locale.as_str()));
    Ok((jar, Redirect::to("/goodbye")).into_response())
}

async fn show_goodbye(State(state): State<AppState>, page: PageContext) -> Result<Response, AppError> {
    Ok(page.render(&state, "account/goodbye.html")?.into_response())
}

/// `?before=<cursor>`: an older page of receipts.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ReceiptsQuery {
    before: Option<String>,
}

/// Private pages: never kept by a shared cache.
fn private(html: axum::response::Html<String>) -> Response {
    let mut response = html.into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

/// The member's receipts, newest first, and the years they have a statement for.
async fn list_receipts(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Query(query): Query<ReceiptsQuery>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let cursor = query.before.as_deref().filter(|c| !c.is_empty());
    let list = receipts::list(&state.ctx, &member, page.locale, cursor).await?;
    page.insert("receipts", &list.receipts)
        .insert("older", &list.older)
        .insert("years", &list.years)
        .insert("paged", &cursor.is_some());
    Ok(private(page.render(&state, "account/receipts.html")?))
}

/// One printable receipt of the member's; any other id (someone else's payment
/// included) is not found.
async fn show_receipt(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Path(id): Path<String>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let receipt = receipts::receipt(&state.ctx, &member, page.locale, &id).await?.ok_or(AppError::NotFound)?;
    page.insert("receipt", &receipt).insert("zone", state.ctx.zone.name());
    Ok(private(page.render(&state, "account/receipt.html")?))
}

/// The member's giving statement for a calendar year, printable.
async fn show_statement(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Path(year): Path<String>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let statement = receipts::statement(&state.ctx, &member, page.locale, &year).await?;
    page.insert("statement", &statement).insert("zone", state.ctx.zone.name());
    Ok(private(page.render(&state, "account/statement.html")?))
}
