//! Patronage: reader membership, donations and topic voting for independent newsrooms.
pub mod assets;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod numbers;
pub mod payments;
pub mod server;
pub mod services;
pub mod startup;
pub mod telemetry;
pub mod tokens;
pub mod views;

pub mod http;
