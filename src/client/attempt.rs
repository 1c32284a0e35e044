//! A URL and credentials computed afresh for each attempt (signed URLs, expiring tokens; MQTT.js's
//! `transformWsUrl`). When configured for it, the client asks the host before each attempt's
//! socket opens ([`Client::poll_attempt`]); the host calls the application's functions and hands
//! the answer back ([`Client::handle_attempt_setup`]). The attempt's connect timeout runs
//! meanwhile. An answer that failed (the function threw or rejected, or gave a bad value) fails
//! that attempt with `ATTEMPT_SETUP_FAILED`, and the next attempt follows the backoff. The answer
//! serves that attempt only: it is never stored, and the store keeps the configured URL's name.

use bytes::Bytes;

use super::error::ClientError;
use super::Client;

/// The host must compute the URL and credentials of an attempt to `url` (the configured one, or
/// a redirect's target),
/// then call [`Client::handle_attempt_setup`] with `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRequest {
    pub id: u32,
    pub url: String,
}

/// What the application answered for one attempt; what it leaves out stays as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptSetup {
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<Bytes>,
}

/// The attempts waiting for their setup.
#[derive(Default)]
pub(crate) struct Preparation {
    last_id: u32,
    /// The attempt waiting for its answer: its request id, URL index and the URL it would open.
    pending: Option<(u32, usize, String)>,
    request: Option<AttemptRequest>,
}

impl Preparation {
    /// Forgets the attempt waiting for its answer (it timed out, or the client closes).
    pub(crate) fn cancel(&mut self) {
        self.pending = None;
        self.request = None;
    }
}

impl Client {
    /// The attempt whose URL and credentials the host must compute, if any; call after every
    /// input.
    pub fn poll_attempt(&mut self) -> Option<AttemptRequest> {
        self.preparation.request.take()
    }

    /// The host's answer for attempt `id`: the setup, or why it could not be made (the
    /// application's function threw or rejected). An answer for an attempt given up meanwhile
    /// (timed out, closed) is ignored.
    pub fn handle_attempt_setup(
        &mut self,
        now: u64,
        id: u32,
        answer: Result<AttemptSetup, String>,
    ) {
        let Some((_, url_index, planned)) = self
            .preparation
            .pending
            .take_if(|(pending, _, _)| *pending == id)
        else {
            return;
        };
        let applied = answer.and_then(|setup| {
            let (username, password) = self.configured_credentials.clone();
            self.session
                .set_credentials(setup.username.or(username), setup.password.or(password))
                .map_err(|error| error.to_string())?;
            Ok(setup.url)
        });
        match applied {
            Ok(url) => {
                self.open_socket(url_index, &url.unwrap_or(planned));
            }
            Err(detail) => {
                let message = format!("the attempt to {planned} could not be set up: {detail}");
                self.attempt_failed(ClientError::new("ATTEMPT_SETUP_FAILED", message));
                self.supervisor.handle_closed(now);
            }
        }
        self.pump(now);
    }

    /// An attempt to `urls[url_index]` starts: its socket opens now, or once the host has
    /// computed its setup.
    pub(super) fn start_attempt(&mut self, url_index: usize) {
        // A redirect's target, or the configured URL (as a 0x9D move left it).
        let url = self.redirects.open(url_index, &self.urls[url_index]);
        if !self.prepare_attempts {
            self.open_socket(url_index, &url);
            return;
        }
        let p = &mut self.preparation;
        p.last_id += 1;
        p.pending = Some((p.last_id, url_index, url.clone()));
        p.request = Some(AttemptRequest { id: p.last_id, url });
    }

    fn open_socket(&mut self, url_index: usize, url: &str) {
        let decoder = self.decoder();
        self.transport.open(url_index, url, decoder);
    }
}
