//! The newsroom's voting rules (who may vote, how votes are weighted), kept in
//! the settings table.
use super::VotingError;
use crate::db::{self, Change, DbError};
use crate::domain::VotingSettings;
use crate::services::Context;
use crate::services::audit::{self, Actor};

const ELIGIBILITY_KEY: &str = "voting.eligibility";
const WEIGHT_KEY: &str = "voting.weight";
const TENURE_CAP_KEY: &str = "voting.tenure_cap_months";

/// The newsroom's voting rules; defaults for anything not set. Cached for pages;
/// a vote's transaction reads them itself ([`settings_in`]).
pub async fn settings(ctx: &Context) -> Result<VotingSettings, VotingError> {
    let cached =
        ctx.caches.voting_settings.get_or_load(&ctx.clock, (), || async { settings_in(ctx.db.read()).await }).await?;
    Ok(cached)
}

/// The voting rules as `ex` (a transaction, say) reads them now.
pub(super) async fn settings_in<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
) -> Result<VotingSettings, DbError> {
    let mut s = VotingSettings::default();
    for (key, value) in db::settings::with_prefix(ex, "voting.").await? {
        match key.as_str() {
            ELIGIBILITY_KEY => s.eligibility = value.parse().unwrap_or(s.eligibility),
            WEIGHT_KEY => s.weight = value.parse().unwrap_or(s.weight),
            TENURE_CAP_KEY => s.tenure_cap_months = value.parse().unwrap_or(s.tenure_cap_months),
            _ => {}
        }
    }
    Ok(s)
}

pub async fn save_settings(ctx: &Context, actor: &Actor, s: &VotingSettings) -> Result<(), VotingError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    db::settings::set(&mut *tx, ELIGIBILITY_KEY, s.eligibility.as_str(), now).await?;
    db::settings::set(&mut *tx, WEIGHT_KEY, s.weight.as_str(), now).await?;
    db::settings::set(&mut *tx, TENURE_CAP_KEY, &s.tenure_cap_months.to_string(), now).await?;
    let detail = format!(
        "eligibility={} weight={} tenure_cap={}",
        s.eligibility.as_str(),
        s.weight.as_str(),
        s.tenure_cap_months
    );
    audit::record(ctx, &mut tx, actor, "voting.settings", None, Some(detail)).await?;
    tx.changed(Change::VotingSettings);
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}
