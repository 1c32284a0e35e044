//! IndexedDB as the session's durable store: one database per broker and client id, one object
//! store of records (string key -> bytes), loaded whole at start-up and written in batches, one
//! transaction per batch (group commit). A batch counts as durable when its transaction completes.
//!
//! Hand-written over web-sys rather than a wrapper crate: the four operations needed here are
//! small, and every kilobyte of wasm counts against the bundle budget.

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::session::Write;
use web_sys::{
    DomException, IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbRequest, IdbRequestReadyState,
    IdbTransaction, IdbTransactionMode,
};

/// Bump when the layout of the database changes; `upgrade` migrates from older versions.
const SCHEMA_VERSION: u32 = 1;
const RECORDS: &str = "records";

/// Why the store failed. Every failure is reported; none is swallowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreError {
    /// No IndexedDB here (an old browser, some private modes, a sandboxed frame).
    Unavailable(String),
    /// Another tab holds an older version of the database open and did not close it.
    Blocked,
    /// The browser's storage quota is used up.
    QuotaExceeded,
    /// Any other failure, with the browser's error name and message.
    Failed(String),
}

impl StoreError {
    pub(crate) fn code(&self) -> &'static str {
        match self {
            StoreError::Unavailable(_) => "STORE_UNAVAILABLE",
            StoreError::Blocked => "STORE_BLOCKED",
            StoreError::QuotaExceeded => "STORE_QUOTA_EXCEEDED",
            StoreError::Failed(_) => "STORE_FAILED",
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            StoreError::Unavailable(why) => format!("IndexedDB is not available: {why}"),
            StoreError::Blocked => {
                "IndexedDB upgrade blocked by another tab holding an older version open".into()
            }
            StoreError::QuotaExceeded => "IndexedDB storage quota exceeded".into(),
            StoreError::Failed(why) => format!("IndexedDB failed: {why}"),
        }
    }

    fn from_js(error: JsValue) -> StoreError {
        match error.dyn_into::<DomException>() {
            Ok(e) if e.name() == "QuotaExceededError" => StoreError::QuotaExceeded,
            // An opaque origin (a sandboxed frame, a data: URL) may not use IndexedDB at all.
            Ok(e) if e.name() == "SecurityError" => StoreError::Unavailable(e.message()),
            Ok(e) => StoreError::Failed(format!("{}: {}", e.name(), e.message())),
            Err(other) => StoreError::Failed(format!("{other:?}")),
        }
    }
}

/// What [`IdbStore::load`] read.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Loaded {
    pub(crate) records: Vec<(String, Vec<u8>)>,
    pub(crate) unreadable: Vec<String>,
}

pub(crate) struct IdbStore {
    db: IdbDatabase,
    // Kept alive while the database is open: closes it when another tab needs to upgrade.
    _on_version_change: Closure<dyn FnMut()>,
}

fn factory() -> Result<IdbFactory, StoreError> {
    let global = js_sys::global();
    let value = js_sys::Reflect::get(&global, &"indexedDB".into())
        .map_err(|e| StoreError::Unavailable(format!("{e:?}")))?;
    if value.is_undefined() || value.is_null() {
        return Err(StoreError::Unavailable("indexedDB is not defined".into()));
    }
    Ok(value.unchecked_into())
}

/// Waits for `request` to settle. The promise's own resolve/reject are the handlers, so no Rust
/// closure is involved and nothing is left behind.
async fn request_result(request: &IdbRequest) -> Result<JsValue, StoreError> {
    let settled = Promise::new(&mut |resolve: Function, reject: Function| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let outcome = JsFuture::from(settled).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match outcome {
        Ok(_) => request.result().map_err(StoreError::from_js),
        Err(_) => Err(request_error(request)),
    }
}

fn request_error(request: &IdbRequest) -> StoreError {
    match request.error() {
        Ok(Some(error)) => StoreError::from_js(error.into()),
        _ => StoreError::Failed("request failed without an error".into()),
    }
}

/// Waits for `tx` to commit (complete) or abort.
async fn transaction_result(tx: &IdbTransaction) -> Result<(), StoreError> {
    let settled = Promise::new(&mut |resolve: Function, reject: Function| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    let outcome = JsFuture::from(settled).await;
    tx.set_oncomplete(None);
    tx.set_onabort(None);
    outcome.map(|_| ()).map_err(|_| match tx.error() {
        Some(error) => StoreError::from_js(error.into()),
        None => StoreError::Failed("transaction aborted".into()),
    })
}

/// The database of one session (per broker identity and client id, see
/// `session::storage_name`), and the names earlier versions gave it (the path written out; the
/// full URL, credentials and all): a session found under one is moved, and the old database
/// deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DatabaseName {
    pub(crate) name: String,
    legacy: Vec<String>,
}

impl IdbStore {
    pub(crate) fn database_name(broker: &str, client_id: &str) -> DatabaseName {
        DatabaseName {
            name: crate::session::storage_name(broker, client_id),
            legacy: crate::session::earlier_storage_names(broker, client_id),
        }
    }

    /// Opens (creating or upgrading) the database `name`.
    pub(crate) async fn open(name: &str) -> Result<IdbStore, StoreError> {
        Self::open_version(name, SCHEMA_VERSION).await
    }

    /// Opens a session's database, first moving into it a session stored under an earlier
    /// name (the newest first: a session already moved is newer than an older one). A move that
    /// fails leaves the old database as it was, for the next load to move.
    pub(crate) async fn open_session(name: &DatabaseName) -> Result<IdbStore, StoreError> {
        let store = Self::open(&name.name).await?;
        for legacy in &name.legacy {
            if *legacy != name.name && database_exists(legacy).await {
                let _ = store.migrate_from(legacy).await;
            }
        }
        Ok(store)
    }

    async fn migrate_from(&self, legacy: &str) -> Result<(), StoreError> {
        let old = Self::open(legacy).await?;
        let loaded = old.load().await?;
        // A session already here is newer than the one left under the old name.
        if self.load().await?.records.is_empty() {
            self.replace_all(&loaded.records).await?;
        }
        drop(old);
        Self::delete_database(legacy).await
    }

    async fn open_version(name: &str, version: u32) -> Result<IdbStore, StoreError> {
        let request: IdbOpenDbRequest = factory()?
            .open_with_u32(name, version)
            .map_err(StoreError::from_js)?;
        let on_upgrade = {
            let request = request.clone();
            Closure::<dyn FnMut()>::new(move || {
                if let Ok(db) = request.result() {
                    upgrade(db.unchecked_ref());
                }
            })
        };
        request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        // A blocked open stays pending until the other tab lets go: report it instead of hanging.
        let settled = Promise::new(&mut |resolve: Function, reject: Function| {
            request.set_onsuccess(Some(&resolve));
            request.set_onerror(Some(&reject));
            request.set_onblocked(Some(&resolve));
        });
        let outcome = JsFuture::from(settled).await;
        request.set_onupgradeneeded(None);
        request.set_onsuccess(None);
        request.set_onerror(None);
        request.set_onblocked(None);
        drop(on_upgrade);
        if outcome.is_err() {
            return Err(request_error(&request));
        }
        if request.ready_state() != IdbRequestReadyState::Done {
            return Err(StoreError::Blocked);
        }
        let db: IdbDatabase = request
            .result()
            .map_err(StoreError::from_js)?
            .unchecked_into();
        let on_version_change = {
            let db = db.clone();
            Closure::<dyn FnMut()>::new(move || db.close())
        };
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        Ok(IdbStore {
            db,
            _on_version_change: on_version_change,
        })
    }

    /// Every record, in key order, and the keys of entries that are not records at all (a key
    /// that is not a string or a value that is not bytes: not written by this store).
    pub(crate) async fn load(&self) -> Result<Loaded, StoreError> {
        let tx = self
            .db
            .transaction_with_str(RECORDS)
            .map_err(StoreError::from_js)?;
        let store = tx.object_store(RECORDS).map_err(StoreError::from_js)?;
        let keys = store.get_all_keys().map_err(StoreError::from_js)?;
        let values = store.get_all().map_err(StoreError::from_js)?;
        let keys: Array = request_result(&keys).await?.unchecked_into();
        let values: Array = request_result(&values).await?.unchecked_into();
        let mut loaded = Loaded::default();
        for (key, value) in keys.iter().zip(values.iter()) {
            match (key.as_string(), value.dyn_into::<Uint8Array>()) {
                (Some(key), Ok(bytes)) => loaded.records.push((key, bytes.to_vec())),
                (Some(key), Err(_)) => loaded.unreadable.push(key),
                (None, _) => loaded.unreadable.push(String::from(js_sys::JsString::from(
                    js_sys::JSON::stringify(&key).unwrap_or_else(|_| "?".into()),
                ))),
            }
        }
        Ok(loaded)
    }

    /// Applies `writes` in one transaction and resolves when it has committed.
    pub(crate) async fn commit(&self, writes: &[Write]) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction_with_str_and_mode(RECORDS, IdbTransactionMode::Readwrite)
            .map_err(StoreError::from_js)?;
        let store = tx.object_store(RECORDS).map_err(StoreError::from_js)?;
        for write in writes {
            let issued = match write {
                Write::Put(key, value) => {
                    store.put_with_key(&Uint8Array::from(value.as_slice()), &JsValue::from_str(key))
                }
                Write::Delete(key) => store.delete(&JsValue::from_str(key)),
            };
            if let Err(error) = issued {
                let _ = tx.abort();
                return Err(StoreError::from_js(error));
            }
        }
        transaction_result(&tx).await
    }

    /// Replaces everything in the store with `records`, in one transaction: all or nothing.
    pub(crate) async fn replace_all(
        &self,
        records: &[(String, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction_with_str_and_mode(RECORDS, IdbTransactionMode::Readwrite)
            .map_err(StoreError::from_js)?;
        let store = tx.object_store(RECORDS).map_err(StoreError::from_js)?;
        let issued = store.clear().and_then(|_| {
            records.iter().try_for_each(|(key, value)| {
                store
                    .put_with_key(&Uint8Array::from(value.as_slice()), &JsValue::from_str(key))
                    .map(|_| ())
            })
        });
        if let Err(error) = issued {
            let _ = tx.abort();
            return Err(StoreError::from_js(error));
        }
        transaction_result(&tx).await
    }

    /// Deletes the whole database `name`.
    pub(crate) async fn delete_database(name: &str) -> Result<(), StoreError> {
        let request = factory()?
            .delete_database(name)
            .map_err(StoreError::from_js)?;
        request_result(&request).await.map(|_| ())
    }
}

impl Drop for IdbStore {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.close();
    }
}

/// Whether a database `name` exists (`indexedDB.databases()`; where a browser lacks it, none is
/// taken to: opening one to look would create it).
async fn database_exists(name: &str) -> bool {
    let Ok(factory) = factory() else {
        return false;
    };
    let listed = js_sys::Reflect::get(&factory, &"databases".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|databases| databases.call0(&factory).ok());
    let Some(promise) = listed.and_then(|p| p.dyn_into::<Promise>().ok()) else {
        return false;
    };
    let Ok(list) = JsFuture::from(promise).await else {
        return false;
    };
    Array::from(&list).iter().any(|info| {
        js_sys::Reflect::get(&info, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .is_some_and(|n| n == name)
    })
}

fn upgrade(db: &IdbDatabase) {
    if !db.object_store_names().contains(RECORDS) {
        let _ = db.create_object_store(RECORDS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn fresh_name(test: &str) -> String {
        format!("wasmqtt-test:{test}:{}", js_sys::Math::random())
    }

    #[wasm_bindgen_test]
    async fn committed_records_are_loaded_back_in_key_order_by_a_new_connection() {
        let name = fresh_name("roundtrip");
        let store = IdbStore::open(&name).await.unwrap();
        store
            .commit(&[
                Write::Put("b".into(), vec![2, 2]),
                Write::Put("a".into(), vec![1]),
                Write::Put("c".into(), vec![]),
            ])
            .await
            .unwrap();
        store
            .commit(&[Write::Delete("c".into()), Write::Put("b".into(), vec![9])])
            .await
            .unwrap();
        drop(store);
        let reopened = IdbStore::open(&name).await.unwrap();
        let records = reopened.load().await.unwrap().records;
        assert_eq!(
            records,
            vec![("a".to_string(), vec![1]), ("b".to_string(), vec![9])]
        );
        drop(reopened);
        IdbStore::delete_database(&name).await.unwrap();
    }

    #[wasm_bindgen_test]
    async fn entries_that_are_not_records_are_listed_by_key_not_dropped() {
        let name = fresh_name("foreign");
        let store = IdbStore::open(&name).await.unwrap();
        store
            .commit(&[Write::Put("s/ok".into(), vec![1, 0])])
            .await
            .unwrap();
        // Written behind the store's back: a string value, and a number key.
        let tx = store
            .db
            .transaction_with_str_and_mode(RECORDS, IdbTransactionMode::Readwrite)
            .unwrap();
        let raw = tx.object_store(RECORDS).unwrap();
        raw.put_with_key(&"garbage".into(), &"o/0000000000000001".into())
            .unwrap();
        raw.put_with_key(&Uint8Array::from(&[1u8][..]), &42.into())
            .unwrap();
        transaction_result(&tx).await.unwrap();
        let loaded = store.load().await.unwrap();
        assert_eq!(loaded.records, vec![("s/ok".to_string(), vec![1, 0])]);
        assert_eq!(loaded.unreadable, ["42", "o/0000000000000001"]);
        drop(store);
        IdbStore::delete_database(&name).await.unwrap();
    }

    #[wasm_bindgen_test]
    async fn replace_all_leaves_exactly_the_records_given() {
        let name = fresh_name("replace");
        let store = IdbStore::open(&name).await.unwrap();
        store
            .commit(&[
                Write::Put("a".into(), vec![1]),
                Write::Put("b".into(), vec![2]),
            ])
            .await
            .unwrap();
        store
            .replace_all(&[("b".into(), vec![3]), ("c".into(), vec![4])])
            .await
            .unwrap();
        assert_eq!(
            store.load().await.unwrap().records,
            vec![("b".to_string(), vec![3]), ("c".to_string(), vec![4])]
        );
        store.replace_all(&[]).await.unwrap();
        assert_eq!(store.load().await.unwrap(), Loaded::default());
        drop(store);
        IdbStore::delete_database(&name).await.unwrap();
    }

    #[wasm_bindgen_test]
    async fn a_batch_of_a_thousand_writes_commits_in_one_transaction() {
        let name = fresh_name("batch");
        let store = IdbStore::open(&name).await.unwrap();
        let writes: Vec<Write> = (0..1000)
            .map(|i| Write::Put(format!("m{i:05}"), vec![i as u8; 64]))
            .collect();
        store.commit(&writes).await.unwrap();
        let records = store.load().await.unwrap().records;
        assert_eq!(records.len(), 1000);
        assert_eq!(records[999], ("m00999".to_string(), vec![999u32 as u8; 64]));
        drop(store);
        IdbStore::delete_database(&name).await.unwrap();
    }

    #[wasm_bindgen_test]
    async fn an_upgrade_blocked_by_another_open_connection_is_reported() {
        let name = fresh_name("blocked");
        // Another "tab": a raw connection at version 1 that ignores versionchange.
        let request = factory().unwrap().open_with_u32(&name, 1).unwrap();
        let other: IdbDatabase = request_result(&request).await.unwrap().unchecked_into();
        let outcome = IdbStore::open_version(&name, 2).await;
        assert_eq!(outcome.err(), Some(StoreError::Blocked));
        other.close();
    }

    #[wasm_bindgen_test]
    async fn a_browser_without_indexeddb_is_reported_as_unavailable() {
        let global: js_sys::Object = js_sys::global().unchecked_into();
        let key = JsValue::from_str("indexedDB");
        // On the global object, IDL attributes are own properties: put the original back after.
        let original = js_sys::Object::get_own_property_descriptor(&global, &key);
        let hidden = js_sys::Object::new();
        js_sys::Reflect::set(&hidden, &"value".into(), &JsValue::UNDEFINED).unwrap();
        js_sys::Reflect::set(&hidden, &"configurable".into(), &JsValue::TRUE).unwrap();
        js_sys::Object::define_property(&global, &key, &hidden);
        let outcome = IdbStore::open(&fresh_name("missing")).await;
        if original.is_undefined() {
            js_sys::Reflect::delete_property(&global, &key).unwrap();
        } else {
            js_sys::Object::define_property(&global, &key, original.unchecked_ref());
        }
        assert!(matches!(outcome.err(), Some(StoreError::Unavailable(_))));
        assert!(factory().is_ok(), "restored");
    }

    #[wasm_bindgen_test]
    fn a_quota_exceeded_dom_exception_maps_to_its_own_error() {
        let quota = DomException::new_with_message_and_name("full", "QuotaExceededError").unwrap();
        assert_eq!(StoreError::from_js(quota.into()), StoreError::QuotaExceeded);
        let opaque = DomException::new_with_message_and_name("denied", "SecurityError").unwrap();
        assert_eq!(
            StoreError::from_js(opaque.into()),
            StoreError::Unavailable("denied".into())
        );
        let other = DomException::new_with_message_and_name("bad", "DataError").unwrap();
        assert_eq!(
            StoreError::from_js(other.into()),
            StoreError::Failed("DataError: bad".into())
        );
        assert_eq!(StoreError::QuotaExceeded.code(), "STORE_QUOTA_EXCEEDED");
    }
}
