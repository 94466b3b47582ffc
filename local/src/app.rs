//! The customer app in local mode: the files of `web/` and the `config.json` the stack's
//! program writes next to them, on an origin of their own (another port than the API's), so
//! the browser asks the API's CORS rules as it does in the cloud.

use std::path::PathBuf;

use axum::Router;
use axum::routing::get;
use orders_blueprint::live::AppConfig;
use tower_http::services::ServeDir;

/// The app's files, in the checkout the runner was built from.
pub fn files() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web"))
}

pub fn router(config: AppConfig) -> Router {
    let config = serde_json::to_string(&config).expect("a config is JSON");
    Router::new()
        .route(
            &format!("/{}", orders_blueprint::live::CONFIG_FILE),
            get(move || async move {
                (
                    [
                        (axum::http::header::CONTENT_TYPE, "application/json"),
                        (axum::http::header::CACHE_CONTROL, "no-cache"),
                    ],
                    config.clone(),
                )
            }),
        )
        .fallback_service(ServeDir::new(files()))
}
