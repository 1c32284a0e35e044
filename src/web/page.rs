//! The page's lifecycle as the client core needs it: the browser's `online` / `offline`, and
//! the moments the page is visible again or resumes (a hidden tab's timers may have fired late,
//! a frozen page's not at all). The listeners are removed when this is dropped.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

pub(crate) struct PageListeners {
    listeners: Vec<(EventTarget, &'static str, Closure<dyn FnMut()>)>,
}

impl PageListeners {
    /// Listens on the window (none in a Worker: then nothing is heard). Returns the listeners
    /// and whether the browser is online now.
    pub(crate) fn install(
        on_online: impl Fn(bool) + Clone + 'static,
        on_visible: impl Fn() + Clone + 'static,
    ) -> (PageListeners, bool) {
        let mut listeners = Vec::new();
        let Some(window) = web_sys::window() else {
            return (PageListeners { listeners }, true);
        };
        let on_window: &EventTarget = window.as_ref();
        for (name, online) in [("online", true), ("offline", false)] {
            let on_online = on_online.clone();
            let listener = Closure::<dyn FnMut()>::new(move || on_online(online));
            listeners.push((on_window.clone(), name, listener));
        }
        let visible = || {
            let on_visible = on_visible.clone();
            Closure::<dyn FnMut()>::new(move || on_visible())
        };
        listeners.push((on_window.clone(), "visibilitychange", visible()));
        if let Some(document) = window.document() {
            // `resume` is fired at the document and does not reach the window.
            listeners.push((document.into(), "resume", visible()));
        }
        for (target, name, listener) in &listeners {
            let _ =
                target.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
        (PageListeners { listeners }, window.navigator().on_line())
    }
}

impl Drop for PageListeners {
    fn drop(&mut self) {
        for (target, name, listener) in self.listeners.drain(..) {
            let _ =
                target.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
    }
}
