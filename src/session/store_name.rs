//! The name a session is stored and shared under (the IndexedDB database, the Web Lock and
//! BroadcastChannel of the tabs sharing it): the broker's identity and the client id.
//!
//! A storage name is readable by every script of the origin and outlives logout, so it carries
//! nothing a URL may hide a secret in. User info, query and fragment are left out: that is where
//! URLs carry credentials (`user:password@`, `?access_token=`, a signed URL's
//! `X-Amz-Signature`), and they change when a token is rotated, which must not open a new, empty
//! session. The path is kept only as a digest: it tells endpoints apart (`/mqtt` from `/ws`), but
//! some services put a token in it (`wss://host/mqtt/TOKEN`). Scheme, host and port stay
//! readable, so a developer can still tell which broker a database belongs to.
//!
//! The digest is 64-bit FNV-1a: it cannot give back a path longer than eight bytes (countless
//! paths share each digest), and it is a few instructions in a size-bounded wasm. A
//! cryptographic hash would not protect a weak secret better: one that can be guessed from its
//! digest can be guessed from any unsalted digest.
//!
//! The authority is cut as the WHATWG URL parser cuts it (at the first `/`, `?`, `#` or `\`, user
//! info up to the last `@`), so what a browser connects to is what names the store.

/// The storage name of the session of `client_id` with the broker at `url`.
pub fn storage_name(url: &str, client_id: &str) -> String {
    format!("wasmqtt:{}:{client_id}", broker_identity(url))
}

/// The names earlier versions stored the session of `client_id` with the broker at `url` under,
/// newest first, for the store to move the session from: the path written out, then the whole
/// URL, credentials and all.
pub fn earlier_storage_names(url: &str, client_id: &str) -> Vec<String> {
    let (origin, path) = split_identity(url);
    vec![
        format!("wasmqtt:{origin}{path}:{client_id}"),
        format!("wasmqtt:{url}:{client_id}"),
    ]
}

/// `scheme://host:port/#digest`: lower-case scheme and host, the port always written, and the
/// digest of the path (`/` for an empty one); never user info, query or fragment.
pub fn broker_identity(url: &str) -> String {
    let (origin, path) = split_identity(url);
    format!("{origin}/#{:016x}", fnv1a64(path.as_bytes()))
}

/// 64-bit FNV-1a.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `scheme://host:port` and the path of `url`.
fn split_identity(url: &str) -> (String, &str) {
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
    (
        format!("{scheme}://{}:{port}", host.to_ascii_lowercase()),
        path,
    )
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
            assert_eq!(
                name,
                storage_name("wss://broker.example/mqtt", "c1"),
                "{url}"
            );
            assert!(
                name.starts_with("wasmqtt:wss://broker.example:443/#"),
                "{name}"
            );
            for secret in ["SECRET", "pw", "user", "ss@", "Amz", "/mqtt"] {
                assert!(!name.contains(secret), "{url} -> {name}");
            }
        }
    }

    #[test]
    fn the_same_broker_written_differently_is_one_identity_and_others_are_not() {
        let id = broker_identity;
        let path = |path: &str| format!("{:016x}", fnv1a64(path.as_bytes()));
        assert_eq!(id("ws://Host:80"), id("ws://host/"));
        assert_eq!(
            id("ws://host:09001/mqtt"),
            format!("ws://host:9001/#{}", path("/mqtt"))
        );
        assert_eq!(id("ws://[::1]:9001/mqtt?x"), id("ws://[::1]:9001/mqtt"));
        assert!(id("ws://[::1]:9001/mqtt").starts_with("ws://[::1]:9001/#"));
        assert_eq!(id("ws://[::1]/"), format!("ws://[::1]:80/#{}", path("/")));
        assert_eq!(
            id("ws://h/a@b"),
            format!("ws://h:80/#{}", path("/a@b")),
            "an @ in the path is not user info"
        );
        assert_ne!(id("ws://h/mqtt"), id("ws://h/other"));
        assert_ne!(id("ws://h:1/"), id("ws://h:2/"));
        assert_ne!(id("ws://h/"), id("wss://h/"));
        assert_ne!(storage_name("ws://h/", "a"), storage_name("ws://h/", "b"));
    }

    #[test]
    fn a_secret_in_the_path_never_reaches_the_name_but_tells_endpoints_apart() {
        let name = storage_name("wss://iot.example/mqtt/TOKENx9?sig=1", "c1");
        assert!(
            !name.contains("TOKENx9") && !name.contains("/mqtt"),
            "{name}"
        );
        assert_ne!(
            name,
            storage_name("wss://iot.example/mqtt/OTHERx9", "c1"),
            "another path is another endpoint"
        );
        // The published FNV-1a 64 test values.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_earlier_names_are_the_readable_path_and_the_whole_url() {
        assert_eq!(
            earlier_storage_names("wss://u:p@Broker.example/mqtt/T?x=1", "c1"),
            [
                "wasmqtt:wss://broker.example:443/mqtt/T:c1",
                "wasmqtt:wss://u:p@Broker.example/mqtt/T?x=1:c1"
            ]
        );
    }
}
