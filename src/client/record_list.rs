//! A list of record writes as bytes: what a journal chunk and a store batch hold. Each write is
//! its key (u16 length, then UTF-8) and its value (u32 length, then the bytes); a deletion has
//! the length `u32::MAX` and no bytes.

/// The value length that marks a deletion (no value can be that long in a store entry).
const DELETED: u32 = u32::MAX;

/// Appends one write: `value` None for a deletion.
pub(crate) fn put(out: &mut Vec<u8>, key: &str, value: Option<&[u8]>) {
    out.extend_from_slice(&(key.len() as u16).to_be_bytes());
    out.extend_from_slice(key.as_bytes());
    let len = value.map_or(DELETED, |v| v.len() as u32);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value.unwrap_or_default());
}

/// The writes `put` appended, in order; None when the bytes are not such a list.
pub(crate) fn read(bytes: &[u8]) -> Option<Vec<(String, Option<Vec<u8>>)>> {
    let mut rest = bytes;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let mut writes = Vec::new();
    let mut read = 0;
    while read < bytes.len() {
        let len = take(2)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let key = String::from_utf8(take(len)?.to_vec()).ok()?;
        let len = u32::from_be_bytes(take(4)?.try_into().ok()?);
        let value = match len {
            DELETED => None,
            len => Some(take(len as usize)?.to_vec()),
        };
        read += 6 + key.len() + value.as_ref().map_or(0, Vec::len);
        writes.push((key, value));
    }
    Some(writes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_deletions_read_back_in_order_and_cut_ones_do_not() {
        let mut bytes = Vec::new();
        put(&mut bytes, "o/1", Some(b"abc"));
        put(&mut bytes, "d/x", Some(b""));
        put(&mut bytes, "o/1", None);
        let back = read(&bytes).unwrap();
        assert_eq!(
            back,
            vec![
                ("o/1".to_string(), Some(b"abc".to_vec())),
                ("d/x".to_string(), Some(Vec::new())),
                ("o/1".to_string(), None),
            ]
        );
        for cut in 1..bytes.len() {
            if cut != 12 && cut != 21 {
                assert_eq!(read(&bytes[..cut]), None, "cut at {cut}");
            }
        }
        assert_eq!(read(&[]), Some(Vec::new()));
    }
}
