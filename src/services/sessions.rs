//! Sessions live in the database so every instance shares them. The cookie holds
//! a random token; the table holds its SHA-256.
use std::sync::Arc;

use super::Context;
use super::StorageError;
use crate::clock::{DAY, HOUR, MINUTE, Micros};
use crate::db::sessions::{self, Owner};
use crate::db::{Change, DbError, Tx};
use crate::domain::{Member, StaffUser};
use crate::tokens::{hash_token, is_well_formed, new_token};

/// How long sessions live: idle (since last use) and absolute (since sign-in).
/// Writing last-seen on every request would turn each page view into a write;
/// it is written once per `touch_every`, which is precise enough for the idle limit.
#[derive(Clone, Copy, Debug)]
pub struct Lifetime {
    pub idle: Micros,
    pub absolute: Micros,
    pub touch_every: Micros,
}

/// A member's session may end up to an hour early of 30 idle days.
pub const MEMBER: Lifetime = Lifetime { idle: 30 * DAY, absolute: 90 * DAY, touch_every: HOUR };
pub const STAFF: Lifetime = Lifetime { idle: 12 * HOUR, absolute: 7 * DAY, touch_every: MINUTE };

/// Creates a session inside `tx` and returns the cookie value. Always a new id:
/// signing in never reuses a session id that existed before (fixation).
pub async fn create(ctx: &Context, tx: &mut Tx, owner: Owner, user_agent: Option<&str>) -> Result<String, DbError> {
    let lifetime = match owner {
        Owner::Member(_) => MEMBER,
        Owner::Staff(_) => STAFF,
    };
    let now = ctx.clock.now();
    let token = new_token();
    let user_agent = user_agent.map(|ua| ua.chars().take(200).collect::<String>());
    sessions::insert(
        &mut **tx,
        &hash_token(&token),
        owner,
        now,
        now + lifetime.idle,
        now + lifetime.absolute,
        user_agent.as_deref(),
    )
    .await?;
    Ok(token)
}

/// The member behind a cookie value, if the session is live. `acting` (the
/// request changes something) reads it from the database: a session ended on
/// another instance a moment ago never acts; pages may be shown from the cache
/// for up to [`super::cache::SESSION_TTL`].
pub async fn member_for_cookie(ctx: &Context, cookie: &str, acting: bool) -> Result<Option<Arc<Member>>, StorageError> {
    if !is_well_formed(cookie) {
        return Ok(None);
    }
    let now = ctx.clock.now();
    let id = hash_token(cookie);
    if !acting
        && let Some((ends, member)) = ctx.caches.sessions.get(&id, now)
        && now < ends
    {
        return Ok(Some(member));
    }
    let Some((session, member)) =
        ctx.db.read_hot(async |conn| sessions::find_member_session(conn, &id, now).await).await?
    else {
        return Ok(None);
    };
    if now - session.last_seen_at >= MEMBER.touch_every {
        sessions::touch(&mut *ctx.db.write().await?, &session.id, now, now + MEMBER.idle).await?;
    }
    let member = Arc::new(member);
    ctx.caches.sessions.put(now, id, (session.expires_at.min(session.idle_expires_at), member.clone()));
    Ok(Some(member))
}

/// The staff user behind a cookie value, if the session is live.
pub async fn staff_for_cookie(ctx: &Context, cookie: &str) -> Result<Option<StaffUser>, StorageError> {
    if !is_well_formed(cookie) {
        return Ok(None);
    }
    let now = ctx.clock.now();
    let id = hash_token(cookie);
    let Some((user, last_seen, _)) =
        ctx.db.read_hot(async |conn| sessions::find_staff_session(conn, &id, now).await).await?
    else {
        return Ok(None);
    };
    if now - last_seen >= STAFF.touch_every {
        sessions::touch(&mut *ctx.db.write().await?, &id, now, now + STAFF.idle).await?;
    }
    Ok(Some(user))
}

/// Ends the session behind a cookie value.
pub async fn end(ctx: &Context, cookie: &str) -> Result<(), StorageError> {
    if is_well_formed(cookie) {
        let id = hash_token(cookie);
        let mut writer = ctx.db.write().await?;
        sessions::delete(&mut *writer, &id).await?;
        writer.changed(Change::SessionEnded(id));
    }
    Ok(())
}
