//! What a tab that joins the session later is told of the connection (the leader tab answers
//! its hello with it): the connection's details while connected, the error that ended the
//! client if it stopped, and why the first connection is overdue while it is. Kept from the
//! events as they leave the core, so that a late tab hears what an early one heard.

use crate::codec::Properties;

use super::error::ClientError;
use super::event::ClientEvent;

#[derive(Debug, Default)]
pub struct JoinerState {
    /// The current connection's `Connected` details.
    pub connected: Option<(bool, Properties)>,
    /// The first connection is overdue (`ConnectOverdue`), until it is up.
    pub overdue: Option<ClientError>,
    /// The error that stopped the client for good.
    pub fatal: Option<ClientError>,
}

impl JoinerState {
    pub(crate) fn observe(&mut self, event: &ClientEvent) {
        match event {
            ClientEvent::Connected {
                session_present,
                properties,
            } => {
                self.connected = Some((*session_present, properties.clone()));
                self.overdue = None;
            }
            ClientEvent::Closed { .. } => self.connected = None,
            ClientEvent::ConnectOverdue(error) => self.overdue = Some(error.clone()),
            ClientEvent::Error(error) if error.fatal => self.fatal = Some(error.clone()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::LostReason;

    #[test]
    fn a_late_tab_hears_the_connection_the_overdue_first_one_or_the_fatal_error() {
        let mut s = JoinerState::default();
        s.observe(&ClientEvent::ConnectOverdue(ClientError::new(
            "CONNECT_TIMEOUT",
            "late",
        )));
        assert!(s.overdue.is_some() && s.connected.is_none());
        s.observe(&ClientEvent::Connected {
            session_present: true,
            properties: Properties::default(),
        });
        assert!(s.overdue.is_none(), "up at last");
        assert_eq!(s.connected.as_ref().map(|c| c.0), Some(true));
        s.observe(&ClientEvent::Closed {
            reason: LostReason::TransportClosed,
        });
        assert!(s.connected.is_none());
        s.observe(&ClientEvent::Error(ClientError::new("X", "not fatal")));
        assert!(s.fatal.is_none());
        s.observe(&ClientEvent::Error(
            ClientError::new("BANNED", "no").fatal(),
        ));
        assert_eq!(s.fatal.map(|e| e.code.to_string()), Some("BANNED".into()));
    }
}
