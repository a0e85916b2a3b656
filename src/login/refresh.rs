//! Refresh tokens: each works once and is rotated for a new one of the same *family* — the
//! tokens descended from one login. A token presented again after it was rotated is a replay
//! (RFC 9700 §4.14): either a thief or the user holds a copy, and the server cannot tell which,
//! so the whole family is revoked and its newest token stops working too; the user signs in
//! again. Stored only as hashes.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, sea_query::Expr,
};

use super::{LoginError, REFRESH_TTL, secret};
use crate::clock::Millis;
use crate::db::entities::refresh_tokens::{self, Column};

/// Whose the rotated token was, and its family (the new token's too).
pub struct Rotated {
    pub sub: String,
    pub family: String,
}

/// A new family, for a login.
pub fn new_family() -> String {
    secret::generate()
}

/// Stores a new token of `family` for `sub`, issued at `now`; the token.
pub async fn issue(
    db: &DatabaseConnection,
    sub: &str,
    family: &str,
    now: Millis,
) -> Result<String, DbErr> {
    let token = secret::generate();
    refresh_tokens::Entity::insert(refresh_tokens::ActiveModel {
        token_hash: Set(secret::hash(&token)),
        sub: Set(sub.to_owned()),
        expires_at: Set((now + REFRESH_TTL.as_millis() as u64) as i64),
        family: Set(family.to_owned()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(token)
}

/// Marks `token` used at `now`, once. A token already used revokes its family; an unknown,
/// expired or revoked one is refused. Every refusal is the same [`LoginError::InvalidToken`]
/// to the client.
pub async fn rotate(
    db: &DatabaseConnection,
    token: &str,
    now: Millis,
) -> Result<Rotated, LoginError> {
    let now = now as i64;
    let row = refresh_tokens::Entity::find()
        .filter(Column::TokenHash.eq(secret::hash(token)))
        .one(db)
        .await?
        .ok_or(LoginError::InvalidToken)?;
    if row.used_at.is_some() {
        revoke_family(db, &row, now).await?;
        return Err(LoginError::InvalidToken);
    }
    // A sibling revoked after this token was issued (a replay racing this token's own rotation)
    // counts as this one revoked.
    if row.revoked_at.is_some() || row.expires_at <= now || family_revoked(db, &row.family).await? {
        tracing::debug!(sub = %row.sub, family = %row.family, "refresh token refused: expired or revoked");
        return Err(LoginError::InvalidToken);
    }
    // One conditional update: of two presentations at once, one rotates, the other is a replay.
    let used = refresh_tokens::Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::Id.eq(row.id))
        .filter(Column::UsedAt.is_null())
        // A replay that revoked the family since the check above wins.
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if used.rows_affected != 1 {
        revoke_family(db, &row, now).await?;
        return Err(LoginError::InvalidToken);
    }
    Ok(Rotated {
        sub: row.sub,
        family: row.family,
    })
}

async fn family_revoked(db: &DatabaseConnection, family: &str) -> Result<bool, DbErr> {
    let revoked = refresh_tokens::Entity::find()
        .filter(Column::Family.eq(family))
        .filter(Column::RevokedAt.is_not_null())
        .count(db)
        .await?;
    Ok(revoked > 0)
}

/// Sign-out: revokes the family of `token`, if it is a known one (used, expired or not: a
/// signed-out login must not come back through any of its tokens).
pub async fn sign_out(db: &DatabaseConnection, token: &str, now: Millis) -> Result<(), DbErr> {
    let Some(row) = refresh_tokens::Entity::find()
        .filter(Column::TokenHash.eq(secret::hash(token)))
        .one(db)
        .await?
    else {
        tracing::debug!("sign-out with an unknown refresh token: nothing to revoke");
        return Ok(());
    };
    let revoked = mark_family_revoked(db, &row.family, now as i64).await?;
    tracing::info!(sub = %row.sub, family = %row.family, tokens_revoked = revoked, "signed out: the refresh family is revoked");
    Ok(())
}

/// Sets `revoked_at` on every token of `family` not revoked yet; how many.
async fn mark_family_revoked(
    db: &DatabaseConnection,
    family: &str,
    now: i64,
) -> Result<u64, DbErr> {
    Ok(refresh_tokens::Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::Family.eq(family))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Revokes every token of `replayed`'s family. Logged at WARN once per family (a revoked
/// family's tokens replayed again change nothing and are logged at DEBUG).
async fn revoke_family(
    db: &DatabaseConnection,
    replayed: &refresh_tokens::Model,
    now: i64,
) -> Result<(), DbErr> {
    let revoked = mark_family_revoked(db, &replayed.family, now).await?;
    if revoked > 0 {
        tracing::warn!(
            sub = %replayed.sub,
            family = %replayed.family,
            rotated_at_ms = replayed.used_at,
            tokens_revoked = revoked,
            "refresh token replayed after it was rotated: its family is revoked, the user must sign in again"
        );
    } else {
        tracing::debug!(sub = %replayed.sub, family = %replayed.family, "refresh token of a revoked family replayed");
    }
    Ok(())
}
