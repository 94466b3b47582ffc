//! The public API's contract: its limits, its throttle and what each refusal says. The
//! Pulumi program makes API Gateway's answers from these; local mode answers with them.
//! `tests/contract/answers.json` is the table both sides are checked against.

/// API Gateway's largest REST API payload: 10 MB ("API Gateway quotas for configuring and
/// running a REST API"). Larger bodies get [`TOO_LARGE`] with 413.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// The stage's default throttle (each method its own token bucket): steady requests per
/// second, and the bucket's size. A stack's config and local mode's settings change them.
pub const THROTTLING_RATE_LIMIT: f64 = 100.0;
pub const THROTTLING_BURST_LIMIT: u32 = 200;

/// How long the API waits for the queue to take an order: API Gateway's default
/// integration timeout (29 s), set on the integration explicitly. Past it, the client gets
/// 504 with [`message::TIMED_OUT`]; the queue may still have taken the order.
pub const INTEGRATION_TIMEOUT_MS: u32 = 29_000;

/// The header in which API Gateway gives every answer its extended request id; on the POST
/// route that id is the order's, so a client whose order timed out can look it up.
pub const REQUEST_ID_HEADER: &str = "x-amz-apigw-id";

/// The routes, each behind the Cognito authorizer: (method, resource path).
pub const ROUTES: [(&str, &str); 4] = [
    ("POST", "/orders"),
    ("GET", "/orders"),
    ("GET", "/orders/{id}"),
    ("POST", "/orders/{id}/cancel"),
];

/// Where a new order can be read, relative to the host: the request's own path (with the
/// stage in front in the cloud) followed by the order id.
pub fn order_location(orders_path: &str, order_id: &str) -> String {
    format!("{}/{order_id}", orders_path.trim_end_matches('/'))
}

/// The `message` of each refusal; every error body is `{"message": ...}`.
pub mod message {
    /// Comes before the validator's own words about what is wrong with the body.
    pub const INVALID_ORDER: &str = "invalid order: ";
    /// No token, or one the authorizer refuses (malformed, forged, expired, of another pool
    /// or client, an access token): one answer for all, as it tells nobody which.
    pub const UNAUTHORIZED: &str = "sign in first: the Authorization header must hold a valid Cognito ID token of this API's user pool";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "Content-Type must be application/json";
    /// An unknown path, or a method the path does not have.
    pub const NO_SUCH_ROUTE: &str = "no such route";
    pub const TOO_LARGE: &str = "the body is larger than 10 MB";
    pub const THROTTLED: &str = "too many requests; slow down";
    /// The queue did not answer within [`super::INTEGRATION_TIMEOUT_MS`].
    pub const TIMED_OUT: &str = "no answer in time; a new order may still have been taken: look it up by the id in the x-amz-apigw-id header before posting it again";
    /// The queue answered 5xx: worth retrying.
    pub const QUEUE_UNAVAILABLE: &str = "the order queue is unavailable; try again";
    /// The queue refused the order for another reason: a fault of the stack.
    pub const NOT_QUEUED: &str = "the order could not be queued; try again";
}
