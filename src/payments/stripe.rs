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
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionLineItemsPriceDataRecurring, CreateCheckoutSessionLineItemsPriceDataRecurringInterval,
    CreateCheckoutSessionSubscriptionData, ProductData,
};
use stripe_client_core::{CustomizableStripeRequest, RequestBuilder, StripeMethod};
use stripe_core::PaymentIntent;
use stripe_core::balance_transaction::RetrieveBalanceTransaction;
use stripe_core::charge::{ListCharge, RetrieveCharge};
use stripe_core::customer::CreateCustomer;
use stripe_core::dispute::RetrieveDispute;
use stripe_product::price::{CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval};
use stripe_product::product::CreateProduct;
use stripe_types::List;

use crate::domain::{Currency, Interval, MemberId, Money, SubscriptionStatus};
use crate::services::billing::SubscriptionState;

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

fn ours() -> HashMap<String, String> {
    HashMap::from([(OWNER_KEY.to_string(), "1".to_string())])
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

    /// Creates the member's Stripe customer; the key makes a retry return the same one.
    pub async fn create_customer(
        &self,
        member: MemberId,
        email: &str,
        name: Option<&str>,
    ) -> Result<String, GatewayError> {
        let mut metadata = ours();
        metadata.insert("member_id".into(), member.to_string());
        let mut request = CreateCustomer::new().email(email).metadata(metadata);
        if let Some(name) = name {
            request = request.name(name);
        }
        let customer =
            request.customize().request_strategy(key(format!("customer-{member}"))?).send(&self.client).await?;
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
        let mut subscription_data = CreateCheckoutSessionSubscriptionData::new();
        subscription_data.metadata = Some(metadata.clone());
        let mut session_metadata = metadata.clone();
        if new_member {
            // The success page may sign in only an account this checkout created.
            session_metadata.insert("new_member".into(), "1".into());
        }
        let session = CreateCheckoutSession::new()
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
        let mut metadata = ours();
        metadata.insert("kind".into(), "donation".into());
        if let Some(member) = donor {
            metadata.insert("member_id".into(), member.to_string());
        }
        let mut request = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .line_items(vec![item])
            .metadata(metadata)
            .success_url(success_url)
            .cancel_url(cancel_url);
        if let Some(customer) = customer {
            request = request.customer(customer);
        }
        let session =
            request.customize().request_strategy(key(format!("donation-{attempt}"))?).send(&self.client).await?;
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

    /// One page (up to 100) of charges, keeping the refunded ones; `(ids, last id, has_more)`.
    pub async fn list_refunded_charges(
        &self,
        after: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>, bool), GatewayError> {
        let mut request = ListCharge::new().limit(100);
        if let Some(after) = after {
            request = request.starting_after(after);
        }
        let page = request.send(&self.client).await?;
        let last = page.data.last().map(|c| c.id.to_string());
        let ids = page.data.iter().filter(|c| c.amount_refunded > 0).map(|c| c.id.to_string()).collect();
        Ok((ids, last, page.has_more))
    }

    /// The subscription as Stripe has it now.
    pub async fn subscription(&self, id: &str) -> Result<SubscriptionState, GatewayError> {
        let sub = read::<Subscription>(StripeMethod::Get, format!("/subscriptions/{id}"), &ReadParams::default())
            .send(&self.client)
            .await?;
        let item =
            sub.items.data.first().ok_or_else(|| GatewayError::Unexpected("subscription without items".into()))?;
        let price = &item.price;
        let interval = match price.recurring.as_ref().map(|r| r.interval.clone()) {
            Some(stripe_product::RecurringInterval::Year) => Interval::Year,
            _ => Interval::Month,
        };
        let quantity = i64::try_from(item.quantity.unwrap_or(1)).unwrap_or(1);
        let amount_minor = price.unit_amount.unwrap_or(0).saturating_mul(quantity);
        let currency =
            Currency::parse(&price.currency.to_string()).map_err(|_| GatewayError::Unexpected("currency".into()))?;
        let status = SubscriptionStatus::from_str(sub.status.as_str()).map_err(GatewayError::Unexpected)?;
        let member_hint = sub.metadata.get("member_id").and_then(|m| m.parse().ok());
        // Prices made inline (pay what you want) are not ours by id; the metadata says which of ours it stands for.
        let price_ref = if sub.metadata.contains_key(OWNER_KEY) {
            sub.metadata.get("price_id").cloned().or_else(|| Some(price.id.to_string()))
        } else {
            Some(price.id.to_string())
        };
        Ok(SubscriptionState {
            provider_id: sub.id.to_string(),
            customer_id: sub.customer.id().to_string(),
            member_hint,
            price_ref,
            status,
            interval,
            amount_minor,
            currency,
            current_period_end: Some(micros(item.current_period_end)),
            cancel_at_period_end: sub.cancel_at_period_end,
            started_at: Some(micros(sub.start_date)),
            canceled_at: sub.canceled_at.map(micros),
            ended_at: sub.ended_at.map(micros),
        })
    }

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
            paid: session.payment_status.as_str() == "paid" || session.payment_status.as_str() == "no_payment_required",
        })
    }

    /// An invoice, with the charge that paid it.
    pub async fn invoice(&self, id: &str) -> Result<InvoiceInfo, GatewayError> {
        let params = ReadParams { expand: Some(&["payments"]), ..Default::default() };
        let invoice = read::<Invoice>(StripeMethod::Get, format!("/invoices/{id}"), &params).send(&self.client).await?;
        let subscription_id = invoice
            .parent
            .as_ref()
            .and_then(|p| p.subscription_details.as_ref())
            .map(|d| d.subscription.id().to_string());
        let charge_id = invoice
            .payments
            .as_ref()
            .and_then(|list| list.data.iter().find_map(|p| p.payment.charge.as_ref().map(|c| c.id().to_string())));
        Ok(InvoiceInfo {
            id: invoice.id.map(|i| i.to_string()).unwrap_or_else(|| id.to_string()),
            subscription_id,
            customer_id: invoice.customer.map(|c| c.id().to_string()),
            amount_paid: invoice.amount_paid,
            currency: invoice.currency.to_string(),
            paid: invoice.status.as_ref().is_some_and(|s| s.as_str() == "paid"),
            charge_id,
            paid_at: invoice.status_transitions.paid_at.map(micros),
        })
    }

    /// A charge with its settlement and refunds.
    pub async fn charge(&self, id: &str) -> Result<ChargeInfo, GatewayError> {
        let charge = RetrieveCharge::new(id).expand(vec!["refunds".to_string()]).send(&self.client).await?;
        let settlement = match charge.balance_transaction.as_ref().map(|b| b.id().to_string()) {
            Some(txn) => self.balance_transaction(&txn).await?,
            None => Settlement { fee: 0, net: charge.amount, currency: charge.currency.to_string() },
        };
        let mut refunds = Vec::new();
        for refund in charge.refunds.as_ref().map(|l| l.data.as_slice()).unwrap_or_default() {
            let settlement = match refund.balance_transaction.as_ref().map(|b| b.id().to_string()) {
                Some(txn) => Some(self.balance_transaction(&txn).await?),
                None => None,
            };
            refunds.push(RefundInfo {
                id: refund.id.to_string(),
                amount: refund.amount,
                succeeded: refund.status.as_deref().is_none_or(|s| s == "succeeded" || s == "pending"),
                created: micros(refund.created),
                settlement,
            });
        }
        Ok(ChargeInfo {
            id: charge.id.to_string(),
            amount: charge.amount,
            currency: charge.currency.to_string(),
            customer_id: charge.customer.as_ref().map(|c| c.id().to_string()),
            settlement,
            refunds,
        })
    }

    pub async fn balance_transaction(&self, id: &str) -> Result<Settlement, GatewayError> {
        let txn = RetrieveBalanceTransaction::new(id).send(&self.client).await?;
        Ok(Settlement { fee: txn.fee, net: txn.net, currency: txn.currency.to_string() })
    }

    pub async fn dispute(&self, id: &str) -> Result<DisputeInfo, GatewayError> {
        let dispute = RetrieveDispute::new(id).send(&self.client).await?;
        Ok(DisputeInfo {
            id: dispute.id.to_string(),
            charge_id: dispute.charge.id().to_string(),
            amount: dispute.amount,
            currency: dispute.currency.to_string(),
            won: dispute.status.as_str() == "won",
            created: micros(dispute.created),
            balance_transactions: dispute
                .balance_transactions
                .iter()
                .map(|t| Settlement { fee: t.fee, net: t.net, currency: t.currency.to_string() })
                .collect(),
        })
    }

    /// The charge that settled a payment intent.
    pub async fn payment_intent_charge(&self, id: &str) -> Result<Option<String>, GatewayError> {
        let intent = read::<PaymentIntent>(StripeMethod::Get, format!("/payment_intents/{id}"), &ReadParams::default())
            .send(&self.client)
            .await?;
        Ok(intent.latest_charge.map(|c| c.id().to_string()))
    }
}

#[derive(Clone, Debug)]
pub struct ChargeInfo {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub customer_id: Option<String>,
    pub settlement: Settlement,
    pub refunds: Vec<RefundInfo>,
}

#[derive(Clone, Debug)]
pub struct RefundInfo {
    pub id: String,
    pub amount: i64,
    pub succeeded: bool,
    pub created: i64,
    /// Fee returned (negative) and net, from the refund's balance transaction.
    pub settlement: Option<Settlement>,
}

#[derive(Clone, Debug)]
pub struct DisputeInfo {
    pub id: String,
    pub charge_id: String,
    pub amount: i64,
    pub currency: String,
    pub won: bool,
    pub created: i64,
    /// The funds withdrawn (first) and, when won, reinstated (second).
    pub balance_transactions: Vec<Settlement>,
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
}

#[derive(Clone, Debug)]
pub struct InvoiceInfo {
    pub id: String,
    pub subscription_id: Option<String>,
    pub customer_id: Option<String>,
    pub amount_paid: i64,
    pub currency: String,
    pub paid: bool,
    pub charge_id: Option<String>,
    pub paid_at: Option<i64>,
}

/// What Stripe kept (fee) and paid out (net), in the settlement currency.
#[derive(Clone, Debug)]
pub struct Settlement {
    pub fee: i64,
    pub net: i64,
    pub currency: String,
}
