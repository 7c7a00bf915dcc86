//! The depletion walk: what a market order of a given size would take from one book side.

use rust_decimal::Decimal;

use super::book::{POW10, UNITS_SCALE, exact_units, mul_pow};

/// One price level consumed (fully, or partly for the last one) by the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    /// Level price.
    pub price: Decimal,
    /// Quantity taken at that price.
    pub qty: Decimal,
}

/// The result of walking one book side for a requested quantity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WalkResult {
    /// The quantity asked for.
    pub requested: Decimal,
    /// The quantity the visible book could fill: `min(requested, visible depth)`.
    pub filled: Decimal,
    /// `requested - filled`: what the visible book is too thin for (never hidden).
    pub unfilled: Decimal,
    /// Σ price × qty over the fills (quote currency).
    pub notional: Decimal,
    /// The fills, best price first; the last may be partial.
    pub fills: Vec<Fill>,
    /// The best price on the side (the walk's reference), even when nothing is requested.
    pub best: Option<Decimal>,
}

/// Fills reserved up front: most walks stop within a few dozen levels (no regrowth on the way).
pub(crate) const FILLS_CAPACITY: usize = 64;

/// Basis points in one unit.
const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// The figures every depletion walk has — one venue's or the merged one — and those derived from them.
pub trait Depletion {
    /// The quantity asked for.
    fn requested(&self) -> Decimal;
    /// The quantity filled.
    fn filled(&self) -> Decimal;
    /// Σ price × qty over the fills.
    fn notional(&self) -> Decimal;
    /// The best price on the walked side (the slippage reference).
    fn best(&self) -> Option<Decimal>;
    /// Levels consumed (touched) by the walk.
    fn levels(&self) -> usize;
    /// The last (worst) price reached, `None` when nothing filled.
    fn worst(&self) -> Option<Decimal>;

    /// `requested - filled`: what the visible book is too thin for.
    fn unfilled(&self) -> Decimal {
        self.requested() - self.filled()
    }

    /// Volume-weighted average price of the fills, `None` when nothing filled.
    fn vwap(&self) -> Option<Decimal> {
        vwap(self.notional(), self.filled())
    }

    /// Slippage of the VWAP against the best price, in basis points, always ≥ 0 (a cost).
    fn slippage_bps(&self) -> Option<Decimal> {
        slippage_bps(self.vwap()?, self.best()?)
    }

    /// True when the visible book could not fill the whole request.
    fn is_partial(&self) -> bool {
        self.filled() < self.requested()
    }
}

/// Implements [`Depletion`] for a walk result with the fields `requested`, `filled`, `notional`, `best`
/// and `fills` (whose items have a `price`): one venue's walk and the merged walk share these.
macro_rules! impl_depletion {
    ($($t:ty),*) => {$(
        impl Depletion for $t {
            fn requested(&self) -> Decimal {
                self.requested
            }
            fn filled(&self) -> Decimal {
                self.filled
            }
            fn notional(&self) -> Decimal {
                self.notional
            }
            fn best(&self) -> Option<Decimal> {
                self.best
            }
            fn levels(&self) -> usize {
                self.fills.len()
            }
            fn worst(&self) -> Option<Decimal> {
                self.fills.last().map(|f| f.price)
            }
        }
    )*};
}

impl_depletion!(WalkResult, super::MergedWalk);

/// `notional / filled`, `None` when nothing filled.
#[must_use]
pub fn vwap(notional: Decimal, filled: Decimal) -> Option<Decimal> {
    if filled.is_zero() {
        None
    } else {
        notional.checked_div(filled)
    }
}

/// |vwap − best| / best × 10 000.
#[must_use]
pub fn slippage_bps(vwap: Decimal, best: Decimal) -> Option<Decimal> {
    if best.is_zero() {
        return None;
    }
    (vwap - best).abs().checked_mul(BPS)?.checked_div(best)
}

/// What is left of an order during a walk: the definition's `remaining` (`quantity` minus each take in
/// turn, in `Decimal`), kept as an integer count of 10^-18 units while the order and the levels are
/// exact in them — every quantity the adapters produce — and in `Decimal` from the first one that is
/// not. A level is taken whole or in part by comparing integers; the part is the remainder at the scale
/// successive `Decimal` subtraction would give it. So the takes are the definition's digit for digit
/// (a test checks it), at two integer operations a level instead of two `Decimal` ones.
pub(crate) struct Left {
    /// The remainder in units, `None` once a quantity was not exact in them.
    units: Option<u128>,
    /// The scale the definition's remainder has: the order's and every whole take's, at most.
    scale: u32,
    /// The remainder in `Decimal`, kept up to date only once `units` is `None`.
    remaining: Decimal,
}

impl Left {
    pub(crate) fn new(quantity: Decimal) -> Self {
        Self {
            units: exact_units(quantity),
            scale: quantity.scale(),
            remaining: quantity,
        }
    }

    /// Nothing left to take.
    pub(crate) fn done(&self) -> bool {
        match self.units {
            Some(u) => u == 0,
            None => self.remaining <= Decimal::ZERO,
        }
    }

    /// What the order takes of a level of `qty`.
    pub(crate) fn take(&mut self, qty: Decimal) -> Decimal {
        if let Some(left) = self.units {
            match exact_units(qty) {
                Some(u) if u <= left => {
                    self.units = Some(left - u);
                    self.scale = self.scale.max(qty.scale());
                    return qty;
                }
                Some(_) => {
                    self.units = Some(0);
                    return self.as_decimal(left);
                }
                None => {
                    self.remaining = self.as_decimal(left);
                    self.units = None;
                }
            }
        }
        let take = qty.min(self.remaining);
        self.remaining -= take;
        take
    }

    /// `left` units as the definition's `Decimal` remainder (at `scale`; every quantity so far has at
    /// most that many decimals, so the division is exact).
    fn as_decimal(&self, left: u128) -> Decimal {
        let div = POW10
            .get((UNITS_SCALE - self.scale.min(UNITS_SCALE)) as usize)
            .copied()
            .unwrap_or(1);
        i128::try_from(left / div)
            .ok()
            .and_then(|m| Decimal::try_from_i128_with_scale(m, self.scale).ok())
            .unwrap_or_else(|| {
                // More digits than a `Decimal` holds (the definition rounds there too): whole units
                // plus the fraction, rounded by `Decimal`'s own addition.
                let one = POW10[UNITS_SCALE as usize];
                let part = |m: u128, scale: u32| {
                    i128::try_from(m)
                        .ok()
                        .and_then(|m| Decimal::try_from_i128_with_scale(m, scale).ok())
                        .unwrap_or(Decimal::MAX)
                };
                part(left / one, 0).saturating_add(part(left % one, UNITS_SCALE))
            })
    }
}

/// Largest mantissa a `Decimal` holds (96 bits).
const DECIMAL_MANTISSA_MAX: u128 = (1 << 96) - 1;

/// A running `Decimal` sum exactly as the definition writes it (`sum += term`, from
/// `Decimal::ZERO`), kept as an integer mantissa at the largest scale so far while that is exact —
/// while it fits a `Decimal`'s 96 bits, where `Decimal`'s own addition does not round either — and
/// in `Decimal` from the first term that would not fit. Products of two terms are formed in integers
/// too. `value()` is then the definition's sum digit for digit, scale included (a proptest checks
/// it), at an integer multiply and add a term instead of `Decimal` ones.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ExactSum {
    /// The sum's mantissa at `scale` (non-negative), while exact.
    mant: u128,
    scale: u32,
    /// The sum in `Decimal`, once a term did not fit (or was negative).
    spilled: Option<Decimal>,
}

impl ExactSum {
    /// `sum += term`.
    #[inline]
    pub(crate) fn add(&mut self, term: Decimal) {
        if term.is_sign_negative()
            || self.spilled.is_some()
            || !self.add_parts(term.mantissa().unsigned_abs(), term.scale())
        {
            self.spill(term);
        }
    }

    /// `sum += a * b`.
    #[inline]
    pub(crate) fn add_product(&mut self, a: Decimal, b: Decimal) {
        if self.spilled.is_none()
            && !a.is_sign_negative()
            && !b.is_sign_negative()
            && let (Ok(ma), Ok(mb)) = (u64::try_from(a.mantissa()), u64::try_from(b.mantissa()))
        {
            // A product within 96 bits and 28 decimals is exact in `Decimal` too, and a zero
            // operand gives a bare zero (scale 0).
            let m = u128::from(ma) * u128::from(mb);
            let scale = if m == 0 { 0 } else { a.scale() + b.scale() };
            if scale <= Decimal::MAX_SCALE && self.add_parts(m, scale) {
                return;
            }
        }
        self.add(a * b);
    }

    /// Adds `m × 10^-scale` when the sum stays exact in 96 bits; false (and nothing added) if not.
    #[inline]
    fn add_parts(&mut self, m: u128, scale: u32) -> bool {
        if m > DECIMAL_MANTISSA_MAX {
            return false;
        }
        if self.mant == 0 {
            // 0 + x is x, at x's scale (even a zero's).
            self.mant = m;
            self.scale = scale;
            return true;
        }
        if m == 0 {
            // x + 0 is x, scale and all.
            return true;
        }
        let aligned = if scale >= self.scale {
            POW10
                .get((scale - self.scale) as usize)
                .and_then(|p| mul_pow(self.mant, *p))
                .map(|s| (s, m, scale))
        } else {
            POW10
                .get((self.scale - scale) as usize)
                .and_then(|p| mul_pow(m, *p))
                .map(|t| (self.mant, t, self.scale))
        };
        match aligned {
            Some((a, b, scale)) if a.saturating_add(b) <= DECIMAL_MANTISSA_MAX => {
                self.mant = a + b;
                self.scale = scale;
                true
            }
            _ => false,
        }
    }

    fn spill(&mut self, term: Decimal) {
        self.spilled = Some(self.value() + term);
    }

    /// The sum.
    #[inline]
    pub(crate) fn value(&self) -> Decimal {
        self.spilled.unwrap_or_else(|| {
            // At most 96 bits and scale 28, by construction.
            Decimal::from_i128_with_scale(i128::try_from(self.mant).unwrap_or(0), self.scale)
        })
    }
}

/// Walks `levels` (best first, as `(price, qty)`) until `quantity` is filled or the levels run out.
///
/// Arithmetic is exact; the adapters bound prices and quantities on input so that products and sums
/// stay far inside `Decimal`'s range.
pub fn walk<I>(levels: I, quantity: Decimal) -> WalkResult
where
    I: IntoIterator<Item = (Decimal, Decimal)>,
{
    let mut levels = levels.into_iter().peekable();
    let best = levels.peek().map(|l| l.0);
    let mut out = WalkResult {
        requested: quantity,
        best,
        fills: Vec::with_capacity(FILLS_CAPACITY),
        ..WalkResult::default()
    };
    let mut left = Left::new(quantity);
    let (mut filled, mut notional) = (ExactSum::default(), ExactSum::default());
    while !left.done() {
        let Some((price, qty)) = levels.next() else {
            break;
        };
        let take = left.take(qty);
        filled.add(take);
        notional.add_product(price, take);
        out.fills.push(Fill { price, qty: take });
    }
    out.filled = filled.value();
    out.notional = notional.value();
    out.unfilled = quantity - out.filled;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::{Depletion, OrderBook, Side, d};

    /// The walk by its definition: successive `Decimal` arithmetic.
    fn by_definition(levels: &[(Decimal, Decimal)], quantity: Decimal) -> WalkResult {
        let mut out = WalkResult {
            requested: quantity,
            best: levels.first().map(|l| l.0),
            ..WalkResult::default()
        };
        let mut remaining = quantity;
        for &(price, qty) in levels {
            if remaining <= Decimal::ZERO {
                break;
            }
            let take = qty.min(remaining);
            remaining -= take;
            out.filled += take;
            out.notional += price * take;
            out.fills.push(Fill { price, qty: take });
        }
        out.unfilled = quantity - out.filled;
        out
    }

    /// Every figure as text, so that the scale counts too (`Decimal`'s `==` is numeric).
    fn spelled(w: &WalkResult) -> Vec<String> {
        let mut v = vec![
            w.requested.to_string(),
            w.filled.to_string(),
            w.unfilled.to_string(),
            w.notional.to_string(),
            format!("{:?}", w.best),
        ];
        v.extend(w.fills.iter().map(|f| format!("{}@{}", f.qty, f.price)));
        v
    }

    #[test]
    fn a_remainder_with_more_digits_than_a_decimal_holds_is_still_taken() {
        // 7.9e10 at 10 decimals is 29 digits at 18: the definition rounds, the walk must not panic and
        // must agree to the last digit the definition keeps.
        let quantity = Decimal::from_i128_with_scale(792_281_625_142_643_375_935_439_503, 10);
        let levels = [(d("1"), d("0.000000000000000001")), (d("1"), Decimal::MAX)];
        let fast = walk(levels.iter().copied(), quantity);
        let slow = by_definition(&levels, quantity);
        assert_eq!(fast.fills.len(), 2);
        assert_eq!(fast.fills[1].qty, slow.fills[1].qty);
        assert_eq!(fast.filled, slow.filled);
    }

    /// Any `Decimal`: mantissas from zero to the full 96 bits, every scale, either sign.
    fn any_decimal() -> impl proptest::strategy::Strategy<Value = Decimal> {
        use proptest::prelude::*;
        (
            prop_oneof![0u128..1_000, 0u128..1 << 64, 0u128..1 << 96],
            0u32..=28,
            proptest::bool::weighted(0.1),
        )
            .prop_map(|(m, scale, negative)| {
                let m = i128::try_from(m).expect("96 bits");
                Decimal::from_i128_with_scale(if negative { -m } else { m }, scale)
            })
    }

    proptest::proptest! {
        /// `ExactSum` is `Decimal`'s own `+=` (and `+= a * b`) chain from zero, digit for digit and
        /// scale for scale: across spills (sums past 96 bits, scales far apart), zeros and signs.
        #[test]
        fn exact_sum_is_decimal_addition_digit_for_digit(
            terms in proptest::collection::vec((any_decimal(), any_decimal(), proptest::bool::ANY), 0..40),
        ) {
            let mut fast = ExactSum::default();
            let mut slow = Decimal::ZERO;
            for (a, b, product) in terms {
                // Decimal's own operations panic on overflow: keep to the terms it can take.
                let Some(term) = (if product { a.checked_mul(b) } else { Some(a) }) else { continue };
                let Some(sum) = slow.checked_add(term) else { break };
                slow = sum;
                if product { fast.add_product(a, b) } else { fast.add(a) }
                proptest::prop_assert_eq!(fast.value().to_string(), slow.to_string());
            }
        }

        /// The integer bookkeeping gives exactly the definition's walk, digit for digit, including
        /// quantities finer than 10^-18 (where it falls back to `Decimal`) and zero or tiny orders.
        #[test]
        fn walk_is_the_definition_digit_for_digit(
            levels in proptest::collection::vec((1i64..10_000_000, 0u32..4, 1i64..2_000_000_000, 0u32..22), 0..60),
            q in (0i64..5_000_000_000, 0u32..22),
        ) {
            let levels: Vec<(Decimal, Decimal)> = levels
                .into_iter()
                .map(|(p, ps, m, qs)| (Decimal::new(p, ps), Decimal::new(m, qs)))
                .collect();
            let quantity = Decimal::new(q.0, q.1);
            let fast = walk(levels.iter().copied(), quantity);
            let slow = by_definition(&levels, quantity);
            proptest::prop_assert_eq!(spelled(&fast), spelled(&slow));
        }
    }

    fn asks(levels: &[(&str, &str)]) -> OrderBook {
        let mut book = OrderBook::new();
        for (p, q) in levels {
            book.apply(Side::Ask, d(p), d(q));
        }
        book
    }

    #[test]
    fn exact_fill_consumes_whole_levels() {
        let book = asks(&[("100", "1"), ("101", "2"), ("102", "5")]);
        let w = walk(book.levels(Side::Ask), d("3"));
        assert_eq!(w.filled, d("3"));
        assert_eq!(w.unfilled, Decimal::ZERO);
        assert_eq!(w.levels(), 2);
        assert_eq!(w.notional, d("302"));
        assert_eq!(w.worst(), Some(d("101")));
        assert_eq!(w.best, Some(d("100")));
        assert_eq!(w.vwap().unwrap().round_dp(8), d("100.66666667"));
    }

    #[test]
    fn last_level_is_partial() {
        let book = asks(&[("100", "1"), ("101", "2"), ("102", "5")]);
        let w = walk(book.levels(Side::Ask), d("3.5"));
        assert_eq!(
            w.fills,
            vec![
                Fill {
                    price: d("100"),
                    qty: d("1")
                },
                Fill {
                    price: d("101"),
                    qty: d("2")
                },
                Fill {
                    price: d("102"),
                    qty: d("0.5")
                },
            ]
        );
        assert_eq!(w.notional, d("353"));
        // slippage = (353/3.5 - 100) / 100 * 1e4
        assert_eq!(w.slippage_bps().unwrap().round_dp(6), d("85.714286"));
    }

    #[test]
    fn too_thin_book_reports_the_unfilled_rest() {
        let book = asks(&[("100", "1"), ("101", "2")]);
        let w = walk(book.levels(Side::Ask), d("15"));
        assert_eq!(w.filled, d("3"));
        assert_eq!(w.unfilled, d("12"));
        assert!(w.is_partial());
        assert_eq!(w.levels(), 2);
    }

    #[test]
    fn empty_side_fills_nothing() {
        let book = OrderBook::new();
        let w = walk(book.levels(Side::Bid), d("1"));
        assert_eq!(w.filled, Decimal::ZERO);
        assert_eq!(w.unfilled, d("1"));
        assert_eq!(w.vwap(), None);
        assert_eq!(w.worst(), None);
        assert_eq!(w.best, None);
        assert_eq!(w.slippage_bps(), None);
    }

    #[test]
    fn sell_walks_bids_from_the_highest() {
        let mut book = OrderBook::new();
        for (p, q) in [("99", "1"), ("100", "1"), ("98", "1")] {
            book.apply(Side::Bid, d(p), d(q));
        }
        let w = walk(book.levels(Side::Bid), d("2"));
        assert_eq!(w.fills[0].price, d("100"));
        assert_eq!(w.worst(), Some(d("99")));
        assert_eq!(w.slippage_bps().unwrap(), d("50"));
    }
}
