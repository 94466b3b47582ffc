//! Which browser origins may read the API's answers (**contract** of the REST API's CORS,
//! the same in the stack and in local mode): the stack's `allowedOrigins`, the app's origin
//! first. An answer admits the request's `Origin` only if it is one of them, written
//! exactly as a browser sends it (`scheme://host[:port]`, no path, no trailing slash).

/// The request headers a preflight admits.
pub const ALLOWED_HEADERS: [&str; 2] = ["Authorization", "Content-Type"];
/// The answer headers a browser app may read.
pub const EXPOSED_HEADERS: [&str; 3] = ["X-Order-Id", "Location", "x-amz-apigw-id"];
/// How long a browser may keep a preflight's answer (seconds).
pub const PREFLIGHT_MAX_AGE_SECONDS: u32 = 600;

/// The admitted origins, the app's first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowedOrigins(Vec<String>);

/// An origin that no browser sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an origin: write scheme://host[:port], e.g. https://app.example.com")]
pub struct NotAnOrigin(pub String);

impl AllowedOrigins {
    /// The origins of a comma-separated list (spaces around each are ignored).
    pub fn parse(list: &str) -> Result<Self, NotAnOrigin> {
        let mut origins = Self::default();
        for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            origins.push(origin)?;
        }
        Ok(origins)
    }

    /// Admits `origin` too (once).
    pub fn push(&mut self, origin: &str) -> Result<(), NotAnOrigin> {
        let refused = || NotAnOrigin(origin.to_owned());
        let (scheme, rest) = origin.split_once("://").ok_or_else(refused)?;
        if !matches!(scheme, "http" | "https")
            || rest.is_empty()
            || rest.contains(['/', '?', '#', ' ', ','])
        {
            return Err(refused());
        }
        if !self.0.iter().any(|o| o == origin) {
            self.0.push(origin.to_owned());
        }
        Ok(())
    }

    /// Whether a request from `origin` may read the answer.
    pub fn admits(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }

    /// The app's origin: what a gateway response names (it cannot choose among several).
    pub fn first(&self) -> Option<&str> {
        self.0.first().map(String::as_str)
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The list as [`parse`](Self::parse) reads it.
    pub fn to_list(&self) -> String {
        self.0.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_origins_are_admitted() {
        let origins =
            AllowedOrigins::parse(" https://d1.cloudfront.net , http://127.0.0.1:3001").unwrap();
        assert!(origins.admits("https://d1.cloudfront.net"));
        assert!(origins.admits("http://127.0.0.1:3001"));
        assert_eq!(origins.first(), Some("https://d1.cloudfront.net"));
        for other in [
            "http://d1.cloudfront.net",
            "https://d1.cloudfront.net.evil.example",
            "https://d1.cloudfront.net/",
            "http://127.0.0.1:3002",
            "null",
            "",
        ] {
            assert!(!origins.admits(other), "{other} was admitted");
        }
        assert_eq!(AllowedOrigins::parse(&origins.to_list()).unwrap(), origins);
    }

    #[test]
    fn what_no_browser_sends_is_refused_when_configured() {
        for bad in [
            "d1.cloudfront.net",
            "https://a/b",
            "ftp://a",
            "*",
            "https://",
        ] {
            assert!(AllowedOrigins::parse(bad).is_err(), "{bad} was taken");
        }
    }
}
