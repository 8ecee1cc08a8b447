//! Newsroom staff: accounts, passwords and roles. What they do is written to
//! the audit log through [`super::audit`].
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::Context;
use super::audit::{self, Actor};
use super::rate_limit::{self, RateLimitError, STAFF_LOGIN_PER_EMAIL, STAFF_LOGIN_PER_IP};
use super::sessions;
use crate::clock::{DAY, HOUR, Micros};
use crate::db::sessions::Owner;
use crate::db::{self, DbError, Tx};
use crate::domain::{Email, LoginPurpose, Password, Role, StaffId, StaffUser};
use crate::tokens::{hash_token, is_well_formed, new_token};

/// Set-password links (invitations and resets) work for this long.
pub const PASSWORD_LINK_TTL: Micros = 3 * DAY;
/// The first-admin set-up link printed at start-up works for this long.
pub const SETUP_LINK_TTL: Micros = 24 * HOUR;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: i64 },
    #[error("wrong email or password")]
    BadCredentials,
    #[error("this link is invalid, used or expired")]
    InvalidLink,
    #[error("set-up is already done: an administrator exists")]
    SetupDone,
    #[error("a staff account with this email exists already")]
    EmailTaken,
    #[error("the last active administrator cannot be demoted or disabled")]
    LastAdmin,
    #[error("staff account not found")]
    NotFound,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<RateLimitError> for StaffError {
    fn from(e: RateLimitError) -> Self {
        match e {
            RateLimitError::Limited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            RateLimitError::Db(e) => Self::Db(e),
        }
    }
}

/// Argon2id with the crate's default (OWASP) parameters, off the async runtime.
pub async fn hash_password(password: &Password) -> Result<String, StaffError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| StaffError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| StaffError::Hashing(e.to_string()))?
}

async fn verify_password(candidate: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        // Without a stored hash, verify against a fixed one anyway so unknown
        // addresses take as long as wrong passwords.
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let Ok(parsed) = PasswordHash::new(&phc) else { return false };
        Argon2::default().verify_password(candidate.as_bytes(), &parsed).is_ok()
    })
    .await
    .unwrap_or(false)
}

/// Argon2id hash of a random string nobody knows.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0vFYc7jB2fQ1vN8fJmW1aFv2Zx0m0HCQyVb3o1t7kJE";

/// Creates a staff account (or, for an existing one, sets its role) and returns a
/// one-time set-password link. Used by `patronage staff add` and by admins.
#[tracing::instrument(skip_all, fields(staff.role = %role))]
pub async fn invite(
    ctx: &Context,
    actor: &Actor,
    email: &Email,
    role: Role,
    allow_existing: bool,
) -> Result<(StaffUser, String), StaffError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    let existing = db::staff::find_by_email(&mut *tx, email).await?;
    let user = match existing {
        Some(_) if !allow_existing => return Err(StaffError::EmailTaken),
        Some(user) => {
            if user.role != role {
                ensure_admin_remains(&mut tx, &user, Some(role), false).await?;
                db::staff::set_role(&mut *tx, user.id, role).await?;
            }
            db::staff::find_by_id(&mut *tx, user.id).await?.ok_or(StaffError::NotFound)?
        }
        None => {
            let id = StaffId::new();
            match db::staff::insert(&mut *tx, id, email, role, None, now).await {
                Err(e) if e.is_conflict_on("staff_users_email_key") => return Err(StaffError::EmailTaken),
                other => other?,
            }
            db::staff::find_by_id(&mut *tx, id).await?.ok_or(StaffError::NotFound)?
        }
    };
    db::login_tokens::supersede(&mut *tx, LoginPurpose::StaffPassword, None, Some(user.id), now).await?;
    let token = new_token();
    db::login_tokens::insert(
        &mut *tx,
        &hash_token(&token),
        LoginPurpose::StaffPassword,
        None,
        Some(user.id),
        now,
        now + PASSWORD_LINK_TTL,
    )
    .await?;
    audit::record(ctx, &mut tx, actor, "staff.invite", Some(user.email.to_string()), Some(format!("role={role}")))
        .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok((user, ctx.url(&format!("/admin/password?token={token}"))))
}

/// With no staff account yet, makes a new one-time link for creating the first
/// administrator (older ones stop working); `None` once any staff account exists.
pub async fn setup_link_if_needed(ctx: &Context) -> Result<Option<String>, StaffError> {
    let mut tx = ctx.db.transaction().await?;
    if db::staff::count(&mut *tx).await? > 0 {
        return Ok(None);
    }
    let now = ctx.clock.now();
    db::login_tokens::supersede(&mut *tx, LoginPurpose::StaffSetup, None, None, now).await?;
    let token = new_token();
    db::login_tokens::insert(
        &mut *tx,
        &hash_token(&token),
        LoginPurpose::StaffSetup,
        None,
        None,
        now,
        now + SETUP_LINK_TTL,
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(Some(ctx.url(&format!("/admin/setup?token={token}"))))
}

/// Every staff account, oldest first, for the staff page.
pub async fn list_accounts(ctx: &Context) -> Result<Vec<StaffUser>, StaffError> {
    Ok(db::staff::list(ctx.db.read()).await?)
}

pub async fn link_is_valid(ctx: &Context, token: &str, purpose: LoginPurpose) -> Result<bool, StaffError> {
    if !is_well_formed(token) {
        return Ok(false);
    }
    Ok(db::login_tokens::is_valid(ctx.db.read(), &hash_token(token), purpose, ctx.clock.now()).await?)
}

/// Creates the first administrator from the set-up link; returns the session cookie.
#[tracing::instrument(skip_all)]
pub async fn complete_setup(
    ctx: &Context,
    token: &str,
    email: &Email,
    password: &Password,
    ip: &str,
    user_agent: Option<&str>,
) -> Result<(StaffUser, String), StaffError> {
    if !is_well_formed(token) {
        return Err(StaffError::InvalidLink);
    }
    let hash = hash_password(password).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    if db::staff::count(&mut *tx).await? > 0 {
        return Err(StaffError::SetupDone);
    }
    db::login_tokens::consume(&mut *tx, &hash_token(token), LoginPurpose::StaffSetup, now)
        .await?
        .ok_or(StaffError::InvalidLink)?;
    let id = StaffId::new();
    db::staff::insert(&mut *tx, id, email, Role::Admin, Some(&hash), now).await?;
    db::staff::touch_sign_in(&mut *tx, id, now).await?;
    let user = db::staff::find_by_id(&mut *tx, id).await?.ok_or(StaffError::NotFound)?;
    audit::record(ctx, &mut tx, &Actor::staff(&user, ip), "staff.setup", Some(user.email.to_string()), None).await?;
    let cookie = sessions::create(ctx, &mut tx, Owner::Staff(id), user_agent).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok((user, cookie))
}

/// Sets a password from a set-password link, ends the account's other sessions and
/// signs this browser in; returns the session cookie.
#[tracing::instrument(skip_all)]
pub async fn set_password(
    ctx: &Context,
    token: &str,
    password: &Password,
    ip: &str,
    user_agent: Option<&str>,
) -> Result<(StaffUser, String), StaffError> {
    if !is_well_formed(token) {
        return Err(StaffError::InvalidLink);
    }
    let hash = hash_password(password).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    let owner = db::login_tokens::consume(&mut *tx, &hash_token(token), LoginPurpose::StaffPassword, now)
        .await?
        .ok_or(StaffError::InvalidLink)?;
    let staff_id = owner.staff_id.ok_or(StaffError::InvalidLink)?;
    let user = db::staff::find_by_id(&mut *tx, staff_id)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .ok_or(StaffError::InvalidLink)?;
    db::staff::set_password_hash(&mut *tx, staff_id, &hash).await?;
    db::sessions::delete_for_staff(&mut *tx, staff_id).await?;
    db::staff::touch_sign_in(&mut *tx, staff_id, now).await?;
    audit::record(ctx, &mut tx, &Actor::staff(&user, ip), "staff.set_password", Some(user.email.to_string()), None)
        .await?;
    let cookie = sessions::create(ctx, &mut tx, Owner::Staff(staff_id), user_agent).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok((user, cookie))
}

/// Password sign-in; returns the session cookie.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    ctx: &Context,
    email: &Email,
    password: &str,
    ip: &str,
    user_agent: Option<&str>,
) -> Result<(StaffUser, String), StaffError> {
    rate_limit::check(ctx, &[(STAFF_LOGIN_PER_EMAIL, email.as_str()), (STAFF_LOGIN_PER_IP, ip)]).await?;
    let user = db::staff::find_by_email(ctx.db.read(), email).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = verify_password(password.to_string(), stored).await;
    let mut tx = ctx.db.transaction().await?;
    let user = match user {
        Some(user) if ok && user.disabled_at.is_none() => user,
        _ => {
            let actor = Actor { staff_id: None, email: Some(email.to_string()), ip: Some(ip.to_string()) };
            audit::record(ctx, &mut tx, &actor, "staff.sign_in_failed", Some(email.to_string()), None).await?;
            tx.commit().await.map_err(DbError::from)?;
            return Err(StaffError::BadCredentials);
        }
    };
    db::staff::touch_sign_in(&mut *tx, user.id, ctx.clock.now()).await?;
    audit::record(ctx, &mut tx, &Actor::staff(&user, ip), "staff.sign_in", None, None).await?;
    let cookie = sessions::create(ctx, &mut tx, Owner::Staff(user.id), user_agent).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok((user, cookie))
}

pub async fn sign_out(ctx: &Context, user: &StaffUser, cookie: &str, ip: &str) -> Result<(), StaffError> {
    sessions::end(ctx, cookie).await.map_err(DbError::from)?;
    let mut tx = ctx.db.transaction().await?;
    audit::record(ctx, &mut tx, &Actor::staff(user, ip), "staff.sign_out", None, None).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Refuses a change that would leave no active administrator.
async fn ensure_admin_remains(
    tx: &mut Tx,
    target: &StaffUser,
    new_role: Option<Role>,
    disabling: bool,
) -> Result<(), StaffError> {
    let loses_admin = target.role == Role::Admin
        && target.disabled_at.is_none()
        && (disabling || new_role.is_some_and(|r| r != Role::Admin));
    if loses_admin && db::staff::count_active_admins(&mut **tx).await? <= 1 {
        return Err(StaffError::LastAdmin);
    }
    Ok(())
}

pub async fn change_role(ctx: &Context, actor: &Actor, target: StaffId, role: Role) -> Result<(), StaffError> {
    let mut tx = ctx.db.transaction().await?;
    let user = db::staff::find_by_id(&mut *tx, target).await?.ok_or(StaffError::NotFound)?;
    ensure_admin_remains(&mut tx, &user, Some(role), false).await?;
    db::staff::set_role(&mut *tx, target, role).await?;
    audit::record(
        ctx,
        &mut tx,
        actor,
        "staff.change_role",
        Some(user.email.to_string()),
        Some(format!("{} -> {role}", user.role)),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Disables (and signs out) or re-enables a staff account.
pub async fn set_disabled(ctx: &Context, actor: &Actor, target: StaffId, disabled: bool) -> Result<(), StaffError> {
    let mut tx = ctx.db.transaction().await?;
    let user = db::staff::find_by_id(&mut *tx, target).await?.ok_or(StaffError::NotFound)?;
    if disabled {
        ensure_admin_remains(&mut tx, &user, None, true).await?;
        db::sessions::delete_for_staff(&mut *tx, target).await?;
    }
    db::staff::set_disabled(&mut *tx, target, disabled.then(|| ctx.clock.now())).await?;
    let action = if disabled { "staff.disable" } else { "staff.enable" };
    audit::record(ctx, &mut tx, actor, action, Some(user.email.to_string()), None).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_parses_so_unknown_addresses_cost_a_full_verify() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
