//! Market domain: sides, actions, exact order books and the depletion walks over them.
//!
//! Every price and quantity is a [`rust_decimal::Decimal`] parsed from the wire text; nothing here ever
//! passes through `f64`.

pub mod book;
pub mod merged;
pub mod walk;

use std::fmt;
use std::str::FromStr;

pub use book::{BookSide, OrderBook};
pub use merged::{MergedFill, MergedWalk, VenueSplit, walk_merged, walk_merged_levels};
pub use rust_decimal::Decimal;
pub use walk::{Depletion, Fill, WalkResult, walk};

/// One side of a book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Buy orders resting in the book; a market sell walks them from the highest price down.
    Bid,
    /// Sell orders resting in the book; a market buy walks them from the lowest price up.
    Ask,
}

impl Side {
    /// The wire/output spelling used by the headless writer (`bid` / `ask`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Bid => "bid",
            Side::Ask => "ask",
        }
    }

    /// True when `a` is a better price than `b` on this side (higher bid, lower ask).
    #[inline]
    #[must_use]
    pub fn better(self, a: Decimal, b: Decimal) -> bool {
        // `price_cmp` is `Decimal`'s order with an integer fast path for two non-negative prices.
        match self {
            Side::Bid => book::price_cmp(a, b).is_gt(),
            Side::Ask => book::price_cmp(a, b).is_lt(),
        }
    }
}

/// What the user wants to do with a market order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Action {
    /// A market buy: consumes the asks.
    Buy,
    /// A market sell: consumes the bids.
    #[default]
    Sell,
}

impl Action {
    /// The side of the book this action consumes.
    #[must_use]
    pub fn walked_side(self) -> Side {
        match self {
            Action::Buy => Side::Ask,
            Action::Sell => Side::Bid,
        }
    }

    /// The other action.
    #[must_use]
    pub fn flipped(self) -> Action {
        match self {
            Action::Buy => Action::Sell,
            Action::Sell => Action::Buy,
        }
    }

    /// `buy` / `sell`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Buy => "buy",
            Action::Sell => "sell",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "buy" => Ok(Action::Buy),
            "sell" => Ok(Action::Sell),
            other => Err(format!("unknown action '{other}' (expected buy or sell)")),
        }
    }
}

/// Parses a decimal literal in tests.
#[cfg(test)]
pub(crate) fn d(s: &str) -> Decimal {
    s.parse().expect("test literal")
}
