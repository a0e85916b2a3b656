//! Who belongs to an auction, as stored: members and the invitations that make them.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
    sea_query::Expr,
};

use super::{AuctionStore, StoreError};
use crate::auction::{Millis, TeamId};
use crate::db::entities::{auctions, invitations, members};

impl AuctionStore {
    /// The caller's membership row, if any (`NotFound` when there is no such auction).
    pub async fn membership(
        &self,
        auction_id: i64,
        sub: &str,
    ) -> Result<Option<members::Model>, StoreError> {
        let row = members::Entity::find()
            .filter(members::Column::AuctionId.eq(auction_id))
            .filter(members::Column::Sub.eq(sub))
            .one(&self.db)
            .await?;
        if row.is_none()
            && auctions::Entity::find_by_id(auction_id)
                .one(&self.db)
                .await?
                .is_none()
        {
            return Err(StoreError::NotFound);
        }
        Ok(row)
    }

    /// Every member of the auction.
    pub async fn members(&self, auction_id: i64) -> Result<Vec<members::Model>, StoreError> {
        Ok(members::Entity::find()
            .filter(members::Column::AuctionId.eq(auction_id))
            .order_by_asc(members::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The auctions `sub` belongs to.
    pub async fn memberships_of(&self, sub: &str) -> Result<Vec<members::Model>, StoreError> {
        Ok(members::Entity::find()
            .filter(members::Column::Sub.eq(sub))
            .order_by_asc(members::Column::AuctionId)
            .all(&self.db)
            .await?)
    }

    pub async fn add_invitation(
        &self,
        auction_id: i64,
        code_hash: &str,
        role: &str,
        team: Option<TeamId>,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        invitations::Entity::insert(invitations::ActiveModel {
            auction_id: Set(auction_id),
            code_hash: Set(code_hash.to_owned()),
            role: Set(role.to_owned()),
            team: Set(team.map(|t| t.index() as i32)),
            expires_at: Set(expires_at as i64),
            ..Default::default()
        })
        .exec(&self.db)
        .await?;
        Ok(())
    }

    /// Sets (or, with `None`, clears) a member's display name; the member's row after it, or
    /// `None` for a non-member.
    pub async fn set_display_name(
        &self,
        auction_id: i64,
        sub: &str,
        display_name: Option<&str>,
    ) -> Result<Option<members::Model>, StoreError> {
        members::Entity::update_many()
            .col_expr(members::Column::DisplayName, Expr::value(display_name))
            .filter(members::Column::AuctionId.eq(auction_id))
            .filter(members::Column::Sub.eq(sub))
            .exec(&self.db)
            .await?;
        self.membership(auction_id, sub).await
    }

    /// Marks the invitation used by `sub` and adds the member (with `display_name`, if given),
    /// in one transaction; the member's row, or `None` when the code is unknown, used, expired,
    /// or its team has a manager already.
    pub async fn redeem_invitation(
        &self,
        auction_id: i64,
        code_hash: &str,
        sub: &str,
        display_name: Option<&str>,
        now: Millis,
    ) -> Result<Option<members::Model>, StoreError> {
        let txn = self.db.begin().await?;
        let used = invitations::Entity::update_many()
            .col_expr(invitations::Column::UsedBy, Expr::value(sub))
            .filter(invitations::Column::AuctionId.eq(auction_id))
            .filter(invitations::Column::CodeHash.eq(code_hash))
            .filter(invitations::Column::UsedBy.is_null())
            .filter(invitations::Column::ExpiresAt.gt(now as i64))
            .exec(&txn)
            .await?;
        if used.rows_affected != 1 {
            return Ok(None);
        }
        let invitation = invitations::Entity::find()
            .filter(invitations::Column::CodeHash.eq(code_hash))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        if let Some(team) = invitation.team {
            let taken = members::Entity::find()
                .filter(members::Column::AuctionId.eq(auction_id))
                .filter(members::Column::Team.eq(team))
                .one(&txn)
                .await?;
            if taken.is_some() {
                // Dropping the transaction rolls the redemption back.
                return Ok(None);
            }
        }
        let row = members::ActiveModel {
            auction_id: Set(auction_id),
            sub: Set(sub.to_owned()),
            role: Set(invitation.role.clone()),
            team: Set(invitation.team),
            joined_at: Set(now as i64),
            display_name: Set(display_name.map(str::to_owned)),
            ..Default::default()
        };
        let inserted = members::Entity::insert(row).exec_with_returning(&txn).await;
        let member = match inserted {
            Ok(member) => member,
            // A concurrent redemption took the team (or the caller joined meanwhile): the
            // unique indexes refuse the second, and the transaction rolls back.
            Err(e)
                if matches!(
                    e.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        txn.commit().await?;
        Ok(Some(member))
    }
}
