//! The whole chain in a real browser: wasm -> WebSocket (subprotocol mqtt) -> mosquitto.
//! The test broker's WebSocket URL is baked in at build time by scripts/test.mjs.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn broker_url() -> &'static str {
    option_env!("WASMQTT_TEST_WS_URL").expect("WASMQTT_TEST_WS_URL is set by scripts/test.mjs")
}

#[wasm_bindgen_test]
async fn broker_accepts_a_hand_built_connect_with_connack_code_zero() {
    // MQTT-3.2.0-1: the first packet from the server must be CONNACK.
    let code = wasmqtt::web::probe_connack(broker_url().to_string())
        .await
        .unwrap();
    assert_eq!(code, 0);
}

#[wasm_bindgen_test]
async fn probe_rejects_when_no_broker_listens() {
    // Port 1 on loopback has no WebSocket server: the socket closes before any CONNACK.
    let outcome = wasmqtt::web::probe_connack("ws://127.0.0.1:1/".to_string()).await;
    assert!(outcome.is_err());
}
