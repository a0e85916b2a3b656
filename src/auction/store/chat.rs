//! Each auction room's chat, as stored: at most [`KEPT_PER_AUCTION`] rows per auction (an
//! insert prunes the older ones in its own transaction), deleted messages kept but marked.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait, sea_query::Expr,
};

use super::{AuctionStore, StoreError};
use crate::auction::Millis;
use crate::db::entities::chat_messages;

/// Messages kept per auction, deleted ones included; older ones are pruned.
pub const KEPT_PER_AUCTION: u64 = 1_000;

/// A message to store: who sent it (as others see them) and what.
pub struct NewChatMessage<'a> {
    pub auction_id: i64,
    pub sub: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub team: Option<i32>,
    pub text: &'a str,
    pub at: Millis,
}

/// What deleting a message did.
#[derive(Debug, PartialEq, Eq)]
pub enum ChatDeletion {
    Deleted,
    /// It was deleted before: nothing changed.
    AlreadyDeleted,
    /// No such message in this auction (or it was pruned).
    Unknown,
}

impl AuctionStore {
    /// Stores a message and prunes the auction's rows beyond the last [`KEPT_PER_AUCTION`], in
    /// one transaction; the stored row.
    pub async fn add_chat_message(
        &self,
        message: NewChatMessage<'_>,
    ) -> Result<chat_messages::Model, StoreError> {
        let txn = self.db.begin().await?;
        let row = chat_messages::Entity::insert(chat_messages::ActiveModel {
            auction_id: Set(message.auction_id),
            sub: Set(message.sub.to_owned()),
            name: Set(message.name.to_owned()),
            team: Set(message.team),
            role: Set(message.role.to_owned()),
            text: Set(message.text.to_owned()),
            at: Set(message.at as i64),
            deleted: Set(false),
            ..Default::default()
        })
        .exec_with_returning(&txn)
        .await?;
        // The newest row that falls out of the window, if any: it and every older one go.
        let oldest_dropped = chat_messages::Entity::find()
            .select_only()
            .column(chat_messages::Column::Id)
            .filter(chat_messages::Column::AuctionId.eq(message.auction_id))
            .order_by_desc(chat_messages::Column::Id)
            .offset(KEPT_PER_AUCTION)
            .limit(1)
            .into_tuple::<i64>()
            .one(&txn)
            .await?;
        if let Some(id) = oldest_dropped {
            chat_messages::Entity::delete_many()
                .filter(chat_messages::Column::AuctionId.eq(message.auction_id))
                .filter(chat_messages::Column::Id.lte(id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(row)
    }

    /// The last `limit` messages not deleted, oldest first.
    pub async fn chat_history(
        &self,
        auction_id: i64,
        limit: u64,
    ) -> Result<Vec<chat_messages::Model>, StoreError> {
        let mut rows = chat_messages::Entity::find()
            .filter(chat_messages::Column::AuctionId.eq(auction_id))
            .filter(chat_messages::Column::Deleted.eq(false))
            .order_by_desc(chat_messages::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.reverse();
        Ok(rows)
    }

    /// Marks message `id` of the auction deleted.
    pub async fn delete_chat_message(
        &self,
        auction_id: i64,
        id: i64,
    ) -> Result<ChatDeletion, StoreError> {
        let marked = chat_messages::Entity::update_many()
            .col_expr(chat_messages::Column::Deleted, Expr::value(true))
            .filter(chat_messages::Column::AuctionId.eq(auction_id))
            .filter(chat_messages::Column::Id.eq(id))
            .filter(chat_messages::Column::Deleted.eq(false))
            .exec(&self.db)
            .await?;
        if marked.rows_affected == 1 {
            return Ok(ChatDeletion::Deleted);
        }
        let exists = chat_messages::Entity::find()
            .filter(chat_messages::Column::AuctionId.eq(auction_id))
            .filter(chat_messages::Column::Id.eq(id))
            .one(&self.db)
            .await?
            .is_some();
        Ok(if exists {
            ChatDeletion::AlreadyDeleted
        } else {
            ChatDeletion::Unknown
        })
    }
}
