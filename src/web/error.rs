//! The one way the browser layer makes errors for JavaScript: an `Error` named `MqttError` with a
//! stable string `code`, the MQTT 5 `reasonCode` where one applies, and `fatal` when the client
//! has stopped for good.

use js_sys::{Error, Reflect};
use wasm_bindgen::prelude::*;

/// Builds an `MqttError`.
pub(crate) fn mqtt_error(
    code: &str,
    message: &str,
    reason_code: Option<u8>,
    fatal: bool,
) -> JsValue {
    let error = Error::new(message);
    error.set_name("MqttError");
    let _ = Reflect::set(&error, &"code".into(), &code.into());
    if let Some(reason_code) = reason_code {
        let _ = Reflect::set(&error, &"reasonCode".into(), &reason_code.into());
    }
    if fatal {
        let _ = Reflect::set(&error, &"fatal".into(), &JsValue::TRUE);
    }
    error.into()
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
