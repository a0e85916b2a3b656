//! One member per team and auction, enforced by the database: two invitations for the same
//! team redeemed at once cannot both succeed. (NULL teams — the commissioner without a team,
//! spectators — are distinct in a unique index on SQLite and PostgreSQL alike.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ux_members_auction_team")
                    .table(Members::Table)
                    .col(Members::AuctionId)
                    .col(Members::Team)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_members_auction_team")
                    .table(Members::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Members {
    Table,
    AuctionId,
    Team,
}
