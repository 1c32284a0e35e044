//! The one timer that drives the session core: re-armed from the core's next deadline.
//!
//! Browsers throttle timers of hidden tabs (once a second, then once a minute after some
//! minutes), which would make keepalives late and get the connection dropped by the broker.
//! Timers inside a dedicated Worker are not throttled that way, so the timer runs in a tiny
//! Worker made from a Blob; where that is refused (a CSP without `worker-src blob:`, no Worker in
//! this global), it falls back to the page's own setTimeout through gloo-timers.
//!
//! A fire may arrive after a re-arm (the Worker's message was already on its way); the core
//! checks its own deadlines, so such a spurious wake-up is harmless. [`Timer::arm_at`] leans on
//! that: a message to the Worker costs about as much as sending a small publish, so a deadline
//! later than the one already armed is left for the next fire to pick up.

use std::cell::Cell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, MessageEvent, Url, Worker};

const WORKER_SOURCE: &str =
    "let t;onmessage=e=>{clearTimeout(t);if(e.data>=0)t=setTimeout(()=>postMessage(0),e.data)}";

enum Clock {
    Worker {
        worker: Worker,
        url: String,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
    },
    Page {
        pending: Option<Timeout>,
    },
}

pub(crate) struct Timer {
    clock: Clock,
    on_fire: Rc<dyn Fn()>,
    /// The deadline [`Timer::arm_at`] armed and that has not fired yet (None: none, or unknown).
    armed_at: Rc<Cell<Option<u64>>>,
}

impl Timer {
    /// A timer that calls `on_fire` when an armed delay has passed.
    pub(crate) fn new(on_fire: impl Fn() + 'static) -> Timer {
        let armed_at = Rc::new(Cell::new(None));
        let fired = armed_at.clone();
        let on_fire: Rc<dyn Fn()> = Rc::new(move || {
            fired.set(None);
            on_fire();
        });
        let clock = worker_clock(on_fire.clone()).unwrap_or(Clock::Page { pending: None });
        Timer {
            clock,
            on_fire,
            armed_at,
        }
    }

    /// Fires at `deadline` (`now` on the same clock), unless a fire at or before it is armed
    /// already: that fire comes first, and the caller re-arms from it.
    pub(crate) fn arm_at(&mut self, deadline: u64, now: u64) {
        if self.armed_at.get().is_some_and(|armed| armed <= deadline) {
            return;
        }
        self.arm(deadline.saturating_sub(now).min(u64::from(u32::MAX)) as u32);
        self.armed_at.set(Some(deadline));
    }

    /// Whether the timer runs in a Worker (false: the page's own, throttled, setTimeout).
    #[cfg(test)]
    pub(crate) fn uses_worker(&self) -> bool {
        matches!(self.clock, Clock::Worker { .. })
    }

    /// Fires once after `delay_ms`, replacing any earlier arming.
    pub(crate) fn arm(&mut self, delay_ms: u32) {
        self.armed_at.set(None);
        match &mut self.clock {
            Clock::Worker { worker, .. } => {
                let _ = worker.post_message(&JsValue::from(delay_ms.min(i32::MAX as u32)));
            }
            Clock::Page { pending } => {
                let on_fire = self.on_fire.clone();
                *pending = Some(Timeout::new(delay_ms, move || on_fire()));
            }
        }
    }

    pub(crate) fn cancel(&mut self) {
        self.armed_at.set(None);
        match &mut self.clock {
            Clock::Worker { worker, .. } => {
                let _ = worker.post_message(&JsValue::from(-1));
            }
            Clock::Page { pending } => {
                pending.take(); // dropping a gloo Timeout clears it
            }
        }
    }
}

fn worker_clock(on_fire: Rc<dyn Fn()>) -> Option<Clock> {
    if js_sys::Reflect::get(&js_sys::global(), &"Worker".into())
        .ok()?
        .is_undefined()
    {
        return None;
    }
    let options = BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob =
        Blob::new_with_str_sequence_and_options(&Array::of1(&WORKER_SOURCE.into()), &options)
            .ok()?;
    let url = Url::create_object_url_with_blob(&blob).ok()?;
    let Ok(worker) = Worker::new(&url) else {
        let _ = Url::revoke_object_url(&url);
        return None;
    };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| on_fire());
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    Some(Clock::Worker {
        worker,
        url,
        _on_message: on_message,
    })
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Clock::Worker { worker, url, .. } = &self.clock {
            worker.set_onmessage(None);
            worker.terminate();
            let _ = Url::revoke_object_url(url);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    async fn sleep(ms: u32) {
        gloo_timers::future::TimeoutFuture::new(ms).await;
    }

    /// Waits until `fired` counts one (or 5 s pass): timing on a loaded machine is not what
    /// these tests check, only that each arming fires once.
    async fn first_fire(fired: &Cell<u32>) {
        for _ in 0..500 {
            if fired.get() > 0 {
                break;
            }
            sleep(10).await;
        }
    }

    fn counting_timer() -> (Rc<Cell<u32>>, Timer) {
        let fired = Rc::new(Cell::new(0));
        let counter = fired.clone();
        (fired, Timer::new(move || counter.set(counter.get() + 1)))
    }

    #[wasm_bindgen_test]
    async fn runs_in_a_worker_and_fires_once_per_arming() {
        let (fired, mut timer) = counting_timer();
        assert!(timer.uses_worker());
        timer.arm(20);
        first_fire(&fired).await;
        sleep(100).await;
        assert_eq!(fired.get(), 1);
    }

    #[wasm_bindgen_test]
    async fn re_arming_replaces_the_earlier_deadline() {
        let (fired, mut timer) = counting_timer();
        timer.arm(30);
        timer.arm(1_000);
        sleep(300).await;
        assert_eq!(fired.get(), 0, "the first arming was replaced");
        first_fire(&fired).await;
        sleep(100).await;
        assert_eq!(fired.get(), 1);
    }

    #[wasm_bindgen_test]
    async fn cancel_and_drop_stop_the_timer() {
        let (fired, mut timer) = counting_timer();
        timer.arm(20);
        timer.cancel();
        let (dropped_fired, mut dropped) = counting_timer();
        dropped.arm(20);
        drop(dropped);
        sleep(120).await;
        assert_eq!((fired.get(), dropped_fired.get()), (0, 0));
    }

    #[wasm_bindgen_test]
    async fn the_page_clock_fires_too() {
        let fired = Rc::new(Cell::new(0));
        let counter = fired.clone();
        let on_fire: Rc<dyn Fn()> = Rc::new(move || counter.set(counter.get() + 1));
        let mut timer = Timer {
            clock: Clock::Page { pending: None },
            on_fire,
            armed_at: Rc::new(Cell::new(None)),
        };
        timer.arm(10);
        timer.arm(20);
        first_fire(&fired).await;
        sleep(100).await;
        assert_eq!(fired.get(), 1);
    }

    #[wasm_bindgen_test]
    async fn a_later_deadline_leaves_the_armed_fire_and_arms_again_after_it() {
        let (fired, mut timer) = counting_timer();
        timer.arm_at(1_030, 1_000);
        timer.arm_at(9_000, 1_000);
        sleep(150).await;
        assert_eq!(fired.get(), 1, "the fire armed first came at its time");
        // Once it fired nothing is armed, so even the same deadline arms again.
        timer.arm_at(1_030, 1_200);
        sleep(100).await;
        assert_eq!(fired.get(), 2);
    }

    #[wasm_bindgen_test]
    async fn an_earlier_deadline_replaces_the_armed_one() {
        let (fired, mut timer) = counting_timer();
        timer.arm_at(1_400, 1_000);
        timer.arm_at(1_020, 1_000);
        sleep(150).await;
        assert_eq!(fired.get(), 1, "the earlier deadline fired");
        sleep(400).await;
        assert_eq!(fired.get(), 1, "the later arming was replaced");
    }
}
