//! The one way the browser layer makes errors for JavaScript: an `Error` named `MqttError` with a
//! stable string `code`, the MQTT 5 `reasonCode` where one applies, and `fatal` when the client
//! has stopped for good.

use js_sys::{Error, Reflect};
use wasm_bindgen::prelude::*;

thread_local! {
    /// The facade's `MqttError` class (js/errors.js), so that errors made here pass
    /// `instanceof MqttError` like those made in JavaScript.
    static ERROR_CLASS: std::cell::RefCell<Option<js_sys::Function>> = const { std::cell::RefCell::new(None) };
}

/// Registers the facade's `MqttError` class; `load()` calls it once.
#[wasm_bindgen(js_name = setErrorClass)]
pub fn set_error_class(class: js_sys::Function) {
    ERROR_CLASS.with(|c| *c.borrow_mut() = Some(class));
}

/// Builds an `MqttError`.
pub(crate) fn mqtt_error(
    code: &str,
    message: &str,
    reason_code: Option<u8>,
    fatal: bool,
) -> JsValue {
    let constructed = ERROR_CLASS.with(|c| {
        let class = c.borrow().clone()?;
        let arguments = js_sys::Array::of2(&code.into(), &message.into());
        Reflect::construct(&class, &arguments).ok()
    });
    let error: JsValue = match constructed {
        Some(error) => error,
        None => {
            // Before load() registered the class (the wasm's own tests): a plain Error so named.
            let error = Error::new(message);
            error.set_name("MqttError");
            error.into()
        }
    };
    let _ = Reflect::set(&error, &"code".into(), &code.into());
    if let Some(reason_code) = reason_code {
        let _ = Reflect::set(&error, &"reasonCode".into(), &reason_code.into());
    }
    if fatal {
        let _ = Reflect::set(&error, &"fatal".into(), &JsValue::TRUE);
    }
    error
}

/// A bad option or argument from the application.
pub(crate) fn invalid_argument(message: &str) -> JsValue {
    mqtt_error("INVALID_ARGUMENT", message, None, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn errors_carry_name_code_reason_and_fatal() {
        let error = mqtt_error("NOT_AUTHORIZED", "refused", Some(0x87), true);
        let get = |key: &str| Reflect::get(&error, &key.into()).unwrap();
        assert!(error.is_instance_of::<Error>());
        assert_eq!(get("name").as_string().as_deref(), Some("MqttError"));
        assert_eq!(get("code").as_string().as_deref(), Some("NOT_AUTHORIZED"));
        assert_eq!(get("reasonCode").as_f64(), Some(135.0));
        assert_eq!(get("fatal"), JsValue::TRUE);
        assert_eq!(get("message").as_string().as_deref(), Some("refused"));
        let plain = invalid_argument("qos must be 0, 1 or 2");
        assert!(Reflect::get(&plain, &"fatal".into())
            .unwrap()
            .is_undefined());
    }
}
