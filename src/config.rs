//! Configuration from the environment (12-factor), validated once at start-up.
//! Every error names the variable and says what is expected.
use std::fmt;
use std::net::SocketAddr;

use clap::ValueEnum;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/patronage.db?mode=rwc";

/// The raw settings as clap reads them from the environment (or flags).
#[derive(clap::Args, Debug, Clone)]
pub struct Settings {
    /// sqlite://… or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub database_url: String,
    /// Address and port to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080", global = true)]
    pub bind_addr: SocketAddr,
    /// The address readers use, e.g. https://members.example.org (default: http://BIND_ADDR).
    #[arg(long, env = "PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// At least 32 characters; when absent one is generated and kept in the database.
    #[arg(long, env = "SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<String>,
    /// smtp://user:pass@host:587?tls=required or smtps://…; absent: mail goes to the log.
    #[arg(long, env = "SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of every email.
    #[arg(long, env = "MAIL_FROM", default_value = "Patronage <patronage@localhost>", global = true)]
    pub mail_from: String,
    /// Comma-separated origins of the newsroom's website allowed to post the join form.
    #[arg(long, env = "TRUSTED_ORIGINS", default_value = "", global = true)]
    pub trusted_origins: String,
    /// Comma-separated origins of the newsroom's own websites, whose articles readers
    /// may suggest corrections to (default: TRUSTED_ORIGINS).
    #[arg(long, env = "NEWSROOM_SITE_ORIGINS", default_value = "", global = true)]
    pub newsroom_site_origins: String,
    /// The newsroom's name, shown on every page and email.
    #[arg(long, env = "NEWSROOM_NAME", default_value = "The Daily Patron", global = true)]
    pub newsroom_name: String,
    /// The newsroom's legal name, printed on receipts and giving statements (default: NEWSROOM_NAME).
    #[arg(long, env = "NEWSROOM_LEGAL_NAME", default_value = "", global = true)]
    pub newsroom_legal_name: String,
    /// The newsroom's postal address, printed on receipts and statements; lines separated by ` | `.
    #[arg(long, env = "NEWSROOM_ADDRESS", default_value = "", global = true)]
    pub newsroom_address: String,
    /// The language the newsroom writes its content in first (`en` or `uk`): the
    /// text readers of a language without a translation see.
    #[arg(long, env = "NEWSROOM_LANGUAGE", default_value = "en", global = true)]
    pub newsroom_language: String,
    /// Stripe secret key (sk_live_…/sk_test_…); absent: demo payments.
    #[arg(long, env = "STRIPE_SECRET_KEY", global = true, hide_env_values = true)]
    pub stripe_secret_key: Option<String>,
    /// Webhook signing secret(s) (whsec_…), comma-separated while rotating.
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", global = true, hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,
    /// Stripe's API address; tests point it at a local mock.
    #[arg(long, env = "STRIPE_API_BASE", global = true)]
    pub stripe_api_base: Option<String>,
    /// The newsroom's time zone (IANA name, e.g. Europe/Kyiv): reports count calendar months there.
    #[arg(long, env = "NEWSROOM_TIMEZONE", default_value = "UTC", global = true)]
    pub newsroom_timezone: String,
    /// Days a patron whose renewal failed keeps access.
    #[arg(long, env = "PAST_DUE_GRACE_DAYS", default_value_t = 14, global = true)]
    pub past_due_grace_days: u16,
    /// Card fees per currency, e.g. `eur=1.5%+0.25,usd=2.9%+0.30,jpy=3.6%`: what a
    /// donor who covers the fee adds, and what demo payments charge (others: 1.5 % + 0.25).
    #[arg(long, env = "CARD_FEES", default_value = "", global = true)]
    pub card_fees: String,
    /// text or json.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Take the client address from the last X-Forwarded-For entry (only behind a proxy you run).
    #[arg(long, env = "TRUST_FORWARDED_FOR", default_value_t = false, global = true)]
    pub trust_forwarded_for: bool,
    /// Milliseconds a client has to send a request's headers before the connection is closed.
    #[arg(long, env = "HEADER_READ_TIMEOUT_MS", default_value_t = 10_000, global = true)]
    pub header_read_timeout_ms: u64,
    /// Connections one client address may hold open at once (0: no limit).
    #[arg(long, env = "MAX_CONNECTIONS_PER_CLIENT", default_value_t = 256, global = true)]
    pub max_connections_per_client: usize,
    /// Seconds a worker holds a Stripe event or an email it took before another
    /// instance may take it over (after a crash). Longer than any one attempt takes.
    #[arg(long, env = "JOB_LEASE_SECONDS", default_value_t = 120, global = true)]
    pub job_lease_seconds: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// A value that must never reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Stripe settings; present only when `STRIPE_SECRET_KEY` is set.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    pub secret_key: Secret,
    /// Every secret that may have signed a webhook (more than one while rotating).
    pub webhook_secrets: Vec<Secret>,
    pub api_base: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{variable}: {problem}")]
    Invalid { variable: &'static str, problem: String },
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { variable, problem: problem.into() }
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind_addr: SocketAddr,
    /// Origin only (`scheme://host[:port]`), no trailing slash.
    pub public_url: String,
    /// PUBLIC_URL was not given: it follows the address actually bound (port 0 included).
    pub public_url_from_bind: bool,
    pub secret_key: Option<Secret>,
    pub smtp_url: Option<Secret>,
    pub mail_from: String,
    pub trusted_origins: Vec<String>,
    /// The newsroom's own sites (NEWSROOM_SITE_ORIGINS, else TRUSTED_ORIGINS): only
    /// their articles take corrections, and they may frame the corrections form.
    pub newsroom_site_origins: Vec<String>,
    pub newsroom_name: String,
    /// Who receipts say was paid: NEWSROOM_LEGAL_NAME (else NEWSROOM_NAME) and NEWSROOM_ADDRESS.
    pub legal: crate::domain::LegalEntity,
    /// The language of the content's own columns (NEWSROOM_LANGUAGE).
    pub newsroom_language: crate::domain::Locale,
    /// Reports count calendar months in this zone.
    pub zone: crate::domain::Zone,
    pub log_format: LogFormat,
    pub trust_forwarded_for: bool,
    pub stripe: Option<StripeConfig>,
    pub past_due_grace_days: u16,
    pub card_fees: crate::domain::CardFees,
    pub serve_limits: crate::server::Limits,
    /// Run background jobs in this process. Tests turn it off and drain queues themselves.
    pub run_jobs: bool,
    /// How often the job loops look for due work that nothing woke them for.
    pub job_poll: std::time::Duration,
    /// JOB_LEASE_SECONDS: how long a taken Stripe event or email stays with its worker.
    pub job_lease: crate::clock::Micros,
}

impl Config {
    pub fn from_settings(s: Settings) -> Result<Self, ConfigError> {
        let database_url = s.database_url.trim().to_string();
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(invalid("DATABASE_URL", "expected a URL starting with sqlite:, postgres:// or postgresql://"));
        }
        let given_public_url = s.public_url.as_deref().map(str::trim).filter(|v| !v.is_empty());
        let public_url_from_bind = given_public_url.is_none();
        let public_url = match given_public_url {
            Some(url) => parse_origin(url).map_err(|p| invalid("PUBLIC_URL", p))?,
            None => format!("http://{}", s.bind_addr),
        };
        let secret_key = match s.secret_key.filter(|k| !k.is_empty()) {
            Some(k) if k.chars().count() < 32 => {
                return Err(invalid("SECRET_KEY", "must be at least 32 characters (e.g. `openssl rand -hex 32`)"));
            }
            other => other.map(Secret::new),
        };
        let smtp_url = match s.smtp_url.filter(|u| !u.trim().is_empty()) {
            Some(u) if !(u.starts_with("smtp://") || u.starts_with("smtps://")) => {
                return Err(invalid(
                    "SMTP_URL",
                    "expected smtp://host:port or smtps://host:port (with optional user:password@)",
                ));
            }
            other => other.map(Secret::new),
        };
        if s.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid("MAIL_FROM", "expected an address like `Newsroom <members@example.org>`"));
        }
        let trusted_origins = s
            .trusted_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| parse_origin(o).map_err(|p| invalid("TRUSTED_ORIGINS", format!("{o:?}: {p}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let newsroom_site_origins = s
            .newsroom_site_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| parse_origin(o).map_err(|p| invalid("NEWSROOM_SITE_ORIGINS", format!("{o:?}: {p}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let newsroom_site_origins =
            if newsroom_site_origins.is_empty() { trusted_origins.clone() } else { newsroom_site_origins };
        let stripe = match s.stripe_secret_key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            None => None,
            Some(key) => {
                if !(key.starts_with("sk_") || key.starts_with("rk_")) {
                    return Err(invalid(
                        "STRIPE_SECRET_KEY",
                        "expected a secret key starting with sk_ (or a restricted rk_ key)",
                    ));
                }
                let webhook_secrets: Vec<Secret> = s
                    .stripe_webhook_secret
                    .as_deref()
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|w| !w.is_empty())
                    .map(Secret::new)
                    .collect();
                if webhook_secrets.is_empty() || webhook_secrets.iter().any(|w| !w.expose().starts_with("whsec_")) {
                    return Err(invalid(
                        "STRIPE_WEBHOOK_SECRET",
                        "required with STRIPE_SECRET_KEY: the endpoint's signing secret(s), whsec_…, comma-separated",
                    ));
                }
                let api_base = match s.stripe_api_base.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
                    Some(base) if !(base.starts_with("http://") || base.starts_with("https://")) => {
                        return Err(invalid("STRIPE_API_BASE", "expected an http:// or https:// URL"));
                    }
                    Some(base) => Some(if base.ends_with('/') { base.to_string() } else { format!("{base}/") }),
                    None => None,
                };
                Some(StripeConfig { secret_key: Secret::new(key), webhook_secrets, api_base })
            }
        };
        let newsroom_name = s.newsroom_name.trim().to_string();
        if newsroom_name.is_empty() || newsroom_name.chars().count() > 100 {
            return Err(invalid("NEWSROOM_NAME", "expected 1 to 100 characters"));
        }
        let legal_name = match s.newsroom_legal_name.trim() {
            "" => newsroom_name.clone(),
            name if name.chars().count() > 200 => {
                return Err(invalid("NEWSROOM_LEGAL_NAME", "expected at most 200 characters"));
            }
            name => name.to_string(),
        };
        let address: Vec<String> =
            s.newsroom_address.split('|').map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
        if address.len() > 8 || address.iter().any(|l| l.chars().count() > 200) {
            return Err(invalid("NEWSROOM_ADDRESS", "expected at most 8 lines of 200 characters, separated by |"));
        }
        let legal = crate::domain::LegalEntity { name: legal_name, address };
        let newsroom_language = s
            .newsroom_language
            .parse::<crate::domain::Locale>()
            .map_err(|_| invalid("NEWSROOM_LANGUAGE", "expected `en` or `uk`"))?;
        let zone = crate::domain::Zone::parse(&s.newsroom_timezone)
            .map_err(|e| invalid("NEWSROOM_TIMEZONE", e.to_string()))?;
        if !(100..=600_000).contains(&s.header_read_timeout_ms) {
            return Err(invalid("HEADER_READ_TIMEOUT_MS", "expected 100 to 600000 milliseconds"));
        }
        if !(5..=3600).contains(&s.job_lease_seconds) {
            return Err(invalid("JOB_LEASE_SECONDS", "expected 5 to 3600 seconds"));
        }
        let serve_limits = crate::server::Limits {
            header_read_timeout: std::time::Duration::from_millis(s.header_read_timeout_ms),
            connections_per_client: s.max_connections_per_client,
        };
        Ok(Self {
            database_url,
            bind_addr: s.bind_addr,
            public_url,
            public_url_from_bind,
            secret_key,
            smtp_url,
            mail_from: s.mail_from,
            trusted_origins,
            newsroom_site_origins,
            newsroom_name,
            legal,
            newsroom_language,
            zone,
            log_format: s.log_format,
            trust_forwarded_for: s.trust_forwarded_for,
            stripe,
            past_due_grace_days: s.past_due_grace_days,
            card_fees: crate::domain::CardFees::parse(&s.card_fees)
                .map_err(|e| invalid("CARD_FEES", e.to_string().trim_start_matches("CARD_FEES: ").to_string()))?,
            serve_limits,
            run_jobs: true,
            job_poll: crate::jobs::POLL_EVERY,
            job_lease: i64::from(s.job_lease_seconds) * crate::clock::SECOND,
        })
    }

    /// Cookies get `Secure` whenever readers reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Accepts `scheme://host[:port]` with an optional trailing slash; returns it
/// without the slash, lower-cased, as browsers send it in `Origin`.
fn parse_origin(input: &str) -> Result<String, String> {
    let trimmed = input.trim().trim_end_matches('/');
    let (scheme, rest) = trimmed.split_once("://").ok_or_else(|| "expected http://host or https://host".to_string())?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err("the scheme must be http or https".into());
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err("expected only scheme, host and optional port, with no path".into());
    }
    Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Probe {
        #[command(flatten)]
        settings: Settings,
    }

    fn settings(args: &[&str]) -> Settings {
        let mut argv = vec!["probe"];
        argv.extend_from_slice(args);
        Probe::try_parse_from(argv).expect("arguments parse").settings
    }

    #[test]
    fn defaults_give_a_local_sqlite_site() {
        let c = Config::from_settings(settings(&[])).expect("defaults are valid");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert!(c.database_url.starts_with("sqlite:"));
        assert!(!c.secure_cookies());
    }

    #[test]
    fn wrong_values_name_the_variable() {
        let e = Config::from_settings(settings(&["--public-url", "ftp://x"])).expect_err("ftp is refused");
        assert!(e.to_string().starts_with("PUBLIC_URL:"), "{e}");
        let e = Config::from_settings(settings(&["--secret-key", "short"])).expect_err("short key");
        assert!(e.to_string().starts_with("SECRET_KEY:"), "{e}");
        let e = Config::from_settings(settings(&["--trusted-origins", "https://ok.org, https://bad.org/path"]))
            .expect_err("path");
        assert!(e.to_string().starts_with("TRUSTED_ORIGINS:"), "{e}");
        let e = Config::from_settings(settings(&["--stripe-secret-key", "sk_test_1"])).expect_err("no webhook secret");
        assert!(e.to_string().starts_with("STRIPE_WEBHOOK_SECRET:"), "{e}");
        let e = Config::from_settings(settings(&["--newsroom-language", "de"])).expect_err("unsupported language");
        assert_eq!(e.to_string(), "NEWSROOM_LANGUAGE: expected `en` or `uk`");
        let c = Config::from_settings(settings(&["--newsroom-language", "uk"])).expect("Ukrainian first");
        assert_eq!(c.newsroom_language, crate::domain::Locale::Uk);
        let e = Config::from_settings(settings(&["--stripe-secret-key", "pk_test_1"])).expect_err("publishable key");
        assert!(e.to_string().starts_with("STRIPE_SECRET_KEY:"), "{e}");
        let c = Config::from_settings(settings(&[
            "--stripe-secret-key",
            "sk_test_1",
            "--stripe-webhook-secret",
            "whsec_a, whsec_b",
            "--stripe-api-base",
            "http://127.0.0.1:9",
        ]))
        .expect("valid stripe settings");
        let stripe = c.stripe.expect("stripe configured");
        assert_eq!(stripe.webhook_secrets.len(), 2);
        assert_eq!(stripe.api_base.as_deref(), Some("http://127.0.0.1:9/"));
        let e = Config::from_settings(settings(&["--database-url", "mysql://x"])).expect_err("mysql");
        assert!(e.to_string().starts_with("DATABASE_URL:"), "{e}");
    }

    #[test]
    fn the_newsrooms_sites_default_to_the_trusted_origins() {
        let c = Config::from_settings(settings(&["--trusted-origins", "https://news.example"])).expect("valid");
        assert_eq!(c.newsroom_site_origins, vec!["https://news.example".to_string()]);
        let c = Config::from_settings(settings(&[
            "--trusted-origins",
            "https://news.example",
            "--newsroom-site-origins",
            "https://www.news.example/, https://amp.news.example",
        ]))
        .expect("valid");
        assert_eq!(c.newsroom_site_origins, vec!["https://www.news.example", "https://amp.news.example"]);
        let e = Config::from_settings(settings(&["--newsroom-site-origins", "news.example"])).expect_err("no scheme");
        assert!(e.to_string().starts_with("NEWSROOM_SITE_ORIGINS:"), "{e}");
    }

    #[test]
    fn origins_are_normalised_like_browsers_send_them() {
        assert_eq!(parse_origin("https://News.Example.org/"), Ok("https://news.example.org".into()));
        assert!(parse_origin("https://news.example.org/path").is_err());
    }
}
