//! The link supervisor: when to open a connection, to which broker URL, when to give an attempt
//! up and when to try again. Sans-I/O like the session core: the host passes `now` in, executes
//! the actions it polls out, and arms one timer for [`Supervisor::poll_timeout`].
//!
//! Brokers are tried in turn (like Paho's hosts list): a failed attempt moves on to the next URL
//! at once; after a whole round failed, the next round waits for the backoff delay. While the
//! browser says it is offline nothing is attempted; coming back online tries at once. A
//! permanent refusal (bad credentials, not authorised, banned) stops the supervisor: retrying
//! would only hammer the broker with the same refused login.

use std::collections::VecDeque;

use crate::client::reconnect::{Backoff, BackoffConfig};

/// What the host must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    /// Open a transport to `urls[url_index]` (and, once open, let the session send CONNECT).
    Open { url_index: usize },
    /// Close the current transport (the attempt timed out, or the supervisor stopped).
    Close,
}

/// What the application is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// The next attempt starts after `delay_ms`.
    Reconnecting {
        attempt: u32,
        delay_ms: u32,
        url_index: usize,
    },
    /// The browser went offline: attempts pause until it is back.
    Offline,
    /// An attempt got no CONNACK within the connect timeout and was given up.
    AttemptTimedOut { url_index: usize },
    /// The first connection is still not up a connect timeout after `start`: the application
    /// waiting for it is told now (with the last failure), while attempts go on.
    ConnectOverdue,
    /// No more attempts.
    Stopped { reason: StopReason },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The application ended the client.
    Ended,
    /// The broker refused us for a reason retrying cannot fix.
    PermanentRefusal,
    /// The connection was lost and reconnecting is switched off.
    ReconnectDisabled,
    /// `max_attempts` reconnect attempts failed in a row (see [`Supervisor::attempts`]).
    GaveUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    /// A transport is opening or CONNECT is awaiting CONNACK; gives up at `deadline`.
    Attempting {
        deadline: u64,
    },
    Up,
    Waiting {
        until: u64,
    },
    Offline,
    Stopped,
}

pub struct Supervisor {
    url_count: usize,
    url_index: usize,
    /// URLs tried since the last success or the last backoff wait.
    tried_this_round: usize,
    connect_timeout_ms: u32,
    backoff: Option<Backoff>,
    attempts: u32,
    state: State,
    /// When the application's wait for the first connection ends, until it is up.
    first_deadline: Option<u64>,
    online: bool,
    actions: VecDeque<LinkAction>,
    events: VecDeque<LinkEvent>,
}

impl Supervisor {
    /// `backoff: None` means never reconnect after a lost connection.
    pub fn new(
        url_count: usize,
        connect_timeout_ms: u32,
        backoff: Option<BackoffConfig>,
        seed: u64,
    ) -> Supervisor {
        assert!(url_count > 0, "at least one broker URL");
        Supervisor {
            url_count,
            url_index: 0,
            tried_this_round: 0,
            connect_timeout_ms,
            backoff: backoff.map(|config| Backoff::new(config, seed)),
            attempts: 0,
            state: State::Idle,
            first_deadline: None,
            online: true,
            actions: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Starts the first attempt (unless offline). The first connection is due a connect timeout
    /// from now (see [`LinkEvent::ConnectOverdue`]).
    pub fn start(&mut self, now: u64) {
        if self.state == State::Idle {
            self.first_deadline = Some(now + u64::from(self.connect_timeout_ms));
            self.attempt(now);
        }
    }

    /// The URL of the current or last attempt.
    pub fn url_index(&self) -> usize {
        self.url_index
    }

    /// True while a connection is up (CONNACK accepted).
    pub fn is_up(&self) -> bool {
        self.state == State::Up
    }

    /// True while attempts wait for the browser to be online.
    pub fn is_offline(&self) -> bool {
        self.state == State::Offline
    }

    /// Reconnect attempts made since the last connection came up.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub fn is_stopped(&self) -> bool {
        self.state == State::Stopped
    }

    /// The broker accepted the connection.
    pub fn handle_connected(&mut self, now: u64) {
        if let State::Attempting { .. } = self.state {
            self.state = State::Up;
            self.first_deadline = None;
            self.tried_this_round = 0;
            self.attempts = 0;
            if let Some(backoff) = &mut self.backoff {
                backoff.connected(now);
            }
        }
    }

    /// The transport closed, the attempt failed, or the session declared the connection lost.
    pub fn handle_closed(&mut self, now: u64) {
        match self.state {
            State::Attempting { .. } => self.retry(now, false),
            State::Up => self.retry(now, true),
            _ => {}
        }
    }

    /// The broker refused the connection. A permanent refusal stops everything; a transient one
    /// (server busy, unavailable) is retried like a failed attempt.
    pub fn handle_refused(&mut self, now: u64, permanent: bool) {
        if permanent {
            self.stop(StopReason::PermanentRefusal);
        } else {
            self.handle_closed(now);
        }
    }

    /// The broker sent the client to another server (see `client::redirect`): the attempt goes
    /// on there at once, with a fresh connect timeout, no backoff and no attempt counted.
    pub fn handle_redirect(&mut self, now: u64) {
        if !matches!(self.state, State::Attempting { .. } | State::Up) {
            return;
        }
        if !self.online {
            self.state = State::Offline;
            self.events.push_back(LinkEvent::Offline);
            return;
        }
        self.state = State::Attempting {
            deadline: now + u64::from(self.connect_timeout_ms),
        };
        self.actions.push_back(LinkAction::Open {
            url_index: self.url_index,
        });
    }

    /// The browser's `online` / `offline` events.
    pub fn handle_online(&mut self, now: u64, online: bool) {
        if self.online == online {
            return;
        }
        self.online = online;
        match (online, self.state) {
            (false, State::Waiting { .. }) => {
                self.state = State::Offline;
                self.events.push_back(LinkEvent::Offline);
            }
            (false, State::Attempting { .. }) => {
                // An attempt while offline cannot succeed: drop it and wait for `online`.
                self.actions.push_back(LinkAction::Close);
                self.state = State::Offline;
                self.events.push_back(LinkEvent::Offline);
            }
            (true, State::Offline) => {
                self.tried_this_round = 0;
                self.attempt(now);
            }
            (true, State::Waiting { .. }) => {
                // Back online: do not wait out a backoff that was sized for a dead network.
                self.attempt(now);
            }
            _ => {}
        }
    }

    /// Call when the deadline from [`Supervisor::poll_timeout`] has passed.
    pub fn handle_timeout(&mut self, now: u64) {
        match self.state {
            State::Attempting { deadline } if now >= deadline => {
                self.actions.push_back(LinkAction::Close);
                self.events.push_back(LinkEvent::AttemptTimedOut {
                    url_index: self.url_index,
                });
                self.retry(now, false);
            }
            State::Waiting { until } if now >= until => self.attempt(now),
            _ => {}
        }
        if self.first_deadline.is_some_and(|due| now >= due) && self.state != State::Stopped {
            self.first_deadline = None;
            self.events.push_back(LinkEvent::ConnectOverdue);
        }
    }

    /// The application ends the client.
    pub fn stop(&mut self, reason: StopReason) {
        if self.state == State::Stopped {
            return;
        }
        if matches!(self.state, State::Attempting { .. } | State::Up) {
            self.actions.push_back(LinkAction::Close);
        }
        self.state = State::Stopped;
        self.first_deadline = None;
        self.events.push_back(LinkEvent::Stopped { reason });
    }

    /// The application asks for a new connection now (`reconnect()`): the current connection or
    /// attempt is closed, and an attempt starts at once from the first URL, skipping any backoff
    /// wait. A stopped supervisor (given up, refused, reconnect off) starts again; the count of
    /// attempts towards `max_attempts` starts again from this one.
    pub fn reconnect_now(&mut self, now: u64) {
        if matches!(self.state, State::Attempting { .. } | State::Up) {
            self.actions.push_back(LinkAction::Close);
        }
        self.url_index = 0;
        self.tried_this_round = 0;
        self.attempts = 1;
        self.events.push_back(LinkEvent::Reconnecting {
            attempt: self.attempts,
            delay_ms: 0,
            url_index: self.url_index,
        });
        self.attempt(now);
    }

    /// The earliest time [`Supervisor::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        let state = match self.state {
            State::Attempting { deadline } => Some(deadline),
            State::Waiting { until } => Some(until),
            _ => None,
        };
        [state, self.first_deadline].into_iter().flatten().min()
    }

    /// The next action for the host; call until None after every input.
    pub fn poll_action(&mut self) -> Option<LinkAction> {
        self.actions.pop_front()
    }

    /// The next event for the application; call until None after every input.
    pub fn poll_event(&mut self) -> Option<LinkEvent> {
        self.events.pop_front()
    }

    fn attempt(&mut self, now: u64) {
        if !self.online {
            if self.state != State::Offline {
                self.state = State::Offline;
                self.events.push_back(LinkEvent::Offline);
            }
            return;
        }
        self.tried_this_round += 1;
        self.state = State::Attempting {
            deadline: now + u64::from(self.connect_timeout_ms),
        };
        self.actions.push_back(LinkAction::Open {
            url_index: self.url_index,
        });
    }

    fn retry(&mut self, now: u64, was_up: bool) {
        let Some(backoff) = &mut self.backoff else {
            self.stop(StopReason::ReconnectDisabled);
            return;
        };
        self.url_index = (self.url_index + 1) % self.url_count;
        if !was_up && self.tried_this_round < self.url_count {
            // Other brokers of this round are still untried: go straight to the next one.
            self.attempt(now);
            return;
        }
        self.tried_this_round = 0;
        if was_up {
            // Lost an established connection: start again from the first broker.
            self.url_index = 0;
        }
        if backoff.gives_up_after(self.attempts) {
            self.stop(StopReason::GaveUp);
            return;
        }
        self.attempts += 1;
        let delay_ms = backoff.next_delay(now);
        self.events.push_back(LinkEvent::Reconnecting {
            attempt: self.attempts,
            delay_ms,
            url_index: self.url_index,
        });
        if self.online {
            self.state = State::Waiting {
                until: now + u64::from(delay_ms),
            };
        } else {
            self.state = State::Offline;
            self.events.push_back(LinkEvent::Offline);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_backoff() -> BackoffConfig {
        BackoffConfig {
            min_ms: 100,
            max_ms: 1_000,
            factor: 2.0,
            jitter: 0.0,
            stable_after_ms: 5_000,
            max_attempts: 0,
        }
    }

    fn drain(s: &mut Supervisor) -> (Vec<LinkAction>, Vec<LinkEvent>) {
        (
            std::iter::from_fn(|| s.poll_action()).collect(),
            std::iter::from_fn(|| s.poll_event()).collect(),
        )
    }

    #[test]
    fn tries_each_broker_in_turn_then_backs_off_before_the_next_round() {
        let mut s = Supervisor::new(2, 1_000, Some(fixed_backoff()), 1);
        s.start(0);
        assert_eq!(drain(&mut s).0, [LinkAction::Open { url_index: 0 }]);
        s.handle_closed(10);
        assert_eq!(
            drain(&mut s).0,
            [LinkAction::Open { url_index: 1 }],
            "next broker at once"
        );
        s.handle_closed(20);
        let (actions, events) = drain(&mut s);
        assert!(actions.is_empty());
        assert_eq!(
            events,
            [LinkEvent::Reconnecting {
                attempt: 1,
                delay_ms: 100,
                url_index: 0
            }]
        );
        assert_eq!(s.poll_timeout(), Some(120));
        s.handle_timeout(119);
        assert!(drain(&mut s).0.is_empty(), "not before the deadline");
        s.handle_timeout(120);
        assert_eq!(drain(&mut s).0, [LinkAction::Open { url_index: 0 }]);
    }

    #[test]
    fn an_attempt_that_outlives_the_connect_timeout_is_closed_and_retried() {
        let mut s = Supervisor::new(1, 1_000, Some(fixed_backoff()), 1);
        s.start(0);
        drain(&mut s);
        assert_eq!(s.poll_timeout(), Some(1_000));
        s.handle_timeout(1_000);
        let (actions, events) = drain(&mut s);
        assert_eq!(actions, [LinkAction::Close]);
        assert_eq!(
            events,
            [
                LinkEvent::AttemptTimedOut { url_index: 0 },
                LinkEvent::Reconnecting {
                    attempt: 1,
                    delay_ms: 100,
                    url_index: 0
                },
                LinkEvent::ConnectOverdue
            ]
        );
    }

    #[test]
    fn delays_grow_across_failed_rounds_and_reset_after_a_connection() {
        let mut s = Supervisor::new(1, 1_000, Some(fixed_backoff()), 1);
        s.start(0);
        let mut now = 0;
        let mut delays = vec![];
        for _ in 0..3 {
            s.handle_closed(now);
            let (_, events) = drain(&mut s);
            let LinkEvent::Reconnecting { delay_ms, .. } = events[0] else {
                panic!()
            };
            delays.push(delay_ms);
            now = s.poll_timeout().unwrap();
            s.handle_timeout(now);
            drain(&mut s);
        }
        assert_eq!(delays, [100, 200, 400]);
        s.handle_connected(now);
        assert!(s.is_up());
        s.handle_closed(now + 10_000);
        let (_, events) = drain(&mut s);
        assert_eq!(
            events,
            [LinkEvent::Reconnecting {
                attempt: 1,
                delay_ms: 100,
                url_index: 0
            }]
        );
    }

    #[test]
    fn a_permanent_refusal_stops_without_any_retry() {
        let mut s = Supervisor::new(2, 1_000, Some(fixed_backoff()), 1);
        s.start(0);
        drain(&mut s);
        s.handle_refused(5, true);
        let (actions, events) = drain(&mut s);
        assert_eq!(actions, [LinkAction::Close]);
        assert_eq!(
            events,
            [LinkEvent::Stopped {
                reason: StopReason::PermanentRefusal
            }]
        );
        assert_eq!(s.poll_timeout(), None);
        s.handle_closed(6);
        s.handle_timeout(10_000);
        assert_eq!(drain(&mut s), (vec![], vec![]), "nothing after a stop");
    }

    #[test]
    fn a_transient_refusal_is_retried() {
        let mut s = Supervisor::new(1, 1_000, Some(fixed_backoff()), 1);
        s.start(0);
        drain(&mut s);
        s.handle_refused(5, false);
        assert!(matches!(
            drain(&mut s).1[..],
            [LinkEvent::Reconnecting { .. }]
        ));
    }

    #[test]
    fn offline_pauses_attempts_and_online_tries_at_once() {
        let mut s = Supervisor::new(1, 1_000, Some(fixed_backoff()), 1);
        s.start(0);
        drain(&mut s);
        s.handle_closed(10);
        drain(&mut s);
        s.handle_online(20, false);
        assert_eq!(drain(&mut s).1, [LinkEvent::Offline]);
        assert_eq!(
            s.poll_timeout(),
            Some(1_000),
            "no attempt timer while offline, only the first connection's due time"
        );
        s.handle_online(50_000, true);
        assert_eq!(drain(&mut s).0, [LinkAction::Open { url_index: 0 }]);
    }

    #[test]
    fn going_offline_mid_attempt_closes_it_and_back_online_skips_the_backoff_wait() {
        let mut s = Supervisor::new(1, 1_000, Some(fixed_backoff()), 1);
        s.start(0);
        drain(&mut s);
        s.handle_online(5, false);
        assert_eq!(
            drain(&mut s),
            (vec![LinkAction::Close], vec![LinkEvent::Offline])
        );
        s.handle_online(6, true);
        assert_eq!(drain(&mut s).0, [LinkAction::Open { url_index: 0 }]);
        s.handle_closed(7);
        drain(&mut s);
        assert!(s.poll_timeout().is_some());
        s.handle_online(8, false);
        s.handle_online(9, true);
        assert_eq!(
            drain(&mut s).0,
            [LinkAction::Open { url_index: 0 }],
            "the wait is skipped"
        );
    }

    #[test]
    fn starting_offline_waits_for_online() {
        let mut s = Supervisor::new(1, 1_000, Some(fixed_backoff()), 1);
        s.handle_online(0, false);
        s.start(0);
        assert_eq!(drain(&mut s), (vec![], vec![LinkEvent::Offline]));
        s.handle_online(1, true);
        assert_eq!(drain(&mut s).0, [LinkAction::Open { url_index: 0 }]);
    }

    #[test]
    fn without_reconnect_a_lost_connection_stops() {
        let mut s = Supervisor::new(1, 1_000, None, 1);
        s.start(0);
        drain(&mut s);
        s.handle_connected(1);
        s.handle_closed(2);
        assert_eq!(
            drain(&mut s).1,
            [LinkEvent::Stopped {
                reason: StopReason::ReconnectDisabled
            }]
        );
    }

    #[test]
    fn ending_closes_an_open_link_once() {
        let mut s = Supervisor::new(1, 1_000, Some(fixed_backoff()), 1);
        s.start(0);
        s.handle_connected(1);
        drain(&mut s);
        s.stop(StopReason::Ended);
        s.stop(StopReason::Ended);
        assert_eq!(
            drain(&mut s),
            (
                vec![LinkAction::Close],
                vec![LinkEvent::Stopped {
                    reason: StopReason::Ended
                }]
            )
        );
    }

    #[test]
    fn the_first_connection_is_overdue_a_connect_timeout_after_start_while_attempts_go_on() {
        let mut s = Supervisor::new(1, 1_000, Some(fixed_backoff()), 1);
        s.start(0);
        drain(&mut s);
        let mut now = 0;
        // A closed port: every attempt fails at once and waits out the backoff.
        while now < 1_000 {
            s.handle_closed(now);
            drain(&mut s);
            now = s.poll_timeout().unwrap();
            s.handle_timeout(now);
            let (actions, events) = drain(&mut s);
            if now >= 1_000 {
                assert!(events.contains(&LinkEvent::ConnectOverdue), "{events:?}");
            } else {
                assert!(!events.contains(&LinkEvent::ConnectOverdue));
                assert_eq!(actions, [LinkAction::Open { url_index: 0 }]);
            }
        }
        assert_eq!(now, 1_000, "told exactly at the due time");
        s.handle_closed(now);
        s.handle_timeout(s.poll_timeout().unwrap());
        let (actions, events) = drain(&mut s);
        assert_eq!(
            actions,
            [LinkAction::Open { url_index: 0 }],
            "attempts go on"
        );
        assert!(!events.contains(&LinkEvent::ConnectOverdue), "told once");
    }

    #[test]
    fn the_first_connection_is_overdue_while_offline_too() {
        let mut s = Supervisor::new(1, 2_000, Some(fixed_backoff()), 1);
        s.handle_online(0, false);
        s.start(0);
        drain(&mut s);
        assert_eq!(s.poll_timeout(), Some(2_000));
        s.handle_timeout(2_000);
        assert_eq!(drain(&mut s).1, [LinkEvent::ConnectOverdue]);
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn a_connection_up_in_time_or_an_end_is_never_overdue() {
        for ended in [false, true] {
            let mut s = Supervisor::new(1, 1_000, Some(fixed_backoff()), 1);
            s.start(0);
            if ended {
                s.stop(StopReason::Ended);
            } else {
                s.handle_connected(500);
            }
            drain(&mut s);
            assert_eq!(s.poll_timeout(), None);
            s.handle_timeout(5_000);
            assert!(!drain(&mut s).1.contains(&LinkEvent::ConnectOverdue));
        }
    }

    #[test]
    fn gives_up_when_max_attempts_reconnects_failed_in_a_row() {
        let config = BackoffConfig {
            max_attempts: 3,
            ..fixed_backoff()
        };
        let mut s = Supervisor::new(1, 1_000, Some(config), 1);
        s.start(0);
        s.handle_connected(1);
        drain(&mut s);
        let mut now = 10;
        s.handle_closed(now);
        let mut opened = 0;
        loop {
            let (actions, events) = drain(&mut s);
            if events.contains(&LinkEvent::Stopped {
                reason: StopReason::GaveUp,
            }) {
                break;
            }
            if actions.contains(&LinkAction::Open { url_index: 0 }) {
                opened += 1;
                assert!(opened <= 3, "more attempts than allowed");
                s.handle_closed(now); // a closed port: the attempt fails at once
                continue;
            }
            now = s.poll_timeout().expect("a wait before the next attempt");
            s.handle_timeout(now);
        }
        assert_eq!(opened, 3, "three reconnect attempts, then the stop");
        assert_eq!(s.attempts(), 3);
        assert!(s.is_stopped());
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn a_connection_that_comes_up_resets_the_attempts_toward_giving_up() {
        let config = BackoffConfig {
            max_attempts: 2,
            ..fixed_backoff()
        };
        let mut s = Supervisor::new(1, 1_000, Some(config), 1);
        s.start(0);
        drain(&mut s);
        for round in 0..5u64 {
            // One failed attempt, then a connection: never two failures in a row.
            let now = round * 10_000;
            s.handle_closed(now);
            drain(&mut s);
            s.handle_timeout(s.poll_timeout().unwrap());
            drain(&mut s);
            s.handle_connected(now + 5_000);
            s.handle_closed(now + 5_001);
            assert!(!s.is_stopped(), "round {round}");
            s.handle_timeout(s.poll_timeout().unwrap());
            drain(&mut s);
        }
    }
}
