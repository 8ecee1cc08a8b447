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
    Stripe { gateway: Box<stripe::StripeGateway>, webhook_secrets: Vec<Secret> },
}

impl Payments {
    pub fn from_config(config: Option<&StripeConfig>) -> Result<Self, stripe::GatewayError> {
        Ok(match config {
            None => Self::Demo,
            Some(c) => Self::Stripe {
                gateway: Box::new(stripe::StripeGateway::new(c.secret_key.expose(), c.api_base.as_deref())?),
                webhook_secrets: c.webhook_secrets.clone(),
            },
        })
    }

    pub fn is_demo(&self) -> bool {
        matches!(self, Self::Demo)
    }
}
