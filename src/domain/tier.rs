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

/// A tier a new newsroom starts with (migrations 0002 and 0011): its fixed id,
/// and its name, description and benefits in English and in Ukrainian.
pub struct SeededTier {
    pub id: &'static str,
    pub en: [&'static str; 3],
    pub uk: [&'static str; 3],
}

pub const SEEDED_TIERS: [SeededTier; 3] = [
    SeededTier {
        id: "00000000-0000-7000-8000-000000000001",
        en: ["Reader", "A cup of coffee a month. Keeps our reporting free for everyone.", ""],
        uk: ["Читач", "Горнятко кави на місяць. Наша журналістика лишається безкоштовною для всіх.", ""],
    },
    SeededTier {
        id: "00000000-0000-7000-8000-000000000002",
        en: ["Supporter", "Two cups a month: more reporting, free for everyone.", ""],
        uk: ["Прихильник", "Два горнятка на місяць: більше журналістики, безкоштовної для всіх.", ""],
    },
    SeededTier {
        id: "00000000-0000-7000-8000-000000000003",
        en: [
            "Co-creator",
            "Fund a story a year and help decide what we investigate.",
            "An annual call with the editors",
        ],
        uk: [
            "Співавтор",
            "Профінансуйте одну історію на рік і допоможіть вирішити, що ми розслідуємо.",
            "Щорічна розмова з редакцією",
        ],
    },
];

/// The fields of [`SeededTier::en`] and [`SeededTier::uk`], in order.
pub const SEEDED_TIER_FIELDS: [&str; 3] = ["name", "description", "benefits"];
