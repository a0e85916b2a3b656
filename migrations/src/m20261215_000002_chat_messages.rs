//! The chat of each auction's room. Each row keeps the sender's name, role and team as they
//! were when it was sent; a message the commissioner deletes stays, marked `deleted`, and is
//! never sent again. The server keeps the last 1,000 rows per auction (it prunes older ones
//! when it inserts), so what a room can make it store is bounded.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChatMessages::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ChatMessages::Id))
                    .col(big_integer(ChatMessages::AuctionId))
                    .col(string(ChatMessages::Sub))
                    .col(text(ChatMessages::Name))
                    .col(integer_null(ChatMessages::Team))
                    .col(string(ChatMessages::Role))
                    .col(text(ChatMessages::Text))
                    .col(big_integer(ChatMessages::At))
                    .col(boolean(ChatMessages::Deleted).default(false))
                    .to_owned(),
            )
            .await?;
        // History and pruning both read one auction's rows by id.
        manager
            .create_index(
                Index::create()
                    .name("ix_chat_messages_auction_id")
                    .table(ChatMessages::Table)
                    .col(ChatMessages::AuctionId)
                    .col(ChatMessages::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ChatMessages::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

/// `sub` is the sender's (never sent to clients); `name`, `role` and `team` are what others
/// see, as they were at `at` (ms since the Unix epoch).
#[derive(DeriveIden)]
enum ChatMessages {
    Table,
    Id,
    AuctionId,
    Sub,
    Name,
    Team,
    Role,
    Text,
    At,
    Deleted,
}
