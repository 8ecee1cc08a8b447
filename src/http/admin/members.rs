//! Members for staff: the directory with search, filters, sorts, keyset pages
//! and CSV export; the member page; staff notes; ending a member's sessions.
//! Admins and analysts read (`ViewMembers`); only admins change (`ManageMembers`).
//! Editors see none of it (the editorial firewall: these pages are built on money).
use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::{Authorized, ManageMembers, ViewMembers, staff_page};
use crate::clock::{format_rfc3339, format_utc};
use crate::domain::text::{fold, is_invisible_format};
use crate::domain::{
    Currency, Cursor, DayRange, Interval, MemberFilter, MemberId, MemberSort, MemberStatus, Money, NoteText,
    Permission, SortDirection, StaffUser,
};
use crate::http::csv;
use crate::http::error::AppError;
use crate::http::extract::{ClientIp, Form};
use crate::http::state::AppState;
use crate::services::audit::Actor;
use crate::services::members::{self, FilterOptions, MembersError, Order, PageAt};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/members", get(list_members))
        .route("/admin/members.csv", get(export_members_csv))
        .route("/admin/members/{id}", get(show_member))
        .route("/admin/members/{id}/notes", post(add_member_note))
        .route("/admin/members/{id}/notes/{note}", post(edit_member_note))
        .route("/admin/members/{id}/sessions/end", post(end_member_session))
        .route("/admin/members/{id}/sessions/end-all", post(end_all_member_sessions))
}

impl From<MembersError> for AppError {
    fn from(e: MembersError) -> Self {
        match e {
            MembersError::NotFound => Self::NotFound,
            MembersError::UnknownTier(_) => Self::BadRequest("error-bad-request"),
            MembersError::Db(e) => crate::services::StorageError::from(e).into(),
        }
    }
}

/// The longest search text, and the most words in it.
const MAX_SEARCH_CHARS: usize = 200;
const MAX_SEARCH_WORDS: usize = 8;

/// The filter and order parameters the list understands (a cursor aside); the
/// export link and the page links carry them on.
const LIST_PARAMS: [&str; 13] = [
    "q",
    "status",
    "tier",
    "interval",
    "currency",
    "joined_from",
    "joined_to",
    "lapsed_from",
    "lapsed_to",
    "sort",
    "dir",
    "after",
    "before",
];

/// A list request, parsed.
struct ListRequest {
    filter: MemberFilter,
    order: Order,
    at: PageAt,
    /// The parameters as typed (to fill the form in again), without the cursor.
    echo: BTreeMap<&'static str, String>,
}

fn parse_day(value: &str, what: &str, errors: &mut Vec<String>) -> Option<time::Date> {
    if value.is_empty() {
        return None;
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(value, &format) {
        Ok(d) if (1970..=2200).contains(&d.year()) => Some(d),
        _ => {
            errors.push(format!("{what}: \"{value}\" is not a day like 2026-03-31 (years 1970 to 2200)."));
            None
        }
    }
}

fn parse_range(from: &str, to: &str, what: &str, errors: &mut Vec<String>) -> DayRange {
    let (f, t) = (parse_day(from, &format!("{what}, from"), errors), parse_day(to, &format!("{what}, to"), errors));
    DayRange::new(f, t).unwrap_or_else(|_| {
        errors.push(format!("{what}: the first day ({from}) comes after the last ({to})."));
        DayRange::default()
    })
}

/// Reads the list's query parameters, and lists every problem with them (the
/// page shows them, with 400).
fn parse_list(params: &HashMap<String, String>, options: &FilterOptions) -> (ListRequest, Vec<String>) {
    let get = |k: &str| params.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut errors = Vec::new();
    let mut echo = BTreeMap::new();
    for key in LIST_PARAMS.iter().filter(|k| !matches!(**k, "after" | "before")) {
        let v = get(key);
        if !v.is_empty() {
            echo.insert(*key, v);
        }
    }
    let mut filter = MemberFilter::default();

    let q = get("q");
    if q.chars().count() > MAX_SEARCH_CHARS {
        errors.push(format!("Search for at most {MAX_SEARCH_CHARS} characters."));
    } else if q.chars().any(|c| c.is_control() || is_invisible_format(c)) {
        errors.push("The search text contains control or invisible characters.".into());
    } else {
        let folded = fold(&crate::domain::text::normalise(&q));
        filter.words = folded.split_whitespace().map(str::to_string).collect();
        if filter.words.len() > MAX_SEARCH_WORDS {
            errors.push(format!("Search for at most {MAX_SEARCH_WORDS} words."));
        }
    }

    let status = get("status");
    if !status.is_empty() {
        match status.parse::<MemberStatus>() {
            Ok(s) => filter.status = Some(s),
            Err(_) => {
                errors.push(format!("Unknown status \"{status}\": choose free, patron, past_due, lapsed or comped."))
            }
        }
    }
    let tier = get("tier");
    if !tier.is_empty() {
        if options.tiers.iter().any(|t| t.slug == tier) {
            filter.tier = Some(tier);
        } else {
            let known: Vec<&str> = options.tiers.iter().map(|t| t.slug.as_str()).collect();
            errors.push(format!("Unknown tier \"{tier}\": choose one of {}.", known.join(", ")));
        }
    }
    let interval = get("interval");
    if !interval.is_empty() {
        match interval.parse::<Interval>() {
            Ok(i) => filter.interval = Some(i),
            Err(_) => errors.push(format!("Unknown interval \"{interval}\": choose month or year.")),
        }
    }
    let currency = get("currency");
    if !currency.is_empty() {
        match Currency::parse(&currency).ok().filter(|c| options.currencies.contains(c)) {
            Some(c) => filter.currency = Some(c),
            None => {
                let known: Vec<String> = options.currencies.iter().map(Currency::code).collect();
                errors.push(format!("Unknown currency \"{currency}\": choose one of {}.", known.join(", ")));
            }
        }
    }
    filter.joined = parse_range(&get("joined_from"), &get("joined_to"), "Joined", &mut errors);
    filter.lapsed = parse_range(&get("lapsed_from"), &get("lapsed_to"), "Lapsed", &mut errors);

    let mut order = Order::default();
    let sort = get("sort");
    if !sort.is_empty() {
        match sort.parse::<MemberSort>() {
            Ok(s) => order.sort = s,
            Err(_) => errors.push(format!("Unknown sort \"{sort}\": choose joined, name, email or mrr.")),
        }
    }
    let dir = get("dir");
    if !dir.is_empty() {
        match dir.parse::<SortDirection>() {
            Ok(d) => order.direction = d,
            Err(_) => errors.push(format!("Unknown direction \"{dir}\": choose asc or desc.")),
        }
    }
    let (after, before) = (get("after"), get("before"));
    let mut at = PageAt::First;
    match (after.is_empty(), before.is_empty()) {
        (true, true) => {}
        (false, false) => errors.push("A page link has both a start and an end; start from the first page.".into()),
        _ => {
            let (raw, forwards) = if after.is_empty() { (&before, false) } else { (&after, true) };
            match Cursor::decode(order.sort, raw) {
                Some(c) if forwards => at = PageAt::After(c),
                Some(c) => at = PageAt::Before(c),
                None => errors.push("This page link is broken; start from the first page.".into()),
            }
        }
    }
    let request = ListRequest { filter, order, at, echo };
    (request, errors)
}

/// A query string of the list's parameters, plus `extra`.
fn query_string(echo: &BTreeMap<&'static str, String>, extra: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in echo {
        s.append_pair(k, v);
    }
    for (k, v) in extra {
        s.append_pair(k, v);
    }
    s.finish()
}

fn status_label(status: MemberStatus) -> &'static str {
    match status {
        MemberStatus::Free => "free",
        MemberStatus::Patron => "patron",
        MemberStatus::PastDue => "past due",
        MemberStatus::Lapsed => "lapsed",
        MemberStatus::Comped => "comped",
    }
}

/// An amount in major units without a symbol (`6.00`, `500`), for CSV.
fn plain_amount(minor: i64, currency: Currency) -> String {
    let exp = currency.exponent();
    if exp == 0 {
        return minor.to_string();
    }
    let unit = 10_i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    let u = unit.unsigned_abs();
    format!("{sign}{}.{:0width$}", m / u, m % u, width = exp as usize)
}

#[derive(Serialize)]
struct MemberListRow {
    id: String,
    email: String,
    name: String,
    public_name: String,
    status: &'static str,
    tier: String,
    interval: String,
    mrr: String,
    joined: String,
    lapsed: String,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

fn list_rows(state: &AppState, rows: &[crate::domain::member_directory::DirectoryRow]) -> Vec<MemberListRow> {
    let (now, grace) = (state.ctx.clock.now(), state.ctx.past_due_grace);
    rows.iter()
        .map(|r| MemberListRow {
            id: r.id.to_string(),
            email: r.email.clone().unwrap_or_default(),
            name: r.name.clone().unwrap_or_default(),
            public_name: r.public_name.clone().unwrap_or_default(),
            status: status_label(r.standing.status(now, grace)),
            tier: r.tier_name.clone().unwrap_or_default(),
            interval: r.interval.map(|i| i.as_str().to_string()).unwrap_or_default(),
            mrr: match r.currency {
                Some(c) if r.mrr_minor != 0 => Money::new(r.mrr_minor, c).display(),
                _ => String::new(),
            },
            joined: crate::clock::format_date(r.created_at),
            lapsed: r.standing.lapsed_at(now, grace).map(crate::clock::format_date).unwrap_or_default(),
        })
        .collect()
}

fn list_page(
    state: &AppState,
    user: &StaffUser,
    options: &FilterOptions,
    echo: &BTreeMap<&'static str, String>,
    errors: &[String],
) -> crate::http::extract::PageContext {
    let mut page = staff_page(state, Some(user), "/admin/members");
    let tiers: Vec<Choice> =
        options.tiers.iter().map(|t| Choice { value: t.slug.clone(), label: t.name.clone() }).collect();
    let currencies: Vec<Choice> =
        options.currencies.iter().map(|c| Choice { value: c.as_str().to_string(), label: c.code() }).collect();
    let form: BTreeMap<&str, &str> = LIST_PARAMS.iter().map(|k| (*k, echo.get(k).map_or("", String::as_str))).collect();
    page.insert("form", &form)
        .insert("tiers", &tiers)
        .insert("currencies", &currencies)
        .insert("errors", errors)
        .insert("export_url", &format!("/admin/members.csv?{}", query_string(echo, &[])))
        .insert("first_url", &format!("/admin/members?{}", query_string(echo, &[])))
        .insert("page_size", &members::PAGE_SIZE);
    page
}

#[tracing::instrument(skip_all)]
async fn list_members(
    State(state): State<AppState>,
    staff: Authorized<ViewMembers>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let options = members::filter_options(&state.ctx).await?;
    let (request, errors) = parse_list(&params, &options);
    if !errors.is_empty() {
        let mut page = list_page(&state, &staff.user, &options, &request.echo, &errors);
        page.insert("rows", &Vec::<MemberListRow>::new());
        return Ok((StatusCode::BAD_REQUEST, page.render(&state, "admin/members.html")?).into_response());
    }
    let result = members::list(&state.ctx, &request.filter, request.order, request.at.clone()).await?;
    let mut page = list_page(&state, &staff.user, &options, &request.echo, &[]);
    let link = |key: &str, c: &Cursor| format!("/admin/members?{}", query_string(&request.echo, &[(key, &c.encode())]));
    page.insert("rows", &list_rows(&state, &result.rows))
        .insert("next_url", &result.next.as_ref().map(|c| link("after", c)))
        .insert("previous_url", &result.previous.as_ref().map(|c| link("before", c)))
        .insert("not_first", &!matches!(request.at, PageAt::First));
    Ok(page.render(&state, "admin/members.html")?.into_response())
}

/// Every member the filter selects (all pages), as CSV; the export is audit-logged.
#[tracing::instrument(skip_all)]
async fn export_members_csv(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ViewMembers>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let options = members::filter_options(&state.ctx).await?;
    let (request, errors) = parse_list(&params, &options);
    if !errors.is_empty() {
        let mut page = list_page(&state, &staff.user, &options, &request.echo, &errors);
        page.insert("rows", &Vec::<MemberListRow>::new());
        return Ok((StatusCode::BAD_REQUEST, page.render(&state, "admin/members.html")?).into_response());
    }
    let described = if request.echo.is_empty() { "no filter".to_string() } else { query_string(&request.echo, &[]) };
    let actor = Actor::staff(&staff.user, &ip);
    let rows = members::export(&state.ctx, &actor, &request.filter, request.order, &described).await?;
    let (now, grace) = (state.ctx.clock.now(), state.ctx.past_due_grace);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.email.clone().unwrap_or_default(),
                r.name.clone().unwrap_or_default(),
                r.public_name.clone().unwrap_or_default(),
                r.standing.status(now, grace).as_str().to_string(),
                r.tier_name.clone().unwrap_or_default(),
                r.interval.map(|i| i.as_str().to_string()).unwrap_or_default(),
                r.currency.map(|c| c.code()).unwrap_or_default(),
                r.currency.map(|c| plain_amount(r.mrr_minor, c)).unwrap_or_default(),
                format_rfc3339(r.created_at),
                r.standing.lapsed_at(now, grace).map(format_rfc3339).unwrap_or_default(),
                r.last_sign_in_at.map(format_rfc3339).unwrap_or_default(),
            ]
        })
        .collect();
    let header = [
        "id",
        "email",
        "name",
        "public_name",
        "status",
        "tier",
        "interval",
        "currency",
        "mrr",
        "joined_at",
        "lapsed_at",
        "last_sign_in_at",
    ];
    let day = crate::clock::format_date(now);
    Ok(csv::attachment(csv::to_csv(&header, &cells), &format!("members-{day}.csv")))
}

fn parse_member_id(id: &str) -> Result<MemberId, AppError> {
    id.parse().map_err(|_| AppError::NotFound)
}

#[derive(Serialize)]
struct Line {
    at: String,
    what: String,
}

#[derive(Serialize)]
struct SubscriptionView {
    provider_id: String,
    tier: String,
    status: String,
    plan: String,
    mrr: String,
    started: String,
    period_end: String,
    cancel_at_period_end: bool,
    ended: String,
}

#[derive(Serialize)]
struct LedgerView {
    date: String,
    kind: String,
    provider_id: String,
    gross: String,
    fee: String,
    net: String,
    description: String,
}

#[derive(Serialize)]
struct MailView {
    created: String,
    template: String,
    subject: String,
    state: String,
}

#[derive(Serialize)]
struct SessionView {
    id: String,
    signed_in: String,
    last_seen: String,
    expires: String,
    browser: String,
}

#[derive(Serialize)]
struct NoteView {
    id: String,
    body: String,
    by: String,
    at: String,
    edited: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoteForm {
    body: String,
}

async fn member_page(
    state: &AppState,
    user: &StaffUser,
    id: MemberId,
    note_error: Option<(&str, &str, &str)>,
) -> Result<axum::response::Html<String>, AppError> {
    let d = members::detail(&state.ctx, id).await?;
    let m = &d.member;
    let mut page = staff_page(state, Some(user), &format!("/admin/members/{id}"));
    let tier = d.standing.tier.as_ref().map(|t| t.name.clone()).unwrap_or_default();
    page.insert("member_id", &m.id.to_string())
        .insert("email", &m.email.as_ref().map(|e| e.to_string()).unwrap_or_default())
        .insert("name", &m.name.clone().unwrap_or_default())
        .insert("public_name", &m.public_name.clone().unwrap_or_default())
        .insert("language", m.locale.as_str())
        .insert("joined", &format_utc(m.created_at))
        .insert("last_sign_in", &members::when(m.last_sign_in_at))
        .insert("deleted", &members::when(m.deleted_at))
        .insert("status", status_label(d.standing.status))
        .insert("tier", &tier)
        .insert("comped_until", &super::payments::comp_end(d.standing.comped_until))
        .insert("comp_reason", &d.comp_reason.clone().filter(|_| d.standing.comped_until.is_some()))
        .insert("can_comp", &user.role.allows(Permission::ManagePayments))
        .insert("stripe_customer", &d.stripe_customer_id.clone().unwrap_or_default())
        .insert("can_manage", &user.role.allows(Permission::ManageMembers));
    let history: Vec<Line> = d.history.iter().map(|l| Line { at: format_utc(l.at), what: l.what.clone() }).collect();
    let subscriptions: Vec<SubscriptionView> = d
        .subscriptions
        .iter()
        .map(|(s, tier)| SubscriptionView {
            provider_id: s.provider_id.clone(),
            tier: tier.clone().unwrap_or_default(),
            status: s.status.as_str().to_string(),
            plan: format!("{} / {}", Money::new(s.amount_minor, s.currency).display(), s.interval.as_str()),
            mrr: Money::new(s.mrr_minor, s.currency).display(),
            started: members::when(s.started_at),
            period_end: members::when(s.current_period_end),
            cancel_at_period_end: s.cancel_at_period_end,
            ended: members::when(s.ended_at.or(s.canceled_at)),
        })
        .collect();
    let ledger: Vec<LedgerView> = d
        .ledger
        .iter()
        .map(|r| LedgerView {
            date: format_utc(r.occurred_at),
            kind: r.kind.as_str().to_string(),
            provider_id: r.provider_id.clone(),
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
            description: r.description.clone().unwrap_or_default(),
        })
        .collect();
    let votes: Vec<[String; 4]> = d
        .votes
        .iter()
        .map(|(round, topic, weight, at)| [format_utc(*at), round.clone(), topic.clone(), weight.to_string()])
        .collect();
    let suggestions: Vec<[String; 3]> =
        d.suggestions.iter().map(|(title, status, at)| [format_utc(*at), title.clone(), status.clone()]).collect();
    let mail: Vec<MailView> = d
        .mail
        .iter()
        .map(|m| MailView {
            created: format_utc(m.created_at),
            template: m.template.clone(),
            subject: m.subject.clone(),
            state: match (m.sent_at, m.failed_at) {
                (Some(at), _) => format!("sent {}", format_utc(at)),
                (None, Some(at)) => {
                    format!("given up {} ({})", format_utc(at), m.last_error.clone().unwrap_or_default())
                }
                _ => format!("waiting ({} attempts)", m.attempts),
            },
        })
        .collect();
    let sessions: Vec<SessionView> = d
        .sessions
        .iter()
        .map(|s| SessionView {
            id: s.id.clone(),
            signed_in: format_utc(s.created_at),
            last_seen: format_utc(s.last_seen_at),
            expires: format_utc(s.expires_at.min(s.idle_expires_at)),
            browser: s.user_agent.clone().unwrap_or_default(),
        })
        .collect();
    let notes: Vec<NoteView> = d
        .notes
        .iter()
        .map(|n| NoteView {
            id: n.id.clone(),
            body: n.body.clone(),
            by: n.created_by_email.clone().unwrap_or_default(),
            at: format_utc(n.created_at),
            edited: match (n.updated_at, &n.updated_by_email) {
                (Some(at), by) => format!("edited {} by {}", format_utc(at), by.as_deref().unwrap_or("?")),
                _ => String::new(),
            },
        })
        .collect();
    let (error_note, error_text, error_message) = note_error.unwrap_or_default();
    page.insert("history", &history)
        .insert("subscriptions", &subscriptions)
        .insert("ledger", &ledger)
        .insert("votes", &votes)
        .insert("suggestions", &suggestions)
        .insert("mail", &mail)
        .insert("sessions", &sessions)
        .insert("notes", &notes)
        .insert("note_error_for", error_note)
        .insert("note_error_text", error_text)
        .insert("note_error", error_message);
    page.render(state, "admin/member.html")
}

async fn show_member(
    State(state): State<AppState>,
    staff: Authorized<ViewMembers>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_member_id(&id)?;
    Ok(member_page(&state, &staff.user, id, None).await?.into_response())
}

async fn add_member_note(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManageMembers>,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, AppError> {
    let id = parse_member_id(&id)?;
    match NoteText::parse(&form.body) {
        Ok(body) => {
            members::add_note(&state.ctx, &Actor::staff(&staff.user, &ip), id, &body).await?;
            Ok(Redirect::to(&format!("/admin/members/{id}#notes")).into_response())
        }
        Err(e) => {
            let html = member_page(&state, &staff.user, id, Some(("new", &form.body, &e.to_string()))).await?;
            Ok((StatusCode::BAD_REQUEST, html).into_response())
        }
    }
}

async fn edit_member_note(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManageMembers>,
    Path((id, note)): Path<(String, String)>,
    Form(form): Form<NoteForm>,
) -> Result<Response, AppError> {
    let id = parse_member_id(&id)?;
    match NoteText::parse(&form.body) {
        Ok(body) => {
            members::edit_note(&state.ctx, &Actor::staff(&staff.user, &ip), id, &note, &body).await?;
            Ok(Redirect::to(&format!("/admin/members/{id}#notes")).into_response())
        }
        Err(e) => {
            let html = member_page(&state, &staff.user, id, Some((&note, &form.body, &e.to_string()))).await?;
            Ok((StatusCode::BAD_REQUEST, html).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SessionForm {
    session: String,
}

async fn end_member_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManageMembers>,
    Path(id): Path<String>,
    Form(form): Form<SessionForm>,
) -> Result<Response, AppError> {
    let id = parse_member_id(&id)?;
    let session = form.session.trim();
    if session.len() != 64 || !session.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::BadRequest("error-bad-request"));
    }
    members::end_session(&state.ctx, &Actor::staff(&staff.user, &ip), id, session).await?;
    Ok(Redirect::to(&format!("/admin/members/{id}#sessions")).into_response())
}

async fn end_all_member_sessions(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManageMembers>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_member_id(&id)?;
    members::end_all_sessions(&state.ctx, &Actor::staff(&staff.user, &ip), id).await?;
    Ok(Redirect::to(&format!("/admin/members/{id}#sessions")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_for_csv_have_no_symbol() {
        assert_eq!(plain_amount(600, Currency::EUR), "6.00");
        assert_eq!(plain_amount(-5, Currency::EUR), "-0.05");
        assert_eq!(plain_amount(500, Currency::JPY), "500");
    }
}
