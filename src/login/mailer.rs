//! Where login links go. The default (no SMTP configured) writes each mail to the log and keeps
//! it in an in-memory outbox that development tools and tests read at `/dev/outbox`; with
//! `GAVEL_SMTP_URL` mail goes out over SMTP (lettre).

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The login link itself, for the outbox's readers.
    pub link: String,
}

#[derive(Debug, thiserror::Error)]
#[error("mail not sent: {0}")]
pub struct MailError(pub String);

pub trait Mailer: Send + Sync {
    fn send(
        &self,
        mail: Mail,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<(), MailError>> + Send + '_>>;

    /// The development outbox, when this mailer keeps one.
    fn outbox(&self) -> Option<Vec<Mail>> {
        None
    }
}

/// Logs every mail and keeps the last `capacity` of them.
pub struct DevOutbox {
    mails: Mutex<VecDeque<Mail>>,
    capacity: usize,
}

impl DevOutbox {
    pub fn new(capacity: usize) -> Self {
        Self {
            mails: Mutex::new(VecDeque::new()),
            capacity,
        }
    }
}

impl Mailer for DevOutbox {
    fn send(
        &self,
        mail: Mail,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<(), MailError>> + Send + '_>> {
        tracing::info!(to = %mail.to, link = %mail.link, "login link (development outbox)");
        let mut mails = self.mails.lock().expect("outbox lock");
        if mails.len() == self.capacity {
            mails.pop_front();
        }
        mails.push_back(mail);
        Box::pin(async { Ok(()) })
    }

    fn outbox(&self) -> Option<Vec<Mail>> {
        Some(
            self.mails
                .lock()
                .expect("outbox lock")
                .iter()
                .cloned()
                .collect(),
        )
    }
}

/// SMTP through lettre: `smtp://host:port`, `smtps://user:pass@host` (see lettre's `from_url`).
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> Result<Self, MailError> {
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| MailError(format!("GAVEL_SMTP_URL: {e}")))?
            .build();
        let from = from
            .parse()
            .map_err(|e| MailError(format!("GAVEL_MAIL_FROM: {e}")))?;
        Ok(Self { transport, from })
    }
}

impl Mailer for SmtpMailer {
    fn send(
        &self,
        mail: Mail,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<(), MailError>> + Send + '_>> {
        Box::pin(async move {
            use lettre::AsyncTransport;
            let to = mail
                .to
                .parse()
                .map_err(|e| MailError(format!("recipient: {e}")))?;
            let message = lettre::Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(mail.subject)
                .body(mail.body)
                .map_err(|e| MailError(e.to_string()))?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError(e.to_string()))
        })
    }
}
