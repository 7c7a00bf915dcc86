//! `OrderBook`: one venue's exact price levels, best-first iteration, depth truncation and the crossed
//! check.
//!
//! Each side is a `BTreeMap` price → quantity, keyed by the exact `Decimal` price ([`Px`]). Keys
//! compare numerically, so `27000.10` and `27000.1` are the same level whatever the venue's padding;
//! the key carries an integer form of the price so that the tree search compares plain integers.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::collections::btree_map;
use std::iter::Rev;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use rust_decimal::Decimal;

use super::Side;

/// A price as a book key: the exact `Decimal`, ordered numerically (like `Decimal`'s own `Ord`).
///
/// Alongside the price it keeps, when the price allows it (≥ 0, at most 18 decimals, below ~3.4·10^20
/// — every price the adapters accept), the exact integer `price × 10^18`: two such keys compare as
/// plain integers, which is what makes the tree search cheap. Other prices compare with
/// [`price_cmp`]. Both orders are the exact numeric order, so mixing them is consistent.
#[derive(Debug, Clone, Copy)]
pub struct Px {
    /// `price × 10^18`, or [`Px::NO_FIXED`].
    fixed: u128,
    price: Decimal,
}

/// 10^k for k in 0..=28 (the scale range of `Decimal`).
pub(crate) const POW10: [u128; 29] = {
    let mut t = [1u128; 29];
    let mut i = 1;
    while i < t.len() {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Decimals of [`exact_units`] (and of [`Px`]'s integer form).
pub const UNITS_SCALE: u32 = 18;

/// `q` as an exact count of 10^-18 units; `None` when it is negative, finer than that or too large.
/// Prices in book keys and quantities in walks and depth sums compare and add as these integers.
#[inline]
#[must_use]
pub fn exact_units(q: Decimal) -> Option<u128> {
    if q.is_sign_negative() || q.scale() > UNITS_SCALE {
        return None;
    }
    let pow = POW10.get((UNITS_SCALE - q.scale()) as usize)?;
    mul_pow(q.mantissa().unsigned_abs(), *pow)
}

/// `m × pow` unless it overflows. Both fit in 64 bits for every price and quantity the adapters
/// produce, and then it is one 64×64 → 128-bit multiply that cannot overflow, instead of a checked
/// 128-bit one (most of a View's integer bookkeeping went there).
#[inline]
pub(crate) fn mul_pow(m: u128, pow: u128) -> Option<u128> {
    match (u64::try_from(m), u64::try_from(pow)) {
        (Ok(a), Ok(b)) => Some(u128::from(a) * u128::from(b)),
        _ => m.checked_mul(pow),
    }
}

impl Px {
    /// Marks a key without the integer form (`u128::MAX` itself is never a product below).
    const NO_FIXED: u128 = u128::MAX;

    /// The key of `price`.
    #[inline]
    #[must_use]
    pub fn new(price: Decimal) -> Self {
        let fixed = exact_units(price).filter(|f| *f != Self::NO_FIXED);
        Self {
            fixed: fixed.unwrap_or(Self::NO_FIXED),
            price,
        }
    }

    /// The price, exactly as it was given.
    #[inline]
    #[must_use]
    pub fn price(&self) -> Decimal {
        self.price
    }
}

/// Numeric order of two prices, like `Decimal`'s `Ord`, faster for two non-negative values: their
/// mantissas are compared as integers at the larger scale (unless that overflows — then `Decimal`
/// decides).
#[inline]
#[must_use]
pub fn price_cmp(a: Decimal, b: Decimal) -> Ordering {
    if a.is_sign_negative() || b.is_sign_negative() {
        return a.cmp(&b);
    }
    let (ma, mb) = (a.mantissa().unsigned_abs(), b.mantissa().unsigned_abs());
    let (sa, sb) = (a.scale(), b.scale());
    let scaled = match sa.cmp(&sb) {
        Ordering::Equal => Some((ma, mb)),
        Ordering::Less => POW10
            .get((sb - sa) as usize)
            .and_then(|p| mul_pow(ma, *p))
            .map(|ma| (ma, mb)),
        Ordering::Greater => POW10
            .get((sa - sb) as usize)
            .and_then(|p| mul_pow(mb, *p))
            .map(|mb| (ma, mb)),
    };
    match scaled {
        Some((x, y)) => x.cmp(&y),
        None => a.cmp(&b),
    }
}

impl Ord for Px {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        if self.fixed != Self::NO_FIXED && other.fixed != Self::NO_FIXED {
            self.fixed.cmp(&other.fixed)
        } else {
            price_cmp(self.price, other.price)
        }
    }
}

impl PartialOrd for Px {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Px {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Px {}

/// One side of a book: price → quantity, never holding a zero quantity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookSide {
    levels: BTreeMap<Px, Decimal>,
}

/// Best-first iterator over one side's `(price, quantity)` levels.
pub enum Levels<'a> {
    /// Asks: ascending price.
    Up(btree_map::Iter<'a, Px, Decimal>),
    /// Bids: descending price.
    Down(Rev<btree_map::Iter<'a, Px, Decimal>>),
}

impl Iterator for Levels<'_> {
    type Item = (Decimal, Decimal);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().map(|(p, q)| (p.price, *q))
    }
}

impl<'a> Levels<'a> {
    /// The next level's key and quantity, best first.
    #[inline]
    fn next_entry(&mut self) -> Option<(&'a Px, &'a Decimal)> {
        match self {
            Levels::Up(it) => it.next(),
            Levels::Down(it) => it.next(),
        }
    }

    /// The same levels with their keys, `(key, quantity)`: a key compares as its exact price, as
    /// integers where it can (see [`Px`]).
    #[must_use]
    pub fn keyed(self) -> KeyedLevels<'a> {
        KeyedLevels(self)
    }
}

/// [`Levels`] with their keys (see [`Levels::keyed`]).
pub struct KeyedLevels<'a>(Levels<'a>);

impl Iterator for KeyedLevels<'_> {
    type Item = (Px, Decimal);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_entry().map(|(p, q)| (*p, *q))
    }
}

impl BookSide {
    /// Sets the quantity at `price`; a zero quantity removes the level. An existing level keeps the
    /// price as first written (`100.0` stays `100.0` when `100` updates it).
    #[inline]
    pub fn set(&mut self, price: Decimal, qty: Decimal) {
        if qty.is_zero() {
            self.levels.remove(&Px::new(price));
        } else {
            self.levels.insert(Px::new(price), qty);
        }
    }

    /// Number of levels.
    #[must_use]
    pub fn len(&self) -> usize {
        self.levels.len()
    }

    /// True when the side has no level.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// Quantity resting at exactly `price`.
    #[must_use]
    pub fn get(&self, price: Decimal) -> Option<Decimal> {
        self.levels.get(&Px::new(price)).copied()
    }

    fn clear(&mut self) {
        self.levels.clear();
    }
}

/// One venue's book for one symbol.
///
/// Two books are equal when their levels are; the [`Revision`] is not part of the value.
#[derive(Debug)]
pub struct OrderBook {
    bids: BookSide,
    asks: BookSide,
    /// Unique per book object (clones get their own).
    id: u64,
    /// Mutating calls so far.
    mutations: u64,
}

/// Identifies a state of one book object: it changes on every call that may modify the book
/// (`apply`, `clear`, a `truncate` that drops levels). A cache computed from a book is still valid
/// while the book's revision is the one it recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision {
    id: u64,
    mutations: u64,
}

static NEXT_BOOK_ID: AtomicU64 = AtomicU64::new(1);

impl Default for OrderBook {
    fn default() -> Self {
        Self {
            bids: BookSide::default(),
            asks: BookSide::default(),
            id: NEXT_BOOK_ID.fetch_add(1, AtomicOrdering::Relaxed),
            mutations: 0,
        }
    }
}

impl Clone for OrderBook {
    fn clone(&self) -> Self {
        Self {
            bids: self.bids.clone(),
            asks: self.asks.clone(),
            ..Self::default()
        }
    }
}

impl PartialEq for OrderBook {
    fn eq(&self, other: &Self) -> bool {
        self.bids == other.bids && self.asks == other.asks
    }
}

impl Eq for OrderBook {}

impl OrderBook {
    /// An empty book.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The book's current [`Revision`].
    #[must_use]
    pub fn revision(&self) -> Revision {
        Revision {
            id: self.id,
            mutations: self.mutations,
        }
    }

    /// Removes every level of both sides.
    pub fn clear(&mut self) {
        self.mutations = self.mutations.wrapping_add(1);
        self.bids.clear();
        self.asks.clear();
    }

    /// Sets one level (`qty == 0` deletes it). A bid never lands on the ask side and vice versa.
    #[inline]
    pub fn apply(&mut self, side: Side, price: Decimal, qty: Decimal) {
        self.mutations = self.mutations.wrapping_add(1);
        self.side_mut(side).set(price, qty);
    }

    /// One side of the book.
    #[must_use]
    pub fn side(&self, side: Side) -> &BookSide {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut BookSide {
        match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        }
    }

    /// The levels of `side`, best first: bids from the highest price, asks from the lowest.
    #[must_use]
    pub fn levels(&self, side: Side) -> Levels<'_> {
        match side {
            Side::Bid => Levels::Down(self.bids.levels.iter().rev()),
            Side::Ask => Levels::Up(self.asks.levels.iter()),
        }
    }

    /// The best level of `side`.
    #[must_use]
    pub fn best(&self, side: Side) -> Option<(Decimal, Decimal)> {
        match side {
            Side::Bid => self.bids.levels.last_key_value(),
            Side::Ask => self.asks.levels.first_key_value(),
        }
        .map(|(p, q)| (p.price, *q))
    }

    /// Drops the worst levels of each side beyond `depth` (Kraken's rule: levels that leave the
    /// subscribed window are not announced by the server).
    pub fn truncate(&mut self, depth: usize) {
        if self.bids.levels.len() > depth || self.asks.levels.len() > depth {
            self.mutations = self.mutations.wrapping_add(1);
        }
        while self.bids.levels.len() > depth {
            self.bids.levels.pop_first();
        }
        while self.asks.levels.len() > depth {
            self.asks.levels.pop_last();
        }
    }

    /// True when the best bid is at or above the best ask — a book that cannot be right.
    #[must_use]
    pub fn is_crossed(&self) -> bool {
        match (self.best(Side::Bid), self.best(Side::Ask)) {
            (Some((bid, _)), Some((ask, _))) => bid >= ask,
            _ => false,
        }
    }

    /// Number of levels on `side`.
    #[must_use]
    pub fn depth(&self, side: Side) -> usize {
        self.side(side).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::d;

    #[test]
    fn update_overrides_older_quantity_at_a_price() {
        // The predecessor added quantities at the same price instead of replacing them.
        let mut book = OrderBook::new();
        book.apply(Side::Bid, d("100.0"), d("1.5"));
        book.apply(Side::Bid, d("100"), d("0.25"));
        assert_eq!(book.depth(Side::Bid), 1);
        assert_eq!(book.best(Side::Bid), Some((d("100"), d("0.25"))));
    }

    #[test]
    fn bid_updates_never_land_on_the_ask_side() {
        let mut book = OrderBook::new();
        book.apply(Side::Ask, d("101"), d("2"));
        book.apply(Side::Bid, d("101"), d("3"));
        book.apply(Side::Bid, d("99"), d("1"));
        assert_eq!(book.side(Side::Ask).get(d("101")), Some(d("2")));
        assert_eq!(book.depth(Side::Ask), 1);
        assert_eq!(book.depth(Side::Bid), 2);
    }

    #[test]
    fn zero_quantity_deletes_and_levels_are_best_first() {
        let mut book = OrderBook::new();
        for (p, q) in [("10", "1"), ("12", "1"), ("11", "1")] {
            book.apply(Side::Bid, d(p), d(q));
            book.apply(Side::Ask, d(p) + d("10"), d(q));
        }
        book.apply(Side::Bid, d("12.00"), d("0.000"));
        let bids: Vec<_> = book.levels(Side::Bid).map(|l| l.0).collect();
        let asks: Vec<_> = book.levels(Side::Ask).map(|l| l.0).collect();
        assert_eq!(bids, vec![d("11"), d("10")]);
        assert_eq!(asks, vec![d("20"), d("21"), d("22")]);
    }

    proptest::proptest! {
        /// The key orders (and equates) prices exactly like `Decimal` does, whatever their scales.
        #[test]
        fn px_orders_like_decimal(
            a in 0i64..2_000_000, sa in 0u32..29, b in 0i64..2_000_000, sb in 0u32..29,
            neg_a in proptest::bool::weighted(0.1), neg_b in proptest::bool::weighted(0.1),
        ) {
            let x = Decimal::new(if neg_a { -a } else { a }, sa);
            let y = Decimal::new(if neg_b { -b } else { b }, sb);
            proptest::prop_assert_eq!(Px::new(x).cmp(&Px::new(y)), x.cmp(&y));
            proptest::prop_assert_eq!(Px::new(x) == Px::new(y), x == y);
            proptest::prop_assert_eq!(price_cmp(x, y), x.cmp(&y));
        }
    }

    proptest::proptest! {
        /// Also with full 96-bit mantissas, where scaling overflows and `Decimal` decides.
        #[test]
        fn px_orders_like_decimal_with_wide_mantissas(
            a in proptest::prelude::any::<[u32; 3]>(), sa in 0u32..29,
            b in proptest::prelude::any::<[u32; 3]>(), sb in 0u32..29,
        ) {
            let x = Decimal::from_parts(a[0], a[1], a[2], false, sa);
            let y = Decimal::from_parts(b[0], b[1], b[2], false, sb);
            proptest::prop_assert_eq!(Px::new(x).cmp(&Px::new(y)), x.cmp(&y));
            proptest::prop_assert_eq!(price_cmp(x, y), x.cmp(&y));
        }
    }

    proptest::proptest! {
        /// The book holds exactly what a plain `BTreeMap<Decimal, Decimal>` would, best first, with
        /// prices of every scale (with and without the integer key form) and negative ones.
        #[test]
        fn book_matches_a_plain_decimal_map(
            ops in proptest::collection::vec(
                (proptest::prelude::any::<bool>(), -50i64..3000, 0u32..24, 0i64..4),
                1..300,
            ),
        ) {
            use std::collections::BTreeMap;
            let mut book = OrderBook::new();
            let mut plain: [BTreeMap<Decimal, Decimal>; 2] = Default::default();
            for (bid, m, scale, q) in ops {
                let side = if bid { Side::Bid } else { Side::Ask };
                let price = Decimal::new(m * 10i64.pow(scale % 3), scale);
                let qty = Decimal::from(q);
                book.apply(side, price, qty);
                let map = &mut plain[usize::from(bid)];
                if qty.is_zero() {
                    map.remove(&price);
                } else {
                    map.insert(price, qty);
                }
            }
            let asks: Vec<_> = plain[0].iter().map(|(p, q)| (*p, *q)).collect();
            let bids: Vec<_> = plain[1].iter().rev().map(|(p, q)| (*p, *q)).collect();
            proptest::prop_assert_eq!(book.levels(Side::Ask).collect::<Vec<_>>(), asks);
            proptest::prop_assert_eq!(book.levels(Side::Bid).collect::<Vec<_>>(), bids);
        }
    }

    #[test]
    fn px_fast_path_cases() {
        assert_eq!(
            Px::new(d("100.5")).cmp(&Px::new(d("100.4"))),
            Ordering::Greater
        );
        assert_eq!(
            Px::new(d("100.50")).cmp(&Px::new(d("100.5"))),
            Ordering::Equal
        );
        assert_eq!(
            Px::new(d("99.99")).cmp(&Px::new(d("100.0"))),
            Ordering::Less
        );
        assert_eq!(Px::new(d("-0")).cmp(&Px::new(d("0"))), Ordering::Equal);
        let big = Decimal::from_parts(u32::MAX, u32::MAX, u32::MAX, false, 3);
        assert_eq!(Px::new(big).cmp(&Px::new(d("1.000"))), Ordering::Greater);
        // Scaling the big one up to 28 decimals overflows: Decimal decides.
        let tiny = Decimal::from_parts(1, 0, 0, false, 28);
        assert_eq!(Px::new(big).cmp(&Px::new(tiny)), Ordering::Greater);
        assert_eq!(Px::new(tiny).cmp(&Px::new(big)), Ordering::Less);
        assert_eq!(
            Px::new(d("65000")).cmp(&Px::new(d("64999.99"))),
            Ordering::Greater
        );
        assert_eq!(
            Px::new(d("65000")).cmp(&Px::new(d("65000.000001"))),
            Ordering::Less
        );
    }

    #[test]
    fn revision_moves_on_every_change_and_clones_are_other_books() {
        let mut book = OrderBook::new();
        let r0 = book.revision();
        book.apply(Side::Bid, d("1"), d("1"));
        let r1 = book.revision();
        assert_ne!(r0, r1);
        book.truncate(5);
        assert_eq!(book.revision(), r1, "nothing dropped");
        book.apply(Side::Bid, d("2"), d("1"));
        book.truncate(1);
        let r2 = book.revision();
        assert_ne!(r2, r1);
        book.clear();
        assert_ne!(book.revision(), r2);
        let copy = book.clone();
        assert_eq!(copy, book);
        assert_ne!(copy.revision(), book.revision());
        assert_ne!(OrderBook::new().revision(), OrderBook::new().revision());
    }

    #[test]
    fn a_level_keeps_its_first_spelling() {
        let mut book = OrderBook::new();
        book.apply(Side::Ask, d("100.0"), d("1"));
        book.apply(Side::Ask, d("100"), d("2"));
        let p = book.best(Side::Ask).unwrap();
        assert_eq!((p.0.to_string(), p.1), ("100.0".to_owned(), d("2")));
    }

    #[test]
    fn truncate_drops_the_worst_levels() {
        let mut book = OrderBook::new();
        for i in 1..=5 {
            book.apply(Side::Bid, Decimal::from(i), Decimal::ONE);
            book.apply(Side::Ask, Decimal::from(10 + i), Decimal::ONE);
        }
        book.truncate(3);
        let bids: Vec<_> = book.levels(Side::Bid).map(|l| l.0).collect();
        let asks: Vec<_> = book.levels(Side::Ask).map(|l| l.0).collect();
        assert_eq!(bids, vec![d("5"), d("4"), d("3")]);
        assert_eq!(asks, vec![d("11"), d("12"), d("13")]);
    }

    #[test]
    fn crossed_and_locked_books_are_detected() {
        let mut book = OrderBook::new();
        book.apply(Side::Bid, d("100"), d("1"));
        book.apply(Side::Ask, d("101"), d("1"));
        assert!(!book.is_crossed());
        book.apply(Side::Bid, d("101"), d("1"));
        assert!(book.is_crossed());
    }
}
