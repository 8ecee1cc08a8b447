//! One integration-test binary: every test drives the real app over HTTP.
mod helpers;

mod account;
mod admin_payments;
mod cli;
mod content_languages;
mod csrf;
mod demo_data;
mod demo_payments;
mod donations;
mod harness;
mod health;
mod join;
mod languages;
mod mail;
mod money;
mod patron_mail;
mod reader_pages;
mod sign_in;
mod slow_clients;
mod staff;
mod stripe;
mod stripe_delivery;
mod topics;
mod voting;
mod voting_integrity;
