//! Who belongs to an auction (and as what), invitations to join one, one-time login links and
//! refresh tokens. Secrets (invitation codes, login and refresh tokens) are stored only as
//! SHA-256 hashes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Members::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Members::Id))
                    .col(big_integer(Members::AuctionId))
                    .col(string(Members::Sub))
                    .col(string(Members::Role))
                    .col(integer_null(Members::Team))
                    .col(big_integer(Members::JoinedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_members_auction_sub")
                    .table(Members::Table)
                    .col(Members::AuctionId)
                    .col(Members::Sub)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Invitations::Id))
                    .col(big_integer(Invitations::AuctionId))
                    .col(string_uniq(Invitations::CodeHash))
                    .col(string(Invitations::Role))
                    .col(integer_null(Invitations::Team))
                    .col(big_integer(Invitations::ExpiresAt))
                    .col(string_null(Invitations::UsedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginTokens::Table)
                    .if_not_exists()
                    .col(big_pk_auto(LoginTokens::Id))
                    .col(string_uniq(LoginTokens::TokenHash))
                    .col(string(LoginTokens::Email))
                    .col(string(LoginTokens::Redirect))
                    .col(big_integer(LoginTokens::ExpiresAt))
                    .col(big_integer_null(LoginTokens::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .if_not_exists()
                    .col(big_pk_auto(RefreshTokens::Id))
                    .col(string_uniq(RefreshTokens::TokenHash))
                    .col(string(RefreshTokens::Sub))
                    .col(big_integer(RefreshTokens::ExpiresAt))
                    .col(big_integer_null(RefreshTokens::UsedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RefreshTokens::Table.into_iden(),
            LoginTokens::Table.into_iden(),
            Invitations::Table.into_iden(),
            Members::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Role `commissioner`, `manager` (of `team`) or `spectator`; a commissioner may manage a team.
#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
    AuctionId,
    Sub,
    Role,
    Team,
    JoinedAt,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    AuctionId,
    CodeHash,
    Role,
    Team,
    ExpiresAt,
    UsedBy,
}

#[derive(DeriveIden)]
enum LoginTokens {
    Table,
    Id,
    TokenHash,
    Email,
    Redirect,
    ExpiresAt,
    UsedAt,
}

/// Rotated on every use: a refresh token works once.
#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    TokenHash,
    Sub,
    ExpiresAt,
    UsedAt,
}
