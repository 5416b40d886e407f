//! The request log: what the emulator received, as it received it.

use std::collections::VecDeque;

use super::Endpoint;

/// One request as the emulator received it, for assertions in tests.
///
/// Typical use: prove that no secret, OIDC token or security token ever travels in a URL.
///
/// ```
/// # use mse_auth_emulator::LoggedRequest;
/// fn assert_no_token_in_urls(log: &[LoggedRequest], token: &str) {
///     for r in log {
///         assert!(!r.path_and_query.contains(token));
///         assert!(r.query_pairs().iter().all(|(_, v)| v != token));
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// The endpoint the request was routed to; `None` for an unknown path or action.
    pub endpoint: Option<Endpoint>,
    /// The HTTP method, e.g. `"POST"`.
    pub method: String,
    /// Path and query exactly as received (still percent-encoded), e.g. `"/?Action=AssumeRole&…"`.
    pub path_and_query: String,
    /// Header names (lower-case) and values, in the order received; non-UTF-8 values are converted
    /// lossily.
    pub headers: Vec<(String, String)>,
    /// The request body (lossy UTF-8).
    pub body: String,
}

impl LoggedRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query parameters, decoded (`+` and `%20` both become a space).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        match self.path_and_query.split_once('?') {
            Some((_, query)) => form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            None => Vec::new(),
        }
    }

    /// The decoded value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The decoded value of a parameter of a form body (`application/x-www-form-urlencoded`).
    pub fn body_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    #[cfg(test)]
    pub(crate) fn for_test(endpoint: Option<Endpoint>) -> Self {
        LoggedRequest {
            endpoint,
            method: "GET".into(),
            path_and_query: "/".into(),
            headers: Vec::new(),
            body: String::new(),
        }
    }
}

/// A FIFO that keeps at most `capacity` entries, dropping the oldest.
pub(crate) struct BoundedLog<T> {
    entries: VecDeque<T>,
    capacity: usize,
}

impl<T: Clone> BoundedLog<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        BoundedLog {
            entries: VecDeque::new(),
            capacity,
        }
    }

    pub(crate) fn push(&mut self, entry: T) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub(crate) fn to_vec(&self) -> Vec<T> {
        self.entries.iter().cloned().collect()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_log_drops_the_oldest() {
        let mut log = BoundedLog::new(2);
        log.push(1);
        log.push(2);
        log.push(3);
        assert_eq!(log.to_vec(), vec![2, 3]);
    }

    #[test]
    fn query_pairs_are_decoded() {
        let mut r = LoggedRequest::for_test(None);
        r.path_and_query = "/?a=x+y&b=%2F%20".into();
        assert_eq!(r.query_param("a").as_deref(), Some("x y"));
        assert_eq!(r.query_param("b").as_deref(), Some("/ "));
        assert_eq!(r.query_param("c"), None);
        r.body = "Token=a%2Bb+c".into();
        assert_eq!(r.body_param("Token").as_deref(), Some("a+b c"));
        assert_eq!(r.body_param("a"), None);
    }
}
