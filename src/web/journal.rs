//! The journal's host (see `client::journal`): `window.localStorage`, written synchronously,
//! so an entry is there before the call that made it returns to the page, and outlives a
//! reload, a renderer crash and a closed tab. A Worker has no `localStorage`: no journal then.
//! Values (the core's chunks) are stored one character a byte (U+0000..U+00FF), keys under
//! the session's storage name, which holds no credential.

use web_sys::Storage;

use crate::client::{journal_key, record_key, JournalOp};

pub(crate) struct WebJournal {
    storage: Storage,
    name: String,
}

impl WebJournal {
    /// The page's `localStorage`, if it has one it may use.
    pub(crate) fn open(name: &str) -> Option<WebJournal> {
        let storage = web_sys::window()?.local_storage().ok()??;
        Some(WebJournal {
            storage,
            name: name.to_string(),
        })
    }

    /// This session's entries: (entry name, value). A value that is not one character a byte
    /// comes back as one the core will not read, so it reports and drops it.
    pub(crate) fn load(&self) -> Vec<(String, Vec<u8>)> {
        let count = self.storage.length().unwrap_or(0);
        let keys: Vec<String> = (0..count)
            .filter_map(|i| self.storage.key(i).ok().flatten())
            .collect();
        keys.iter()
            .filter_map(|key| {
                let record = record_key(&self.name, key)?;
                let text = self.storage.get_item(key).ok()??;
                let value = text
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).ok())
                    .collect::<Option<Vec<u8>>>()
                    .unwrap_or_else(|| vec![0xff]);
                Some((record.to_string(), value))
            })
            .collect()
    }

    /// Carries out `op` now; false when `localStorage` refused it (its quota).
    pub(crate) fn apply(&self, op: &JournalOp) -> bool {
        match op {
            JournalOp::Put(key, value) => {
                let text: String = value.iter().map(|b| char::from(*b)).collect();
                let key = journal_key(&self.name, key);
                self.storage.set_item(&key, &text).is_ok()
            }
            JournalOp::Remove(key) => {
                let _ = self.storage.remove_item(&journal_key(&self.name, key));
                true
            }
        }
    }
}
