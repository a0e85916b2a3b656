//! The room's chat: any member may send (within their chat rate), the commissioner may delete.
//! Text is kept as sent (trimmed): clients render it as text, never as markup.

use std::time::Duration;

use governor::clock::Clock as _;

use super::{MemberRequests, MemberRole, RequestError, nonzero};
use crate::auction::names::NamedMember;
use crate::auction::store::chat::{ChatDeletion, NewChatMessage};
use crate::config::Limits;
use crate::db::entities::chat_messages;

/// The most characters of a chat message (after trimming).
pub const MAX_CHAT_CHARS: usize = 500;

/// A token bucket per member of an auction (`(auction_id, sub)`), shared by their sockets (on
/// this process).
pub type ChatPace = governor::DefaultKeyedRateLimiter<(i64, String)>;

/// Above this many buckets, the full ones are forgotten before the next check.
const SWEEP_ABOVE: usize = 4096;

/// `chat_burst` messages at once, then one every `chat_refill`.
pub(super) fn pace(limits: &Limits) -> ChatPace {
    let every = limits.chat_refill.max(Duration::from_millis(1));
    let quota = governor::Quota::with_period(every)
        .expect("a period of at least 1 ms")
        .allow_burst(nonzero(limits.chat_burst));
    governor::RateLimiter::keyed(quota)
}

/// A message's text: trimmed, 1 to [`MAX_CHAT_CHARS`] characters, no control characters but
/// line breaks and tabs (a NUL, say, could not even be stored in PostgreSQL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatText(String);

impl ChatText {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_CHAT_CHARS {
            return Err("a message has 1 to 500 characters (after trimming)");
        }
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err("a message has no control characters other than line breaks and tabs");
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a chat request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error("too many chat messages; retry in {retry_ms} ms")]
    RateLimited { retry_ms: u64 },
    #[error("no such message in this auction")]
    UnknownMessage,
}

impl From<crate::auction::store::StoreError> for ChatError {
    fn from(e: crate::auction::store::StoreError) -> Self {
        Self::Request(e.into())
    }
}

impl ChatError {
    /// The stable `type` clients see.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Request(e) => e.kind(),
            Self::RateLimited { .. } => "rate_limited",
            Self::UnknownMessage => "not_found",
        }
    }
}

impl MemberRequests {
    /// `sub` sends `text` to the auction's chat: stored with the name others see them by now;
    /// the stored message.
    pub async fn send_chat(
        &self,
        id: i64,
        sub: &str,
        text: &ChatText,
    ) -> Result<chat_messages::Model, ChatError> {
        let row = self.member_row(id, sub).await?;
        self.spend_chat_token(id, sub)?;
        let NamedMember { member, name, .. } = &self.named(&row).await?;
        let row = self
            .store
            .add_chat_message(NewChatMessage {
                auction_id: id,
                sub,
                name,
                role: member.role.as_str(),
                team: member.team.map(|t| t.index() as i32),
                text: text.as_str(),
                at: self.clock.now_ms(),
            })
            .await?;
        Ok(row)
    }

    /// The member's chat bucket, if it has a token left.
    fn spend_chat_token(&self, id: i64, sub: &str) -> Result<(), ChatError> {
        if self.chat_pace.len() > SWEEP_ABOVE {
            self.chat_pace.retain_recent();
            self.chat_pace.shrink_to_fit();
        }
        let now = self.chat_pace.clock().now();
        self.chat_pace
            .check_key(&(id, sub.to_owned()))
            .map_err(|not_until| ChatError::RateLimited {
                retry_ms: (not_until.wait_time_from(now).as_millis() as u64).max(1),
            })
    }

    /// The commissioner deletes message `message` of the auction; whether it was deleted now
    /// (`false`: it had been before).
    pub async fn delete_chat(&self, id: i64, sub: &str, message: i64) -> Result<bool, ChatError> {
        if self.member(id, sub).await?.role != MemberRole::Commissioner {
            return Err(RequestError::Forbidden("only the commissioner can do this").into());
        }
        match self.store.delete_chat_message(id, message).await? {
            ChatDeletion::Deleted => Ok(true),
            ChatDeletion::AlreadyDeleted => Ok(false),
            ChatDeletion::Unknown => Err(ChatError::UnknownMessage),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_text_is_trimmed_and_bounded_in_characters() {
        assert_eq!(ChatText::parse("  hi \n").unwrap().as_str(), "hi");
        assert!(
            ChatText::parse(&"é".repeat(500)).is_ok(),
            "500 characters, 1000 bytes"
        );
        assert!(ChatText::parse(&"é".repeat(501)).is_err());
        assert!(ChatText::parse(" \t ").is_err());
        assert!(ChatText::parse("two\nlines\tand a tab").is_ok());
        assert!(ChatText::parse("nul\0byte").is_err());
    }

    #[test]
    fn a_members_chat_bucket_holds_its_burst_then_refills() {
        let limits = Limits {
            chat_burst: 2,
            chat_refill: Duration::from_secs(60),
            ..Limits::default()
        };
        let pace = pace(&limits);
        let ann = (1, "ann".to_owned());
        assert!(pace.check_key(&ann).is_ok());
        assert!(pace.check_key(&ann).is_ok());
        assert!(pace.check_key(&ann).is_err());
        assert!(
            pace.check_key(&(2, "ann".to_owned())).is_ok(),
            "per auction"
        );
        assert!(pace.check_key(&(1, "bob".to_owned())).is_ok(), "per member");
    }
}
