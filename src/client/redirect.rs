//! Server redirection (MQTT 5.0 section 4.11): a CONNACK or DISCONNECT with reason 0x9C (use
//! another server) or 0x9D (server moved) may carry a Server Reference (3.2.2.3.16, 3.14.2.2.6),
//! a space separated list of references whose format the spec leaves open. A browser can only
//! open WebSocket URLs, so the first `ws://` or `wss://` reference not yet visited is followed;
//! anything else is reported and left alone.
//!
//! Decisions: 0x9C is for this connection only (the next attempt after it ends goes back to the
//! configured URL); 0x9D replaces the configured URL it came from for the rest of this client's
//! life (in memory only: a new client starts from its configuration again). A chain of redirects
//! starts at each attempt's own URL and follows at most `max_hops`; a URL already in the chain
//! is never followed again, so two servers pointing at each other cannot loop. The store keeps
//! the name of the configured URL (`Client::store_url`): the session moves with the client id.

use crate::codec::reason;

/// `followRedirects`, and how many redirects one attempt may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedirectConfig {
    pub follow: bool,
    pub max_hops: u8,
}

impl Default for RedirectConfig {
    fn default() -> Self {
        RedirectConfig {
            follow: true,
            max_hops: 3,
        }
    }
}

/// A redirect being followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub from: String,
    pub to: String,
    pub reason_code: u8,
    /// 0x9D: the target replaces the configured URL from now on.
    pub permanent: bool,
}

/// Why a URL cannot be a WebSocket URL to open (None: it can).
pub fn websocket_url_problem(url: &str) -> Option<&'static str> {
    let lower = url.get(..6).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("wss://") {
        &url[6..]
    } else if lower.starts_with("ws://") {
        &url[5..]
    } else {
        return Some("must start with ws:// or wss://");
    };
    if url.contains('#') {
        // A WebSocket URL has no fragment (RFC 6455 3): the browser would refuse it.
        return Some("must not have a fragment (#...)");
    }
    if rest.is_empty() || rest.starts_with(['/', '?', ':']) {
        return Some("has no host");
    }
    None
}

pub(crate) struct Redirects {
    config: RedirectConfig,
    /// 0x9D targets, by the index of the configured URL they replace.
    moved: Vec<Option<String>>,
    /// Where the next opening of the current attempt goes, instead of its URL.
    next: Option<String>,
    /// The URLs opened in this chain, the attempt's own URL first.
    chain: Vec<String>,
    /// The Server Reference of the last DISCONNECT heard, for the `Lost` event that follows it.
    pub(crate) disconnect_reference: Option<String>,
}

impl Redirects {
    pub(crate) fn new(config: RedirectConfig, url_count: usize) -> Redirects {
        Redirects {
            config,
            moved: vec![None; url_count],
            next: None,
            chain: Vec::new(),
            disconnect_reference: None,
        }
    }

    /// The URL to open for `urls[index]`: a redirect's target within an attempt, else the URL
    /// as 0x9D left it.
    pub(crate) fn open(&mut self, index: usize, configured: &str) -> String {
        self.disconnect_reference = None;
        match self.next.take() {
            Some(target) => {
                self.chain.push(target.clone());
                target
            }
            None => {
                let url = self.url(index, configured).to_string();
                self.chain = vec![url.clone()];
                url
            }
        }
    }

    /// `urls[index]` as 0x9D left it.
    pub(crate) fn url<'a>(&'a self, index: usize, configured: &'a str) -> &'a str {
        self.moved[index].as_deref().unwrap_or(configured)
    }

    /// The URL opened last.
    pub(crate) fn current(&self) -> Option<&str> {
        self.chain.last().map(String::as_str)
    }

    /// A connection came up: a redirect after it starts a new chain from where it is.
    pub(crate) fn connected(&mut self) {
        let here = self.chain.pop();
        self.chain = here.into_iter().collect();
    }

    /// The server answered with `code` and `reference` on the connection to `urls[index]`:
    /// None when it is no redirect; the redirect to follow; or why it is not followed.
    pub(crate) fn decide(
        &mut self,
        index: usize,
        code: u8,
        reference: Option<&str>,
    ) -> Option<Result<Redirect, String>> {
        if code != reason::USE_ANOTHER_SERVER && code != reason::SERVER_MOVED {
            return None;
        }
        let from = self.current().unwrap_or_default().to_string();
        let reference = reference.unwrap_or_default();
        let websocket = || {
            reference
                .split(' ')
                .filter(|r| websocket_url_problem(r).is_none())
        };
        let unvisited = websocket().find(|r| !self.chain.iter().any(|c| c == r));
        let why = if !self.config.follow {
            "followRedirects is off"
        } else if self.chain.len() > usize::from(self.config.max_hops) {
            "maxRedirects were followed in this attempt already"
        } else if unvisited.is_none() && websocket().next().is_some() {
            "every WebSocket URL in it was visited in this chain already (a loop)"
        } else if unvisited.is_none() {
            "it names no ws:// or wss:// URL, all a browser can open"
        } else {
            ""
        };
        let Some(to) = unvisited.filter(|_| why.is_empty()) else {
            return Some(Err(format!(
                "the broker at {from} answered {} with Server Reference \"{reference}\": not followed, {why}",
                reason::name(code)
            )));
        };
        let permanent = code == reason::SERVER_MOVED;
        if permanent {
            self.moved[index] = Some(to.to_string());
        }
        self.next = Some(to.to_string());
        Some(Ok(Redirect {
            from,
            to: to.to_string(),
            reason_code: code,
            permanent,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_are_told_from_the_rest() {
        for ok in ["ws://h", "wss://h:8884/mqtt", "WS://H/"] {
            assert_eq!(websocket_url_problem(ok), None, "{ok}");
        }
        for bad in [
            "h:1883",
            "mqtt://h",
            "ws://",
            "ws:///p",
            "wss://h/#x",
            "http://h",
        ] {
            assert!(websocket_url_problem(bad).is_some(), "{bad}");
        }
    }
}
