//! Every bid, accepted or refused (with the reason), append-only: the auction's bid history.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Bids::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Bids::Id))
                    .col(big_integer(Bids::AuctionId))
                    .col(big_integer(Bids::Lot))
                    .col(integer(Bids::Team))
                    .col(big_integer(Bids::Amount))
                    .col(string(Bids::Actor))
                    .col(string_null(Bids::ClientId))
                    .col(boolean(Bids::Accepted))
                    .col(string_null(Bids::Reason))
                    .col(big_integer_null(Bids::Seq))
                    .col(big_integer(Bids::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_bids_auction_lot")
                    .table(Bids::Table)
                    .col(Bids::AuctionId)
                    .col(Bids::Lot)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Bids::Table).if_exists().to_owned())
            .await
    }
}

/// `seq` is the accepted bid's event; `reason` the refusal's kind (`outbid`, `stale`, …).
#[derive(DeriveIden)]
enum Bids {
    Table,
    Id,
    AuctionId,
    Lot,
    Team,
    Amount,
    Actor,
    ClientId,
    Accepted,
    Reason,
    Seq,
    At,
}
