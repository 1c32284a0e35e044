//! A follower tab's calls: sent to the leader tab (the host carries them on a channel), which
//! says when its session took one (accepted) and how it ended (settled). When the leader goes
//! before a call is settled, what becomes of the call is decided here: one the old leader never
//! took is sent again (to the next leader, or run here if this tab leads now); one it took is
//! in the stored session (a QoS 1 or 2 message, a subscription), which the next leader carries
//! on, so sending it again would make a duplicate: it fails with `LEADER_CHANGED`, its outcome
//! unknown.

use super::error::ClientError;

/// What becomes of a call in flight when the leader changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Orphaned {
    /// Not taken by the old leader: send it again.
    SendAgain(u32),
    /// Taken: it fails with this error.
    Failed(u32, ClientError),
}

#[derive(Debug, Default)]
pub(crate) struct Forwarded {
    next: u32,
    /// Calls in flight: (id, accepted by the leader).
    calls: Vec<(u32, bool)>,
}

impl Forwarded {
    pub(crate) fn send(&mut self) -> u32 {
        self.next += 1;
        self.calls.push((self.next, false));
        self.next
    }

    pub(crate) fn accepted(&mut self, id: u32) {
        if let Some(call) = self.calls.iter_mut().find(|(i, _)| *i == id) {
            call.1 = true;
        }
    }

    pub(crate) fn settled(&mut self, id: u32) {
        self.calls.retain(|(i, _)| *i != id);
    }

    /// The leader went: every call in flight, in the order they were made. Those sent again
    /// stay in flight (not accepted); the failed ones are done.
    pub(crate) fn leader_changed(&mut self) -> Vec<Orphaned> {
        let orphaned = self
            .calls
            .iter()
            .map(|&(id, accepted)| match accepted {
                false => Orphaned::SendAgain(id),
                true => Orphaned::Failed(id, leader_changed_error()),
            })
            .collect();
        self.calls.retain(|(_, accepted)| !accepted);
        orphaned
    }
}

fn leader_changed_error() -> ClientError {
    ClientError::new(
        "LEADER_CHANGED",
        "the tab that held the connection went away before the broker answered this call; what \
         it took into the stored session (a QoS 1 or 2 message, a subscription) is carried on by \
         the next leader, but its outcome cannot be reported"
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_the_old_leader_took_fails_and_one_it_never_took_is_sent_again() {
        let mut f = Forwarded::default();
        let (a, b, c) = (f.send(), f.send(), f.send());
        f.accepted(b);
        f.accepted(c);
        f.settled(c);
        let orphaned = f.leader_changed();
        assert!(matches!(orphaned[0], Orphaned::SendAgain(id) if id == a));
        assert!(
            matches!(&orphaned[1], Orphaned::Failed(id, e) if *id == b && e.code.to_string() == "LEADER_CHANGED")
        );
        assert_eq!(orphaned.len(), 2, "a settled call is done");
        // Sent again, `a` is in flight with the next leader, which may take it in turn.
        f.accepted(a);
        assert!(matches!(&f.leader_changed()[..], [Orphaned::Failed(id, _)] if *id == a));
        assert!(f.leader_changed().is_empty());
    }
}
