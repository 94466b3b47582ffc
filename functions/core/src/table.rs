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
