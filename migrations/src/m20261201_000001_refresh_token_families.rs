//! Refresh-token families (RFC 9700 §4.14): every refresh token descends from one login, and
//! that lineage is its `family`. Presenting a token that was already rotated is a replay — by
//! a thief or by the user whose token was stolen — so the whole family is revoked
//! (`revoked_at`), and its newest token stops working too.
//!
//! Tokens issued before this migration each become a family of their own (their hash, which
//! is unique): they rotate and are revoked like any other.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time. NOT NULL needs a default on
        // SQLite; the empty one is replaced right after.
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(string(RefreshTokens::Family).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(big_integer_null(RefreshTokens::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(RefreshTokens::Table)
                    .value(RefreshTokens::Family, Expr::col(RefreshTokens::TokenHash))
                    .and_where(Expr::col(RefreshTokens::Family).eq(""))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::Family)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .to_owned(),
            )
            .await?;
        for column in [RefreshTokens::RevokedAt, RefreshTokens::Family] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RefreshTokens::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum RefreshTokens {
    Table,
    TokenHash,
    /// The login the token descends from (a random id; the first token's hash for older rows).
    Family,
    /// When the family was revoked (set on every token of it).
    RevokedAt,
}
