//! Readers: joining, passwordless sign-in, profile, data export and deletion.
use serde::Serialize;

use super::Context;
use super::outbox::{self, OutboxError};
use super::rate_limit::{self, RateLimitError, SIGN_IN_PER_EMAIL, SIGN_IN_PER_IP};
use super::sessions;
use crate::clock::{MINUTE, Micros, format_rfc3339};
use crate::db::sessions::Owner;
use crate::db::{self, Change, DbError};
use crate::domain::{Email, Locale, LoginPurpose, Member, MemberId, PersonName};
use crate::tokens::{constant_time_eq, hash_token, is_well_formed, new_code, new_token, normalise_code};

/// OWASP ASVS 5.0 (6.5.5): out-of-band sign-in links live at most 10 minutes.
pub const SIGN_IN_LINK_TTL: Micros = 10 * MINUTE;
/// Tries at a sign-in code, right or wrong; the fifth wrong one kills it.
pub const SIGN_IN_CODE_ATTEMPTS: i64 = 5;
/// What a stand-in sign-in's code is compared with (never matches: not hex).
const NO_CODE: &str = "----------------------------------------------------------------";
/// Code entries per client address, like the other sign-in limits.
pub const SIGN_IN_CODE_PER_IP: rate_limit::Limit =
    rate_limit::Limit { name: "sign-in-code-ip", max: 30, window: 15 * MINUTE };

#[derive(Debug, thiserror::Error)]
pub enum MembershipError {
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: i64 },
    #[error("this sign-in link is invalid, used or expired")]
    InvalidLink,
    #[error("enter the 6-digit code from the email")]
    MalformedCode,
    #[error("that code is not right; {tries_left} tries left")]
    WrongCode { tries_left: i64 },
    #[error("the code was entered wrongly too many times")]
    CodeDead,
    #[error("no sign-in code is waiting for this address, or it expired")]
    NoCode,
    #[error("member not found")]
    NotFound,
    #[error("the payment provider could not cancel the subscription: {0}")]
    Gateway(#[from] crate::payments::stripe::GatewayError),
    #[error(transparent)]
    Billing(#[from] crate::services::billing::BillingError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<RateLimitError> for MembershipError {
    fn from(e: RateLimitError) -> Self {
        match e {
            RateLimitError::Limited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            RateLimitError::Db(e) => Self::Db(e),
        }
    }
}

#[derive(Serialize)]
struct SignInEmail<'a> {
    link: String,
    /// Shown as "123 456".
    code: String,
    code_url: String,
    name: Option<&'a str>,
    new_member: bool,
    minutes: i64,
}

/// Creates a free member (or finds the existing one) and emails a sign-in link.
/// The caller shows the same "check your inbox" page either way. `source` (where
/// the reader came from) becomes a new member's first source.
#[tracing::instrument(skip_all)]
pub async fn join(
    ctx: &Context,
    email: &Email,
    name: Option<&PersonName>,
    locale: Locale,
    ip: &str,
    source: Option<&crate::domain::Source>,
) -> Result<(), MembershipError> {
    rate_limit::check(ctx, &[(SIGN_IN_PER_EMAIL, email.as_str()), (SIGN_IN_PER_IP, ip)]).await?;
    let mut tx = ctx.db.transaction().await?;
    let id = MemberId::new();
    let created =
        db::members::insert_if_absent(&mut *tx, id, email, name.map(PersonName::as_str), locale, ctx.clock.now())
            .await?;
    let member = db::members::find_by_email(&mut *tx, email).await?.ok_or(DbError::NotFound)?;
    if created {
        super::sources::joined(ctx, &mut tx, member.id, source).await?;
    }
    send_sign_in_link(ctx, &mut tx, &member, created).await?;
    tx.commit().await.map_err(DbError::from)?;
    ctx.mail_wakeup.notify_one();
    if created {
        tracing::info!(member.id = %member.id, "member joined");
    }
    Ok(())
}

/// Emails a sign-in link if the address belongs to a member; does nothing
/// otherwise, and the caller answers the same either way (no enumeration).
#[tracing::instrument(skip_all)]
pub async fn request_sign_in(ctx: &Context, email: &Email, ip: &str) -> Result<(), MembershipError> {
    rate_limit::check(ctx, &[(SIGN_IN_PER_EMAIL, email.as_str()), (SIGN_IN_PER_IP, ip)]).await?;
    let mut tx = ctx.db.transaction().await?;
    let Some(member) = db::members::find_by_email(&mut *tx, email).await? else {
        // A stand-in sign-in with no code, so a code entered for this address
        // is refused, counted and killed exactly as for a member's.
        let now = ctx.clock.now();
        let stand_in = db::login_tokens::NewSignIn {
            token_hash: &hash_token(&new_token()),
            member_id: None,
            email_hash: &email_hash(ctx, email),
            code_hash: None,
            now,
            expires_at: now + SIGN_IN_LINK_TTL,
        };
        db::login_tokens::replace_sign_in(&mut tx, &stand_in).await?;
        tx.commit().await.map_err(DbError::from)?;
        return Ok(());
    };
    send_sign_in_link(ctx, &mut tx, &member, false).await?;
    tx.commit().await.map_err(DbError::from)?;
    ctx.mail_wakeup.notify_one();
    Ok(())
}

pub(crate) async fn send_sign_in_link(
    ctx: &Context,
    tx: &mut db::Tx,
    member: &Member,
    new_member: bool,
) -> Result<(), MembershipError> {
    let Some(email) = &member.email else { return Err(MembershipError::NotFound) };
    let now = ctx.clock.now();
    let token = new_token();
    let token_hash = hash_token(&token);
    let code = new_code();
    // A newer email replaces every older link and code.
    let new = db::login_tokens::NewSignIn {
        token_hash: &token_hash,
        member_id: Some(member.id),
        email_hash: &email_hash(ctx, email),
        code_hash: Some(&code_hash(ctx, &token_hash, &code)),
        now,
        expires_at: now + SIGN_IN_LINK_TTL,
    };
    db::login_tokens::replace_sign_in(tx, &new).await?;
    let data = SignInEmail {
        link: ctx.url(&format!("/signin/confirm?token={token}")),
        code: format!("{} {}", &code[..3], &code[3..]),
        code_url: ctx.url("/signin/sent"),
        name: member.name.as_deref(),
        new_member,
        minutes: SIGN_IN_LINK_TTL / MINUTE,
    };
    outbox::enqueue(ctx, tx, "sign_in", member.locale, email.as_str(), &data, None).await?;
    Ok(())
}

/// The keyed hash a sign-in is found by when its code is entered with the address.
fn email_hash(ctx: &Context, email: &Email) -> String {
    ctx.keys.keyed_hash("sign-in-email", &email.as_str().to_lowercase())
}

/// What is stored of a code: keyed (a thief of the database cannot try the
/// million codes without SECRET_KEY) and bound to its sign-in row.
fn code_hash(ctx: &Context, token_hash: &str, code: &str) -> String {
    ctx.keys.keyed_hash("sign-in-code", &format!("{token_hash}:{code}"))
}

/// Signs in with the code from the sign-in email, typed with the address it
/// went to. Every try is counted before the comparison (constant time); the
/// fifth wrong one kills the code (the link still works), the right one uses
/// up the sign-in, link included. An address of no member answers the same.
#[tracing::instrument(skip_all)]
pub async fn confirm_sign_in_code(
    ctx: &Context,
    email: &Email,
    code: &str,
    ip: &str,
    user_agent: Option<&str>,
) -> Result<(String, Member), MembershipError> {
    rate_limit::check(ctx, &[(SIGN_IN_CODE_PER_IP, ip)]).await?;
    let code = normalise_code(code).ok_or(MembershipError::MalformedCode)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    let attempt =
        match db::login_tokens::claim_code_attempt(&mut tx, &email_hash(ctx, email), SIGN_IN_CODE_ATTEMPTS, now).await?
        {
            Ok(attempt) => attempt,
            Err(db::login_tokens::NoAttempt::Exhausted) => return Err(MembershipError::CodeDead),
            Err(db::login_tokens::NoAttempt::NoneLive) => return Err(MembershipError::NoCode),
        };
    let expected = code_hash(ctx, &attempt.token_hash, &code);
    // A stand-in row has no code: compare with one of the same length, so the
    // answer takes as long as for a member's.
    let stored = attempt.code_hash.as_deref().unwrap_or(NO_CODE);
    let right = constant_time_eq(expected.as_bytes(), stored.as_bytes());
    let member = match (right, attempt.member_id) {
        (true, Some(member_id)) => {
            db::members::find_by_id(&mut *tx, member_id).await?.filter(|m| m.deleted_at.is_none())
        }
        _ => None,
    };
    let Some(member) = member else {
        // The try stays counted.
        tx.commit().await.map_err(DbError::from)?;
        let tries_left = SIGN_IN_CODE_ATTEMPTS - attempt.attempts;
        return Err(if tries_left > 0 { MembershipError::WrongCode { tries_left } } else { MembershipError::CodeDead });
    };
    if !db::login_tokens::consume_by_id(&mut *tx, &attempt.id, now).await? {
        return Err(MembershipError::NoCode);
    }
    db::members::touch_sign_in(&mut *tx, member.id, now).await?;
    let cookie = sessions::create(ctx, &mut tx, Owner::Member(member.id), user_agent).await?;
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(member.id = %member.id, "member signed in with a code");
    Ok((cookie, member))
}

/// Whether a sign-in link is still good, without using it up.
pub async fn sign_in_link_is_valid(ctx: &Context, token: &str) -> Result<bool, MembershipError> {
    if !is_well_formed(token) {
        return Ok(false);
    }
    Ok(db::login_tokens::is_valid(ctx.db.read(), &hash_token(token), LoginPurpose::MemberSignIn, ctx.clock.now())
        .await?)
}

/// Uses up a sign-in link and opens a new session; returns the cookie value.
#[tracing::instrument(skip_all)]
pub async fn confirm_sign_in(
    ctx: &Context,
    token: &str,
    user_agent: Option<&str>,
) -> Result<(String, Member), MembershipError> {
    if !is_well_formed(token) {
        return Err(MembershipError::InvalidLink);
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    let owner = db::login_tokens::consume(&mut *tx, &hash_token(token), LoginPurpose::MemberSignIn, now)
        .await?
        .ok_or(MembershipError::InvalidLink)?;
    let member_id = owner.member_id.ok_or(MembershipError::InvalidLink)?;
    let member = db::members::find_by_id(&mut *tx, member_id)
        .await?
        .filter(|m| m.deleted_at.is_none())
        .ok_or(MembershipError::InvalidLink)?;
    db::members::touch_sign_in(&mut *tx, member_id, now).await?;
    let cookie = sessions::create(ctx, &mut tx, Owner::Member(member_id), user_agent).await?;
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(member.id = %member_id, "member signed in");
    Ok((cookie, member))
}

pub async fn update_profile(
    ctx: &Context,
    member_id: MemberId,
    name: Option<&PersonName>,
    public_name: Option<&PersonName>,
    locale: Locale,
) -> Result<(), MembershipError> {
    let (name, public_name) = (name.map(PersonName::as_str), public_name.map(PersonName::as_str));
    let mut writer = ctx.db.write().await?;
    db::members::update_profile(&mut *writer, member_id, name, public_name, locale).await.map_err(|e| match e {
        DbError::NotFound => MembershipError::NotFound,
        e => e.into(),
    })?;
    writer.changed(Change::Member(member_id));
    Ok(())
}

pub async fn set_locale(ctx: &Context, member_id: MemberId, locale: Locale) -> Result<(), MembershipError> {
    let mut writer = ctx.db.write().await?;
    db::members::set_locale(&mut *writer, member_id, locale).await?;
    writer.changed(Change::Member(member_id));
    Ok(())
}

/// Ends every session of the member (all devices).
pub async fn sign_out_everywhere(ctx: &Context, member_id: MemberId) -> Result<u64, MembershipError> {
    let mut writer = ctx.db.write().await?;
    let n = db::sessions::delete_for_member(&mut *writer, member_id).await?;
    writer.changed(Change::Member(member_id));
    drop(writer);
    tracing::info!(member.id = %member_id, sessions = n, "member signed out everywhere");
    Ok(n)
}

#[derive(Serialize)]
pub struct MemberExport {
    pub format: &'static str,
    pub generated_at: String,
    pub member: ExportedMember,
    pub sessions: Vec<ExportedSession>,
    pub topics_suggested: Vec<ExportedTopic>,
    pub votes: Vec<ExportedVote>,
}

#[derive(Serialize)]
pub struct ExportedTopic {
    pub title: String,
    pub status: String,
    pub suggested_at: String,
}

#[derive(Serialize)]
pub struct ExportedVote {
    pub round: String,
    pub topic: String,
    pub weight: i64,
    pub cast_at: String,
}

#[derive(Serialize)]
pub struct ExportedMember {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub public_name: Option<String>,
    /// The name they are listed under as a supporter, if they opted in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supporter_name: Option<String>,
    /// When they turned updates and anniversary emails off, if they did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updates_off_since: Option<String>,
    pub language: String,
    pub joined_at: String,
    pub last_sign_in_at: Option<String>,
}

#[derive(Serialize)]
pub struct ExportedSession {
    pub signed_in_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub browser: Option<String>,
}

/// Everything we hold about the member, for "download my data".
pub async fn export(ctx: &Context, member_id: MemberId) -> Result<MemberExport, MembershipError> {
    let member = db::members::find_by_id(ctx.db.read(), member_id).await?.ok_or(MembershipError::NotFound)?;
    let sessions = db::sessions::list_for_member(ctx.db.read(), member_id).await?;
    let topics_suggested = db::topics::suggested_by(ctx.db.read(), member_id)
        .await?
        .into_iter()
        .map(|(title, status, at)| ExportedTopic { title, status, suggested_at: format_rfc3339(at) })
        .collect();
    let votes = db::topics::votes_of(ctx.db.read(), member_id)
        .await?
        .into_iter()
        .map(|(round, topic, weight, at)| ExportedVote { round, topic, weight, cast_at: format_rfc3339(at) })
        .collect();
    Ok(MemberExport {
        format: "patronage-member-export/1",
        generated_at: format_rfc3339(ctx.clock.now()),
        member: ExportedMember {
            id: member.id.to_string(),
            email: member.email.map(|e| e.to_string()),
            name: member.name,
            public_name: member.public_name,
            supporter_name: db::transparency::supporter_name(ctx.db.read(), member_id).await?,
            updates_off_since: db::updates::unsubscribed_at(ctx.db.read(), member_id).await?.map(format_rfc3339),
            language: member.locale.to_string(),
            joined_at: format_rfc3339(member.created_at),
            last_sign_in_at: member.last_sign_in_at.map(format_rfc3339),
        },
        sessions: sessions
            .into_iter()
            .map(|s| ExportedSession {
                signed_in_at: format_rfc3339(s.created_at),
                last_seen_at: format_rfc3339(s.last_seen_at),
                expires_at: format_rfc3339(s.expires_at.min(s.idle_expires_at)),
                browser: s.user_agent,
            })
            .collect(),
        topics_suggested,
        votes,
    })
}

/// Ends every live subscription of the member with the provider first, so a
/// deleted account is never charged again; our records follow the provider's.
async fn cancel_subscriptions(ctx: &Context, member_id: MemberId) -> Result<(), MembershipError> {
    use crate::payments::Payments;
    use crate::services::billing;
    for sub in db::subscriptions::list_for_member(ctx.db.read(), member_id).await? {
        if sub.status.is_terminal() {
            continue;
        }
        let state = match &ctx.payments {
            Payments::Stripe { gateway, .. } if !sub.provider_id.starts_with("demo_") => {
                gateway.cancel_subscription(&sub.provider_id).await?
            }
            _ => {
                let mut state = crate::domain::SubscriptionState::from_mirror(&sub);
                state.status = crate::domain::SubscriptionStatus::Canceled;
                state.cancel_at_period_end = false;
                state.canceled_at = Some(ctx.clock.now());
                state.ended_at = Some(ctx.clock.now());
                state
            }
        };
        let mut tx = ctx.db.transaction().await?;
        billing::apply_subscription(ctx, &mut tx, &state).await?;
        tx.commit().await.map_err(DbError::from)?;
    }
    Ok(())
}

/// Erases the member's personal data in one transaction: email, name, public
/// name, sessions, sign-in links, follows, queued mail, the words of any
/// cancel survey and their part of gifts (see `gifts::forget_member`) go; the anonymous row
/// stays for accounting, and so do their votes (they counted in results).
#[tracing::instrument(skip_all, fields(member.id = %member_id))]
pub async fn delete_account(ctx: &Context, member_id: MemberId) -> Result<(), MembershipError> {
    cancel_subscriptions(ctx, member_id).await?;
    let mut tx = ctx.db.transaction().await?;
    let member = db::members::find_by_id(&mut *tx, member_id)
        .await?
        .filter(|m| m.deleted_at.is_none())
        .ok_or(MembershipError::NotFound)?;
    if let Some(email) = &member.email {
        db::outbox::delete_for_address(&mut *tx, email.as_str()).await?;
    }
    db::sessions::delete_for_member(&mut *tx, member_id).await?;
    db::login_tokens::delete_for_member(&mut *tx, member_id).await?;
    db::topics::unfollow_all(&mut *tx, member_id).await?;
    db::cancel_reasons::erase_comments_of_member(&mut *tx, &member_id.to_string()).await?;
    super::gifts::forget_member(&mut tx, member_id).await?;
    if let Some(customer) = db::members::customer_id(&mut *tx, member_id).await? {
        db::payment_cards::forget_customer(&mut *tx, &customer).await?;
    }
    db::members::anonymise(&mut *tx, member_id, ctx.clock.now()).await?;
    tx.changed(Change::Member(member_id));
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!("member deleted their account");
    Ok(())
}
