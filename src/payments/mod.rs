//! Payment providers. With no `STRIPE_SECRET_KEY` the demo gateway simulates
//! checkout locally; both produce the same domain effects through
//! `services::billing`.
pub mod demo;
