//! Stripe through async-stripe. Every call takes an idempotency key derived from
//! our own ids where a retry could otherwise create a second object.
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::{Invoice, Subscription};
use stripe_checkout::CheckoutSessionMode;
use stripe_checkout::checkout_session::RetrieveCheckoutSession;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionDiscounts, CreateCheckoutSessionLineItems,
    CreateCheckoutSessionLineItemsPriceData, CreateCheckoutSessionLineItemsPriceDataRecurring,
    CreateCheckoutSessionLineItemsPriceDataRecurringInterval, CreateCheckoutSessionPaymentIntentData,
    CreateCheckoutSessionSubscriptionData, ProductData,
};
use stripe_client_core::{CustomizableStripeRequest, RequestBuilder, StripeMethod};
use stripe_core::PaymentIntent;
use stripe_core::balance_transaction::RetrieveBalanceTransaction;
use stripe_core::charge::RetrieveCharge;
use stripe_core::customer::CreateCustomer;
use stripe_core::dispute::RetrieveDispute;
use stripe_core::refund::{ListRefund, RetrieveRefund};
use stripe_product::price::{CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval};
use stripe_product::product::CreateProduct;
use stripe_types::List;

use crate::domain::{
    AmountOff, Currency, Interval, MemberId, Money, Offer, OfferBenefit, OfferRef, Pause, PauseBehavior, PaymentCard,
    RawSource, Settled, Source, SubscriptionState, SubscriptionStatus, TopicId,
};

/// Metadata key on every Stripe object we create: only those count as ours.
pub const OWNER_KEY: &str = "patronage";

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("Stripe: {0}")]
    Stripe(String),
    #[error("Stripe returned something we cannot use: {0}")]
    Unexpected(String),
}

impl From<stripe::StripeError> for GatewayError {
    fn from(e: stripe::StripeError) -> Self {
        Self::Stripe(e.to_string())
    }
}

#[derive(Clone)]
pub struct StripeGateway {
    client: Client,
}

impl std::fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StripeGateway")
    }
}

fn key(value: String) -> Result<RequestStrategy, GatewayError> {
    let key = IdempotencyKey::new(value).map_err(|e| GatewayError::Unexpected(format!("idempotency key: {e:?}")))?;
    Ok(RequestStrategy::Idempotent(key))
}

fn stripe_currency(currency: Currency) -> Result<stripe_types::Currency, GatewayError> {
    stripe_types::Currency::from_str(currency.as_str())
        .map_err(|_| GatewayError::Unexpected(format!("currency {currency}")))
}

/// Stripe's currency as ours: read at the edge, so nothing below stores a code
/// that is not one.
fn our_currency(currency: &stripe_types::Currency) -> Result<Currency, GatewayError> {
    let code = currency.to_string();
    Currency::parse(&code).map_err(|_| GatewayError::Unexpected(format!("currency {code:?}")))
}

fn ours() -> HashMap<String, String> {
    HashMap::from([(OWNER_KEY.to_string(), "1".to_string())])
}

/// Where the reader came from, as metadata (`article`, `referrer`, `utm_source`,
/// `utm_medium`, `utm_campaign`; each value at most 500 characters, as Stripe allows).
fn add_source(metadata: &mut HashMap<String, String>, source: Option<&Source>) {
    for (key, value) in source.map(Source::pairs).unwrap_or_default() {
        metadata.insert(key.to_string(), value.to_string());
    }
}

/// The source our metadata carries (unchecked: billing parses it), if any.
fn source_of(metadata: &HashMap<String, String>) -> Option<RawSource> {
    if !metadata.contains_key(OWNER_KEY) {
        return None;
    }
    let raw = RawSource::from_pairs(metadata.iter().map(|(k, v)| (k.as_str().into(), v.as_str().into())));
    (!raw.is_empty()).then_some(raw)
}

/// Query (or form) parameters of the reads in [`read`], serialised as async-stripe's
/// own request types serialise them.
#[derive(Default, serde::Serialize)]
struct ReadParams<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    expand: Option<&'a [&'a str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    starting_after: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
}

/// A GET (or DELETE) of one Stripe object or list page, answered with async-stripe's
/// types. The payment intent, invoice and subscription calls are written out with it
/// instead of taken from async-stripe-core's `payment_intent` and async-stripe-billing's
/// `invoice` and `subscription` features: those features are some 3.4 MB of generated
/// code for creating and updating those objects, about 13 s of CPU in every clean
/// build, and we only read them (cancelling is a DELETE without parameters). Each
/// call sends the same method, path, query and body as async-stripe's
/// `RetrievePaymentIntent`, `RetrieveInvoice`/`ListInvoice` and
/// `RetrieveSubscription`/`ListSubscription`/`CancelSubscription` did.
fn read<T>(method: StripeMethod, path: String, params: &ReadParams<'_>) -> CustomizableStripeRequest<T> {
    let request = RequestBuilder::new(method, path);
    match method {
        StripeMethod::Get => request.query(params),
        StripeMethod::Post | StripeMethod::Delete => request.form(params),
    }
    .customize()
}

/// Unix seconds → our microseconds.
fn micros(seconds: i64) -> i64 {
    seconds.saturating_mul(1_000_000)
}

impl StripeGateway {
    pub fn new(secret_key: &str, api_base: Option<&str>) -> Result<Self, GatewayError> {
        let mut builder = ClientBuilder::new(secret_key).timeout(Duration::from_secs(20));
        if let Some(base) = api_base {
            builder = builder.url(base);
        }
        Ok(Self { client: builder.build()? })
    }

    /// Creates the member's Stripe customer; the key makes a retry return the same
    /// one. `generation` counts the member's customers Stripe deleted: a new one
    /// needs a new key, or Stripe would answer with the deleted customer.
    pub async fn create_customer(
        &self,
        member: MemberId,
        generation: i64,
        email: &str,
        name: Option<&str>,
    ) -> Result<String, GatewayError> {
        let mut metadata = ours();
        metadata.insert("member_id".into(), member.to_string());
        let mut request = CreateCustomer::new().email(email).metadata(metadata);
        if let Some(name) = name {
            request = request.name(name);
        }
        let key_value =
            if generation == 0 { format!("customer-{member}") } else { format!("customer-{member}-{generation}") };
        let customer = request.customize().request_strategy(key(key_value)?).send(&self.client).await?;
        Ok(customer.id.to_string())
    }

    /// The Stripe product for a tier (created once, keyed by our tier id).
    pub async fn create_product(&self, tier_id: &str, name: &str) -> Result<String, GatewayError> {
        let mut metadata = ours();
        metadata.insert("tier_id".into(), tier_id.to_string());
        let product = CreateProduct::new(name)
            .metadata(metadata)
            .customize()
            .request_strategy(key(format!("product-{tier_id}"))?)
            .send(&self.client)
            .await?;
        Ok(product.id.to_string())
    }

    /// A recurring Stripe price for one of our tier prices (created once, keyed by its id).
    pub async fn create_price(
        &self,
        price_id: &str,
        product: &str,
        amount: Money,
        interval: Interval,
    ) -> Result<String, GatewayError> {
        let mut metadata = ours();
        metadata.insert("price_id".into(), price_id.to_string());
        let interval = match interval {
            Interval::Month => CreatePriceRecurringInterval::Month,
            Interval::Year => CreatePriceRecurringInterval::Year,
        };
        let price = CreatePrice::new(stripe_currency(amount.currency)?)
            .product(product)
            .unit_amount(amount.minor)
            .recurring(CreatePriceRecurring::new(interval))
            .metadata(metadata)
            .customize()
            .request_strategy(key(format!("price-{price_id}"))?)
            .send(&self.client)
            .await?;
        Ok(price.id.to_string())
    }

    /// A Checkout Session in subscription mode. `stripe_price` is used as is; a
    /// pay-what-you-want amount above it goes in as inline price data.
    #[allow(clippy::too_many_arguments)]
    pub async fn subscription_checkout(
        &self,
        attempt: &str,
        customer: &str,
        member: MemberId,
        stripe_price: &str,
        product: &str,
        custom: Option<(Money, Interval)>,
        our_price_id: &str,
        new_member: bool,
        source: Option<&Source>,
        offer: Option<CheckoutOffer<'_>>,
        success_url: &str,
        cancel_url: &str,
    ) -> Result<String, GatewayError> {
        let mut item = CreateCheckoutSessionLineItems::new();
        item.quantity = Some(1);
        match custom {
            Some((amount, interval)) => {
                let mut data = CreateCheckoutSessionLineItemsPriceData::new(stripe_currency(amount.currency)?);
                data.unit_amount = Some(amount.minor);
                data.product = Some(product.to_string());
                data.recurring = Some(CreateCheckoutSessionLineItemsPriceDataRecurring::new(match interval {
                    Interval::Month => CreateCheckoutSessionLineItemsPriceDataRecurringInterval::Month,
                    Interval::Year => CreateCheckoutSessionLineItemsPriceDataRecurringInterval::Year,
                }));
                item.price_data = Some(data);
            }
            None => item.price = Some(stripe_price.to_string()),
        }
        let mut metadata = ours();
        metadata.insert("member_id".into(), member.to_string());
        metadata.insert("price_id".into(), our_price_id.to_string());
        // On the subscription too: its invoices' ledger rows carry the source.
        add_source(&mut metadata, source);
        let mut subscription_data = CreateCheckoutSessionSubscriptionData::new();
        let mut discounts = Vec::new();
        match offer {
            Some(CheckoutOffer::Coupon(coupon)) => {
                discounts.push(CreateCheckoutSessionDiscounts { coupon: Some(coupon.into()), promotion_code: None });
            }
            Some(CheckoutOffer::PromotionCode(code)) => {
                discounts.push(CreateCheckoutSessionDiscounts { coupon: None, promotion_code: Some(code.into()) });
            }
            Some(CheckoutOffer::Trial { offer_id, days }) => {
                subscription_data.trial_period_days = Some(days);
                // A trial has no discount to name its offer: our metadata does.
                metadata.insert(TRIAL_OFFER_KEY.into(), offer_id.to_string());
            }
            None => {}
        }
        subscription_data.metadata = Some(metadata.clone());
        let mut session_metadata = metadata.clone();
        if new_member {
            // The success page may sign in only an account this checkout created.
            session_metadata.insert("new_member".into(), "1".into());
        }
        let mut request = CreateCheckoutSession::new();
        if !discounts.is_empty() {
            request = request.discounts(discounts);
        }
        let session = request
            .mode(CheckoutSessionMode::Subscription)
            .customer(customer)
            .client_reference_id(member.to_string())
            .line_items(vec![item])
            .metadata(session_metadata)
            .subscription_data(subscription_data)
            .success_url(success_url)
            .cancel_url(cancel_url)
            .customize()
            .request_strategy(key(format!("checkout-{attempt}"))?)
            .send(&self.client)
            .await?;
        session.url.ok_or_else(|| GatewayError::Unexpected("checkout session without url".into()))
    }

    /// A Checkout Session in payment mode for a one-time gift.
    #[allow(clippy::too_many_arguments)]
    pub async fn donation_checkout(
        &self,
        attempt: &str,
        amount: Money,
        customer: Option<&str>,
        donor: Option<MemberId>,
        toward: Option<TopicId>,
        description: &str,
        source: Option<&Source>,
        success_url: &str,
        cancel_url: &str,
    ) -> Result<String, GatewayError> {
        let mut metadata = ours();
        metadata.insert("kind".into(), "donation".into());
        if let Some(member) = donor {
            metadata.insert("member_id".into(), member.to_string());
        }
        // The topic the gift goes toward: read back from the PaymentIntent when it is booked.
        if let Some(topic) = toward {
            metadata.insert("topic_id".into(), topic.to_string());
        }
        add_source(&mut metadata, source);
        let key = format!("donation-{attempt}");
        self.payment_checkout(&key, amount, customer, metadata, description, success_url, cancel_url).await
    }

    /// A payment-mode Checkout Session for a gift membership (`gift_id`, stored
    /// before): one per gift, by its idempotency key.
    #[allow(clippy::too_many_arguments)]
    pub async fn gift_checkout(
        &self,
        gift_id: &str,
        amount: Money,
        customer: Option<&str>,
        giver: MemberId,
        description: &str,
        success_url: &str,
        cancel_url: &str,
    ) -> Result<String, GatewayError> {
        let mut metadata = ours();
        metadata.insert("kind".into(), "gift".into());
        metadata.insert("gift_id".into(), gift_id.to_string());
        metadata.insert("member_id".into(), giver.to_string());
        let key = format!("gift-{gift_id}");
        self.payment_checkout(&key, amount, customer, metadata, description, success_url, cancel_url).await
    }

    /// A one-time payment through Checkout, with our metadata on the session and
    /// on its PaymentIntent (a refund or dispute of it is known as ours by it).
    #[allow(clippy::too_many_arguments)]
    async fn payment_checkout(
        &self,
        idempotency_key: &str,
        amount: Money,
        customer: Option<&str>,
        metadata: HashMap<String, String>,
        description: &str,
        success_url: &str,
        cancel_url: &str,
    ) -> Result<String, GatewayError> {
        let mut data = CreateCheckoutSessionLineItemsPriceData::new(stripe_currency(amount.currency)?);
        data.unit_amount = Some(amount.minor);
        data.product_data = Some(ProductData::new(description));
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price_data = Some(data);
        item.quantity = Some(1);
        let mut intent_data = CreateCheckoutSessionPaymentIntentData::new();
        intent_data.metadata = Some(metadata.clone());
        let mut request = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .line_items(vec![item])
            .payment_intent_data(intent_data)
            .metadata(metadata)
            .success_url(success_url)
            .cancel_url(cancel_url);
        if let Some(customer) = customer {
            request = request.customer(customer);
        }
        let session =
            request.customize().request_strategy(key(idempotency_key.to_string())?).send(&self.client).await?;
        session.url.ok_or_else(|| GatewayError::Unexpected("checkout session without url".into()))
    }

    /// A Customer Portal session (change plan, card, cancel, resume).
    pub async fn portal(&self, customer: &str, return_url: &str) -> Result<String, GatewayError> {
        let session =
            CreateBillingPortalSession::new().customer(customer).return_url(return_url).send(&self.client).await?;
        Ok(session.url)
    }

    /// Cancels a subscription at once (account deletion); returns Stripe's new state.
    pub async fn cancel_subscription(&self, id: &str) -> Result<SubscriptionState, GatewayError> {
        read::<Subscription>(StripeMethod::Delete, format!("/subscriptions/{id}"), &ReadParams::default())
            .send(&self.client)
            .await?;
        self.subscription(id).await
    }

    /// One page (up to 100) of subscription ids, every status; `(ids, has_more)`.
    pub async fn list_subscription_ids(&self, after: Option<&str>) -> Result<(Vec<String>, bool), GatewayError> {
        let params = ReadParams { status: Some("all"), limit: Some(100), starting_after: after, ..Default::default() };
        let page =
            read::<List<Subscription>>(StripeMethod::Get, "/subscriptions".into(), &params).send(&self.client).await?;
        Ok((page.data.iter().map(|s| s.id.to_string()).collect(), page.has_more))
    }

    /// One page (up to 100) of paid invoice ids; `(ids, has_more)`.
    pub async fn list_paid_invoice_ids(&self, after: Option<&str>) -> Result<(Vec<String>, bool), GatewayError> {
        let params = ReadParams { status: Some("paid"), limit: Some(100), starting_after: after, ..Default::default() };
        let page = read::<List<Invoice>>(StripeMethod::Get, "/invoices".into(), &params).send(&self.client).await?;
        Ok((page.data.iter().filter_map(|i| i.id.as_ref().map(|id| id.to_string())).collect(), page.has_more))
    }

    /// One page (up to 100) of refunds, whatever their status, as the charges they
    /// belong to; `(charge ids, last refund id, has_more)`.
    pub async fn list_refunded_charges(
        &self,
        after: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>, bool), GatewayError> {
        let mut request = ListRefund::new().limit(100);
        if let Some(after) = after {
            request = request.starting_after(after);
        }
        let page = request.send(&self.client).await?;
        let last = page.data.last().map(|r| r.id.to_string());
        let mut charges: Vec<String> =
            page.data.iter().filter_map(|r| r.charge.as_ref().map(|c| c.id().to_string())).collect();
        charges.dedup();
        Ok((charges, last, page.has_more))
    }

    /// The subscription as Stripe has it now.
    pub async fn subscription(&self, id: &str) -> Result<SubscriptionState, GatewayError> {
        // Expanded: a discount's coupon names the offer it came from.
        let params = ReadParams { expand: Some(&["discounts"]), ..Default::default() };
        let sub =
            read::<Subscription>(StripeMethod::Get, format!("/subscriptions/{id}"), &params).send(&self.client).await?;
        state_of(sub)
    }

    /// Changes a subscription as its patron asked (`POST /v1/subscriptions/{id}`)
    /// and returns Stripe's answer. The `customer.subscription.updated` event
    /// that follows is applied like any other (re-read from Stripe), so what
    /// our mirror keeps is always Stripe's latest state.
    pub async fn update_subscription(
        &self,
        id: &str,
        change: SubscriptionUpdate,
    ) -> Result<SubscriptionState, GatewayError> {
        let form = UpdateForm::from(change);
        RequestBuilder::new(StripeMethod::Post, format!("/subscriptions/{id}"))
            .form(&form)
            .customize::<Subscription>()
            .request_strategy(key(format!("subscription-update-{}", uuid::Uuid::now_v7()))?)
            .send(&self.client)
            .await?;
        // Read again with its discount expanded (a discount for ever lowers MRR).
        self.subscription(id).await
    }

    /// Moves the subscription's one item to `stripe_price` from the next
    /// period (`proration_behavior=none`: the period paid for is not refunded
    /// or charged again), and our metadata's `price_id` with it, so an inline
    /// (pay what you want) price no longer stands for the old tier.
    pub async fn switch_price(
        &self,
        id: &str,
        stripe_price: &str,
        our_price_id: &str,
    ) -> Result<SubscriptionState, GatewayError> {
        let current = read::<Subscription>(StripeMethod::Get, format!("/subscriptions/{id}"), &ReadParams::default())
            .send(&self.client)
            .await?;
        let item =
            current.items.data.first().ok_or_else(|| GatewayError::Unexpected("subscription without items".into()))?;
        let form = SwitchForm {
            items: vec![SwitchItem { id: item.id.to_string(), price: stripe_price.to_string() }],
            proration_behavior: "none",
            metadata: HashMap::from([("price_id", our_price_id.to_string())]),
        };
        RequestBuilder::new(StripeMethod::Post, format!("/subscriptions/{id}"))
            .form(&form)
            .customize::<Subscription>()
            .request_strategy(key(format!("subscription-switch-{}", uuid::Uuid::now_v7()))?)
            .send(&self.client)
            .await?;
        // Read again with its discount expanded, as after any update.
        self.subscription(id).await
    }

    /// The Stripe coupon for an offer's discount (created once, keyed by its id):
    /// percent or amount off (one amount per currency: the first as `amount_off`,
    /// the others as `currency_options`), its duration, end date and limit.
    pub async fn create_coupon(&self, offer: &Offer) -> Result<String, GatewayError> {
        let OfferBenefit::Discount { off, duration } = &offer.benefit else {
            return Err(GatewayError::Unexpected("a trial has no coupon".into()));
        };
        let mut metadata = ours();
        metadata.insert("offer_id".into(), offer.id.clone());
        let mut form = CouponForm {
            duration: duration.as_str(),
            duration_in_months: duration.months(),
            percent_off: None,
            amount_off: None,
            currency: None,
            currency_options: HashMap::new(),
            name: offer.name.chars().take(40).collect(),
            max_redemptions: offer.max_redemptions,
            redeem_by: offer.ends_at.map(|t| t / 1_000_000),
            metadata,
        };
        match off {
            AmountOff::Percent(p) => form.percent_off = Some(*p),
            AmountOff::Fixed(amounts) => {
                for (n, m) in amounts.iter().enumerate() {
                    if n == 0 {
                        form.amount_off = Some(m.minor);
                        form.currency = Some(m.currency.as_str().to_string());
                    } else {
                        form.currency_options
                            .insert(m.currency.as_str().to_string(), AmountOffForm { amount_off: m.minor });
                    }
                }
            }
        }
        let coupon = RequestBuilder::new(StripeMethod::Post, "/coupons")
            .form(&form)
            .customize::<stripe_shared::Coupon>()
            .request_strategy(key(format!("coupon-{}", offer.id))?)
            .send(&self.client)
            .await?;
        Ok(coupon.id.to_string())
    }

    /// The promotion code readers type for an offer with a code (created once).
    pub async fn create_promotion_code(&self, offer: &Offer, coupon: &str, code: &str) -> Result<String, GatewayError> {
        let mut metadata = ours();
        metadata.insert("offer_id".into(), offer.id.clone());
        let form = PromotionCodeForm {
            promotion: PromotionForm { r#type: "coupon", coupon },
            code,
            max_redemptions: offer.max_redemptions,
            expires_at: offer.ends_at.map(|t| t / 1_000_000),
            metadata,
        };
        let promotion = RequestBuilder::new(StripeMethod::Post, "/promotion_codes")
            .form(&form)
            .customize::<stripe_shared::PromotionCode>()
            .request_strategy(key(format!("promotion-code-{}", offer.id))?)
            .send(&self.client)
            .await?;
        Ok(promotion.id.to_string())
    }
}

/// Metadata key on a subscription whose trial came from one of our offers.
pub const TRIAL_OFFER_KEY: &str = "trial_offer_id";

/// An offer on a subscription checkout: its coupon (from the offer's link), its
/// promotion code (the reader typed the code), or its trial.
#[derive(Clone, Copy, Debug)]
pub enum CheckoutOffer<'a> {
    Coupon(&'a str),
    PromotionCode(&'a str),
    Trial { offer_id: &'a str, days: u32 },
}

/// The form of `POST /v1/coupons`.
#[derive(serde::Serialize)]
struct CouponForm {
    duration: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_in_months: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    percent_off: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_off: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    currency_options: HashMap<String, AmountOffForm>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_redemptions: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redeem_by: Option<i64>,
    metadata: HashMap<String, String>,
}

#[derive(serde::Serialize)]
struct AmountOffForm {
    amount_off: i64,
}

/// The form of `POST /v1/promotion_codes` (`promotion[type]=coupon`, `promotion[coupon]`).
#[derive(serde::Serialize)]
struct PromotionCodeForm<'a> {
    promotion: PromotionForm<'a>,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_redemptions: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    metadata: HashMap<String, String>,
}

#[derive(serde::Serialize)]
struct PromotionForm<'a> {
    r#type: &'static str,
    coupon: &'a str,
}

/// The form of a price switch: `items[0][id]`, `items[0][price]`,
/// `proration_behavior`, `metadata[price_id]`.
#[derive(serde::Serialize)]
struct SwitchForm {
    items: Vec<SwitchItem>,
    proration_behavior: &'static str,
    metadata: HashMap<&'static str, String>,
}

#[derive(serde::Serialize)]
struct SwitchItem {
    id: String,
    price: String,
}

/// The card a charge was paid with, with the customer it belongs to.
fn charge_card(charge: &stripe_core::Charge) -> Option<PaymentCard> {
    let card = charge.payment_method_details.as_ref()?.card.as_ref()?;
    Some(PaymentCard {
        customer_id: charge.customer.as_ref()?.id().to_string(),
        payment_method_id: charge.payment_method.clone(),
        brand: card.brand.clone().unwrap_or_default(),
        last4: card.last4.clone().unwrap_or_default(),
        exp_month: card.exp_month,
        exp_year: card.exp_year,
    })
    .filter(PaymentCard::is_plausible)
}

/// What a patron may change on their subscription through us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionUpdate {
    /// `pause_collection[behavior]=void`, `pause_collection[resumes_at]=<unix seconds>`.
    Pause { resumes_at: i64 },
    /// `cancel_at_period_end=true`.
    CancelAtPeriodEnd,
    /// Clears what is set of a pause (`pause_collection=`) and a cancellation at
    /// the period's end (`cancel_at_period_end=false`).
    Resume { unpause: bool, uncancel: bool },
}

/// The form of `POST /v1/subscriptions/{id}`, in Stripe's nested-field form
/// encoding (`pause_collection[behavior]=void`; an empty `pause_collection=`
/// clears it).
#[derive(serde::Serialize, Default)]
struct UpdateForm {
    #[serde(skip_serializing_if = "Option::is_none")]
    cancel_at_period_end: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pause_collection: Option<PauseForm>,
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum PauseForm {
    Set { behavior: &'static str, resumes_at: i64 },
    Clear(&'static str),
}

impl From<SubscriptionUpdate> for UpdateForm {
    fn from(change: SubscriptionUpdate) -> Self {
        match change {
            SubscriptionUpdate::Pause { resumes_at } => Self {
                pause_collection: Some(PauseForm::Set { behavior: PauseBehavior::Void.as_str(), resumes_at }),
                ..Self::default()
            },
            SubscriptionUpdate::CancelAtPeriodEnd => Self { cancel_at_period_end: Some(true), ..Self::default() },
            SubscriptionUpdate::Resume { unpause, uncancel } => Self {
                cancel_at_period_end: uncancel.then_some(false),
                pause_collection: unpause.then_some(PauseForm::Clear("")),
            },
        }
    }
}

/// A Stripe subscription as our domain's state.
fn state_of(sub: Subscription) -> Result<SubscriptionState, GatewayError> {
    let item = sub.items.data.first().ok_or_else(|| GatewayError::Unexpected("subscription without items".into()))?;
    let price = &item.price;
    let interval = match price.recurring.as_ref().map(|r| r.interval.clone()) {
        Some(stripe_product::RecurringInterval::Year) => Interval::Year,
        _ => Interval::Month,
    };
    let quantity = i64::try_from(item.quantity.unwrap_or(1)).unwrap_or(1);
    let amount_minor = price.unit_amount.unwrap_or(0).saturating_mul(quantity);
    let currency = our_currency(&price.currency)?;
    let status = SubscriptionStatus::from_str(sub.status.as_str()).map_err(GatewayError::Unexpected)?;
    let member_hint = sub.metadata.get("member_id").and_then(|m| m.parse().ok());
    // The item's price now (the portal changes it); a price made inline (pay what
    // you want) is not ours by id, and the checkout's metadata says which of ours it stands for.
    let price_hint = if sub.metadata.contains_key(OWNER_KEY) { sub.metadata.get("price_id").cloned() } else { None };
    Ok(SubscriptionState {
        provider_id: sub.id.to_string(),
        customer_id: sub.customer.id().to_string(),
        member_hint,
        price_ref: Some(price.id.to_string()),
        price_hint,
        status,
        interval,
        amount_minor,
        currency,
        current_period_end: Some(micros(item.current_period_end)),
        cancel_at_period_end: sub.cancel_at_period_end,
        started_at: Some(micros(sub.start_date)),
        canceled_at: sub.canceled_at.map(micros),
        ended_at: sub.ended_at.map(micros),
        // Any behaviour means no payment is taken; one we do not know reads as ours.
        pause: sub.pause_collection.as_ref().map(|p| Pause {
            behavior: p.behavior.as_str().parse().unwrap_or(PauseBehavior::Void),
            resumes_at: p.resumes_at.map(micros),
        }),
        source: source_of(&sub.metadata),
        offer: offer_of(&sub),
    })
}

/// The offer a subscription's discount (its coupon) or trial (our metadata) comes from.
fn offer_of(sub: &Subscription) -> Option<OfferRef> {
    let coupon = sub.discounts.iter().find_map(|d| match d {
        stripe_types::Expandable::Object(discount) => discount.source.coupon.as_ref().map(|c| c.id().to_string()),
        stripe_types::Expandable::Id(_) => None,
    });
    let trial = || sub.metadata.get(TRIAL_OFFER_KEY).filter(|_| sub.metadata.contains_key(OWNER_KEY)).cloned();
    coupon.or_else(trial).map(|reference| OfferRef { reference, enforce: false })
}

impl StripeGateway {
    /// What a completed Checkout Session tells us.
    pub async fn checkout_session(&self, id: &str) -> Result<CheckoutInfo, GatewayError> {
        let session = RetrieveCheckoutSession::new(id).send(&self.client).await?;
        let metadata = session.metadata.unwrap_or_default();
        Ok(CheckoutInfo {
            subscription_mode: session.mode == CheckoutSessionMode::Subscription,
            subscription_id: session.subscription.map(|s| s.id().to_string()),
            customer_id: session.customer.map(|c| c.id().to_string()),
            member_hint: session
                .client_reference_id
                .or_else(|| metadata.get("member_id").cloned())
                .and_then(|m| m.parse().ok()),
            ours: metadata.contains_key(OWNER_KEY),
            payment_intent: session.payment_intent.map(|p| p.id().to_string()),
            new_member: metadata.get("new_member").is_some_and(|v| v == "1"),
            gift_id: metadata.get("gift_id").filter(|_| metadata.get("kind").is_some_and(|k| k == "gift")).cloned(),
            source: source_of(&metadata),
            paid: session.payment_status.as_str() == "paid" || session.payment_status.as_str() == "no_payment_required",
        })
    }

    /// An invoice, with the charge that paid it. A card payment names its
    /// PaymentIntent, not a charge: the charge is the intent's latest one.
    pub async fn invoice(&self, id: &str) -> Result<InvoiceInfo, GatewayError> {
        let params = ReadParams { expand: Some(&["payments"]), ..Default::default() };
        let invoice = read::<Invoice>(StripeMethod::Get, format!("/invoices/{id}"), &params).send(&self.client).await?;
        let subscription_id = invoice
            .parent
            .as_ref()
            .and_then(|p| p.subscription_details.as_ref())
            .map(|d| d.subscription.id().to_string());
        let payments = invoice.payments.as_ref().map(|l| l.data.as_slice()).unwrap_or_default();
        // The payment that paid it (an invoice may list attempts that did not; one
        // paid out of band lists none that did).
        let paid_by = payments.iter().find(|p| p.status == "paid");
        let (charge_id, by_payment) = match paid_by.map(|p| &p.payment) {
            Some(payment) => match (&payment.charge, &payment.payment_intent) {
                (Some(charge), _) => (Some(charge.id().to_string()), true),
                (None, Some(intent)) => (self.payment_intent(intent.id().as_str()).await?.latest_charge, true),
                (None, None) => (None, false),
            },
            None => (None, false),
        };
        Ok(InvoiceInfo {
            id: invoice.id.map(|i| i.to_string()).unwrap_or_else(|| id.to_string()),
            subscription_id,
            customer_id: invoice.customer.map(|c| c.id().to_string()),
            amount_paid: invoice.amount_paid,
            currency: our_currency(&invoice.currency)?,
            paid: invoice.status.as_ref().is_some_and(|s| s.as_str() == "paid"),
            charge_id,
            by_payment,
            paid_at: invoice.status_transitions.paid_at.map(micros),
            amount_due: invoice.amount_due,
            attempt_count: i64::try_from(invoice.attempt_count).unwrap_or(i64::MAX),
            next_payment_attempt: invoice.next_payment_attempt.map(micros),
            hosted_invoice_url: invoice.hosted_invoice_url,
        })
    }

    /// A charge with its balance transaction and every refund.
    pub async fn charge(&self, id: &str) -> Result<ChargeInfo, GatewayError> {
        let charge = RetrieveCharge::new(id).expand(vec!["refunds".to_string()]).send(&self.client).await?;
        let settlement = match charge.balance_transaction.as_ref() {
            Some(txn) => Some(self.balance_transaction(txn.id().as_str()).await?),
            None => None,
        };
        let card = charge_card(&charge);
        let mut listed: Vec<stripe_core::Refund> = Vec::new();
        let mut more = false;
        if let Some(list) = charge.refunds {
            more = list.has_more;
            listed = list.data;
        }
        // An expanded list holds the first page only.
        while more {
            let mut request = ListRefund::new().charge(id).limit(100);
            if let Some(last) = listed.last() {
                request = request.starting_after(last.id.as_str());
            }
            let page = request.send(&self.client).await?;
            more = page.has_more && !page.data.is_empty();
            listed.extend(page.data);
        }
        let mut refunds = Vec::new();
        for refund in &listed {
            refunds.push(self.refund_info(refund).await?);
        }
        Ok(ChargeInfo {
            id: charge.id.to_string(),
            amount: charge.amount,
            currency: our_currency(&charge.currency)?,
            customer_id: charge.customer.as_ref().map(|c| c.id().to_string()),
            payment_intent: charge.payment_intent.as_ref().map(|p| p.id().to_string()),
            ours: charge.metadata.contains_key(OWNER_KEY),
            created: micros(charge.created),
            card,
            settlement,
            refunds,
        })
    }

    async fn refund_info(&self, refund: &stripe_core::Refund) -> Result<RefundInfo, GatewayError> {
        let settlement = match refund.balance_transaction.as_ref() {
            Some(txn) => Some(self.balance_transaction(txn.id().as_str()).await?),
            None => None,
        };
        let failure = match refund.failure_balance_transaction.as_ref() {
            Some(txn) => Some(self.balance_transaction(txn.id().as_str()).await?),
            None => None,
        };
        Ok(RefundInfo {
            id: refund.id.to_string(),
            amount: refund.amount,
            status: RefundStatus::parse(refund.status.as_deref()),
            created: micros(refund.created),
            settlement,
            failure,
        })
    }

    /// The charge a refund belongs to.
    pub async fn refund_charge(&self, id: &str) -> Result<Option<String>, GatewayError> {
        let refund = RetrieveRefund::new(id).send(&self.client).await?;
        Ok(refund.charge.as_ref().map(|c| c.id().to_string()))
    }

    pub async fn balance_transaction(&self, id: &str) -> Result<Settlement, GatewayError> {
        let txn = RetrieveBalanceTransaction::new(id).send(&self.client).await?;
        settlement_of(&txn)
    }

    pub async fn dispute(&self, id: &str) -> Result<DisputeInfo, GatewayError> {
        let dispute = RetrieveDispute::new(id).send(&self.client).await?;
        let txns = dispute.balance_transactions.iter().map(settlement_of).collect::<Result<Vec<_>, _>>()?;
        Ok(DisputeInfo {
            id: dispute.id.to_string(),
            charge_id: dispute.charge.id().to_string(),
            amount: dispute.amount,
            currency: our_currency(&dispute.currency)?,
            created: micros(dispute.created),
            withdrawn: txns.iter().find(|t| t.settled.gross_minor < 0).cloned(),
            reinstated: txns.iter().find(|t| t.settled.gross_minor > 0).cloned(),
        })
    }

    /// A payment intent: the charge that settled it, and whether it is ours.
    pub async fn payment_intent(&self, id: &str) -> Result<IntentInfo, GatewayError> {
        let intent = read::<PaymentIntent>(StripeMethod::Get, format!("/payment_intents/{id}"), &ReadParams::default())
            .send(&self.client)
            .await?;
        let ours = intent.metadata.contains_key(OWNER_KEY);
        Ok(IntentInfo {
            latest_charge: intent.latest_charge.map(|c| c.id().to_string()),
            ours,
            // Only from our own metadata; an id that does not parse is no tag.
            topic_id: intent.metadata.get("topic_id").filter(|_| ours).and_then(|t| t.parse().ok()),
        })
    }
}

fn settlement_of(txn: &stripe_core::BalanceTransaction) -> Result<Settlement, GatewayError> {
    Ok(Settlement {
        settled: Settled {
            gross_minor: txn.amount,
            fee_minor: txn.fee,
            net_minor: txn.net,
            currency: our_currency(&txn.currency)?,
        },
        created: micros(txn.created),
    })
}

#[derive(Clone, Debug)]
pub struct IntentInfo {
    pub latest_charge: Option<String>,
    /// Carries our metadata (a donation's).
    pub ours: bool,
    /// The topic the gift was given toward (our `topic_id` metadata).
    pub topic_id: Option<TopicId>,
}

#[derive(Clone, Debug)]
pub struct ChargeInfo {
    pub id: String,
    /// In the charge's currency: what the reader paid.
    pub amount: i64,
    pub currency: Currency,
    pub customer_id: Option<String>,
    pub payment_intent: Option<String>,
    /// Carries our metadata.
    pub ours: bool,
    /// When Stripe made the charge.
    pub created: i64,
    /// Its balance transaction (none until it settles).
    pub settlement: Option<Settlement>,
    pub refunds: Vec<RefundInfo>,
    /// The card it was paid with, when it was a card (for the expiry reminder).
    pub card: Option<PaymentCard>,
}

/// Where a refund is. Only a succeeded one is money back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundStatus {
    Pending,
    RequiresAction,
    Succeeded,
    Failed,
    Canceled,
}

impl RefundStatus {
    fn parse(status: Option<&str>) -> Self {
        match status {
            Some("succeeded") => Self::Succeeded,
            Some("failed") => Self::Failed,
            Some("canceled") => Self::Canceled,
            Some("requires_action") => Self::RequiresAction,
            // "pending", and anything newer we do not know: not money back yet.
            _ => Self::Pending,
        }
    }
}

#[derive(Clone, Debug)]
pub struct RefundInfo {
    pub id: String,
    /// In the charge's currency.
    pub amount: i64,
    pub status: RefundStatus,
    pub created: i64,
    /// The refund's balance transaction (negative).
    pub settlement: Option<Settlement>,
    /// When it failed: the balance transaction that gave the money back (positive).
    pub failure: Option<Settlement>,
}

#[derive(Clone, Debug)]
pub struct DisputeInfo {
    pub id: String,
    pub charge_id: String,
    /// In the charge's currency.
    pub amount: i64,
    pub currency: Currency,
    pub created: i64,
    /// The funds (and the dispute fee) taken from the balance; none for an inquiry.
    pub withdrawn: Option<Settlement>,
    /// The funds given back when the dispute was won.
    pub reinstated: Option<Settlement>,
}

#[derive(Clone, Debug)]
pub struct CheckoutInfo {
    pub subscription_mode: bool,
    pub subscription_id: Option<String>,
    pub customer_id: Option<String>,
    pub member_hint: Option<MemberId>,
    /// Created by Patronage (our metadata), not by another integration.
    pub ours: bool,
    pub payment_intent: Option<String>,
    pub paid: bool,
    /// The checkout created the member's account.
    pub new_member: bool,
    /// A gift membership's checkout: the gift it pays for (our metadata).
    pub gift_id: Option<String>,
    /// Where the reader came from, from our metadata (unchecked).
    pub source: Option<RawSource>,
}

#[derive(Clone, Debug)]
pub struct InvoiceInfo {
    pub id: String,
    pub subscription_id: Option<String>,
    pub customer_id: Option<String>,
    pub amount_paid: i64,
    pub currency: Currency,
    pub paid: bool,
    /// The charge that paid it (found through its PaymentIntent for a card payment).
    pub charge_id: Option<String>,
    /// A payment (charge or PaymentIntent) paid it, not money out of band: there is a charge to find.
    pub by_payment: bool,
    pub paid_at: Option<i64>,
    pub amount_due: i64,
    /// Payment attempts so far (the first one counts).
    pub attempt_count: i64,
    /// When Stripe will try again, if it will.
    pub next_payment_attempt: Option<i64>,
    /// Stripe's page where the reader can pay it with another card, or confirm it (3-D Secure).
    pub hosted_invoice_url: Option<String>,
}

/// A balance transaction: what the movement came to in the settlement currency
/// (amount, Stripe's fee, net), and when Stripe made it.
#[derive(Clone, Debug)]
pub struct Settlement {
    pub settled: Settled,
    pub created: i64,
}
