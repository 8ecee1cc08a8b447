//! One integration-test binary: every test drives the real app over HTTP.
mod helpers;

mod account;
mod admin_payments;
mod cli;
mod csrf;
mod demo_data;
mod demo_payments;
mod harness;
mod health;
mod join;
mod languages;
mod mail;
mod money;
mod reports;
mod sign_in;
mod slow_clients;
mod staff;
mod stripe;
mod topics;
mod voting;
mod voting_integrity;
