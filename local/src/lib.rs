//! What programs that drive `orders-local` share with it: where a started runner can be
//! reached ([`ready`]), and a client that posts orders and waits until every one has
//! settled ([`client`]). The end-to-end tests and the benchmark use both.

pub mod client;
pub mod ready;
