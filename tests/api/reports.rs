//! Revenue reports: a small newsroom's first quarter of 2031, in Kyiv, built
//! through the same billing code the Stripe and demo gateways call
//! (`billing::apply_subscription`, `billing::record_payment`) with the clock
//! moved to each moment, then read over HTTP as staff read it: pages and CSV
//! exports, every figure checked against values worked out by hand below.
use patronage::clock::{DAY, HOUR};
use patronage::db;
use patronage::domain::{
    Currency, Email, Interval, Locale, MemberId, PaymentKind, Role, Settled, SubscriptionState, SubscriptionStatus,
};
use patronage::services::billing;

use crate::helpers::voting::staff;
use crate::helpers::{TestApp, TestClient};

const KYIV: &str = "Europe/Kyiv";

/// UTC microseconds of a wall-clock time in Kyiv (winter: UTC+2; no summer
/// time in January to March 2031 before the 30th of March).
fn kyiv(y: i16, m: i8, d: i8, h: i8, min: i8) -> i64 {
    let utc = jiff::civil::datetime(y, m, d, h, min, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .expect("a valid time")
        .timestamp()
        .as_microsecond();
    utc - 2 * HOUR
}

fn set_clock(app: &TestApp, at: i64) {
    let now = app.clock().now();
    assert!(at > now, "the clock only moves forward");
    app.advance_clock(at - now);
}

async fn member(app: &TestApp, email: &str) -> MemberId {
    let id = MemberId::new();
    let email = Email::parse(email).expect("valid");
    let mut w = app.db().write().await.expect("a writer");
    assert!(
        db::members::insert_if_absent(&mut *w, id, &email, Some("Reader"), Locale::En, app.clock().now())
            .await
            .expect("insert")
    );
    id
}

struct Sub {
    provider_id: String,
    member: MemberId,
    price: String,
    interval: Interval,
    amount: i64,
    currency: Currency,
}

impl Sub {
    async fn new(
        app: &TestApp,
        id: &str,
        member: MemberId,
        slug: &str,
        interval: &str,
        currency: &str,
        amount: i64,
    ) -> Sub {
        Sub {
            provider_id: id.to_string(),
            member,
            price: app.price_id(slug, interval, currency).await,
            interval: interval.parse().expect("interval"),
            amount,
            currency: Currency::parse(currency).expect("currency"),
        }
    }

    /// Tells billing the subscription is now in `status` (as a Stripe event would).
    async fn apply(&self, app: &TestApp, status: SubscriptionStatus, cancel_at_period_end: bool) {
        let now = app.clock().now();
        let state = SubscriptionState {
            provider_id: self.provider_id.clone(),
            customer_id: format!("cus_{}", self.member),
            member_hint: Some(self.member),
            price_ref: Some(self.price.clone()),
            price_hint: None,
            status,
            interval: self.interval,
            amount_minor: self.amount,
            currency: self.currency,
            current_period_end: Some(now + 30 * DAY),
            cancel_at_period_end,
            started_at: Some(now),
            canceled_at: (status == SubscriptionStatus::Canceled).then_some(now),
            ended_at: (status == SubscriptionStatus::Canceled).then_some(now),
            pause: None,
            offer: None,
            source: None,
        };
        let mut tx = app.db().transaction().await.expect("tx");
        let applied = billing::apply_subscription(&app.ctx, &mut tx, &state).await.expect("applied");
        assert!(matches!(applied, billing::Applied::Applied { .. }), "{applied:?}");
        tx.commit().await.expect("commit");
    }

    /// Tells billing, now, that the subscription ended at `ended_at` (an event
    /// delivered late).
    async fn ended_at(&self, app: &TestApp, ended_at: i64) {
        let state = SubscriptionState {
            provider_id: self.provider_id.clone(),
            customer_id: format!("cus_{}", self.member),
            member_hint: Some(self.member),
            price_ref: Some(self.price.clone()),
            price_hint: None,
            status: SubscriptionStatus::Canceled,
            interval: self.interval,
            amount_minor: self.amount,
            currency: self.currency,
            current_period_end: Some(ended_at),
            cancel_at_period_end: true,
            started_at: None,
            canceled_at: Some(ended_at),
            ended_at: Some(ended_at),
            pause: None,
            offer: None,
            source: None,
        };
        let mut tx = app.db().transaction().await.expect("tx");
        billing::apply_subscription(&app.ctx, &mut tx, &state).await.expect("applied");
        tx.commit().await.expect("commit");
    }

    /// A paid invoice of `self.amount` with Stripe's `fee`, booked at `at`.
    async fn pay(&self, app: &TestApp, invoice: &str, fee: i64, at: i64) {
        let p = ledger_row(PaymentKind::Subscription, invoice, Some(self.member), self.amount, self.currency, fee, at);
        record(app, &p, Some(&self.provider_id)).await;
    }
}

#[allow(clippy::too_many_arguments)]
fn ledger_row(
    kind: PaymentKind,
    provider_id: &str,
    member: Option<MemberId>,
    gross: i64,
    currency: Currency,
    fee: i64,
    at: i64,
) -> db::payments::NewPayment {
    db::payments::NewPayment {
        kind,
        provider_id: provider_id.to_string(),
        member_id: member,
        subscription_id: None,
        gross_minor: gross,
        currency,
        settled: Settled { gross_minor: gross, fee_minor: fee, net_minor: gross - fee, currency },
        charge_id: Some(format!("ch_{provider_id}")),
        description: None,
        occurred_at: at,
        source_id: None,
        topic_id: None,
    }
}

async fn record(app: &TestApp, p: &db::payments::NewPayment, subscription: Option<&str>) {
    let mut tx = app.db().transaction().await.expect("tx");
    assert!(billing::record_payment(&app.ctx, &mut tx, p, subscription).await.expect("recorded"));
    tx.commit().await.expect("commit");
}

/// A simple CSV reader for our own exports (every cell quoted).
/// The MRR report's identity (start + new + expansion + reactivation −
/// contraction − churn = end) holds every month, and its last end is the MRR
/// of the subscriptions now. Returns how many month rows the report has.
pub(crate) async fn assert_mrr_identity(app: &TestApp, admin: &TestClient) -> usize {
    let mrr = parse_csv(&admin.get("/admin/reports/mrr.csv?range=all").send().await.body);
    let cents = |s: &str| -> i64 { (s.parse::<f64>().expect("a number") * 100.0).round() as i64 };
    let mut last_end = std::collections::BTreeMap::new();
    for row in &mrr[1..] {
        let v: Vec<i64> = row[2..9].iter().map(|c| cents(c)).collect();
        assert_eq!(v[0] + v[1] + v[2] + v[3] - v[4] - v[5], v[6], "{row:?}");
        last_end.insert(row[1].to_lowercase(), v[6]);
    }
    let now: Vec<(String, i64)> =
        sqlx::query_as("select currency, cast(sum(mrr_minor) as bigint) from subscriptions group by currency")
            .fetch_all(app.db().read())
            .await
            .expect("mrr now");
    for (currency, sum) in now {
        assert_eq!(last_end.get(&currency).copied().unwrap_or(0), sum, "{currency}");
    }
    mrr.len() - 1
}

pub(crate) fn parse_csv(body: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

/// The rows of `csv` for `currency`, each as its cells after the currency column.
fn rows_for<'a>(csv: &'a [Vec<String>], currency: &str) -> Vec<Vec<&'a str>> {
    csv.iter()
        .skip(1)
        .filter(|r| r[1] == currency)
        .map(|r| std::iter::once(r[0].as_str()).chain(r[2..].iter().map(String::as_str)).collect())
        .collect()
}

/// The first quarter of 2031 at a small newsroom in Kyiv; the clock ends on 20 March.
async fn quarter(app: &TestApp) {
    let eur = Currency::EUR;
    let jan = |d, h| kyiv(2031, 1, d, h, 0);
    set_clock(app, jan(10, 9));
    let ids: Vec<MemberId> = {
        let mut v = Vec::new();
        for name in ["ana", "bo", "cy", "di", "ed", "fa", "gu", "hu", "ivy", "jo", "ka", "lu", "mo", "nia", "ola"] {
            v.push(member(app, &format!("{name}@example.org")).await);
        }
        v
    };
    let [ana, bo, cy, di, ed, fa, gu, hu, ivy, jo, ka, lu, _mo, nia, ola] = ids[..] else { unreachable!() };
    // January: ten patrons in euros (one yearly), one in dollars, one on a trial.
    let a = Sub::new(app, "sub_ana", ana, "supporter", "month", "eur", 600).await;
    let b = Sub::new(app, "sub_bo", bo, "reader", "month", "eur", 300).await;
    let c = Sub::new(app, "sub_cy", cy, "cocreator", "month", "eur", 1200).await;
    let d = Sub::new(app, "sub_di", di, "supporter", "year", "eur", 6000).await;
    let e = Sub::new(app, "sub_ed", ed, "supporter", "month", "eur", 600).await;
    let f = Sub::new(app, "sub_fa", fa, "reader", "month", "eur", 300).await;
    let g = Sub::new(app, "sub_gu", gu, "supporter", "month", "eur", 600).await;
    let h = Sub::new(app, "sub_hu", hu, "supporter", "month", "usd", 600).await;
    let i = Sub::new(app, "sub_ivy", ivy, "supporter", "month", "eur", 600).await;
    let j = Sub::new(app, "sub_jo", jo, "cocreator", "month", "eur", 1200).await;
    let k = Sub::new(app, "sub_ka", ka, "reader", "month", "eur", 300).await;
    let n = Sub::new(app, "sub_nia", nia, "supporter", "month", "eur", 600).await;
    for (s, fee) in
        [(&a, 30), (&b, 20), (&c, 40), (&d, 100), (&e, 30), (&f, 20), (&g, 30), (&h, 30), (&i, 30), (&j, 40), (&k, 20)]
    {
        s.apply(app, SubscriptionStatus::Active, false).await;
        s.pay(app, &format!("in_{}_1", s.provider_id), fee, jan(10, 10)).await;
    }
    n.apply(app, SubscriptionStatus::Trialing, false).await;
    // Gifts: €25 mid-month, and €10 at 23:30 on 31 January in Kyiv (21:30 UTC).
    record(app, &ledger_row(PaymentKind::Donation, "ch_lu_1", Some(lu), 2500, eur, 60, jan(15, 12)), None).await;
    record(
        app,
        &ledger_row(PaymentKind::Donation, "ch_lu_2", Some(lu), 1000, eur, 40, kyiv(2031, 1, 31, 23, 30)),
        None,
    )
    .await;
    // Ed cancels at the end of his period: no change to MRR yet.
    set_clock(app, jan(20, 9));
    e.apply(app, SubscriptionStatus::Active, true).await;

    // February. At 00:30 on 1 February in Kyiv (still 31 January in UTC) an anonymous
    // ¥500 gift; mid-month ¥1,500 more.
    let jpy = Currency::JPY;
    record(app, &ledger_row(PaymentKind::Donation, "ch_anon_1", None, 500, jpy, 0, kyiv(2031, 2, 1, 0, 30)), None)
        .await;
    let feb = |d, h| kyiv(2031, 2, d, h, 0);
    set_clock(app, feb(10, 9));
    record(app, &ledger_row(PaymentKind::Donation, "ch_anon_2", None, 1500, jpy, 30, feb(10, 9)), None).await;
    // Bo upgrades (+€9), Cy downgrades (−€6), Ed's period ends (churn −€6, his choice).
    let b = Sub { amount: 1200, price: app.price_id("cocreator", "month", "eur").await, ..b };
    b.apply(app, SubscriptionStatus::Active, false).await;
    let c = Sub { amount: 600, price: app.price_id("supporter", "month", "eur").await, ..c };
    c.apply(app, SubscriptionStatus::Active, false).await;
    e.apply(app, SubscriptionStatus::Canceled, true).await;
    // Fa's renewal fails, then goes through; Gu's fails.
    f.apply(app, SubscriptionStatus::PastDue, false).await;
    g.apply(app, SubscriptionStatus::PastDue, false).await;
    f.apply(app, SubscriptionStatus::Active, false).await;
    for (s, fee) in [(&a, 30), (&b, 40), (&c, 30), (&f, 20), (&i, 30), (&k, 20)] {
        s.pay(app, &format!("in_{}_2", s.provider_id), fee, feb(10, 10)).await;
    }
    // Hu's January payment refunded in full, Ivy's €2 of hers.
    let mut refund = ledger_row(PaymentKind::Refund, "re_hu", Some(hu), -600, Currency::USD, 0, feb(12, 10));
    refund.charge_id = Some("ch_in_sub_hu_1".into());
    record(app, &refund, None).await;
    let mut refund = ledger_row(PaymentKind::Refund, "re_ivy", Some(ivy), -200, eur, 0, feb(12, 11));
    refund.charge_id = Some("ch_in_sub_ivy_1".into());
    record(app, &refund, None).await;
    // Jo's January payment disputed and lost; Ka's disputed and won (the €15 fee stays).
    let dispute = |id: &str, who, amount: i64, at| db::payments::NewPayment {
        settled: Settled { gross_minor: -amount, fee_minor: 1500, net_minor: -amount - 1500, currency: eur },
        ..ledger_row(PaymentKind::Dispute, id, Some(who), -amount, eur, 0, at)
    };
    record(app, &dispute("du_jo", jo, 1200, feb(14, 10)), None).await;
    record(app, &dispute("du_ka", ka, 300, feb(14, 11)), None).await;
    record(app, &ledger_row(PaymentKind::DisputeWon, "du_ka", Some(ka), 300, eur, 0, feb(24, 11)), None).await;

    // March. Gu's payments never went through: the subscription ends unpaid
    // (involuntary churn −€6). Ed comes back on the reader tier (reactivation +€3).
    // Ola joins (new +€3) and her next renewal fails: past due, in grace.
    let mar = |d, h| kyiv(2031, 3, d, h, 0);
    set_clock(app, mar(10, 9));
    g.apply(app, SubscriptionStatus::Unpaid, false).await;
    let e2 = Sub::new(app, "sub_ed_2", ed, "reader", "month", "eur", 300).await;
    e2.apply(app, SubscriptionStatus::Active, false).await;
    let o = Sub::new(app, "sub_ola", ola, "reader", "month", "eur", 300).await;
    o.apply(app, SubscriptionStatus::Active, false).await;
    // Ana's renewal is first booked without its charge (fee unknown), then completed.
    let mut early = ledger_row(PaymentKind::Subscription, "in_sub_ana_3", Some(ana), 600, eur, 0, mar(10, 10));
    early.charge_id = None;
    record(app, &early, Some("sub_ana")).await;
    for (s, fee) in
        [(&a, 30), (&b, 40), (&c, 30), (&f, 20), (&i, 30), (&j, 40), (&k, 20), (&e2, 20), (&o, 20), (&h, 30)]
    {
        s.pay(app, &format!("in_{}_3", s.provider_id), fee, mar(10, 10)).await;
    }
    record(app, &ledger_row(PaymentKind::Donation, "ch_lu_3", Some(lu), 1000, eur, 40, mar(11, 12)), None).await;
    set_clock(app, mar(18, 9));
    o.apply(app, SubscriptionStatus::PastDue, false).await;
    set_clock(app, mar(20, 12));
    // The patron emails this history caused go out, as the mail job would send them.
    app.drain_jobs().await;
}

const Q1: &str = "range=custom&from=2031-01&to=2031-03";

#[tokio::test]
async fn a_quarter_in_kyiv_adds_up_on_every_report_to_the_minor_unit() {
    let app = TestApp::builder().timezone(KYIV).spawn().await;
    quarter(&app).await;
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    let comp = [("email", "mo@example.org"), ("reason", "Contributor"), ("until", "")];
    admin.post_form("/admin/comps", &comp).send().await.assert_status(303);

    // MRR movements, worked out by hand (euros; contraction and churn are amounts lost):
    // January: ten new patrons: 6+3+12+5 (60/12)+6+3+6+6+12+3 = 62.
    // February: Bo +9, Cy −6, Ed −6 (voluntary) → 59.
    // March: Ola +3 new, Ed +3 reactivated, Gu −6 (involuntary) → 59.
    let r = admin.get(&format!("/admin/reports/mrr.csv?{Q1}")).send().await;
    r.assert_status(200);
    assert_eq!(r.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    let mrr = parse_csv(&r.body);
    assert_eq!(
        mrr[0][..9],
        ["month", "currency", "start", "new", "expansion", "reactivation", "contraction", "churn", "end"]
    );
    let eur = rows_for(&mrr, "EUR");
    assert_eq!(
        eur,
        vec![
            vec!["2031-01", "0.00", "62.00", "0.00", "0.00", "0.00", "0.00", "62.00", "10", "0", "0", "0"],
            vec!["2031-02", "62.00", "0.00", "9.00", "0.00", "6.00", "6.00", "59.00", "0", "0", "1", "0"],
            vec!["2031-03", "59.00", "3.00", "0.00", "3.00", "0.00", "6.00", "59.00", "1", "1", "0", "1"],
        ]
    );
    let usd = rows_for(&mrr, "USD");
    assert_eq!(usd[0], vec!["2031-01", "0.00", "6.00", "0.00", "0.00", "0.00", "0.00", "6.00", "1", "0", "0", "0"]);
    assert_eq!(usd[2][7], "6.00");
    assert!(rows_for(&mrr, "JPY").is_empty(), "gifts are not recurring revenue");
    // The last end is the subscriptions' MRR now (trial and comp count nothing).
    let (now_eur,): (i64,) =
        sqlx::query_as("select cast(sum(mrr_minor) as bigint) from subscriptions where currency = 'eur'")
            .fetch_one(app.db().read())
            .await
            .expect("sum");
    assert_eq!(now_eur, 5900);
    let page = admin.get(&format!("/admin/reports/mrr?{Q1}")).send().await;
    page.assert_status(200)
        .assert_contains("€59.00</strong> — equal to the last month")
        .assert_contains("<svg class=\"chart\"")
        .assert_contains("<desc id=\"waterfall-eur-d\">the range in EUR: start €0.00, new €65.00, expansion €9.00, reactivation €3.00, contraction €6.00, churn €12.00, end €59.00.</desc>");

    // Churn: February loses Ed (voluntary) of 10 patrons, March Gu (involuntary) of 9.
    // Revenue churn in February: (6 churned + 6 contracted) / 62 = 19.35 %; GRR (62 − 12) / 62
    // = 80.65 %; NRR adds Bo's 9: 95.16 %. March: 6 / 59 = 10.17 % lost, GRR = NRR = 89.83 %.
    let r = admin.get(&format!("/admin/reports/churn.csv?{Q1}")).send().await;
    r.assert_status(200);
    let churn = parse_csv(&r.body);
    assert_eq!(
        churn[0][..6],
        ["month", "currency", "patrons_start", "lost_voluntary", "lost_involuntary", "logo_churn_pct"]
    );
    // Then one column per cancel reason: nobody in this quarter answered the survey.
    let eur = rows_for(&churn, "EUR");
    assert!(eur.iter().all(|r| r[13..].iter().all(|n| *n == "0") && r.len() == 13 + 6), "{eur:?}");
    assert_eq!(
        eur.iter().map(|r| r[..13].to_vec()).collect::<Vec<_>>(),
        vec![
            vec!["2031-01", "0", "0", "0", "", "0.00", "0.00", "0.00", "0.00", "0.00", "", "", ""],
            vec![
                "2031-02", "10", "1", "0", "10.00", "62.00", "6.00", "0.00", "6.00", "9.00", "19.35", "80.65", "95.16"
            ],
            vec!["2031-03", "9", "0", "1", "11.11", "59.00", "0.00", "6.00", "0.00", "0.00", "10.17", "89.83", "89.83"],
            vec!["range", "0", "1", "1", "", "0.00", "6.00", "6.00", "6.00", "9.00", "", "", ""],
        ]
    );
    admin
        .get(&format!("/admin/reports/churn?{Q1}"))
        .send()
        .await
        .assert_status(200)
        .assert_contains("<td class=\"num\">19.4 %</td><td class=\"num\">80.6 %</td><td class=\"num\">95.2 %</td>")
        .assert_contains("<desc id=\"churn-eur-d\">");

    // Dunning: in February Fa and Gu go past due (€3 + €6 at stake) and Fa pays after all;
    // in March Gu is lost (€6) and Ola goes past due (€3), and is past due now: her grace
    // of 14 days ends on 1 April, shown at 10:00 as Kyiv is on summer time by then.
    let r = admin.get(&format!("/admin/reports/dunning.csv?{Q1}")).send().await;
    r.assert_status(200);
    let dunning = parse_csv(&r.body);
    assert_eq!(
        dunning[1..],
        [
            ["2031-01", "EUR", "0", "0.00", "0", "0.00", "0", "0.00"],
            ["2031-02", "EUR", "2", "9.00", "1", "3.00", "0", "0.00"],
            ["2031-03", "EUR", "1", "3.00", "0", "0.00", "1", "6.00"],
            ["range", "EUR", "3", "12.00", "1", "3.00", "1", "6.00"],
        ]
    );
    admin
        .get(&format!("/admin/reports/dunning?{Q1}"))
        .send()
        .await
        .assert_status(200)
        .assert_contains("ola@example.org</span></th><td class=\"num\">€3.00 / month</td><td class=\"num\">€3.00</td><td>2031-03-18 09:00</td><td class=\"num\">1</td><td>2031-03-18 09:00</td><td>2031-04-01 10:00</td>")
        .assert_not_contains("gu@example.org")
        .assert_contains("<td class=\"num\">50.0 %</td>");

    // Cohorts: January's ten euro patrons (€62) are nine in February (Ed left; €59 with Bo's
    // upgrade and Cy's downgrade) and nine in March (Gu lost, Ed back on €3: €56 = 90.32 %).
    let r = admin.get(&format!("/admin/reports/cohorts.csv?{Q1}")).send().await;
    r.assert_status(200);
    let cohorts = parse_csv(&r.body);
    assert_eq!(cohorts[0], ["cohort", "currency", "months_since", "patrons", "patrons_pct", "mrr", "mrr_pct"]);
    assert_eq!(
        cohorts[1..],
        [
            ["2031-01", "EUR", "0", "10", "100.00", "62.00", "100.00"],
            ["2031-01", "EUR", "1", "9", "90.00", "59.00", "95.16"],
            ["2031-01", "EUR", "2", "9", "90.00", "56.00", "90.32"],
            ["2031-03", "EUR", "0", "1", "100.00", "3.00", "100.00"],
            ["2031-01", "USD", "0", "1", "100.00", "6.00", "100.00"],
            ["2031-01", "USD", "1", "1", "100.00", "6.00", "100.00"],
            ["2031-01", "USD", "2", "1", "100.00", "6.00", "100.00"],
        ]
    );
    admin
        .get(&format!("/admin/reports/cohorts?{Q1}"))
        .send()
        .await
        .assert_status(200)
        .assert_contains("<th scope=\"row\">Jan 2031</th><td class=\"num\">10</td><td class=\"num\">€62.00</td><td class=\"num heat-5\" title=\"10 patrons\">100 %</td><td class=\"num heat-5\" title=\"9 patrons\">90 %</td>")
        .assert_contains("<td class=\"num heat-5\" title=\"€56.00\">90 %</td>");
    assert_cohorts_survive_a_rebuild(&app).await;

    // Revenue per settlement currency, by hand (cents):
    // January EUR: subscriptions 600+300+1200+6000+600+300+600+600+1200+300 = 11,700, fees
    // 360; gifts 2,500 + 1,000 (23:30 on the 31st in Kyiv) with fees 100 → net 14,740.
    // February EUR: subscriptions 600+1200+600+300+600+300 = 3,600, fees 170; refund −200;
    // disputes −1,200 and −300 withdrawn with 1,500 fees each, 300 reinstated → net −970.
    // March EUR: subscriptions 600+1200+600+300+600+1200+300+300+300 = 5,400, fees
    // 30+40+30+20+30+40+20+20+20 = 250 (Ana's completed with its fee: booked first with
    // none); a gift of 1,000, fee 40 → net 6,110.
    let r = admin.get(&format!("/admin/reports/revenue.csv?{Q1}")).send().await;
    r.assert_status(200);
    let revenue = parse_csv(&r.body);
    assert_eq!(
        revenue[0],
        [
            "month",
            "settlement_currency",
            "ledger_rows",
            "recurring",
            "one_time",
            "gross",
            "fees",
            "refunds",
            "disputes_withdrawn",
            "dispute_fees",
            "disputes_reinstated",
            "net"
        ]
    );
    assert_eq!(
        rows_for(&revenue, "EUR"),
        vec![
            vec!["2031-01", "12", "117.00", "35.00", "152.00", "4.60", "0.00", "0.00", "0.00", "0.00", "147.40"],
            vec!["2031-02", "10", "36.00", "0.00", "36.00", "1.70", "-2.00", "-15.00", "30.00", "3.00", "-9.70"],
            vec!["2031-03", "10", "54.00", "10.00", "64.00", "2.90", "0.00", "0.00", "0.00", "0.00", "61.10"],
            vec!["total", "32", "207.00", "45.00", "252.00", "9.20", "-2.00", "-15.00", "30.00", "3.00", "198.80"],
        ]
    );
    // The yen gift at 00:30 on 1 February in Kyiv is February's (it was 31 January in UTC).
    assert_eq!(
        rows_for(&revenue, "JPY"),
        vec![
            vec!["2031-01", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"],
            vec!["2031-02", "2", "0", "2000", "2000", "30", "0", "0", "0", "0", "1970"],
            vec!["2031-03", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"],
            vec!["total", "2", "0", "2000", "2000", "30", "0", "0", "0", "0", "1970"],
        ]
    );
    assert_eq!(
        rows_for(&revenue, "USD")[3],
        vec!["total", "3", "12.00", "0.00", "12.00", "0.60", "-6.00", "0.00", "0.00", "0.00", "5.40"]
    );
    // Reconciled: the totals are the ledger's own sums over the same instants.
    let (start, end) = (kyiv(2031, 1, 1, 0, 0), kyiv(2031, 4, 1, 0, 0) - HOUR);
    let sums: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "select settlement_currency, count(*), cast(sum(fee_minor) as bigint), cast(sum(net_minor) as bigint)
         from payments where occurred_at >= $1 and occurred_at < $2 group by settlement_currency order by settlement_currency",
    )
    .bind(start)
    .bind(end)
    .fetch_all(app.db().read())
    .await
    .expect("sums");
    assert_eq!(
        sums,
        vec![("eur".into(), 32, 920 + 3000, 19880), ("jpy".into(), 2, 30, 1970), ("usd".into(), 3, 60, 540)]
    );
    let page = admin.get(&format!("/admin/reports/revenue?{Q1}")).send().await;
    page.assert_status(200)
        .assert_contains("sums of the 32 ledger rows settled in EUR")
        .assert_contains("id=\"net-total-EUR\">€198.80</td>")
        .assert_contains("<desc id=\"revenue-eur-d\">");

    // The aggregates kept in each writing transaction equal a rebuild from the ledger.
    assert_aggregates_match_the_ledger(&app).await;

    // The dashboard, this month (March) against February, in euros.
    let dash = admin.get("/admin").send().await;
    dash.assert_status(200)
        .assert_contains("Mar 2031 in EUR")
        .assert_contains("<span class=\"stat\" id=\"mrr-now\">€59.00</span>")
        .assert_contains("<span class=\"stat\" id=\"arr-now\">€708.00</span>")
        .assert_contains("last month €59.00")
        .assert_contains("<span class=\"stat\" id=\"net-now\">€61.10</span>")
        .assert_contains("last month -€9.70")
        .assert_contains("<span class=\"stat\" id=\"donations-now\">€10.00</span>")
        .assert_contains("<span id=\"donors-now\">1</span>")
        // Paying: Ana, Bo, Cy, Di, Ed, Fa, Ivy, Jo, Ka (euros) and Hu (dollars); Ola past due;
        // Mo comped. Nia's trial and Gu (unpaid) are not patrons.
        .assert_contains("<span class=\"stat\" id=\"patrons-paying\">10</span>")
        .assert_contains("<span class=\"stat\" id=\"patrons-past-due\">1</span>")
        .assert_contains("<span class=\"stat\" id=\"patrons-comped\">1</span>")
        .assert_contains("aria-label=\"Currency\"")
        .assert_contains("href=\"/admin?currency=JPY\"")
        .assert_contains("<desc id=\"mrr36-d\">")
        .assert_contains("<desc id=\"waterfall12-d\">")
        .assert_contains("<desc id=\"patrons-d\">Patrons gained (new and returning) and lost per month over the last 12 months: 12 gained, 2 lost.</desc>");
    let yen = admin.get("/admin?currency=jpy").send().await;
    yen.assert_status(200).assert_contains("Mar 2031 in JPY").assert_contains("last month ¥2000, 2 gifts");

    // Exports are in the audit log.
    let exports = app.count("select count(*) from audit_log where action = 'report.export'").await;
    assert_eq!(exports, 5);
    app.deliver_mail().await;
}

/// month, kind, currency, settlement currency, rows, gross, settled gross, fee, net
type LedgerMonthRow = (String, String, String, String, i64, i64, i64, i64, i64);

pub(crate) async fn assert_aggregates_match_the_ledger(app: &TestApp) {
    // The members per standing the dashboard counts from, kept by a trigger.
    let kept: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "select sub_rank, paying, deleted, members from standing_counts where members <> 0 order by 1, 2, 3",
    )
    .fetch_all(app.db().read())
    .await
    .expect("kept");
    let counted: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "select sub_rank, case when sub_mrr_minor > 0 then 1 else 0 end, case when deleted_at is null then 0 else 1 end,
             count(*) from members group by 1, 2, 3 order by 1, 2, 3",
    )
    .fetch_all(app.db().read())
    .await
    .expect("counted");
    assert_eq!(kept, counted, "standing_counts agrees with the members");
    let kept: Vec<LedgerMonthRow> = sqlx::query_as(
        "select month, kind, currency, settlement_currency, rows_count, gross_minor, settlement_gross_minor, fee_minor, net_minor
         from ledger_monthly where rows_count <> 0 order by month, kind, currency, settlement_currency",
    )
    .fetch_all(app.db().read())
    .await
    .expect("kept");
    let rebuilt: Vec<LedgerMonthRow> = sqlx::query_as(
        "select m.month, p.kind, p.currency, p.settlement_currency, count(*), cast(sum(p.gross_minor) as bigint),
             cast(sum(p.settlement_gross_minor) as bigint), cast(sum(p.fee_minor) as bigint), cast(sum(p.net_minor) as bigint)
         from payments p join report_months m on p.occurred_at >= m.starts_at and p.occurred_at < m.ends_at
         group by m.month, p.kind, p.currency, p.settlement_currency order by 1, 2, 3, 4",
    )
    .fetch_all(app.db().read())
    .await
    .expect("rebuilt");
    assert!(!kept.is_empty());
    assert_eq!(kept, rebuilt);
    let kept: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
        "select month, currency, kind, involuntary, movements, delta_minor from mrr_monthly order by 1, 2, 3, 4",
    )
    .fetch_all(app.db().read())
    .await
    .expect("kept");
    let rebuilt: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
        "select m.month, v.currency, v.kind, v.involuntary, count(*), cast(sum(v.delta_minor) as bigint)
         from mrr_movements v join report_months m on v.occurred_at >= m.starts_at and v.occurred_at < m.ends_at
         group by m.month, v.currency, v.kind, v.involuntary order by 1, 2, 3, 4",
    )
    .fetch_all(app.db().read())
    .await
    .expect("rebuilt");
    assert_eq!(kept, rebuilt);
}

/// The cohorts kept movement by movement, and the donors gift by gift, equal a
/// rebuild from every movement and gift.
async fn assert_cohorts_survive_a_rebuild(app: &TestApp) {
    let cohorts = async || -> Vec<(String, String, String, i64, i64)> {
        sqlx::query_as(
            "select cohort, month, currency, patrons_delta, mrr_delta from cohort_monthly
             where patrons_delta <> 0 or mrr_delta <> 0 order by 1, 2, 3",
        )
        .fetch_all(app.db().read())
        .await
        .expect("cohorts")
    };
    let donors = async || -> Vec<(String, String, String, i64)> {
        sqlx::query_as("select month, currency, donor, gifts from donor_monthly order by 1, 2, 3")
            .fetch_all(app.db().read())
            .await
            .expect("donors")
    };
    let amounts = async || -> Vec<(String, String, i64, i64)> {
        sqlx::query_as(
            "select month, currency, amount_minor, gifts from donation_amounts_monthly where gifts <> 0 order by 1, 2, 3",
        )
        .fetch_all(app.db().read())
        .await
        .expect("amounts")
    };
    let kept = cohorts().await;
    let kept_donors = donors().await;
    let kept_amounts = amounts().await;
    assert!(!kept.is_empty() && !kept_donors.is_empty() && !kept_amounts.is_empty());
    let mut elsewhere = app.ctx.clone();
    elsewhere.zone = patronage::domain::Zone::parse("Pacific/Kiritimati").expect("a zone");
    patronage::services::reports::prepare(&elsewhere).await.expect("rebuilt elsewhere");
    patronage::services::reports::prepare(&app.ctx).await.expect("rebuilt here");
    assert_eq!(cohorts().await, kept);
    assert_eq!(donors().await, kept_donors);
    assert_eq!(amounts().await, kept_amounts);
}

#[tokio::test]
async fn changing_the_newsroom_time_zone_rebuilds_the_months() {
    let app = TestApp::builder().timezone(KYIV).spawn().await;
    // 22:30 UTC on 31 January: February in Kyiv, January in UTC.
    set_clock(&app, kyiv(2031, 2, 3, 9, 0));
    record(
        &app,
        &ledger_row(PaymentKind::Donation, "ch_edge", None, 500, Currency::JPY, 0, kyiv(2031, 2, 1, 0, 30)),
        None,
    )
    .await;
    let month_of_gift = async |app: &TestApp| {
        let (m,): (String,) =
            sqlx::query_as("select month from ledger_monthly where currency = 'jpy' and rows_count > 0")
                .fetch_one(app.db().read())
                .await
                .expect("one month");
        m
    };
    assert_eq!(month_of_gift(&app).await, "2031-02");
    let mut utc = app.ctx.clone();
    utc.zone = patronage::domain::Zone::utc();
    patronage::services::reports::prepare(&utc).await.expect("rebuilt");
    assert_eq!(month_of_gift(&app).await, "2031-01");
    assert_aggregates_match_the_ledger(&app).await;
    assert_donor_counts_match(&app).await;
    patronage::services::reports::prepare(&app.ctx).await.expect("rebuilt");
    assert_eq!(month_of_gift(&app).await, "2031-02");
}

async fn assert_refused(browser: &TestClient, path: &str, message: &str) {
    let r = browser.get(path).send().await;
    r.assert_status(400).assert_contains("This range cannot be shown").assert_contains(message);
}

#[tokio::test]
async fn bad_ranges_and_unknown_parameters_get_a_clear_400_never_a_500() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    let reports = ["mrr", "churn", "dunning", "cohorts", "revenue", "votes", "tiers", "donations"];
    for report in reports.iter().flat_map(|r| [format!("/admin/reports/{r}"), format!("/admin/reports/{r}.csv")]) {
        assert_refused(
            &admin,
            &format!("{report}?range=custom&from=2026-06&to=2026-02"),
            "starts (2026-06) after it ends (2026-02)",
        )
        .await;
        assert_refused(&admin, &format!("{report}?range=custom&from=2026-01&to=2099-01"), "after this month").await;
        assert_refused(&admin, &format!("{report}?range=custom&from=0000-01&to=2026-01"), "is not a month").await;
        assert_refused(&admin, &format!("{report}?range=custom&from=2026-02-30x&to=2026-03"), "is not a month").await;
        assert_refused(&admin, &format!("{report}?range=fortnight"), "Unknown range").await;
        assert_refused(&admin, &format!("{report}?range=custom&from=2026-01"), "needs both").await;
        assert_refused(&admin, &format!("{report}?range=12m&currency=eur"), "Unknown parameter “currency”").await;
        assert_refused(&admin, &format!("{report}?range=12m&range=all"), "given twice").await;
        assert_refused(&admin, &format!("{report}?%3Cscript%3E=1"), "Unknown parameter “&lt;script&gt;”").await;
        for ok in ["", "?range=30d", "?range=12m", "?range=all", "?range=custom&from=2025-01-15&to=2025-12"] {
            admin.get(&format!("{report}{ok}")).send().await.assert_status(200);
        }
    }
    // With no payments at all the dashboard still shows its (empty) charts.
    admin.get("/admin").send().await.assert_status(200).assert_contains("<desc id=\"mrr36-d\">");
    admin.get("/admin?currency=euro").send().await.assert_status(400).assert_contains("Unknown currency");
    admin.get("/admin?page=2").send().await.assert_status(400).assert_contains("Unknown parameter “page”");
    assert_eq!(
        app.count("select count(*) from audit_log where action = 'report.export'").await,
        40,
        "only exports that ran: 5 good ranges for each of the 8 exports"
    );
}

#[tokio::test]
async fn editors_see_votes_but_no_revenue_and_analysts_read_without_changing() {
    let app = TestApp::builder().timezone(KYIV).spawn().await;
    quarter(&app).await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let mut paths = vec!["/admin/reports".to_string()];
    for r in ["mrr", "churn", "dunning", "cohorts", "revenue", "votes", "tiers", "donations"] {
        paths.push(format!("/admin/reports/{r}"));
        paths.push(format!("/admin/reports/{r}.csv"));
    }
    for path in &paths {
        editor.get(path).send().await.assert_status(403);
    }
    let dash = editor.get("/admin").send().await;
    dash.assert_status(200)
        .assert_contains("Votes")
        .assert_not_contains("MRR")
        .assert_not_contains("€")
        .assert_not_contains("net revenue")
        .assert_not_contains("href=\"/admin/reports\"");
    assert_eq!(app.count("select count(*) from audit_log where action = 'staff.refused'").await, paths.len() as i64);

    let analyst = staff(&app, "analyst@news.test", Role::Analyst).await;
    analyst.get("/admin").send().await.assert_status(200).assert_contains("id=\"mrr-now\">€59.00");
    analyst.get(&format!("/admin/reports/mrr?{Q1}")).send().await.assert_status(200);
    let csv = analyst.get(&format!("/admin/reports/revenue.csv?{Q1}")).send().await;
    csv.assert_status(200);
    // Amounts are numbers a spreadsheet reads as numbers: a negative one is not
    // mistaken for a formula and prefixed.
    assert!(csv.body.contains("\"-9.70\""), "{}", csv.body);
    assert!(!csv.body.contains("'-"), "{}", csv.body);
    // Read only: no comps, no tier changes.
    analyst.post_form("/admin/comps", &[("email", "ana@example.org"), ("days", "30")]).send().await.assert_status(403);
    let (who,): (String,) = sqlx::query_as("select actor_email from audit_log where action = 'report.export'")
        .fetch_one(app.db().read())
        .await
        .expect("the export is audited");
    assert_eq!(who, "analyst@news.test");
}

#[tokio::test]
async fn the_waterfall_identity_and_ledger_reconciliation_hold_on_the_demo_data() {
    let app = TestApp::spawn().await;
    patronage::services::demo_data::generate(
        &app.ctx,
        patronage::services::demo_data::Options { members: 300, months: 18, seed: 11 },
    )
    .await
    .expect("demo data");
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    assert!(assert_mrr_identity(&app, &admin).await > 18);
    let cents = |s: &str| -> i64 { (s.parse::<f64>().expect("a number") * 100.0).round() as i64 };
    let revenue = parse_csv(&admin.get("/admin/reports/revenue.csv?range=all").send().await.body);
    let totals: Vec<(String, i64, i64)> = revenue[1..]
        .iter()
        .filter(|r| r[0] == "total")
        .map(|r| (r[1].to_lowercase(), r[2].parse().expect("rows"), cents(&r[11])))
        .collect();
    let ledger: Vec<(String, i64, i64)> = sqlx::query_as(
        "select settlement_currency, count(*), cast(sum(net_minor) as bigint) from payments group by settlement_currency order by 1",
    )
    .fetch_all(app.db().read())
    .await
    .expect("ledger");
    assert!(!ledger.is_empty());
    assert_eq!(totals, ledger);
    assert_aggregates_match_the_ledger(&app).await;
    assert_cohorts_survive_a_rebuild(&app).await;
    // The demo's failed renewals: some recovered, some lost (and their churn involuntary).
    let dunning = parse_csv(&admin.get("/admin/reports/dunning.csv?range=all").send().await.body);
    let total = |col: usize| {
        dunning[1..].iter().filter(|r| r[0] == "range").map(|r| r[col].parse::<i64>().expect("n")).sum::<i64>()
    };
    assert!(total(4) > 0 && total(6) > 0, "{dunning:?}");
    let involuntary = app.count("select count(*) from mrr_movements where kind = 'churn' and involuntary = 1").await;
    assert_eq!(involuntary, total(6), "every lost subscription is an involuntary churn");
    admin.get("/admin").send().await.assert_status(200).assert_contains("<svg class=\"chart\"");
    admin.get("/admin/reports/cohorts?range=all").send().await.assert_status(200).assert_contains("heat-5");
}

/// Topics, a round and its votes as the voting pages would have stored them.
async fn votes_in_the_quarter(app: &TestApp) {
    let pool = app.db().read();
    let topic = async |id: &str, title: &str, covered_at: i64| {
        sqlx::query(
            "insert into topics (id, title, status, covered_at, created_at, updated_at) values ($1, $2, 'covered', $3, $4, $4)",
        )
        .bind(id)
        .bind(title)
        .bind(covered_at)
        .bind(kyiv(2031, 1, 20, 9, 0))
        .execute(pool)
        .await
        .expect("topic");
    };
    topic("t-harbour", "Who owns the harbour?", kyiv(2031, 3, 1, 12, 0)).await;
    topic("t-formula", "=HYPERLINK(\"http://evil\") and «трамваї»", kyiv(2031, 2, 20, 12, 0)).await;
    sqlx::query(
        "insert into rounds (id, title, opens_at, closes_at, closed_at, created_at, updated_at)
         values ('r-winter', 'What next, winter?', $1, $2, $2, $1, $2)",
    )
    .bind(kyiv(2031, 1, 25, 9, 0))
    .bind(kyiv(2031, 2, 5, 9, 0))
    .execute(pool)
    .await
    .expect("round");
    for t in ["t-harbour", "t-formula"] {
        sqlx::query("insert into round_topics (round_id, topic_id) values ('r-winter', $1)")
            .bind(t)
            .execute(pool)
            .await
            .expect("on the ballot");
    }
    let votes = [
        ("ana", "t-harbour"),
        ("bo", "t-harbour"),
        ("gu", "t-harbour"),
        ("nia", "t-harbour"),
        ("ed", "t-formula"),
        ("ana", "t-formula"),
    ];
    for (who, t) in votes {
        sqlx::query(
            "insert into votes (id, round_id, topic_id, member_id, weight, created_at)
             select $1, 'r-winter', $2, id, 1, $3 from members where email = $4",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(t)
        .bind(kyiv(2031, 1, 28, 12, 0))
        .bind(format!("{who}@example.org"))
        .execute(pool)
        .await
        .expect("vote");
    }
    // The patron emails this history caused go out, as the mail job would send them.
    app.drain_jobs().await;
}

#[tokio::test]
async fn covered_topics_show_their_patron_voters_and_who_joined_after_and_rounds_their_turnout_by_tier() {
    let app = TestApp::builder().timezone(KYIV).spawn().await;
    quarter(&app).await;
    votes_in_the_quarter(&app).await;
    let analyst = staff(&app, "analyst@news.test", Role::Analyst).await;
    // The harbour: Ana, Bo and Gu were patrons when they voted on 28 January, Nia was on a
    // trial; their MRR now: Ana €6 + Bo €12 (Gu lost) = €18. After it was covered on
    // 1 March, Ola joined (Ed came back, which is not joining). The other topic: Ed and
    // Ana, both patrons; now Ed €3 + Ana €6; Ola joined within 30 days of 20 February.
    let page = analyst.get(&format!("/admin/reports/votes?{Q1}")).send().await;
    page.assert_status(200)
        .assert_contains("Who owns the harbour?</a></th><td>2031-03-01</td><td class=\"num\">4</td><td class=\"num\">3</td><td class=\"num\">€18.00</td><td class=\"num\">1</td>")
        .assert_contains("=HYPERLINK(&quot;http://evil&quot;) and «трамваї»</a></th><td>2031-02-20</td><td class=\"num\">2</td><td class=\"num\">2</td><td class=\"num\">€9.00</td><td class=\"num\">1</td>");
    // Turnout at the close on 5 February, by each subscription's tier now: supporters Ana,
    // Cy (downgraded since), Di, Ed, Gu, Ivy and Hu (7; Ana, Ed and Gu voted: 42.9 %);
    // co-creators Bo (upgraded since) and Jo (Bo voted: 50 %); readers Fa and Ka (none).
    for (tier, patrons, voted, share) in
        [("Supporter", 7, 3, "42.9 %"), ("Co-creator", 2, 1, "50.0 %"), ("Reader", 2, 0, "0.0 %")]
    {
        page.assert_contains(&format!(
            "<td>{tier}</td><td class=\"num\">{patrons}</td><td class=\"num\">{voted}</td><td class=\"num\">{share}</td>"
        ));
    }
    page.assert_contains("<td>Not a patron</td><td class=\"num\">–</td><td class=\"num\">1</td>");
    // The export keeps the title as text, a formula neutralised; the dashboard lists both.
    let csv = analyst.get(&format!("/admin/reports/votes.csv?{Q1}")).send().await;
    csv.assert_status(200);
    let rows = parse_csv(&csv.body);
    assert_eq!(
        rows[0],
        [
            "topic_id",
            "topic",
            "covered_on",
            "voters",
            "patron_voters",
            "voters_mrr_now",
            "patrons_joined_within_30_days"
        ]
    );
    assert_eq!(rows[1], ["t-harbour", "Who owns the harbour?", "2031-03-01", "4", "3", "18.00 EUR", "1"]);
    assert_eq!(
        rows[2],
        ["t-formula", "'=HYPERLINK(\"http://evil\") and «трамваї»", "2031-02-20", "2", "2", "9.00 EUR", "1"]
    );
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    editor.get(&format!("/admin/reports/votes?{Q1}")).send().await.assert_status(403);
    editor
        .get("/admin")
        .send()
        .await
        .assert_status(200)
        .assert_contains("<th scope=\"row\">Who owns the harbour?</th><td>2031-03-01</td><td class=\"num\">4</td><td class=\"num\">3</td>");
}

/// The CSV row of `csv` whose first cells are `first`.
fn row_starting<'a>(csv: &'a [Vec<String>], first: &[&str]) -> Vec<&'a str> {
    let row = csv
        .iter()
        .find(|r| r.iter().zip(first).all(|(a, b)| a == b))
        .unwrap_or_else(|| panic!("no row starting {first:?} in {csv:?}"));
    row.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn tiers_and_donations_of_the_quarter_worked_out_by_hand() {
    let app = TestApp::builder().timezone(KYIV).spawn().await;
    quarter(&app).await;
    // Lu, who gave three times, chose a public name; the anonymous gifts have none.
    let (lu,): (String,) = sqlx::query_as("select id from members where email = 'lu@example.org'")
        .fetch_one(app.db().read())
        .await
        .expect("lu");
    let lu: MemberId = lu.parse().expect("an id");
    let mut w = app.db().write().await.expect("a writer");
    db::members::update_profile(&mut *w, lu, Some("Lu"), Some("Lu from Lviv"), Locale::En).await.expect("profile");
    drop(w);
    let analyst = staff(&app, "analyst@news.test", Role::Analyst).await;

    // Tiers at 12:00 on 20 March, by the tier each subscription has now (euros):
    // Reader/month: Fa, Ka (69 d 2 h), Ed's second, Ola (past due, in grace; 10 d 2 h): 4 × €3.
    // Supporter/month: Ana, Cy (down from Co-creator), Ivy pay €6; Ed's first ended on
    //   10 Feb 09:00 (30 d 23 h after paying), Gu's was left unpaid on 10 Mar 09:00
    //   (58 d 23 h): finished lifetime 44 d 23 h = 1.477 months → LTV €6 × 1.477 = €8.86.
    //   Tenure: three live for 69 d 2 h and the two ended: 59.43 d = 1.95 months.
    // Supporter/year: Di, €60 / 12 = €5. Co-creator/month: Bo (up from Reader), Jo: 2 × €12.
    let tiers = parse_csv(&analyst.get(&format!("/admin/reports/tiers.csv?{Q1}")).send().await.body);
    assert_eq!(
        tiers[0],
        [
            "tier",
            "interval",
            "currency",
            "patrons",
            "mrr",
            "arpu",
            "average_tenure_months",
            "average_lifetime_months",
            "lifetime_value",
            "joined_in_range",
            "ended_in_range"
        ]
    );
    let eur = |tier, interval| row_starting(&tiers, &[tier, interval, "EUR"]);
    assert_eq!(eur("Reader", "month")[3..], ["4", "12.00", "3.00", "1.30", "", "", "4", "0"]);
    assert_eq!(eur("Supporter", "month")[3..], ["3", "18.00", "6.00", "1.95", "1.48", "8.86", "5", "2"]);
    assert_eq!(eur("Supporter", "year")[3..], ["1", "5.00", "5.00", "2.27", "", "", "1", "0"]);
    assert_eq!(eur("Co-creator", "month")[3..], ["2", "24.00", "12.00", "2.27", "", "", "2", "0"]);
    // The total's MRR is the MRR report's ending €59; ARPU €5.90; LTV €5.90 × 1.477; tenure:
    // eight live for 69 d 2 h, two for 10 d 2 h and the two ended: 55.23 d = 1.81 months.
    assert_eq!(eur("total", "")[3..], ["10", "59.00", "5.90", "1.81", "1.48", "8.71", "12", "2"]);
    assert_eq!(row_starting(&tiers, &["Supporter", "month", "USD"])[3..6], ["1", "6.00", "6.00"]);
    assert!(!tiers.iter().any(|r| r[0] == "Supporter" && r[2] == "EUR" && r[1] == "month" && r[3] == "4"));

    let page = analyst.get(&format!("/admin/reports/tiers?{Q1}")).send().await;
    page.assert_status(200)
        .assert_contains("<desc id=\"tiers-eur-d\">")
        // Bo's upgrade and Cy's downgrade in February.
        .assert_contains(
            "<th scope=\"row\">Reader (month)</th><td>Co-creator (month)</td><td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">€9.00</td>",
        )
        .assert_contains(
            "<th scope=\"row\">Co-creator (month)</th><td>Supporter (month)</td><td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">-€6.00</td>",
        );
    // March alone: nobody changed tier, Ola and Ed's second subscription joined, Gu's ended.
    let march =
        parse_csv(&analyst.get("/admin/reports/tiers.csv?range=custom&from=2031-03&to=2031-03").send().await.body);
    assert_eq!(row_starting(&march, &["total", "", "EUR"])[9..], ["2", "1"]);
    analyst
        .get("/admin/reports/tiers?range=custom&from=2031-03&to=2031-03")
        .send()
        .await
        .assert_contains("No patron changed tier or interval in this range.");

    // Donations. Euros: Lu gave €25 and €10 in January (the €10 at 23:30 on the 31st in
    // Kyiv) and €10 in March. Memberships paid in euros: €117 in January, €36 in
    // February, €54 in March. Yen: two anonymous gifts in February (the ¥500 at 00:30
    // on 1 February in Kyiv, still January in UTC), two donors.
    let gifts = parse_csv(&analyst.get(&format!("/admin/reports/donations.csv?{Q1}")).send().await.body);
    assert_eq!(
        gifts[0],
        [
            "month",
            "currency",
            "gifts",
            "donors",
            "repeat_donors",
            "one_time",
            "recurring",
            "one_time_share_percent",
            "average_gift",
            "median_gift"
        ]
    );
    let in_eur = rows_for(&gifts, "EUR");
    assert_eq!(
        in_eur,
        [
            vec!["2031-01", "2", "1", "", "35.00", "117.00", "23.03", "17.50", "17.50"],
            vec!["2031-02", "0", "0", "", "0.00", "36.00", "0.00", "", ""],
            // 10 / 64 = 15.625 %: percentages are written to two places, a tie to the even digit.
            vec!["2031-03", "1", "1", "", "10.00", "54.00", "15.62", "10.00", "10.00"],
            vec!["total", "3", "1", "1", "45.00", "207.00", "17.86", "15.00", "10.00"],
        ]
    );
    assert_eq!(
        rows_for(&gifts, "JPY"),
        [
            vec!["2031-01", "0", "0", "", "0", "0", "", "", ""],
            vec!["2031-02", "2", "2", "", "2000", "0", "100.00", "1000", "1000"],
            vec!["2031-03", "0", "0", "", "0", "0", "", "", ""],
            vec!["total", "2", "2", "0", "2000", "0", "100.00", "1000", "1000"],
        ]
    );
    assert!(rows_for(&gifts, "USD").is_empty(), "dollars only paid memberships");
    let page = analyst.get(&format!("/admin/reports/donations?{Q1}")).send().await;
    page.assert_status(200)
        .assert_contains("Donors in this range: 1, of whom 1 gave more than once; gifts: 3.")
        .assert_contains("<td class=\"num\">€25.00</td><td>2031-01-15 12:00</td><td>Lu from Lviv</td>")
        .assert_contains(
            "<td class=\"num\">¥1500</td><td>2031-02-10 09:00</td><td><span class=\"hint\">not shown</span></td>",
        )
        .assert_not_contains("lu@example.org");
    // March alone is read from its donor-months, not from the all-time counts.
    analyst
        .get("/admin/reports/donations?range=custom&from=2031-03&to=2031-03")
        .send()
        .await
        .assert_contains("Donors in this range: 1, of whom 0 gave more than once; gifts: 1.");
    assert_donor_counts_match(&app).await;
    // Anonymous gifts are donors of their own, counted from the ledger: no row each.
    assert_eq!(app.count("select count(*) from donor_monthly where currency = 'jpy'").await, 0);
    // What the report reads, kept gift by gift, equals a rebuild (a change of time zone).
    assert_cohorts_survive_a_rebuild(&app).await;
    analyst
        .get(&format!("/admin/reports/donations?{Q1}"))
        .send()
        .await
        .assert_contains("Donors in this range: 1, of whom 1 gave more than once; gifts: 3.");
    assert_donor_counts_match(&app).await;
}

/// The donor counts the triggers keep (migration 0028) equal what donor_monthly says.
async fn assert_donor_counts_match(app: &TestApp) {
    let rows = async |sql: &'static str| -> Vec<(String, String, i64, i64)> {
        sqlx::query_as(sql).fetch_all(app.db().read()).await.expect("counts")
    };
    assert_eq!(
        rows("select month, currency, donors, gifts from donor_month_counts order by month, currency").await,
        rows(
            "select month, currency, count(*), cast(sum(gifts) as bigint) from donor_monthly
             group by month, currency order by month, currency"
        )
        .await
    );
    let totals = async |sql: &'static str| -> Vec<(String, i64, i64, i64)> {
        sqlx::query_as(sql).fetch_all(app.db().read()).await.expect("totals")
    };
    assert_eq!(
        totals("select currency, donors, repeat_donors, gifts from donor_counts order by currency").await,
        totals(
            "select currency, count(*), cast(sum(case when gifts > 1 then 1 else 0 end) as bigint),
                    cast(sum(gifts) as bigint)
             from (select currency, donor, sum(gifts) as gifts from donor_monthly group by currency, donor) d
             group by currency order by currency"
        )
        .await
    );
}

#[tokio::test]
async fn a_cancellation_applied_late_counts_in_the_month_the_subscription_ended() {
    let app = TestApp::builder().timezone(KYIV).spawn().await;
    set_clock(&app, kyiv(2031, 1, 10, 9, 0));
    let ana = member(&app, "ana@example.org").await;
    let sub = Sub::new(&app, "sub_late", ana, "supporter", "month", "eur", 600).await;
    sub.apply(&app, SubscriptionStatus::Active, false).await;
    sub.pay(&app, "in_late_1", 30, kyiv(2031, 1, 10, 10, 0)).await;
    // It ended at 23:00 on 31 January in Kyiv; the event is applied on 3 February.
    set_clock(&app, kyiv(2031, 2, 3, 9, 0));
    sub.ended_at(&app, kyiv(2031, 1, 31, 23, 0)).await;
    app.drain_jobs().await;
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    let mrr = parse_csv(&admin.get("/admin/reports/mrr.csv?range=custom&from=2031-01&to=2031-02").send().await.body);
    let eur = rows_for(&mrr, "EUR");
    // month, start, new, expansion, reactivation, contraction, churn, end
    assert_eq!(eur[0][..8], ["2031-01", "0.00", "6.00", "0.00", "0.00", "0.00", "6.00", "0.00"]);
    assert_eq!(eur[1][..8], ["2031-02", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00"]);
}
