//! The client's store: what the host must write (one job at a time, see `store_sync`), how a
//! failed store is reported, and the session's records loaded at start.

use crate::client::store_sync::Change;
use crate::session::Write;

use super::error::ClientError;

/// A store job for the host: one transaction; its outcome goes to
/// `Client::handle_store_done`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreJob {
    /// Apply these writes, in order.
    Commit(Vec<Write>),
    /// Replace everything stored with these records (empty: clear the store).
    Replace(Vec<(String, Vec<u8>)>),
}

/// Why the store failed: a stable code (`STORE_UNAVAILABLE`, `STORE_BLOCKED`,
/// `STORE_QUOTA_EXCEEDED`, `STORE_FAILED`) and what the browser said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFailure {
    pub code: &'static str,
    pub message: String,
}

impl StoreFailure {
    pub(crate) fn unknown() -> StoreFailure {
        StoreFailure {
            code: "STORE_FAILED",
            message: "IndexedDB failed: unknown error".into(),
        }
    }

    pub(crate) fn error(&self) -> ClientError {
        ClientError::new(self.code, self.message.clone())
    }
}

/// The error for a change of the store's state that the application must hear of; None for
/// catching up, which is good news.
pub(crate) fn change_error(change: Change, cause: &StoreFailure) -> Option<ClientError> {
    let consequence = match change {
        Change::CaughtUp => return None,
        Change::Behind => {
            "the session carries on in memory, and is stored again once IndexedDB accepts it"
        }
        Change::ClearFailed => {
            "could not empty the stored session that no longer matches; a reload may resume from it"
        }
    };
    Some(ClientError::new(
        cause.code,
        format!("{}: {consequence}", cause.message),
    ))
}

/// A stored entry that is not a readable record: reported, naming its key, and skipped.
pub(crate) fn corrupt_record(key: &str) -> ClientError {
    ClientError {
        record: Some(key.to_string()),
        ..ClientError::new(
            "STORE_CORRUPT_RECORD",
            format!("skipped a stored record that could not be read: {key}"),
        )
    }
}
