//! Gavel's schema, as sea-orm migrations. `gavel migrate` and `gavel serve` run them.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_auctions;
mod m20261128_000002_members_logins;
mod m20261128_000003_refused_bids;
mod m20261128_000004_one_manager_per_team;
mod m20261201_000001_refresh_token_families;
mod m20261215_000001_member_display_names;
mod m20261215_000002_chat_messages;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_auctions::Migration),
            Box::new(m20261128_000002_members_logins::Migration),
            Box::new(m20261128_000003_refused_bids::Migration),
            Box::new(m20261128_000004_one_manager_per_team::Migration),
            Box::new(m20261201_000001_refresh_token_families::Migration),
            Box::new(m20261215_000001_member_display_names::Migration),
            Box::new(m20261215_000002_chat_messages::Migration),
        ]
    }
}
