//! Every refused bid with its reason, append-only. Accepted bids are `bid_accepted` events in
//! `auction_events`; together they are the auction's bid history.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RefusedBids::Table)
                    .if_not_exists()
                    .col(big_pk_auto(RefusedBids::Id))
                    .col(big_integer(RefusedBids::AuctionId))
                    .col(big_integer(RefusedBids::Lot))
                    .col(integer(RefusedBids::Team))
                    .col(big_integer(RefusedBids::Amount))
                    .col(string(RefusedBids::Actor))
                    .col(string_null(RefusedBids::ClientId))
                    .col(string(RefusedBids::Reason))
                    .col(big_integer(RefusedBids::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_refused_bids_auction_lot")
                    .table(RefusedBids::Table)
                    .col(RefusedBids::AuctionId)
                    .col(RefusedBids::Lot)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(RefusedBids::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

/// `reason` is the refusal's kind (`outbid`, `stale`, …).
#[derive(DeriveIden)]
enum RefusedBids {
    Table,
    Id,
    AuctionId,
    Lot,
    Team,
    Amount,
    Actor,
    ClientId,
    Reason,
    At,
}
