//! Every cent right: the ledger mirrors Stripe's balance transactions. Stripe is
//! the loopback mock serving Stripe-shaped objects (card payments name their
//! PaymentIntent, refunds and disputes carry balance transactions), and every
//! event is signed with the real scheme and applied to completion.
use crate::helpers::TestApp;

#[tokio::test]
async fn three_decimal_currencies_keep_thousandths() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let (tier,): (String,) =
        sqlx::query_as("select id from tiers where slug = 'supporter'").fetch_one(app.db().pool()).await.expect("tier");
    sqlx::query("insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, stripe_price_id, created_at) values ('kwd-price', $1, 'month', 'kwd', 2500, 0, 'price_kwd', 0)")
        .bind(&tier)
        .execute(app.db().pool())
        .await
        .expect("a dinar price");
    app.new_browser().get("/").send().await.assert_contains("2.500 KWD a month").assert_not_contains("25.00 KWD");
}
