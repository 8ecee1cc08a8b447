//! Where patrons come from: storing a reader's source with what they did, and
//! the sources report (admins and analysts: the caller checks `ViewRevenue`).
use std::collections::BTreeMap;

use super::{Context, StorageError};
use crate::db::{self, DbError, Tx};
use crate::domain::{
    Currency, MemberId, MonthRange, PaymentKind, RawSource, Source, SourceDimension, SourceFigures, SourceLine,
    SourceTables, SourcesReport,
};

/// Checks `raw` against the newsroom's origins and stores what is kept (once
/// per distinct source); its id, or `None` when nothing could be kept.
pub async fn store(ctx: &Context, tx: &mut Tx, raw: Option<&RawSource>) -> Result<Option<String>, DbError> {
    match raw.and_then(|r| Source::from_raw(r, &ctx.sources)) {
        Some(source) => Ok(Some(db::sources::upsert(&mut **tx, &source, ctx.clock.now()).await?)),
        None => Ok(None),
    }
}

/// A member was created just now: `source` becomes their first source, and
/// they count as a new member under it (with the member, in `tx`).
pub async fn joined(ctx: &Context, tx: &mut Tx, member: MemberId, source: Option<&Source>) -> Result<(), DbError> {
    let now = ctx.clock.now();
    let id = match source {
        Some(source) => Some(db::sources::upsert(&mut **tx, source, now).await?),
        None => None,
    };
    if let Some(id) = &id {
        db::sources::set_member_first(&mut **tx, member, id).await?;
    }
    db::sources::add_member(tx, id.as_deref(), now).await
}

/// Sorted: most first, then by key; the line without a source last.
fn lines<T: Clone>(map: BTreeMap<String, T>, weight: impl Fn(&T) -> (i64, i64)) -> Vec<SourceLine<T>> {
    let mut lines: Vec<SourceLine<T>> = map.into_iter().map(|(key, figures)| SourceLine { key, figures }).collect();
    lines.sort_by(|a, b| {
        (a.key.is_empty(), std::cmp::Reverse(weight(&a.figures)), &a.key).cmp(&(
            b.key.is_empty(),
            std::cmp::Reverse(weight(&b.figures)),
            &b.key,
        ))
    });
    lines
}

/// New members, new patrons, memberships and gifts in `range` by article, by
/// campaign and by referring host; money per currency.
pub async fn report(ctx: &Context, range: &MonthRange) -> Result<SourcesReport, StorageError> {
    let pool = ctx.db.read();
    let (first, last) = (range.first.key(), range.last.key());
    let joins = db::sources::joins(pool, &first, &last).await?;
    let totals = db::sources::totals(pool, &first, &last).await?;

    let mut join_maps: Vec<BTreeMap<String, i64>> = vec![BTreeMap::new(); SourceDimension::ALL.len()];
    let mut join_total = 0;
    for (source, n) in &joins {
        join_total += n;
        for (i, d) in SourceDimension::ALL.iter().enumerate() {
            *join_maps[i].entry(d.key(source.as_ref())).or_default() += n;
        }
    }
    let join_tables =
        SourceDimension::ALL.iter().zip(join_maps).map(|(d, map)| (*d, lines(map, |n| (*n, 0)))).collect();

    let mut money: BTreeMap<Currency, (Vec<BTreeMap<String, SourceFigures>>, SourceFigures)> = BTreeMap::new();
    for t in &totals {
        let figures = match t.kind {
            PaymentKind::Subscription => SourceFigures {
                new_patrons: t.new_patrons,
                memberships: t.payments,
                membership_minor: t.gross_minor,
                ..Default::default()
            },
            PaymentKind::Donation => {
                SourceFigures { gifts: t.payments, gift_minor: t.gross_minor, ..Default::default() }
            }
            _ => continue,
        };
        let (maps, total) = money
            .entry(t.currency)
            .or_insert_with(|| (vec![BTreeMap::new(); SourceDimension::ALL.len()], SourceFigures::default()));
        total.absorb(&figures);
        for (i, d) in SourceDimension::ALL.iter().enumerate() {
            maps[i].entry(d.key(t.source.as_ref())).or_default().absorb(&figures);
        }
    }
    let currencies = money
        .into_iter()
        .map(|(currency, (maps, total))| {
            let tables = SourceDimension::ALL
                .iter()
                .zip(maps)
                .map(|(d, map)| (*d, lines(map, |f| (f.revenue_minor(), f.new_patrons + f.gifts))))
                .collect();
            (currency, SourceTables { tables, total })
        })
        .collect();
    Ok(SourcesReport { joins: SourceTables { tables: join_tables, total: join_total }, currencies })
}
