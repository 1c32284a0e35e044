//! The name a session is stored and shared under (the IndexedDB database, the Web Lock and
//! BroadcastChannel of the tabs sharing it): the broker's identity and the client id.
//!
//! The identity is the URL reduced to scheme, host, port and path: user info, query and fragment
//! are where URLs carry credentials (`user:password@`, `?access_token=`, a signed URL's
//! `X-Amz-Signature`), and a storage name is readable by every script of the origin and outlives
//! logout. They also change when a token is rotated, which must not open a new, empty session.
//! The authority is cut as the WHATWG URL parser cuts it (at the first `/`, `?`, `#` or `\`, user
//! info up to the last `@`), so what a browser connects to is what names the store.

/// The storage name of the session of `client_id` with the broker at `url`.
pub fn storage_name(url: &str, client_id: &str) -> String {
    format!("wasmqtt:{}:{client_id}", broker_identity(url))
}

/// `scheme://host:port/path`, lower-case scheme and host, the port always written, `/` for an
/// empty path; never user info, query or fragment.
pub fn broker_identity(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let scheme = scheme.to_ascii_lowercase();
    let authority_end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = split_port(host_port);
    let port = match port.and_then(|p| p.parse::<u16>().ok()) {
        Some(port) => port.to_string(),
        None => match scheme.as_str() {
            "wss" | "https" => "443".to_string(),
            _ => "80".to_string(),
        },
    };
    let path_end = after.find(['?', '#']).unwrap_or(after.len());
    let path = match &after[..path_end] {
        "" => "/",
        path => path,
    };
    format!("{scheme}://{}:{port}{path}", host.to_ascii_lowercase())
}

/// Host and port of `host[:port]`, `[v6]` literals included.
fn split_port(host_port: &str) -> (&str, Option<&str>) {
    if host_port.starts_with('[') {
        return match host_port.split_once(']') {
            Some((v6, rest)) => (
                &host_port[..v6.len() + 1],
                rest.strip_prefix(':').filter(|p| !p.is_empty()),
            ),
            None => (host_port, None),
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() => (host, Some(port)),
        Some((host, _)) => (host, None),
        None => (host_port, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_url_never_reach_the_name() {
        for url in [
            "wss://user:pw@broker.example/mqtt?access_token=SECRET#frag",
            "wss://broker.example/mqtt?X-Amz-Signature=SECRET&X-Amz-Date=1",
            "wss://us%40er:p@ss@BROKER.example:443/mqtt#SECRET",
            "WSS://broker.example/mqtt",
        ] {
            let name = storage_name(url, "c1");
            assert_eq!(name, "wasmqtt:wss://broker.example:443/mqtt:c1", "{url}");
            for secret in ["SECRET", "pw", "user", "ss@", "Amz"] {
                assert!(!name.contains(secret), "{url} -> {name}");
            }
        }
    }

    #[test]
    fn the_same_broker_written_differently_is_one_identity_and_others_are_not() {
        let id = broker_identity;
        assert_eq!(id("ws://Host:80"), id("ws://host/"));
        assert_eq!(id("ws://host:09001/mqtt"), "ws://host:9001/mqtt");
        assert_eq!(id("ws://[::1]:9001/mqtt?x"), "ws://[::1]:9001/mqtt");
        assert_eq!(id("ws://[::1]/"), "ws://[::1]:80/");
        assert_eq!(
            id("ws://h/a@b"),
            "ws://h:80/a@b",
            "an @ in the path is not user info"
        );
        assert_ne!(id("ws://h/mqtt"), id("ws://h/other"));
        assert_ne!(id("ws://h:1/"), id("ws://h:2/"));
        assert_ne!(id("ws://h/"), id("wss://h/"));
        assert_ne!(storage_name("ws://h/", "a"), storage_name("ws://h/", "b"));
    }
}
