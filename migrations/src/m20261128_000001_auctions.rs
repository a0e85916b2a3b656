//! Auctions as an event log: the current state (a snapshot, for reads) with its `seq`, every
//! event with a gapless per-auction `seq`, and the first answer to each client command id.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Auctions::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Auctions::Id))
                    .col(string(Auctions::Name))
                    .col(string(Auctions::Commissioner))
                    .col(json_binary(Auctions::State))
                    .col(big_integer(Auctions::Seq))
                    .col(big_integer(Auctions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuctionEvents::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AuctionEvents::Id))
                    .col(big_integer(AuctionEvents::AuctionId))
                    .col(big_integer(AuctionEvents::Seq))
                    .col(string(AuctionEvents::Kind))
                    .col(json_binary(AuctionEvents::Payload))
                    .col(string(AuctionEvents::Actor))
                    .col(big_integer(AuctionEvents::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_auction_events_auction_seq")
                    .table(AuctionEvents::Table)
                    .col(AuctionEvents::AuctionId)
                    .col(AuctionEvents::Seq)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CommandResults::Table)
                    .if_not_exists()
                    .col(big_pk_auto(CommandResults::Id))
                    .col(big_integer(CommandResults::AuctionId))
                    .col(string(CommandResults::ClientId))
                    .col(string(CommandResults::Actor))
                    .col(json_binary(CommandResults::Command))
                    .col(json_binary(CommandResults::Outcome))
                    .col(big_integer(CommandResults::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_command_results_auction_client")
                    .table(CommandResults::Table)
                    .col(CommandResults::AuctionId)
                    .col(CommandResults::ClientId)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CommandResults::Table.into_iden(),
            AuctionEvents::Table.into_iden(),
            Auctions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Auctions {
    Table,
    Id,
    Name,
    Commissioner,
    State,
    Seq,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuctionEvents {
    Table,
    Id,
    AuctionId,
    Seq,
    Kind,
    Payload,
    Actor,
    At,
}

/// Every command sent with a client id (`client_bid_id`, `Idempotency-Key`), accepted or
/// refused, with the answer it got: a retry gets the same answer and creates nothing.
#[derive(DeriveIden)]
enum CommandResults {
    Table,
    Id,
    AuctionId,
    ClientId,
    Actor,
    Command,
    Outcome,
    At,
}
