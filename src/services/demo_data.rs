//! `patronage demo-data`: a realistic, deterministic newsroom so dashboards and
//! pages have something to show, and benchmarks have data at scale. Written
//! through the same `db` layer the app uses, in batched transactions.
use super::Context;
use crate::clock::{DAY, Micros};
use crate::db::payments::{NewMrrMovement, PaymentKind};
use crate::db::subscriptions::Subscription;
use crate::db::tiers::TierPrice;
use crate::db::{self, DbError};
use crate::domain::{Email, Interval, Locale, MemberId, Money, MrrMovementKind, SubscriptionStatus};

/// Every generated address ends with this, so the data is recognisable.
pub const DEMO_DOMAIN: &str = "demo.patronage.test";
/// A patron whose sign-in link is easy to ask for.
pub const DEMO_PATRON: &str = "patron@demo.patronage.test";

#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub members: u32,
    pub months: u32,
    pub seed: u64,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Report {
    pub members: u64,
    pub subscriptions: u64,
    pub ledger_rows: u64,
    pub mrr_movements: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoDataError {
    #[error("demo data is already present (members @{DEMO_DOMAIN}); use a fresh database")]
    AlreadyPresent,
    #[error("the database has no active tiers with monthly prices")]
    NoTiers,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// splitmix64: small, fast, deterministic for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

const FIRST_NAMES: [&str; 16] = [
    "Olena", "Taras", "Iryna", "Mykola", "Oksana", "Andrii", "Sofiia", "Dmytro", "Anna", "James", "Maria", "Lukas",
    "Emma", "Noah", "Ines", "Piotr",
];

/// How long one billing period lasts in the simulation.
fn period(interval: Interval) -> Micros {
    match interval {
        Interval::Month => 30 * DAY,
        Interval::Year => 365 * DAY,
    }
}

struct Sim<'a> {
    ctx: &'a Context,
    rng: Rng,
    now: Micros,
    report: Report,
}

pub async fn generate(ctx: &Context, options: Options) -> Result<Report, DemoDataError> {
    let pool = ctx.db.pool();
    if let Ok(email) = Email::parse(DEMO_PATRON)
        && db::members::find_by_email(pool, &email).await?.is_some()
    {
        return Err(DemoDataError::AlreadyPresent);
    }
    let prices: Vec<TierPrice> = db::tiers::list_live_prices(pool).await?;
    if prices.iter().all(|p| p.interval != Interval::Month) {
        return Err(DemoDataError::NoTiers);
    }
    let tiers = db::tiers::list_active(pool).await?;
    let mut sim = Sim { ctx, rng: Rng(options.seed), now: ctx.clock.now(), report: Report::default() };
    let span = i64::from(options.months.max(1)) * 30 * DAY;
    let batch = 500;
    let mut index = 0u32;
    while index < options.members {
        let mut tx = ctx.db.begin_write().await?;
        for i in index..(index + batch).min(options.members) {
            sim.member(&mut tx, i, span, &prices, &tiers).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        index += batch;
    }
    Ok(sim.report)
}

impl Sim<'_> {
    async fn member(
        &mut self,
        tx: &mut db::Tx,
        i: u32,
        span: Micros,
        prices: &[TierPrice],
        tiers: &[db::tiers::Tier],
    ) -> Result<(), DbError> {
        let id = MemberId::new();
        let email = if i == 0 { DEMO_PATRON.to_string() } else { format!("reader{i}@{DEMO_DOMAIN}") };
        let Ok(email) = Email::parse(&email) else { return Ok(()) };
        // The demo patron has been one for a while, so every page has history to show.
        let created =
            if i == 0 { self.now - span.max(90 * DAY) } else { self.now - (self.rng.below(span as u64) as i64) };
        let name = FIRST_NAMES[self.rng.below(FIRST_NAMES.len() as u64) as usize];
        let locale = if i > 0 && self.rng.chance(0.3) { Locale::Uk } else { Locale::En };
        db::members::insert_if_absent(&mut **tx, id, &email, Some(name), locale, created).await?;
        self.report.members += 1;
        // One in three becomes a patron (the demo patron always does).
        if i == 0 || self.rng.chance(0.33) {
            let price = self.pick_price(prices, tiers);
            let start = created + (self.rng.below(14) as i64) * DAY;
            db::members::link_customer(&mut **tx, id, &format!("demo_cus_{id}")).await?;
            self.patronage(tx, id, price, prices, start, i == 0, 0).await?;
        }
        if self.rng.chance(0.08) {
            for _ in 0..=self.rng.below(2) {
                let at = created + (self.rng.below((self.now - created).max(1) as u64) as i64);
                let currency =
                    if self.rng.chance(0.7) { crate::domain::Currency::EUR } else { crate::domain::Currency::USD };
                let amount = Money::new([500, 1000, 2500, 5000][self.rng.below(4) as usize], currency);
                self.ledger(tx, PaymentKind::Donation, Some(id), None, amount, at, "Donation").await?;
            }
        }
        Ok(())
    }

    fn pick_price<'p>(&mut self, prices: &'p [TierPrice], tiers: &[db::tiers::Tier]) -> &'p TierPrice {
        let interval = if self.rng.chance(0.15) { Interval::Year } else { Interval::Month };
        let currency = if self.rng.chance(0.7) { "eur" } else { "usd" };
        // Cheaper tiers are more popular: weight by position.
        let r = self.rng.unit();
        let tier_index = if r < 0.6 {
            0
        } else if r < 0.9 {
            1
        } else {
            2
        };
        let tier = tiers.get(tier_index.min(tiers.len().saturating_sub(1)));
        prices
            .iter()
            .find(|p| {
                Some(p.tier_id) == tier.map(|t| t.id)
                    && p.interval == interval
                    && p.amount.currency.as_str() == currency
            })
            .or_else(|| prices.iter().find(|p| p.interval == Interval::Month))
            .unwrap_or(&prices[0])
    }

    /// One subscription's life: invoices each period, failed payments, plan
    /// changes, refunds, churn, and sometimes a comeback.
    #[allow(clippy::too_many_arguments)]
    fn patronage<'s>(
        &'s mut self,
        tx: &'s mut db::Tx,
        member: MemberId,
        first_price: &'s TierPrice,
        prices: &'s [TierPrice],
        start: Micros,
        keep_active: bool,
        comebacks: u32,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), DbError>> + Send + 's>> {
        Box::pin(async move {
            if start >= self.now {
                return Ok(());
            }
            let sub_id = uuid::Uuid::now_v7().to_string();
            let provider_id = format!("demo_sub_{sub_id}");
            let mut price = first_price;
            let mut amount = price.amount;
            let interval = price.interval;
            let mut t = start;
            let mut mrr = interval.monthly(amount.minor);
            let ever = comebacks > 0;
            let first_kind = if ever { MrrMovementKind::Reactivation } else { MrrMovementKind::New };
            let mut row = Subscription {
                id: sub_id.clone(),
                provider_id: provider_id.clone(),
                member_id: Some(member),
                customer_id: format!("demo_cus_{member}"),
                tier_id: Some(price.tier_id),
                price_id: Some(price.id.clone()),
                status: SubscriptionStatus::Active,
                interval,
                amount_minor: amount.minor,
                currency: amount.currency,
                current_period_end: None,
                cancel_at_period_end: false,
                started_at: Some(start),
                canceled_at: None,
                ended_at: None,
                past_due_since: None,
                first_paid_at: Some(start),
                mrr_minor: mrr,
            };
            db::subscriptions::upsert(&mut **tx, &row, start).await?;
            self.report.subscriptions += 1;
            self.movement(tx, &sub_id, member, first_kind, mrr, mrr, amount, start).await?;
            let monthly_churn: f64 = if interval == Interval::Year { 0.01 } else { 0.03 };
            loop {
                // The invoice for the period starting at t.
                if self.rng.chance(0.02) && !keep_active {
                    // A failed renewal: half recover a week later, the rest churn.
                    if self.rng.chance(0.5) {
                        self.ledger(
                            tx,
                            PaymentKind::Subscription,
                            Some(member),
                            Some(&sub_id),
                            amount,
                            t + 7 * DAY,
                            "Membership",
                        )
                        .await?;
                    } else {
                        row.status = SubscriptionStatus::Canceled;
                        row.canceled_at = Some(t + 21 * DAY);
                        row.ended_at = Some(t + 21 * DAY);
                        break;
                    }
                } else {
                    let paid = self
                        .ledger(tx, PaymentKind::Subscription, Some(member), Some(&sub_id), amount, t, "Membership")
                        .await?;
                    if self.rng.chance(0.005) {
                        let refund = Money::new(-amount.minor, amount.currency);
                        self.ledger(
                            tx,
                            PaymentKind::Refund,
                            Some(member),
                            Some(&sub_id),
                            refund,
                            t + 2 * DAY,
                            &format!("Refund of {paid}"),
                        )
                        .await?;
                    }
                }
                let next = t + period(interval);
                if next >= self.now {
                    row.current_period_end = Some(next);
                    break;
                }
                let months = (period(interval) / (30 * DAY)) as f64;
                if !keep_active && self.rng.chance(1.0 - (1.0 - monthly_churn).powf(months)) {
                    row.status = SubscriptionStatus::Canceled;
                    row.canceled_at = Some(next - DAY);
                    row.ended_at = Some(next);
                    break;
                }
                if self.rng.chance(0.02 * months.min(3.0)) {
                    let options: Vec<&TierPrice> = prices
                        .iter()
                        .filter(|p| p.interval == interval && p.amount.currency == amount.currency && p.id != price.id)
                        .collect();
                    if !options.is_empty() {
                        price = options[self.rng.below(options.len() as u64) as usize];
                        let before = mrr;
                        amount = price.amount;
                        mrr = interval.monthly(amount.minor);
                        let kind = if mrr > before { MrrMovementKind::Expansion } else { MrrMovementKind::Contraction };
                        self.movement(tx, &sub_id, member, kind, mrr - before, mrr, amount, next).await?;
                        row.tier_id = Some(price.tier_id);
                        row.price_id = Some(price.id.clone());
                        row.amount_minor = amount.minor;
                    }
                }
                t = next;
            }
            if row.status == SubscriptionStatus::Canceled {
                let ended = row.ended_at.unwrap_or(t);
                self.movement(tx, &sub_id, member, MrrMovementKind::Churn, -mrr, 0, amount, ended).await?;
                row.mrr_minor = 0;
            } else {
                row.mrr_minor = mrr;
            }
            db::subscriptions::upsert(&mut **tx, &row, self.now).await?;
            if row.status == SubscriptionStatus::Canceled && comebacks < 2 && self.rng.chance(0.2) {
                let back = row.ended_at.unwrap_or(t) + (60 + self.rng.below(120) as i64) * DAY;
                self.patronage(tx, member, first_price, prices, back, false, comebacks + 1).await?;
            }
            Ok(())
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn movement(
        &mut self,
        tx: &mut db::Tx,
        sub: &str,
        member: MemberId,
        kind: MrrMovementKind,
        delta: i64,
        after: i64,
        amount: Money,
        at: Micros,
    ) -> Result<(), DbError> {
        let m = NewMrrMovement {
            subscription_id: sub.to_string(),
            member_id: Some(member),
            kind,
            delta_minor: delta,
            mrr_after_minor: after,
            currency: amount.currency.as_str().to_string(),
            occurred_at: at,
        };
        db::payments::insert_mrr_movement(&mut **tx, &m, at).await?;
        self.report.mrr_movements += 1;
        Ok(())
    }

    /// One ledger row; returns its provider id.
    #[allow(clippy::too_many_arguments)]
    async fn ledger(
        &mut self,
        tx: &mut db::Tx,
        kind: PaymentKind,
        member: Option<MemberId>,
        sub: Option<&str>,
        amount: Money,
        at: Micros,
        description: &str,
    ) -> Result<String, DbError> {
        let provider_id = format!("demo_{}_{}", kind.as_str(), uuid::Uuid::now_v7().simple());
        let at = at.min(self.now);
        let p = super::billing::simulated_payment(
            kind,
            provider_id.clone(),
            member,
            sub.map(str::to_string),
            amount,
            None,
            description,
            at,
        );
        db::payments::insert(&mut **tx, &p, at).await?;
        self.report.ledger_rows += 1;
        let _ = self.ctx;
        Ok(provider_id)
    }
}
