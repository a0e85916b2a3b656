//! sea-orm entities of the tables in `migrations/`.

pub mod auctions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auctions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub commissioner: String,
        /// The `Auction` after the event numbered `seq` (a snapshot; the events are the truth).
        #[sea_orm(column_type = "JsonBinary")]
        pub state: Json,
        pub seq: i64,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod auction_events {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auction_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub auction_id: i64,
        pub seq: i64,
        pub kind: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub payload: Json,
        pub actor: String,
        pub at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod command_results {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "command_results")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub auction_id: i64,
        pub client_id: String,
        pub actor: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub command: Json,
        #[sea_orm(column_type = "JsonBinary")]
        pub outcome: Json,
        pub at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
