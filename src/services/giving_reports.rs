//! The tiers and donations reports (admins and analysts: the caller checks
//! `ViewRevenue`): who pays for what and for how long, and how readers give
//! once. Read from aggregates kept with each payment and from the
//! subscriptions' mirror, so they are as current as the last applied event.
use std::collections::BTreeMap;

use super::{Context, StorageError};
use crate::db;
use crate::domain::{
    Currency, DonationMonthRow, DonationReport, LargestGift, MonthRange, PaymentKind, TierFigures, TierId, TierLine,
    TierMove, TierReport,
};

/// Gift memberships sold in one currency over a range: `(month, count, gross)`
/// per month with any, and the totals. Their own section of the donations
/// report: one-time income, but neither donations nor MRR.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GiftSales {
    pub currency: Option<Currency>,
    pub months: Vec<(String, i64, i64)>,
    pub count: i64,
    pub gross_minor: i64,
}

/// Gift memberships sold per currency in `range` (the currency they were paid
/// in, before refunds), from the ledger's monthly aggregates.
pub async fn gift_sales(ctx: &Context, range: &MonthRange) -> Result<Vec<GiftSales>, StorageError> {
    let (first, last) = (range.first.key(), range.last.key());
    let mut by_currency: BTreeMap<Currency, GiftSales> = BTreeMap::new();
    for r in db::reports::ledger_months(ctx.db.read(), &first, &last).await? {
        if r.kind != PaymentKind::Gift {
            continue;
        }
        let sales = by_currency
            .entry(r.currency)
            .or_insert_with(|| GiftSales { currency: Some(r.currency), ..Default::default() });
        match sales.months.last_mut() {
            Some(m) if m.0 == r.month => {
                m.1 += r.rows;
                m.2 += r.gross_minor;
            }
            _ => sales.months.push((r.month.clone(), r.rows, r.gross_minor)),
        }
        sales.count += r.rows;
        sales.gross_minor += r.gross_minor;
    }
    Ok(by_currency.into_values().collect())
}

/// How many of the largest gifts the donations report lists per currency.
pub const LARGEST_GIFTS: i64 = 10;

/// One-time gifts by month in `range`, one report per currency given in
/// (the gift's, not the settlement's), with memberships paid in the same
/// currency beside them.
pub async fn donations_report(ctx: &Context, range: &MonthRange) -> Result<Vec<DonationReport>, StorageError> {
    let pool = ctx.db.read();
    let (first, last) = (range.first.key(), range.last.key());
    let (from, _) = ctx.zone.bounds(range.first);
    let (_, to) = ctx.zone.bounds(range.last);
    let mut months: BTreeMap<Currency, BTreeMap<String, DonationMonthRow>> = BTreeMap::new();
    for r in db::reports::ledger_months(pool, &first, &last).await? {
        let row = months.entry(r.currency).or_default().entry(r.month).or_default();
        match r.kind {
            PaymentKind::Donation => {
                row.gifts += r.rows;
                row.one_time_minor += r.gross_minor;
            }
            PaymentKind::Subscription => row.recurring_minor += r.gross_minor,
            _ => {}
        }
    }
    for (month, currency, amount, gifts) in db::giving_reports::donation_amounts(pool, &first, &last).await? {
        months.entry(currency).or_default().entry(month).or_default().amounts.add(amount, gifts);
    }
    // Members who gave, plus every anonymous gift as a donor of its own.
    for (month, currency, members, their_gifts) in db::giving_reports::donors_by_month(pool, &first, &last).await? {
        let row = months.entry(currency).or_default().entry(month).or_default();
        row.donors = members - their_gifts;
    }
    for row in months.values_mut().flat_map(|m| m.values_mut()) {
        row.donors += row.gifts;
    }
    let in_range = db::giving_reports::donors_in_range(pool, &first, &last).await?;
    let mut largest: BTreeMap<Currency, Vec<LargestGift>> = BTreeMap::new();
    for (currency, by_month) in &months {
        let gifts: i64 = by_month.values().map(|m| m.gifts).sum();
        if gifts == 0 {
            continue;
        }
        let found = db::giving_reports::largest_gifts(pool, *currency, (from, to), gifts, LARGEST_GIFTS).await?;
        largest.insert(
            *currency,
            found
                .into_iter()
                .map(|g| LargestGift {
                    amount_minor: g.gross_minor,
                    occurred_at: g.occurred_at,
                    public_name: g.public_name,
                })
                .collect(),
        );
    }
    Ok(months
        .into_iter()
        // A currency only memberships are paid in has no gifts to report.
        .filter(|(_, by_month)| by_month.values().any(|m| m.gifts != 0))
        .map(|(currency, mut by_month)| {
            let mut total = DonationMonthRow::default();
            let rows: Vec<DonationMonthRow> = range
                .months()
                .into_iter()
                .map(|m| {
                    let mut row = by_month.remove(&m.key()).unwrap_or_default();
                    row.month = Some(m);
                    total.gifts += row.gifts;
                    total.one_time_minor += row.one_time_minor;
                    total.recurring_minor += row.recurring_minor;
                    total.amounts.absorb(&row.amounts);
                    row
                })
                .collect();
            let (members, repeat_donors, their_gifts) =
                in_range.iter().find(|(c, _, _, _)| *c == currency).map_or((0, 0, 0), |(_, n, r, g)| (*n, *r, *g));
            total.donors = members + total.gifts - their_gifts;
            DonationReport {
                currency,
                months: rows,
                total,
                repeat_donors,
                largest: largest.remove(&currency).unwrap_or_default(),
            }
        })
        .collect())
}

/// Patrons, MRR, ARPU, tenure and lifetime value per tier and interval, one
/// report per currency; with the moves between tiers and intervals in `range`.
pub async fn tiers_report(ctx: &Context, range: &MonthRange) -> Result<Vec<TierReport>, StorageError> {
    let pool = ctx.db.read();
    let (from, _) = ctx.zone.bounds(range.first);
    let (_, to) = ctx.zone.bounds(range.last);
    let names: BTreeMap<TierId, (i64, String)> =
        db::tiers::list_all(pool).await?.into_iter().map(|t| (t.id, (t.position, t.name))).collect();
    let name = |t: Option<TierId>| match t.and_then(|t| names.get(&t)) {
        Some((_, n)) => n.clone(),
        None => "(no tier)".to_string(),
    };
    let position = |t: Option<TierId>| t.and_then(|t| names.get(&t)).map_or(i64::MAX, |(p, _)| *p);
    let mut reports: BTreeMap<Currency, TierReport> = BTreeMap::new();
    let empty = |currency| TierReport { currency, lines: Vec::new(), total: TierFigures::default(), moves: Vec::new() };
    let now = ctx.clock.now();
    let mut figures = db::giving_reports::tier_figures(pool, now, from, to).await?;
    figures.sort_by_key(|(t, interval, _, _)| (position(*t), name(*t), *interval == crate::domain::Interval::Year));
    for (tier, interval, currency, f) in figures {
        let r = reports.entry(currency).or_insert_with(|| empty(currency));
        r.total.absorb(&f);
        r.lines.push(TierLine { tier_id: tier, tier_name: name(tier), interval, figures: f });
    }
    for (ft, fi, tt, ti, currency, upgrades, downgrades, delta) in
        db::giving_reports::tier_moves(pool, from, to).await?
    {
        reports.entry(currency).or_insert_with(|| empty(currency)).moves.push(TierMove {
            from: format!("{} ({fi})", name(ft)),
            to: format!("{} ({ti})", name(tt)),
            upgrades,
            downgrades,
            mrr_delta_minor: delta,
        });
    }
    for r in reports.values_mut() {
        r.moves.sort_by(|a, b| (b.upgrades + b.downgrades).cmp(&(a.upgrades + a.downgrades)).then(a.from.cmp(&b.from)));
    }
    Ok(reports.into_values().collect())
}
