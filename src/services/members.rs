//! Members for staff: the directory (search, filters, sorts, keyset pages, the
//! CSV export), the member page, staff notes, and ending a member's sessions.
//! Who may read or change what is the caller's check (`Permission::ViewMembers`,
//! `Permission::ManageMembers`), made before calling; every change and every
//! export is written to the audit log in the transaction it describes.
use std::collections::HashMap;

use time::Date;

use super::Context;
use super::audit::{self, Actor};
use super::billing::{self, BillingError, Standing};
use crate::clock::{Micros, format_utc};
use crate::db::audit::AuditEntry;
use crate::db::member_directory::{self, DirectoryQuery, DirectoryRow, MemberMovement, SentMail};
use crate::db::member_notes::{self, Note};
use crate::db::payments::LedgerRow;
use crate::db::sessions::Session;
use crate::db::{self, Change, DbError};
use crate::domain::{
    Currency, Cursor, DayRange, Member, MemberFilter, MemberId, MemberSort, Money, NoteText, SortDirection,
    Subscription, Tier, TierId,
};

/// Rows on one page of the list.
pub const PAGE_SIZE: i64 = 50;

#[derive(Debug, thiserror::Error)]
pub enum MembersError {
    #[error("no tier has the short name {0:?}")]
    UnknownTier(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<BillingError> for MembersError {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::Db(e) => Self::Db(e),
            // Reading where a member stands writes no mail.
            BillingError::Mail(e) => Self::Db(DbError::other(e.to_string())),
            BillingError::Offer(e) => Self::Db(DbError::other(e.to_string())),
        }
    }
}

/// When a day the staff typed begins. Days are read in UTC for now; this is the
/// one place the newsroom's time zone (`NEWSROOM_TIMEZONE`) is to be applied.
pub fn day_start(ctx: &Context, day: Date) -> Micros {
    let _ = ctx;
    i64::try_from(day.midnight().assume_utc().unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// `[first moment, first moment after)` of a range of whole days.
fn day_bounds(ctx: &Context, range: DayRange) -> (Option<Micros>, Option<Micros>) {
    let end = range.to.map(|d| d.next_day().map_or(i64::MAX, |next| day_start(ctx, next)));
    (range.from.map(|d| day_start(ctx, d)), end)
}

/// What the filter form offers: every tier (archived ones too) and the
/// currencies prices are in.
#[derive(Clone, Debug)]
pub struct FilterOptions {
    pub tiers: Vec<Tier>,
    pub currencies: Vec<Currency>,
}

pub async fn filter_options(ctx: &Context) -> Result<FilterOptions, MembersError> {
    let pool = ctx.db.read();
    Ok(FilterOptions { tiers: db::tiers::list_all(pool).await?, currencies: member_directory::currencies(pool).await? })
}

/// Where a page of the list is.
#[derive(Clone, Debug)]
pub enum PageAt {
    First,
    /// The rows after this one.
    After(Cursor),
    /// The rows before this one (going back).
    Before(Cursor),
}

/// One page of the list, with where the pages beside it start.
#[derive(Clone, Debug)]
pub struct MemberPage {
    pub rows: Vec<DirectoryRow>,
    pub next: Option<Cursor>,
    pub previous: Option<Cursor>,
}

/// How the list is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order {
    pub sort: MemberSort,
    pub direction: SortDirection,
}

impl Default for Order {
    fn default() -> Self {
        Self { sort: MemberSort::Joined, direction: SortDirection::Desc }
    }
}

async fn query(ctx: &Context, filter: &MemberFilter, order: Order) -> Result<DirectoryQuery, MembersError> {
    let tier_id: Option<TierId> = match &filter.tier {
        None => None,
        Some(slug) => Some(
            db::tiers::list_all(ctx.db.read())
                .await?
                .into_iter()
                .find(|t| &t.slug == slug)
                .map(|t| t.id)
                .ok_or_else(|| MembersError::UnknownTier(slug.clone()))?,
        ),
    };
    Ok(DirectoryQuery {
        words: filter.words.clone(),
        status: filter.status,
        tier_id,
        interval: filter.interval,
        currency: filter.currency,
        joined: day_bounds(ctx, filter.joined),
        lapsed: day_bounds(ctx, filter.lapsed),
        sort: order.sort,
        direction: order.direction,
        after: None,
        backwards: false,
        limit: None,
        now: ctx.clock.now(),
        grace: ctx.past_due_grace,
    })
}

fn cursor_of(row: &DirectoryRow) -> Cursor {
    Cursor { value: row.sort_value.clone(), id: row.id }
}

/// One page of the members `filter` selects, in `order`, found by keyset (the
/// sort value and id of the row next to it), so a far page costs what the first does.
pub async fn list(ctx: &Context, filter: &MemberFilter, order: Order, at: PageAt) -> Result<MemberPage, MembersError> {
    let mut q = query(ctx, filter, order).await?;
    q.limit = Some(PAGE_SIZE + 1);
    let backwards = matches!(at, PageAt::Before(_));
    let from_cursor = !matches!(at, PageAt::First);
    match at {
        PageAt::First => {}
        PageAt::After(c) => q.after = Some((c.value, c.id)),
        PageAt::Before(c) => {
            q.after = Some((c.value, c.id));
            q.backwards = true;
        }
    }
    let mut rows = member_directory::list(&ctx.db, &q).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    if backwards {
        rows.reverse();
    }
    let (first, last) = (rows.first().map(cursor_of), rows.last().map(cursor_of));
    let (next, previous) = if backwards {
        (last, if more { first } else { None })
    } else {
        (if more { last } else { None }, if from_cursor { first } else { None })
    };
    Ok(MemberPage { rows, next, previous })
}

/// Every member `filter` selects, in `order` (the CSV export). The export is
/// written to the audit log, with the filter and how many members it held.
pub async fn export(
    ctx: &Context,
    actor: &Actor,
    filter: &MemberFilter,
    order: Order,
    described: &str,
) -> Result<Vec<DirectoryRow>, MembersError> {
    let q = query(ctx, filter, order).await?;
    let rows = member_directory::list(&ctx.db, &q).await?;
    let mut tx = ctx.db.transaction().await?;
    let detail = format!("{} members; {described}", rows.len());
    audit::record(ctx, &mut tx, actor, "members.export", None, Some(detail)).await?;
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(members = rows.len(), "members exported");
    Ok(rows)
}

/// One line of a member's status history.
#[derive(Clone, Debug)]
pub struct HistoryLine {
    pub at: Micros,
    pub what: String,
}

/// Everything the member page shows.
#[derive(Clone, Debug)]
pub struct MemberDetail {
    pub member: Member,
    pub standing: Standing,
    pub stripe_customer_id: Option<String>,
    /// Why they are (or were last) complimentary: staff's reason or the gift.
    pub comp_reason: Option<String>,
    /// Newest first, with their tier's name.
    pub subscriptions: Vec<(Subscription, Option<String>)>,
    /// Every ledger row, oldest first.
    pub ledger: Vec<LedgerRow>,
    pub movements: Vec<MemberMovement>,
    /// Oldest first.
    pub history: Vec<HistoryLine>,
    /// (round, topic, weight, cast at)
    pub votes: Vec<(String, String, i64, i64)>,
    /// (title, status, suggested at)
    pub suggestions: Vec<(String, String, i64)>,
    /// Newest first.
    pub mail: Vec<SentMail>,
    pub sessions: Vec<Session>,
    /// Newest first.
    pub notes: Vec<Note>,
}

fn money(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).display()
}

fn history(
    member: &Member,
    subscriptions: &[(Subscription, Option<String>)],
    movements: &[MemberMovement],
    audit: &[AuditEntry],
) -> Vec<HistoryLine> {
    let mut lines = vec![HistoryLine { at: member.created_at, what: "Joined".into() }];
    for (s, tier) in subscriptions {
        let plan = format!(
            "{} ({} a {}, {})",
            tier.as_deref().unwrap_or("unknown tier"),
            money(s.amount_minor, s.currency),
            s.interval.as_str(),
            s.provider_id
        );
        let mut push = |at: Option<Micros>, what: String| {
            if let Some(at) = at {
                lines.push(HistoryLine { at, what });
            }
        };
        push(s.started_at, format!("Subscription started: {plan}"));
        push(s.first_paid_at, format!("First payment cleared: {plan}"));
        push(s.past_due_since, format!("Renewal failed, past due: {plan}"));
        push(s.canceled_at, format!("Subscription cancelled: {plan}"));
        push(s.ended_at, format!("Subscription ended: {plan}"));
    }
    for m in movements {
        lines.push(HistoryLine {
            at: m.occurred_at,
            what: format!(
                "MRR {}: {}{} → {}",
                m.kind.as_str(),
                if m.delta_minor >= 0 { "+" } else { "" },
                money(m.delta_minor, m.currency),
                money(m.mrr_after_minor, m.currency)
            ),
        });
    }
    for e in audit {
        let what = match e.action.as_str() {
            "member.comp" => format!("Complimentary membership: {}", e.detail.as_deref().unwrap_or("")),
            "gift.redeem" => format!("Redeemed gift membership {}", e.detail.as_deref().unwrap_or("")),
            other => format!("Staff: {other} {}", e.detail.as_deref().unwrap_or("")),
        };
        lines.push(HistoryLine {
            at: e.created_at,
            what: format!("{} (by {})", what.trim_end(), e.actor_email.as_deref().unwrap_or("?")),
        });
    }
    if let Some(until) = member.comped_until.filter(|u| *u != crate::domain::COMP_NO_END) {
        lines.push(HistoryLine { at: until, what: "Complimentary membership ends".into() });
    }
    if let Some(at) = member.deleted_at {
        lines.push(HistoryLine { at, what: "Deleted their account".into() });
    }
    lines.sort_by_key(|l| l.at);
    lines
}

/// The member page: profile, standing and its history, subscriptions, every
/// ledger row, votes and suggestions, mail, sessions and staff notes.
pub async fn detail(ctx: &Context, id: MemberId) -> Result<MemberDetail, MembersError> {
    let pool = ctx.db.read();
    let member = db::members::find_by_id(pool, id).await?.ok_or(MembersError::NotFound)?;
    let standing = billing::standing_of(ctx, &member).await?;
    let tiers: HashMap<TierId, String> = db::tiers::list_all(pool).await?.into_iter().map(|t| (t.id, t.name)).collect();
    let subscriptions: Vec<(Subscription, Option<String>)> = db::subscriptions::list_for_member(pool, id)
        .await?
        .into_iter()
        .map(|s| {
            let tier = s.tier_id.and_then(|t| tiers.get(&t).cloned());
            (s, tier)
        })
        .collect();
    let movements = member_directory::mrr_movements_of(pool, id).await?;
    let audit = member_directory::audit_about(pool, id).await?;
    let mail = match &member.email {
        Some(email) => member_directory::mail_to(pool, email.as_str()).await?,
        None => Vec::new(),
    };
    Ok(MemberDetail {
        history: history(&member, &subscriptions, &movements, &audit),
        stripe_customer_id: db::members::customer_id(pool, id).await?,
        comp_reason: db::members::comp_reason(pool, id).await?,
        ledger: member_directory::ledger_of(pool, id).await?,
        votes: db::topics::votes_of(pool, id).await?,
        suggestions: db::topics::suggested_by(pool, id).await?,
        sessions: db::sessions::list_for_member(pool, id).await?,
        notes: member_notes::list_for_member(pool, id).await?,
        mail,
        movements,
        subscriptions,
        standing,
        member,
    })
}

/// Adds a staff note about a member; returns its id.
pub async fn add_note(ctx: &Context, actor: &Actor, member: MemberId, body: &NoteText) -> Result<String, MembersError> {
    let mut tx = ctx.db.transaction().await?;
    db::members::find_by_id(&mut *tx, member).await?.ok_or(MembersError::NotFound)?;
    let id = uuid::Uuid::now_v7().to_string();
    let now = ctx.clock.now();
    member_notes::insert(&mut *tx, &id, member, body.as_str(), (actor.staff_id, actor.email.as_deref()), now).await?;
    let detail = format!("note {id}: {}", body.as_str());
    audit::record(ctx, &mut tx, actor, "member.note_added", Some(member.to_string()), Some(detail)).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(id)
}

/// Replaces the text of one of the member's notes; the audit entry keeps the old text.
pub async fn edit_note(
    ctx: &Context,
    actor: &Actor,
    member: MemberId,
    note_id: &str,
    body: &NoteText,
) -> Result<(), MembersError> {
    let mut tx = ctx.db.transaction().await?;
    let old =
        member_notes::find(&mut *tx, note_id).await?.filter(|n| n.member_id == member).ok_or(MembersError::NotFound)?;
    if old.body == body.as_str() {
        return Ok(());
    }
    member_notes::update(&mut *tx, note_id, member, body.as_str(), actor.email.as_deref(), ctx.clock.now()).await?;
    let detail = format!("note {note_id}: {} (was: {})", body.as_str(), old.body);
    audit::record(ctx, &mut tx, actor, "member.note_edited", Some(member.to_string()), Some(detail)).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Ends one of the member's sessions (by the SHA-256 of its cookie, as the page
/// lists them): the member is signed out on that device.
pub async fn end_session(ctx: &Context, actor: &Actor, member: MemberId, session: &str) -> Result<(), MembersError> {
    let mut tx = ctx.db.transaction().await?;
    if !db::sessions::delete_member_session(&mut *tx, member, session).await? {
        return Err(MembersError::NotFound);
    }
    let short: String = session.chars().take(12).collect();
    audit::record(
        ctx,
        &mut tx,
        actor,
        "member.session_ended",
        Some(member.to_string()),
        Some(format!("session {short}…")),
    )
    .await?;
    tx.changed(Change::SessionEnded(session.to_string()));
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(member.id = %member, "staff ended a member's session");
    Ok(())
}

/// Ends every session of the member; returns how many there were.
pub async fn end_all_sessions(ctx: &Context, actor: &Actor, member: MemberId) -> Result<u64, MembersError> {
    let mut tx = ctx.db.transaction().await?;
    db::members::find_by_id(&mut *tx, member).await?.ok_or(MembersError::NotFound)?;
    let n = db::sessions::delete_for_member(&mut *tx, member).await?;
    audit::record(
        ctx,
        &mut tx,
        actor,
        "member.sessions_ended",
        Some(member.to_string()),
        Some(format!("{n} sessions")),
    )
    .await?;
    tx.changed(Change::Member(member));
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(member.id = %member, sessions = n, "staff ended every session of a member");
    Ok(n)
}

/// `2026-11-27 07:18 UTC`, or empty.
pub fn when(at: Option<Micros>) -> String {
    at.map(format_utc).unwrap_or_default()
}
