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

pub mod members {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "members")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub auction_id: i64,
        pub sub: String,
        /// `commissioner`, `manager` or `spectator`.
        pub role: String,
        /// The team managed (a commissioner may manage one too).
        pub team: Option<i32>,
        pub joined_at: i64,
        /// What other members see instead of `sub`; `None`: a name from the role.
        pub display_name: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod invitations {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invitations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub auction_id: i64,
        #[sea_orm(unique)]
        pub code_hash: String,
        pub role: String,
        pub team: Option<i32>,
        pub expires_at: i64,
        pub used_by: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod login_tokens {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "login_tokens")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub token_hash: String,
        pub email: String,
        pub redirect: String,
        pub expires_at: i64,
        pub used_at: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refresh_tokens {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_tokens")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub token_hash: String,
        pub sub: String,
        pub expires_at: i64,
        /// When it was rotated: presenting it again is a replay.
        pub used_at: Option<i64>,
        /// The login this token descends from; a replay revokes every token of it.
        pub family: String,
        pub revoked_at: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refused_bids {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refused_bids")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub auction_id: i64,
        pub lot: i64,
        pub team: i32,
        pub amount: i64,
        pub actor: String,
        pub client_id: Option<String>,
        /// The refusal's kind (`outbid`, `stale`, …).
        pub reason: String,
        pub at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod chat_messages {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chat_messages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub auction_id: i64,
        /// The sender (never sent to clients).
        pub sub: String,
        /// The sender's name, role and team when it was sent.
        pub name: String,
        pub team: Option<i32>,
        pub role: String,
        pub text: String,
        pub at: i64,
        /// Deleted by the commissioner: never sent again.
        pub deleted: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
