//! The merged walk: the walked side of several venues' books consumed as one book.
//!
//! A lazy k-way merge over each book's best-first iterator — no merged book is ever built, nothing is
//! re-sorted. At equal prices the venue listed first (config order) is taken first.

use rust_decimal::Decimal;

use super::walk::ExactSum;
use super::{OrderBook, Side};

/// One level taken by the merged walk, labelled with the venue it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergedFill {
    /// Level price.
    pub price: Decimal,
    /// Quantity taken.
    pub qty: Decimal,
    /// Index of the venue in the slice passed to [`walk_merged`].
    pub venue: usize,
}

/// What one venue contributed to the merged walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VenueSplit {
    /// Quantity taken from this venue.
    pub filled: Decimal,
    /// Σ price × qty taken from this venue.
    pub notional: Decimal,
    /// Levels of this venue touched.
    pub levels: usize,
}

/// The merged walk's result.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MergedWalk {
    /// The quantity asked for.
    pub requested: Decimal,
    /// Quantity filled: never more than `requested`.
    pub filled: Decimal,
    /// `requested - filled`.
    pub unfilled: Decimal,
    /// Σ price × qty.
    pub notional: Decimal,
    /// Fills, best first, each labelled with its venue.
    pub fills: Vec<MergedFill>,
    /// Per-venue split, indexed like the input slice.
    pub by_venue: Vec<VenueSplit>,
    /// The best price across all merged books.
    pub best: Option<Decimal>,
}

/// Walks `side` of all `books` as one book for `quantity`. `None` entries (venues not merged) are
/// skipped but keep their index so `by_venue` and the fills' `venue` line up with the caller's list.
pub fn walk_merged(books: &[Option<&OrderBook>], side: Side, quantity: Decimal) -> MergedWalk {
    walk_merged_levels(
        books.iter().map(|b| b.map(|b| b.levels(side))),
        side,
        quantity,
    )
}

/// [`walk_merged`] over each venue's levels of `side`, best first, as `(price, quantity)` (`None`:
/// not merged) — the books themselves, or a prefix of them long enough for `quantity`.
pub fn walk_merged_levels<I>(
    venues: impl IntoIterator<Item = Option<I>>,
    side: Side,
    quantity: Decimal,
) -> MergedWalk
where
    I: Iterator<Item = (Decimal, Decimal)>,
{
    let mut heads: Vec<_> = venues
        .into_iter()
        .map(|levels| levels.map(Iterator::peekable))
        .collect();
    let mut out = MergedWalk {
        requested: quantity,
        by_venue: vec![VenueSplit::default(); heads.len()],
        fills: Vec::with_capacity(super::walk::FILLS_CAPACITY),
        ..MergedWalk::default()
    };
    let mut left = super::walk::Left::new(quantity);
    let (mut filled, mut notional) = (ExactSum::default(), ExactSum::default());
    let mut split = vec![(ExactSum::default(), ExactSum::default()); out.by_venue.len()];
    let mut first = true;
    loop {
        // Pick the venue whose next level is best; strict comparison keeps the first venue on ties.
        let mut pick: Option<(usize, Decimal)> = None;
        for (i, head) in heads.iter_mut().enumerate() {
            if let Some((price, _)) = head.as_mut().and_then(|h| h.peek().copied())
                && pick.is_none_or(|(_, best)| side.better(price, best))
            {
                pick = Some((i, price));
            }
        }
        let Some((venue, price)) = pick else { break };
        if first {
            out.best = Some(price);
            first = false;
        }
        if left.done() {
            break;
        }
        let Some((_, qty)) = heads[venue].as_mut().and_then(Iterator::next) else {
            break;
        };
        let take = left.take(qty);
        filled.add(take);
        notional.add_product(price, take);
        let (venue_filled, venue_notional) = &mut split[venue];
        venue_filled.add(take);
        venue_notional.add_product(price, take);
        out.by_venue[venue].levels += 1;
        out.fills.push(MergedFill {
            price,
            qty: take,
            venue,
        });
    }
    out.filled = filled.value();
    out.notional = notional.value();
    for (v, (f, n)) in out.by_venue.iter_mut().zip(&split) {
        v.filled = f.value();
        v.notional = n.value();
    }
    out.unfilled = quantity - out.filled;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::{Depletion, d, walk};
    use proptest::prelude::*;

    fn book(side: Side, levels: &[(&str, &str)]) -> OrderBook {
        let mut b = OrderBook::new();
        for (p, q) in levels {
            b.apply(side, d(p), d(q));
        }
        b
    }

    #[test]
    fn equal_prices_are_taken_in_venue_order() {
        let a = book(Side::Ask, &[("100", "1"), ("102", "1")]);
        let b = book(Side::Ask, &[("100", "1"), ("101", "1")]);
        let w = walk_merged(&[Some(&a), Some(&b)], Side::Ask, d("3"));
        let got: Vec<_> = w.fills.iter().map(|f| (f.price, f.venue)).collect();
        assert_eq!(got, vec![(d("100"), 0), (d("100"), 1), (d("101"), 1)]);
        // Reversing the venue order reverses who goes first at 100.
        let w = walk_merged(&[Some(&b), Some(&a)], Side::Ask, d("1"));
        assert_eq!(
            w.fills,
            vec![MergedFill {
                price: d("100"),
                qty: d("1"),
                venue: 0
            }]
        );
    }

    #[test]
    fn merged_filled_never_exceeds_the_request() {
        // The predecessor printed 15.02 for 15: it added whole levels past the request.
        let a = book(Side::Bid, &[("100", "10"), ("99", "10")]);
        let b = book(Side::Bid, &[("100.5", "4.99"), ("98", "10")]);
        let w = walk_merged(&[Some(&a), Some(&b)], Side::Bid, d("15"));
        assert_eq!(w.filled, d("15"));
        assert_eq!(w.unfilled, Decimal::ZERO);
        assert_eq!(w.by_venue[0].filled, d("10.01"));
        assert_eq!(w.by_venue[1].filled, d("4.99"));
        assert_eq!(w.worst(), Some(d("99")));
    }

    #[test]
    fn skipped_venues_keep_their_index() {
        let a = book(Side::Ask, &[("100", "1")]);
        let b = book(Side::Ask, &[("99", "1")]);
        let w = walk_merged(&[None, Some(&a), Some(&b)], Side::Ask, d("2"));
        assert_eq!(w.fills[0].venue, 2);
        assert_eq!(w.fills[1].venue, 1);
        assert_eq!(w.by_venue[0], VenueSplit::default());
        assert_eq!(w.best, Some(d("99")));
    }

    fn arb_book(side: Side) -> impl Strategy<Value = OrderBook> {
        prop::collection::vec((1u32..2_000, 1u32..100_000), 0..40).prop_map(move |levels| {
            let mut b = OrderBook::new();
            for (p, q) in levels {
                // prices on a 0.5 tick, quantities with 4 decimals
                b.apply(
                    side,
                    Decimal::new(i64::from(p) * 5, 1),
                    Decimal::new(i64::from(q), 4),
                );
            }
            b
        })
    }

    fn arb_side() -> impl Strategy<Value = Side> {
        prop_oneof![Just(Side::Bid), Just(Side::Ask)]
    }

    proptest! {
        #[test]
        fn merged_walk_equals_walking_the_union(
            side in arb_side(),
            a in arb_book(Side::Bid), b in arb_book(Side::Bid), c in arb_book(Side::Bid),
            qty in 1u32..2_000_000,
        ) {
            // Rebuild the generated books on the side under test.
            let flip = |src: &OrderBook| {
                let mut o = OrderBook::new();
                for (p, q) in src.levels(Side::Bid) { o.apply(side, p, q); }
                o
            };
            let books = [flip(&a), flip(&b), flip(&c)];
            let quantity = Decimal::new(i64::from(qty), 4);
            let merged = walk_merged(&[Some(&books[0]), Some(&books[1]), Some(&books[2])], side, quantity);

            // The union book: equal prices summed.
            let mut union = OrderBook::new();
            for bk in &books {
                for (p, q) in bk.levels(side) {
                    let have = union.side(side).get(p).unwrap_or_default();
                    union.apply(side, p, have + q);
                }
            }
            let single = walk(union.levels(side), quantity);
            prop_assert_eq!(merged.filled, single.filled);
            prop_assert_eq!(merged.unfilled, single.unfilled);
            prop_assert_eq!(merged.notional, single.notional);
            prop_assert_eq!(merged.worst(), single.worst());
            prop_assert_eq!(merged.best, single.best);

            // filled = min(Q, visible depth), exactly.
            let visible: Decimal = books.iter().flat_map(|b| b.levels(side)).map(|l| l.1).sum();
            prop_assert_eq!(merged.filled, quantity.min(visible));
            let split: Decimal = merged.by_venue.iter().map(|s| s.filled).sum();
            prop_assert_eq!(split, merged.filled);

            // best ≤ VWAP ≤ worst for buys; reversed for sells.
            if let (Some(best), Some(vwap), Some(worst)) = (merged.best, merged.vwap(), merged.worst()) {
                match side {
                    Side::Ask => prop_assert!(best <= vwap && vwap <= worst),
                    Side::Bid => prop_assert!(best >= vwap && vwap >= worst),
                }
            }
        }
    }
}
