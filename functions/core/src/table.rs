//! The `Orders` table's keys and its one index (**contract** between the stack, local mode
//! and the adapters).

/// The partition key: one item per order.
pub const KEY: &str = "order_id";

/// The index of a user's orders in time order: what `GET /orders` reads.
pub const USER_INDEX: &str = "by-user";
/// Its partition key: the user (the token's `sub`).
pub const USER_INDEX_HASH_KEY: &str = "user_id";
/// Its sort key: the order's creation time, stored at a fixed width so that text order is
/// time order.
pub const USER_INDEX_RANGE_KEY: &str = "created_at";

/// The connections table: the open WebSocket connections of live status, one item each.
pub mod connections {
    /// The partition key: API Gateway's connection id.
    pub const KEY: &str = "connection_id";
    /// Whose connection it is (the token's `sub`), and the index that finds a user's.
    pub const USER: &str = "user_id";
    pub const USER_INDEX: &str = "by-user";
    /// When DynamoDB's TTL may delete the item (seconds since the epoch).
    pub const EXPIRES_AT: &str = "expires_at";
}
