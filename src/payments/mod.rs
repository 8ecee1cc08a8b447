//! Payment providers. With no `STRIPE_SECRET_KEY` the demo gateway simulates
//! checkout locally; both produce the same domain effects through
//! `services::billing`.
pub mod demo;
pub mod signature;
pub mod stripe;

use crate::config::{Secret, StripeConfig};

/// Which provider takes the money.
#[derive(Clone, Debug)]
pub enum Payments {
    Demo,
    Stripe {
        gateway: Box<stripe::StripeGateway>,
        webhook_secrets: Vec<Secret>,
        /// A live-mode key (`sk_live_…`, `rk_live_…`): only live events apply; else only test events.
        secret_key_is_live: bool,
    },
}

impl Payments {
    pub fn from_config(config: Option<&StripeConfig>) -> Result<Self, stripe::GatewayError> {
        Ok(match config {
            None => Self::Demo,
            Some(c) => Self::Stripe {
                gateway: Box::new(stripe::StripeGateway::new(c.secret_key.expose(), c.api_base.as_deref())?),
                webhook_secrets: c.webhook_secrets.clone(),
                secret_key_is_live: live_key(c.secret_key.expose()),
            },
        })
    }

    pub fn is_demo(&self) -> bool {
        matches!(self, Self::Demo)
    }
}

/// Whether a secret key is a live-mode key (`sk_live_…`, `rk_live_…`).
fn live_key(secret_key: &str) -> bool {
    secret_key.starts_with("sk_live_") || secret_key.starts_with("rk_live_")
}
