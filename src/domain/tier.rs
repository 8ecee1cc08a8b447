//! Membership tiers and their prices, as readers are offered them and staff edit them.
use super::{Interval, Money, TierId};

#[derive(Clone, Debug)]
pub struct Tier {
    pub id: TierId,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// One benefit per line of the stored text, blank lines dropped.
    pub benefits: Vec<String>,
    pub vote_weight: i64,
    pub position: i64,
    /// Archived tiers are kept for their subscribers but no longer offered.
    pub active: bool,
    pub stripe_product_id: Option<String>,
}

/// One price of a tier. Prices are never edited: a change archives the old one.
#[derive(Clone, Debug)]
pub struct TierPrice {
    pub id: String,
    pub tier_id: TierId,
    pub interval: Interval,
    pub amount: Money,
    /// Pay what you want, at least `amount`.
    pub flexible: bool,
    pub stripe_price_id: Option<String>,
}
