//! The reload and tab hand-over. A page that holds the session and goes (closed, reloaded) has
//! received messages it has not delivered: their delivery waits for the store commit of their
//! receipt. It hands them to the page that resumes the session (another tab that takes the
//! lead, or its own next load), which delivers those whose receipt it loaded from the store
//! (`Session::claim_handed_over`), and only those: once a receipt is stored, the broker's
//! redelivery is taken for a duplicate, and before that the broker sends the message again.
//!
//! The items cross as opaque bytes (`encode`): the host only carries them (a BroadcastChannel,
//! sessionStorage), so every rule about them lives here.

use crate::codec::Publish;
use crate::session::{put_message, read_message};

/// Where handed-over messages come from, which says when they may be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandedFrom {
    /// This tab's previous page (a reload): its application subscribes its handlers once
    /// connected, so they go out after the connection is up, in a later task of the host.
    LastLoad,
    /// Another tab that led the session: this tab's handlers are in place, so they go out as
    /// soon as the session is loaded.
    OtherTab,
}

/// A message handed over, with the routing the page that received it had given it.
#[derive(Debug, Clone, PartialEq)]
pub struct Handed {
    pub publish: Publish,
    /// Its de-duplication key (see `Session::claim_handed_over`).
    pub key: Option<String>,
    /// Routing as `Session::named_routes` gave it.
    pub primary: bool,
    pub named: Vec<(String, bool)>,
    /// A page already judged it its own to deliver: the next page delivers it without asking
    /// the store again (the receipt may have been settled with the broker since).
    pub confirmed: bool,
}

/// The hand-over state of one client.
#[derive(Debug, Default)]
pub(crate) struct Handover {
    /// Taken in before the session was loaded (or while this tab followed): judged at start.
    unjudged: Vec<Handed>,
    /// Judged this session's to deliver, not delivered yet.
    confirmed: Vec<Handed>,
    /// The session is loaded: items are judged as they come.
    started: bool,
    /// Some confirmed items came from this tab's previous page: wait for the connection.
    after_connect: bool,
    /// When to deliver them (the connection is up; a timer gives the host's next task).
    due: Option<u64>,
}

impl Handover {
    /// The items to hand on when this page goes: `pending` (received here, not yet judged by
    /// any page), then those taken in and not yet judged, then those judged and not delivered.
    pub(crate) fn hand_over(&mut self, pending: Vec<Handed>) -> Vec<Handed> {
        let mut items = pending;
        items.append(&mut self.unjudged);
        items.extend(self.confirmed.drain(..).map(|item| Handed {
            confirmed: true,
            ..item
        }));
        self.due = None;
        items
    }

    pub(crate) fn take(&mut self, items: Vec<Handed>, from: HandedFrom) {
        self.after_connect |= from == HandedFrom::LastLoad;
        self.unjudged.extend(items);
    }

    /// Another tab took the lead: what it was handed is its to deliver.
    pub(crate) fn forget(&mut self) {
        if !self.started {
            self.unjudged.clear();
        }
    }

    pub(crate) fn start(&mut self) {
        self.started = true;
    }

    pub(crate) fn is_started(&self) -> bool {
        self.started
    }

    /// Judges what waits (`claim`: the session's answer), keeping what is this session's.
    pub(crate) fn judge(&mut self, mut claim: impl FnMut(&Handed) -> bool) {
        if !self.started {
            return;
        }
        for item in self.unjudged.drain(..) {
            if item.confirmed || claim(&item) {
                self.confirmed.push(Handed {
                    confirmed: true,
                    ..item
                });
            }
        }
    }

    /// The confirmed items to deliver now, if their time has come.
    pub(crate) fn due(&mut self, now: u64, connected: bool) -> Vec<Handed> {
        if self.confirmed.is_empty() {
            return Vec::new();
        }
        if self.after_connect {
            if !connected {
                self.due = None;
                return Vec::new();
            }
            match self.due {
                Some(due) if due <= now => {}
                Some(_) => return Vec::new(),
                None => {
                    self.due = Some(now);
                    return Vec::new();
                }
            }
        }
        self.due = None;
        self.after_connect = false;
        std::mem::take(&mut self.confirmed)
    }

    pub(crate) fn poll_timeout(&self) -> Option<u64> {
        self.due
    }
}

/// The format of the bytes; a page of another version reads none of them.
const FORMAT: u8 = 1;
const CONFIRMED: u8 = 1;
const PRIMARY: u8 = 2;
const KEYED: u8 = 4;

/// The items as bytes for the host to carry. A message that does not encode (none should: it
/// was decoded from the wire) is left out: the broker's redelivery is then taken for a
/// duplicate, as when there is no hand-over at all.
pub fn encode(items: &[Handed]) -> Vec<u8> {
    let mut out = vec![FORMAT];
    let mut message = Vec::new();
    for item in items {
        message.clear();
        if !put_message(&item.publish, &mut message) {
            continue;
        }
        let flag = |set: bool, bit: u8| if set { bit } else { 0 };
        out.push(
            flag(item.confirmed, CONFIRMED)
                | flag(item.primary, PRIMARY)
                | flag(item.key.is_some(), KEYED),
        );
        if let Some(key) = &item.key {
            put_str(&mut out, key);
        }
        out.extend_from_slice(&(item.named.len() as u16).to_be_bytes());
        for (name, primary) in &item.named {
            put_str(&mut out, name);
            out.push(u8::from(*primary));
        }
        // The packet id the broker gave it (0: none), which the next session's claim looks up.
        out.extend_from_slice(&item.publish.packet_id.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&(message.len() as u32).to_be_bytes());
        out.extend_from_slice(&message);
    }
    out
}

/// The items in `bytes`; None when they are not all readable (another version's, or damaged):
/// then none is taken, as if nothing had been handed over.
pub fn decode(bytes: &[u8]) -> Option<Vec<Handed>> {
    let (&format, mut rest) = bytes.split_first()?;
    if format != FORMAT {
        return None;
    }
    let mut items = Vec::new();
    while let Some((&flags, after)) = rest.split_first() {
        rest = after;
        let key = if flags & KEYED != 0 {
            Some(take_str(&mut rest)?)
        } else {
            None
        };
        let count = take_u16(&mut rest)?;
        let mut named = Vec::new();
        for _ in 0..count {
            let name = take_str(&mut rest)?;
            named.push((name, take(&mut rest, 1)?[0] != 0));
        }
        let packet_id = take_u16(&mut rest)?;
        let len = u32::from_be_bytes(take(&mut rest, 4)?.try_into().ok()?) as usize;
        let mut publish = read_message(take(&mut rest, len)?)?;
        publish.packet_id = (packet_id != 0).then_some(packet_id);
        items.push(Handed {
            publish,
            key,
            primary: flags & PRIMARY != 0,
            named,
            confirmed: flags & CONFIRMED != 0,
        });
    }
    Some(items)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if rest.len() < n {
        return None;
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Some(head)
}

fn take_u16(rest: &mut &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(take(rest, 2)?.try_into().ok()?))
}

fn take_str(rest: &mut &[u8]) -> Option<String> {
    let len = usize::from(take_u16(rest)?);
    String::from_utf8(take(rest, len)?.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Properties, QoS};
    use bytes::Bytes;

    fn item(text: &str, confirmed: bool) -> Handed {
        Handed {
            publish: Publish {
                dup: false,
                qos: QoS::ExactlyOnce,
                retain: false,
                topic: "t/1".into(),
                packet_id: Some(7),
                properties: Properties::default(),
                payload: Bytes::copy_from_slice(text.as_bytes()),
            },
            key: Some(format!("k-{text}")),
            primary: true,
            named: vec![("alarms".into(), false)],
            confirmed,
        }
    }

    #[test]
    fn items_cross_as_bytes_and_come_back_equal() {
        let items = vec![item("a", false), item("b", true)];
        assert_eq!(decode(&encode(&items)), Some(items));
        assert_eq!(decode(&encode(&[])), Some(Vec::new()));
    }

    #[test]
    fn damaged_or_foreign_bytes_give_nothing() {
        let bytes = encode(&[item("a", false)]);
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None, "cut short");
        assert_eq!(decode(&[]), None);
        let mut foreign = bytes.clone();
        foreign[0] = 9;
        assert_eq!(decode(&foreign), None, "another format");
        let mut packet = Vec::new();
        assert!(put_message(&item("a", false).publish, &mut packet));
        let mut bad_packet = bytes.clone();
        let start = bytes.len() - packet.len();
        bad_packet[start] = 0; // no PUBLISH any more
        assert_eq!(decode(&bad_packet), None, "not a PUBLISH");
    }

    #[test]
    fn only_what_the_session_claims_or_a_page_confirmed_is_delivered() {
        let mut h = Handover::default();
        h.take(
            vec![item("mine", false), item("not", false), item("ok", true)],
            HandedFrom::OtherTab,
        );
        h.judge(|_| panic!("not judged before the session is loaded"));
        h.start();
        h.judge(|i| i.publish.payload == "mine");
        let out: Vec<_> = h
            .due(10, false)
            .into_iter()
            .map(|i| i.publish.payload)
            .collect();
        assert_eq!(
            out,
            ["mine", "ok"],
            "another tab's: at once, connected or not"
        );
        assert!(h.due(11, true).is_empty(), "once");
    }

    #[test]
    fn a_reloads_items_wait_for_the_connection_and_a_later_task() {
        let mut h = Handover::default();
        h.start();
        h.take(vec![item("a", true)], HandedFrom::LastLoad);
        h.judge(|_| false);
        assert!(h.due(5, false).is_empty(), "not connected");
        assert_eq!(h.poll_timeout(), None);
        assert!(h.due(6, true).is_empty(), "connected: the next task");
        assert_eq!(h.poll_timeout(), Some(6));
        assert_eq!(h.due(6, true).len(), 1);
        assert_eq!(h.poll_timeout(), None);
    }

    #[test]
    fn a_page_that_goes_hands_on_what_it_holds_the_judged_as_confirmed() {
        let mut h = Handover::default();
        h.start();
        h.take(vec![item("judged", false)], HandedFrom::LastLoad);
        h.judge(|_| true);
        h.take(vec![item("waiting", false)], HandedFrom::LastLoad);
        let mut out = h.hand_over(vec![item("pending", false)]);
        out.sort_by(|a, b| a.publish.payload.cmp(&b.publish.payload));
        let seen: Vec<_> = out
            .iter()
            .map(|i| (i.publish.payload.clone(), i.confirmed))
            .collect();
        assert_eq!(
            seen,
            [
                (Bytes::from_static(b"judged"), true),
                (Bytes::from_static(b"pending"), false),
                (Bytes::from_static(b"waiting"), false),
            ]
        );
        assert!(h.due(100, true).is_empty(), "nothing left here");
    }

    #[test]
    fn a_follower_forgets_its_items_when_another_tab_takes_the_lead() {
        let mut h = Handover::default();
        h.take(vec![item("a", false)], HandedFrom::OtherTab);
        h.forget();
        h.start();
        h.judge(|_| true);
        assert!(h.due(1, true).is_empty());
    }
}
