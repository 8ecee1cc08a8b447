//! Rate limits with counters in the database, so they hold across instances.
use super::Context;
use crate::clock::{MINUTE, Micros};
use crate::db::{self, DbError};

/// A limit: at most `max` hits per `window` for one bucket.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub name: &'static str,
    pub max: i64,
    pub window: Micros,
}

pub const SIGN_IN_PER_EMAIL: Limit = Limit { name: "sign-in-email", max: 5, window: 15 * MINUTE };
pub const SIGN_IN_PER_IP: Limit = Limit { name: "sign-in-ip", max: 30, window: 15 * MINUTE };
pub const STAFF_LOGIN_PER_EMAIL: Limit = Limit { name: "staff-login-email", max: 10, window: 15 * MINUTE };
pub const STAFF_LOGIN_PER_IP: Limit = Limit { name: "staff-login-ip", max: 30, window: 15 * MINUTE };

#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    Limited { retry_after_secs: i64 },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Counts a hit against every (limit, value) pair; refuses when any is over.
/// Every hit is counted, refused or not, so hammering keeps the limit closed.
pub async fn check(ctx: &Context, hits: &[(Limit, &str)]) -> Result<(), RateLimitError> {
    let now = ctx.clock.now();
    let mut retry_after: Option<i64> = None;
    // One turn to write for all the counters of this request.
    let mut writer = ctx.db.write().await?;
    for (limit, value) in hits {
        let window_start = now - now.rem_euclid(limit.window);
        let bucket = format!("{}:{}", limit.name, ctx.keys.keyed_hash(limit.name, value));
        let count = db::rate_limits::hit(&mut *writer, &bucket, window_start).await?;
        if count > limit.max {
            let secs = (window_start + limit.window - now) / 1_000_000 + 1;
            retry_after = Some(retry_after.map_or(secs, |r: i64| r.max(secs)));
        }
    }
    match retry_after {
        Some(retry_after_secs) => Err(RateLimitError::Limited { retry_after_secs }),
        None => Ok(()),
    }
}
