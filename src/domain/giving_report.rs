//! What the tiers and donations reports show. Amounts are minor units of the
//! one currency a row is in; rows in different currencies are never added.
use std::collections::BTreeMap;

use super::calendar::Month;
use super::report::ratio;
use super::{Currency, Interval, TierId};
type Micros = i64;

/// The length of an average month in microseconds (365.25 / 12 days), for tenure in months.
const MONTH: f64 = 30.4375 * 86_400_000_000.0;

/// The gifts of a period by amount: `amount → how many gifts of it`. Gifts
/// cluster at the suggested amounts, so this stays small however many there are,
/// and the median is exact.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GiftAmounts(BTreeMap<i64, i64>);

impl GiftAmounts {
    pub fn add(&mut self, amount_minor: i64, gifts: i64) {
        *self.0.entry(amount_minor).or_default() += gifts;
    }

    pub fn absorb(&mut self, other: &GiftAmounts) {
        for (amount, gifts) in &other.0 {
            self.add(*amount, *gifts);
        }
    }

    pub fn count(&self) -> i64 {
        self.0.values().sum()
    }

    /// The middle gift; with an even count the mean of the two middle ones,
    /// rounded half up to the minor unit. None without gifts.
    pub fn median(&self) -> Option<i64> {
        let n = self.count();
        if n <= 0 {
            return None;
        }
        // 0-based positions of the middle gift(s).
        let (lo, hi) = ((n - 1) / 2, n / 2);
        let mut seen = 0;
        let (mut low, mut high) = (None, None);
        for (amount, gifts) in &self.0 {
            let next = seen + gifts;
            if low.is_none() && lo < next {
                low = Some(*amount);
            }
            if hi < next {
                high = Some(*amount);
                break;
            }
            seen = next;
        }
        let (a, b) = (low?, high?);
        Some((a + b + 1).div_euclid(2))
    }
}

/// One month (or, with no month, the whole range) of the donations report in
/// one currency: the gifts' currency, before refunds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DonationMonthRow {
    pub month: Option<Month>,
    /// One-time gifts and their sum.
    pub gifts: i64,
    pub one_time_minor: i64,
    /// Membership payments in the same currency, for the one-time/recurring split.
    pub recurring_minor: i64,
    /// Distinct donors (an anonymous gift is a donor of its own).
    pub donors: i64,
    pub amounts: GiftAmounts,
}

impl DonationMonthRow {
    /// The mean gift, rounded half up to the minor unit.
    pub fn average(&self) -> Option<i64> {
        (self.gifts > 0).then(|| (2 * self.one_time_minor + self.gifts).div_euclid(2 * self.gifts))
    }

    pub fn median(&self) -> Option<i64> {
        self.amounts.median()
    }

    /// One-time gifts' share of what readers gave (gifts and memberships), in percent.
    pub fn one_time_share(&self) -> Option<f64> {
        ratio(self.one_time_minor, self.one_time_minor + self.recurring_minor)
    }
}

/// A large gift, named only as the donor chose to be shown in public.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LargestGift {
    pub amount_minor: i64,
    pub occurred_at: Micros,
    pub public_name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct DonationReport {
    pub currency: Currency,
    pub months: Vec<DonationMonthRow>,
    /// Over the range; `donors` counts each donor once.
    pub total: DonationMonthRow,
    /// Donors who gave more than once in the range.
    pub repeat_donors: i64,
    pub largest: Vec<LargestGift>,
}

/// What the subscriptions of one tier, interval and currency add up to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TierFigures {
    /// Paying now (contributing MRR), and their MRR.
    pub patrons: i64,
    pub mrr_minor: i64,
    /// Subscriptions that ever paid and have not ended, and the sum of their
    /// time since the first payment.
    pub live: i64,
    pub live_tenure: Micros,
    /// Subscriptions that paid and ended, and the sum of their lifetimes.
    pub ended: i64,
    pub ended_tenure: Micros,
    /// First paid, and ended after paying, within the report's range.
    pub joined_in_range: i64,
    pub ended_in_range: i64,
}

impl TierFigures {
    pub fn absorb(&mut self, o: &TierFigures) {
        self.patrons += o.patrons;
        self.mrr_minor += o.mrr_minor;
        self.live += o.live;
        self.live_tenure += o.live_tenure;
        self.ended += o.ended;
        self.ended_tenure += o.ended_tenure;
        self.joined_in_range += o.joined_in_range;
        self.ended_in_range += o.ended_in_range;
    }

    /// Average revenue per paying patron, a month, rounded half up.
    pub fn arpu(&self) -> Option<i64> {
        (self.patrons > 0).then(|| (2 * self.mrr_minor + self.patrons).div_euclid(2 * self.patrons))
    }

    /// Months from first payment to end (or to now), over every subscription
    /// that paid.
    pub fn average_tenure_months(&self) -> Option<f64> {
        let n = self.live + self.ended;
        (n > 0).then(|| (self.live_tenure + self.ended_tenure) as f64 / n as f64 / MONTH)
    }

    /// Months that ended subscriptions lasted on average: a finished lifetime.
    pub fn average_lifetime_months(&self) -> Option<f64> {
        (self.ended > 0).then(|| self.ended_tenure as f64 / self.ended as f64 / MONTH)
    }

    /// Lifetime value: ARPU × the average finished lifetime. None until a
    /// subscription of this kind has ended (an estimate from live ones alone
    /// would only grow with time).
    pub fn lifetime_value(&self) -> Option<i64> {
        Some((self.arpu()? as f64 * self.average_lifetime_months()?).round() as i64)
    }
}

/// One line of the tiers report.
#[derive(Clone, Debug, PartialEq)]
pub struct TierLine {
    pub tier_id: Option<TierId>,
    pub tier_name: String,
    pub interval: Interval,
    pub figures: TierFigures,
}

/// Patrons who moved from one tier (or interval) to another in the range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierMove {
    pub from: String,
    pub to: String,
    pub upgrades: i64,
    pub downgrades: i64,
    /// The MRR the moves added (negative: took away).
    pub mrr_delta_minor: i64,
}

#[derive(Clone, Debug)]
pub struct TierReport {
    pub currency: Currency,
    pub lines: Vec<TierLine>,
    pub total: TierFigures,
    pub moves: Vec<TierMove>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amounts(list: &[(i64, i64)]) -> GiftAmounts {
        let mut a = GiftAmounts::default();
        for (amount, n) in list {
            a.add(*amount, *n);
        }
        a
    }

    #[test]
    fn the_median_of_an_odd_count_is_the_middle_gift() {
        assert_eq!(amounts(&[(500, 2), (1000, 1), (5000, 2)]).median(), Some(1000));
        assert_eq!(amounts(&[(700, 1)]).median(), Some(700));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two_rounded_half_up() {
        assert_eq!(amounts(&[(500, 1), (1000, 1)]).median(), Some(750));
        assert_eq!(amounts(&[(500, 1), (1001, 1)]).median(), Some(751));
        assert_eq!(amounts(&[(500, 2), (1000, 2)]).median(), Some(750));
        assert_eq!(amounts(&[(500, 3), (1000, 1)]).median(), Some(500));
        assert_eq!(GiftAmounts::default().median(), None);
    }

    #[test]
    fn histograms_of_months_merge_into_the_range() {
        let mut range = amounts(&[(500, 1)]);
        range.absorb(&amounts(&[(500, 1), (2000, 3)]));
        assert_eq!(range.count(), 5);
        assert_eq!(range.median(), Some(2000));
    }

    #[test]
    fn average_gift_and_arpu_round_half_up() {
        let row = DonationMonthRow { gifts: 3, one_time_minor: 1001, ..Default::default() };
        assert_eq!(row.average(), Some(334));
        let row = DonationMonthRow { gifts: 2, one_time_minor: 1001, ..Default::default() };
        assert_eq!(row.average(), Some(501));
        assert_eq!(DonationMonthRow::default().average(), None);
        let t = TierFigures { patrons: 3, mrr_minor: 1000, ..Default::default() };
        assert_eq!(t.arpu(), Some(333));
    }

    #[test]
    fn lifetime_value_waits_for_a_finished_lifetime() {
        let month = MONTH as i64;
        let mut t = TierFigures { patrons: 2, mrr_minor: 1000, live: 2, live_tenure: 4 * month, ..Default::default() };
        assert_eq!(t.lifetime_value(), None);
        assert_eq!(t.average_tenure_months().map(|m| m.round()), Some(2.0));
        t.ended = 1;
        t.ended_tenure = 6 * month;
        assert_eq!(t.lifetime_value(), Some(3000));
        assert_eq!(t.average_tenure_months().map(|m| m.round()), Some(3.0));
    }
}
