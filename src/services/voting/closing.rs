//! Closing rounds whose time is up and recording their final ranking.
use super::VotingError;
use crate::db::{self, Change, DbError, Tx};
use crate::domain::RoundId;
use crate::domain::round::rank;
use crate::services::Context;

/// Closes every round whose time is up and records its final ranking. Safe to
/// run on every instance at once: the conditional update lets exactly one win.
pub async fn close_due_rounds(ctx: &Context, worker: &str) -> Result<usize, VotingError> {
    let mut closed = 0;
    for round in db::rounds::due_to_close(ctx.db.read(), ctx.clock.now()).await? {
        let mut tx = ctx.db.transaction().await?;
        if !db::rounds::mark_closed(&mut *tx, round, ctx.clock.now(), worker).await? {
            continue;
        }
        record_ranking(&mut tx, round).await?;
        tx.changed(Change::Board);
        tx.commit().await.map_err(DbError::from)?;
        closed += 1;
        tracing::info!(round.id = %round, "round closed");
    }
    Ok(closed)
}

pub(crate) async fn record_ranking(tx: &mut Tx, round: RoundId) -> Result<(), VotingError> {
    let ballot: Vec<String> = db::rounds::ballot(&mut **tx, round).await?.into_iter().map(|b| b.topic_id).collect();
    let tallies = db::rounds::tallies(&mut **tx, round).await?;
    for r in rank(&ballot, &tallies) {
        db::rounds::record_result(&mut **tx, round, &r.topic_id, r.rank, r.weight, r.votes).await?;
    }
    let voters = db::rounds::count_voters(&mut **tx, round).await?;
    db::rounds::set_voters(&mut **tx, round, voters).await?;
    Ok(())
}
