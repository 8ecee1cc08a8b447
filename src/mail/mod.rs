//! Delivering mail: SMTP (lettre, rustls) when `SMTP_URL` is set, else the log.
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::db::outbox::OutboxMessage;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("the mail server refused or failed: {0}")]
    Transport(String),
}

#[derive(Clone)]
pub enum Mailer {
    /// Local development: the message, with its links, goes to the log.
    Log,
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Log => f.write_str("Mailer::Log"),
            Self::Smtp { from, .. } => write!(f, "Mailer::Smtp(from {from})"),
        }
    }
}

impl Mailer {
    pub fn from_config(smtp_url: Option<&str>, from: &str) -> anyhow::Result<Self> {
        let Some(url) = smtp_url else { return Ok(Self::Log) };
        let from: Mailbox = from.parse().map_err(|e| anyhow::anyhow!("MAIL_FROM: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        Ok(Self::Smtp { transport, from })
    }

    pub async fn send(&self, message: &OutboxMessage) -> Result<(), MailError> {
        match self {
            Self::Log => {
                tracing::info!(
                    mail.template = %message.template,
                    "email (not sent: SMTP_URL is not set)\nTo: {}\nSubject: {}\n\n{}",
                    message.to_address,
                    message.subject,
                    message.body_text
                );
                Ok(())
            }
            Self::Smtp { transport, from } => {
                let to: Mailbox =
                    message.to_address.parse().map_err(|e| MailError::Build(format!("recipient: {e}")))?;
                let mut email = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(message.subject.clone())
                    .multipart(MultiPart::alternative_plain_html(message.body_text.clone(), message.body_html.clone()))
                    .map_err(|e| MailError::Build(e.to_string()))?;
                for (name, value) in message.extra_headers() {
                    let name = HeaderName::new_from_ascii(name.to_string())
                        .map_err(|e| MailError::Build(format!("header {name:?}: {e}")))?;
                    email.headers_mut().insert_raw(HeaderValue::new(name, value.to_string()));
                }
                transport.send(email).await.map_err(|e| MailError::Transport(e.to_string()))?;
                Ok(())
            }
        }
    }
}
