//! `OrderBook`: one venue's exact price levels, best-first iteration, depth truncation and the crossed
//! check.
//!
//! Each side is a `BTreeMap<Decimal, Decimal>` (price → quantity). `Decimal` compares numerically, so
//! `27000.10` and `27000.1` are the same level whatever the venue's padding.

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::iter::Rev;

use rust_decimal::Decimal;

use super::Side;

/// One side of a book: price → quantity, never holding a zero quantity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookSide {
    levels: BTreeMap<Decimal, Decimal>,
}

/// Best-first iterator over one side's `(price, quantity)` levels.
pub enum Levels<'a> {
    /// Asks: ascending price.
    Up(btree_map::Iter<'a, Decimal, Decimal>),
    /// Bids: descending price.
    Down(Rev<btree_map::Iter<'a, Decimal, Decimal>>),
}

impl Iterator for Levels<'_> {
    type Item = (Decimal, Decimal);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Levels::Up(it) => it.next().map(|(p, q)| (*p, *q)),
            Levels::Down(it) => it.next().map(|(p, q)| (*p, *q)),
        }
    }
}

impl BookSide {
    /// Sets the quantity at `price`; a zero quantity removes the level.
    #[inline]
    pub fn set(&mut self, price: Decimal, qty: Decimal) {
        if qty.is_zero() {
            self.levels.remove(&price);
        } else {
            self.levels.insert(price, qty);
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
        self.levels.get(&price).copied()
    }

    fn clear(&mut self) {
        self.levels.clear();
    }
}

/// One venue's book for one symbol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderBook {
    bids: BookSide,
    asks: BookSide,
}

impl OrderBook {
    /// An empty book.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes every level of both sides.
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    /// Sets one level (`qty == 0` deletes it). A bid never lands on the ask side and vice versa.
    #[inline]
    pub fn apply(&mut self, side: Side, price: Decimal, qty: Decimal) {
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
        .map(|(p, q)| (*p, *q))
    }

    /// Drops the worst levels of each side beyond `depth` (Kraken's rule: levels that leave the
    /// subscribed window are not announced by the server).
    pub fn truncate(&mut self, depth: usize) {
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
