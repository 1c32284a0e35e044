//! Sorting through one shared routine. Every call of the standard library's `sort*` methods with
//! another element type or comparator compiles another copy of the sort (2 to 5 KiB of wasm
//! each); here the indices are sorted by a single compiled sort, and the items then moved.

use std::cmp::Ordering;

/// The indices `0..len` in the order `compare` puts their items in; equal items keep their order.
fn sorted_indices(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_unstable_by(|&a, &b| compare(a, b).then(a.cmp(&b)));
    order
}

/// Sorts `items` by `compare`, stably (like `slice::sort_by`).
pub(crate) fn sort_by<T>(items: &mut Vec<T>, compare: impl Fn(&T, &T) -> Ordering) {
    let order = sorted_indices(items.len(), &|a, b| compare(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_keep_their_order() {
        let mut items = vec![(2, 'a'), (1, 'b'), (2, 'c'), (1, 'd'), (0, 'e')];
        sort_by(&mut items, |x, y| x.0.cmp(&y.0));
        assert_eq!(items, [(0, 'e'), (1, 'b'), (1, 'd'), (2, 'a'), (2, 'c')]);
    }

    #[test]
    fn empty_and_single_lists_stay_as_they_are() {
        let mut empty: Vec<u8> = Vec::new();
        sort_by(&mut empty, u8::cmp);
        assert!(empty.is_empty());
        let mut one = vec![String::from("x")];
        sort_by(&mut one, |a, b| a.cmp(b));
        assert_eq!(one, ["x"]);
    }

    // proptest is a host-only dev-dependency; the tests above also run in the browser.
    #[cfg(not(target_arch = "wasm32"))]
    mod property {
        use super::super::sort_by;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn sorts_like_the_standard_stable_sort(items in proptest::collection::vec((0u8..8, any::<u16>()), 0..200)) {
                let mut ours = items.clone();
                sort_by(&mut ours, |x, y| x.0.cmp(&y.0));
                let mut std_sorted = items;
                std_sorted.sort_by_key(|x| x.0);
                prop_assert_eq!(ours, std_sorted);
            }
        }
    }
}
