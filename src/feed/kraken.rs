//! Kraken WebSocket v2 `book` adapter (`kraken-v2`), see `protocols.md` §1.
//!
//! Decoding is two-step and borrowed: a small envelope (`channel`, `type`, `method`, `success`,
//! `error`, `result`, `data` kept as [`RawValue`]) decides what the frame is, then only the payload that
//! matters is decoded. Prices and quantities are bare JSON numbers; each is captured as a `&RawValue`
//! and its token text parsed exactly with [`parse_price`]/[`parse_decimal`] — never through `f64`.
//!
//! Book frames are parsed and validated completely into reusable buffers before the book is touched,
//! so a malformed frame leaves the book as it was. After applying each entry the book is truncated to
//! the subscribed depth (the depth the server acknowledged; Kraken does not announce levels that fall
//! out of the window) and the CRC32 of the top ten levels is compared with the venue's.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{Adapter, FrameError, FrameOutcome, Limits, parse_decimal, parse_price};
use crate::config::VenueConfig;
use crate::market::book::{Revision, price_cmp};
use crate::market::{OrderBook, Side};

/// Truncation depth when neither the server's ack nor the config names one (Kraken's maximum).
const DEFAULT_DEPTH: usize = 1000;
/// BTC/USD price decimals, used when the config has none.
const DEFAULT_PRICE_PRECISION: u32 = 1;
/// BTC/USD quantity decimals, used when the config has none.
const DEFAULT_QTY_PRECISION: u32 = 8;
/// Levels per side that enter the checksum, whatever the subscribed depth.
const CHECKSUM_LEVELS: usize = 10;
/// `Decimal` holds at most 28 decimals: a larger precision cannot mean anything.
const MAX_PRECISION: u32 = 28;
/// Longest server error text kept.
const MAX_ERROR_TEXT: usize = 256;
/// Level buffers larger than this (levels) are given back after use.
const KEEP_LEVEL_CAPACITY: usize = 1 << 16;

/// The `kraken-v2` adapter: one symbol's `book` channel on a Kraken WebSocket v2 connection.
#[derive(Debug)]
pub struct KrakenV2 {
    /// The venue's spelling of the symbol (`BTC/USD`).
    symbol: String,
    /// Depth from the config, used until the server acknowledges one.
    config_depth: Option<usize>,
    price_precision: u32,
    qty_precision: u32,
    limits: Limits,
    /// Depth the server acknowledged on this connection.
    acked_depth: Option<usize>,
    /// A verified snapshot is held (since the last `reset`).
    have_snapshot: bool,
    /// Reusable: every level of the current frame, parsed and validated, in wire order.
    levels: Vec<PendingLevel>,
    /// Reusable: the entries of the current frame that are for our symbol.
    entries: Vec<PendingEntry>,
    /// The last checksum input, reused level by level.
    crc: ChecksumCache,
}

/// One validated level of the frame being decoded.
#[derive(Debug, Clone, Copy)]
struct PendingLevel {
    side: Side,
    price: Decimal,
    qty: Decimal,
}

/// One `data` entry for our symbol: its levels are `levels[start..end]`.
#[derive(Debug, Clone, Copy)]
struct PendingEntry {
    start: usize,
    end: usize,
    checksum: u32,
}

impl KrakenV2 {
    /// Builds the adapter for `venue` (symbol, depth, checksum precisions; defaults 1000, 1 and 8).
    ///
    /// Precisions above 28 (more than `Decimal` can hold) are treated as 28.
    #[must_use]
    pub fn new(venue: &VenueConfig, limits: Limits) -> Self {
        Self {
            symbol: venue.symbol.clone(),
            config_depth: venue.depth.map(|d| d as usize).filter(|&d| d > 0),
            price_precision: venue
                .price_precision
                .unwrap_or(DEFAULT_PRICE_PRECISION)
                .min(MAX_PRECISION),
            qty_precision: venue
                .qty_precision
                .unwrap_or(DEFAULT_QTY_PRECISION)
                .min(MAX_PRECISION),
            limits,
            acked_depth: None,
            have_snapshot: false,
            levels: Vec::with_capacity(256),
            entries: Vec::with_capacity(2),
            crc: ChecksumCache::default(),
        }
    }

    /// The depth each side is truncated to: the acknowledged depth, else the config's, else 1000.
    #[must_use]
    pub fn window_depth(&self) -> usize {
        self.acked_depth
            .or(self.config_depth)
            .unwrap_or(DEFAULT_DEPTH)
    }

    /// True when a verified snapshot is held and updates are applied.
    #[must_use]
    pub fn has_snapshot(&self) -> bool {
        self.have_snapshot
    }

    fn on_method(&mut self, method: &str, env: &Envelope<'_>) -> Result<FrameOutcome, FrameError> {
        if env.success == Some(false) || env.error.is_some() {
            return Ok(FrameOutcome::ServerError(error_text(env.error, method)));
        }
        if method != "subscribe" {
            // `pong`, `unsubscribe` acks and anything else we did not ask about.
            return Ok(FrameOutcome::Ignored);
        }
        if env.success != Some(true) {
            return Err(FrameError::Malformed(
                "subscribe reply without success flag".to_owned(),
            ));
        }
        let Some(result) = env.result else {
            return Err(FrameError::Malformed(
                "subscribe ack without result".to_owned(),
            ));
        };
        let ack: AckResult<'_> = serde_json::from_str(result.get()).map_err(malformed)?;
        let ours = ack.channel.as_ref().is_some_and(|c| c.0 == "book")
            && ack.symbol.as_ref().is_some_and(|s| s.0 == self.symbol);
        if !ours {
            return Ok(FrameOutcome::Ignored);
        }
        match ack.depth {
            Some(0) => Err(FrameError::Malformed(
                "subscribe ack with depth 0".to_owned(),
            )),
            Some(d) => {
                self.acked_depth = Some(d as usize);
                Ok(FrameOutcome::Ack)
            }
            None => Ok(FrameOutcome::Ack),
        }
    }

    fn on_book(
        &mut self,
        kind: Option<&Text<'_>>,
        data: Option<&RawValue>,
        book: &mut OrderBook,
    ) -> Result<FrameOutcome, FrameError> {
        let snapshot = match kind.map(|k| k.0.as_ref()) {
            Some("snapshot") => true,
            Some("update") => false,
            Some(other) => {
                return Err(FrameError::Malformed(format!(
                    "unknown book type {:?}",
                    super::truncate_for_log(other)
                )));
            }
            None => return Err(FrameError::Malformed("book frame without type".to_owned())),
        };
        let Some(data) = data else {
            return Err(FrameError::Malformed("book frame without data".to_owned()));
        };

        // Step 2: parse and validate every level of the frame before touching the book.
        self.levels.clear();
        self.entries.clear();
        let parsed = {
            let mut de = serde_json::Deserializer::from_str(data.get());
            DataSeed {
                symbol: &self.symbol,
                levels: &mut self.levels,
                entries: &mut self.entries,
            }
            .deserialize(&mut de)
            .and_then(|()| de.end())
        };
        if let Err(e) = parsed {
            self.release_buffers();
            return Err(malformed(e));
        }

        let outcome = self.apply(snapshot, book);
        self.release_buffers();
        outcome
    }

    /// Applies the parsed entries: snapshot or update, truncation, limits, checksum.
    fn apply(&mut self, snapshot: bool, book: &mut OrderBook) -> Result<FrameOutcome, FrameError> {
        if self.entries.is_empty() {
            return Ok(FrameOutcome::Ignored);
        }
        if !snapshot && !self.have_snapshot {
            return Ok(FrameOutcome::AwaitingSnapshot);
        }
        let max = self.limits.max_levels_per_side;
        if snapshot {
            // A snapshot side larger than the bound is refused before the book is cleared.
            for e in &self.entries {
                let levels = self.levels.get(e.start..e.end).unwrap_or(&[]);
                let bids = levels.iter().filter(|l| l.side == Side::Bid).count();
                if bids > max || levels.len() - bids > max {
                    self.have_snapshot = false;
                    return Err(FrameError::TooManyLevels(max));
                }
            }
        }
        let depth = self.window_depth();
        let (pp, qp) = (self.price_precision, self.qty_precision);
        for e in &self.entries {
            if snapshot {
                book.clear();
            }
            // Whether the top ten levels of each side may differ from those of the last checksum:
            // such a side is read again; otherwise its part of the input is the last one (and with
            // no side changed, so is the CRC). A window under ten levels lets truncation reach the
            // top: always read both.
            let all = snapshot || depth < CHECKSUM_LEVELS || !self.crc.is_current(book, pp, qp);
            // Asks, bids.
            let mut top_changed = [all, all];
            for l in self.levels.get(e.start..e.end).unwrap_or(&[]) {
                let i = usize::from(l.side == Side::Bid);
                if !top_changed[i] && !self.crc.below_top(l.side, l.price) {
                    top_changed[i] = true;
                }
                book.apply(l.side, l.price, l.qty);
            }
            book.truncate(depth);
            if book.depth(Side::Bid) > max || book.depth(Side::Ask) > max {
                self.have_snapshot = false;
                return Err(FrameError::TooManyLevels(max));
            }
            let computed = if top_changed == [false, false] {
                self.crc.unchanged(book)
            } else {
                self.crc.checksum_sides(book, pp, qp, top_changed)
            };
            if computed != e.checksum {
                // The book no longer matches the venue's: updates wait for a fresh snapshot.
                self.have_snapshot = false;
                return Err(FrameError::Checksum {
                    expected: e.checksum,
                    computed,
                });
            }
        }
        if snapshot {
            self.have_snapshot = true;
            Ok(FrameOutcome::Snapshot)
        } else {
            Ok(FrameOutcome::Update)
        }
    }

    /// Decodes a book frame — `channel` `book`, `type` `snapshot` or `update`, `data`, other keys
    /// skipped, in any order — in a single pass, the entries going straight into the level buffers.
    /// `Some` (snapshot or not) only when the two-step path would reach [`KrakenV2::apply`] with the
    /// very same buffers: a key of the envelope that changes the outcome (`method`, `error`,
    /// `success`, …), a repeated key, another channel or any decoding error gives `None`, and the
    /// frame is decoded again by the general path, which reports it exactly as before.
    fn decode_book_in_one_pass(&mut self, frame: &str) -> Option<bool> {
        self.levels.clear();
        self.entries.clear();
        let mut de = serde_json::Deserializer::from_str(frame);
        let snapshot = OnePass(DataSeed {
            symbol: &self.symbol,
            levels: &mut self.levels,
            entries: &mut self.entries,
        })
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        Some(snapshot)
    }

    fn release_buffers(&mut self) {
        if self.levels.capacity() > KEEP_LEVEL_CAPACITY {
            self.levels = Vec::with_capacity(256);
        }
    }
}

impl Adapter for KrakenV2 {
    fn reset(&mut self) {
        self.have_snapshot = false;
        self.acked_depth = None;
    }

    fn invalidate(&mut self) {
        // Same connection: the acknowledged depth still holds for the next snapshot.
        self.have_snapshot = false;
    }

    fn on_frame(&mut self, frame: &str, book: &mut OrderBook) -> Result<FrameOutcome, FrameError> {
        // The usual book frame in one pass; anything else (or anything wrong) takes the two steps.
        if let Some(snapshot) = self.decode_book_in_one_pass(frame) {
            let outcome = self.apply(snapshot, book);
            self.release_buffers();
            return outcome;
        }
        self.on_frame_two_steps(frame, book)
    }

    fn keepalive(&self) -> Option<String> {
        Some(r#"{"method":"ping"}"#.to_owned())
    }
}

impl KrakenV2 {
    /// The general decoder: the envelope first, then the payload that matters.
    fn on_frame_two_steps(
        &mut self,
        frame: &str,
        book: &mut OrderBook,
    ) -> Result<FrameOutcome, FrameError> {
        // Step 1: the borrowed envelope.
        let env: Envelope<'_> = serde_json::from_str(frame).map_err(malformed)?;
        if env.error_upper.is_some() {
            // `{"Error":"Exceeded msg rate"}` and similar.
            return Ok(FrameOutcome::ServerError(error_text(
                env.error_upper,
                "request",
            )));
        }
        if let Some(method) = &env.method {
            return self.on_method(&method.0, &env);
        }
        if env.success == Some(false) || env.error.is_some() {
            return Ok(FrameOutcome::ServerError(error_text(env.error, "request")));
        }
        let Some(channel) = &env.channel else {
            return Err(FrameError::Malformed(
                "neither channel nor method".to_owned(),
            ));
        };
        match channel.0.as_ref() {
            "heartbeat" => Ok(FrameOutcome::Heartbeat),
            "book" => self.on_book(env.kind.as_ref(), env.data, book),
            // `status` and channels we did not subscribe to.
            _ => Ok(FrameOutcome::Ignored),
        }
    }
}

/// Kraken's book checksum of `book`: CRC32 (IEEE) of the top 10 asks (ascending) then the top 10 bids
/// (descending), each level written as its price with `price_precision` decimals followed by its
/// quantity with `qty_precision` decimals, the `.` removed and leading zeros stripped.
///
/// Numbers are formatted from the exact `Decimal` (mantissa digits, padded with zeros up to the
/// precision), so a quantity received as `0.05` counts as `0.05000000`. A value with *more* decimals than
/// the precision cannot be written at the pair's precision; its extra digits are truncated (as
/// `Decimal`'s own `{:.N}` formatting does). Kraken never sends such values for a correctly configured
/// pair; if it happens the checksum almost surely mismatches and the book is resynchronised, which is
/// the safe outcome. Precisions above 28 are treated as 28.
#[must_use]
pub fn checksum(book: &OrderBook, price_precision: u32, qty_precision: u32) -> u32 {
    let mut buf = Vec::with_capacity(512);
    checksum_with(book, price_precision, qty_precision, &mut buf)
}

/// [`checksum`] with a caller-owned buffer (no allocation once the buffer has grown); on return the
/// buffer holds the checksum input string.
fn checksum_with(
    book: &OrderBook,
    price_precision: u32,
    qty_precision: u32,
    buf: &mut Vec<u8>,
) -> u32 {
    let (pp, qp) = (
        price_precision.min(MAX_PRECISION),
        qty_precision.min(MAX_PRECISION),
    );
    buf.clear();
    for side in [Side::Ask, Side::Bid] {
        for (price, qty) in book.levels(side).take(CHECKSUM_LEVELS) {
            push_scaled(buf, price, pp);
            push_scaled(buf, qty, qp);
        }
    }
    crc32fast::hash(buf)
}

/// Appends the digits of `|v|` written with exactly `precision` decimals, without the `.` and without
/// leading zeros (zero appends nothing). Extra decimals beyond `precision` are truncated.
#[inline]
fn push_scaled(buf: &mut Vec<u8>, v: Decimal, precision: u32) {
    let scale = v.scale();
    let mut m = v.mantissa().unsigned_abs();
    if scale > precision {
        // scale ≤ 28, so the divisor fits in u128.
        m /= 10u128.pow(scale - precision);
    }
    if m == 0 {
        return;
    }
    push_digits(buf, m);
    if precision > scale {
        buf.extend_from_slice(&ZEROS[..(precision - scale) as usize]);
    }
}

/// "00" "01" … "99": two digits per division.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends the decimal digits of `m` (no leading zeros).
#[inline]
fn push_digits(buf: &mut Vec<u8>, m: u128) {
    let mut tmp = [0u8; 40]; // u128::MAX has 39 digits
    let mut i = tmp.len();
    if let Ok(mut small) = u64::try_from(m) {
        while small >= 100 {
            let pair = (small % 100) as usize * 2;
            small /= 100;
            i -= 2;
            tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        }
        if small >= 10 {
            let pair = small as usize * 2;
            i -= 2;
            tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        } else if small > 0 {
            i -= 1;
            tmp[i] = b'0' + small as u8;
        }
    } else {
        let mut big = m;
        while big > 0 {
            i -= 1;
            tmp[i] = b'0' + (big % 10) as u8;
            big /= 10;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Zeros to pad a mantissa up to the precision (precision ≤ 28).
const ZEROS: [u8; 28] = [b'0'; 28];

/// The checksum input of the last verification, level by level, so that levels which did not change
/// are copied instead of formatted again (usually all but one or two of the twenty).
///
/// A level's text depends only on its price and quantity *values* (and the adapter's fixed
/// precisions), so an entry can be reused whenever both values are the same — across updates,
/// truncations and snapshots alike; nothing ever needs invalidating.
#[derive(Debug, Default)]
struct ChecksumCache {
    /// The last checksum input: asks best-first, then bids best-first.
    text: Vec<u8>,
    /// Each level of `text`: its values and its bytes. The first `asks` are asks.
    levels: Vec<Rendered>,
    asks: usize,
    /// The checksum of `text`.
    crc: u32,
    /// The precisions `text` was written with.
    precisions: (u32, u32),
    /// The revision of the book `text` describes, while nothing changed it.
    revision: Option<Revision>,
    /// The input being built (swapped with `text` when done).
    next_text: Vec<u8>,
    next_levels: Vec<Rendered>,
}

/// One level of a checksum input.
#[derive(Debug, Clone, Copy)]
struct Rendered {
    price: Decimal,
    qty: Decimal,
    start: usize,
    end: usize,
}

/// Same value, same representation (a cheap test: a miss only costs a re-format).
#[inline]
fn same_repr(a: Decimal, b: Decimal) -> bool {
    a.mantissa() == b.mantissa() && a.scale() == b.scale()
}

impl ChecksumCache {
    /// True when the last input describes `book` as it is now, at these precisions.
    fn is_current(&self, book: &OrderBook, price_precision: u32, qty_precision: u32) -> bool {
        self.revision == Some(book.revision())
            && self.precisions
                == (
                    price_precision.min(MAX_PRECISION),
                    qty_precision.min(MAX_PRECISION),
                )
    }

    /// True when a change at `price` on `side` cannot touch the top levels of the last input: that
    /// side had all ten and `price` is strictly worse than the tenth. (Only meaningful while the
    /// input is current, i.e. while every change so far was below the top.)
    fn below_top(&self, side: Side, price: Decimal) -> bool {
        let (asks, bids) = self.levels.split_at(self.asks.min(self.levels.len()));
        match side {
            Side::Ask => {
                asks.len() == CHECKSUM_LEVELS
                    && asks
                        .last()
                        .is_some_and(|t| price_cmp(price, t.price).is_gt())
            }
            Side::Bid => {
                bids.len() == CHECKSUM_LEVELS
                    && bids
                        .last()
                        .is_some_and(|t| price_cmp(price, t.price).is_lt())
            }
        }
    }

    /// The checksum when only levels below the top changed since the last input: the same CRC, now
    /// describing `book`'s new revision.
    fn unchanged(&mut self, book: &OrderBook) -> u32 {
        self.revision = Some(book.revision());
        self.crc
    }

    /// [`checksum`] of `book`, formatting only the levels not in the previous input.
    #[cfg(test)]
    fn checksum(&mut self, book: &OrderBook, price_precision: u32, qty_precision: u32) -> u32 {
        self.checksum_sides(book, price_precision, qty_precision, [true, true])
    }

    /// [`checksum`] of `book`, formatting only the levels not in the previous input and reading only
    /// the sides flagged in `refresh` (asks, bids) from the book. The caller guarantees that the top of an unflagged side is that of the last input (the
    /// input was current and every change on that side was below the top).
    fn checksum_sides(
        &mut self,
        book: &OrderBook,
        price_precision: u32,
        qty_precision: u32,
        refresh: [bool; 2],
    ) -> u32 {
        let (pp, qp) = (
            price_precision.min(MAX_PRECISION),
            qty_precision.min(MAX_PRECISION),
        );
        self.revision = Some(book.revision());
        if self.precisions != (pp, qp) {
            self.precisions = (pp, qp);
            self.levels.clear();
            self.asks = 0;
        }
        let Self {
            text,
            levels,
            asks,
            crc,
            next_text,
            next_levels,
            ..
        } = self;
        next_text.clear();
        next_levels.clear();
        let (old_asks, old_bids) = levels.split_at((*asks).min(levels.len()));
        let mut unchanged = true;
        let mut new_asks = 0;
        for (side, old, refresh) in [
            (Side::Ask, old_asks, refresh[0]),
            (Side::Bid, old_bids, refresh[1]),
        ] {
            if !refresh {
                // The same levels as last time, at the same places: copy the block.
                if let (Some(first), Some(last)) = (old.first(), old.last()) {
                    let base = next_text.len();
                    next_text.extend_from_slice(text.get(first.start..last.end).unwrap_or(&[]));
                    next_levels.extend(old.iter().map(|o| Rendered {
                        start: o.start - first.start + base,
                        end: o.end - first.start + base,
                        ..*o
                    }));
                }
                if side == Side::Ask {
                    new_asks = old.len();
                }
                continue;
            }
            let mut j = 0;
            let mut n = 0;
            for (price, qty) in book.levels(side).take(CHECKSUM_LEVELS) {
                // Old levels better than this one are gone (both lists are best-first).
                while let Some(o) = old.get(j)
                    && match side {
                        Side::Ask => price_cmp(o.price, price).is_lt(),
                        Side::Bid => price_cmp(o.price, price).is_gt(),
                    }
                {
                    j += 1;
                }
                let start = next_text.len();
                match old.get(j) {
                    Some(o) if same_repr(o.price, price) && same_repr(o.qty, qty) => {
                        next_text.extend_from_slice(text.get(o.start..o.end).unwrap_or(&[]));
                        unchanged &= j == n;
                        j += 1;
                    }
                    _ => {
                        push_scaled(next_text, price, pp);
                        push_scaled(next_text, qty, qp);
                        unchanged = false;
                    }
                }
                next_levels.push(Rendered {
                    price,
                    qty,
                    start,
                    end: next_text.len(),
                });
                n += 1;
            }
            unchanged &= n == old.len();
            if side == Side::Ask {
                new_asks = n;
            }
        }
        if !unchanged || levels.is_empty() {
            *crc = crc32fast::hash(next_text);
        }
        std::mem::swap(text, next_text);
        std::mem::swap(levels, next_levels);
        *asks = new_asks;
        *crc
    }
}

fn malformed(e: serde_json::Error) -> FrameError {
    FrameError::Malformed(e.to_string())
}

/// The server's error text (a JSON string is unescaped), bounded.
fn error_text(raw: Option<&RawValue>, what: &str) -> String {
    let mut text = match raw {
        Some(r) => serde_json::from_str::<String>(r.get()).unwrap_or_else(|_| r.get().to_owned()),
        None => format!("{what} failed"),
    };
    if let Some((i, _)) = text.char_indices().nth(MAX_ERROR_TEXT) {
        text.truncate(i);
    }
    text
}

/// A JSON string, borrowed from the frame unless it contains escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

/// Step 1: what every Kraken v2 frame may carry. Unknown keys (`time_in`, `req_id`, …) are skipped.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    channel: Option<Text<'a>>,
    #[serde(borrow, default, rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(borrow, default)]
    method: Option<Text<'a>>,
    #[serde(default)]
    success: Option<bool>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "Error")]
    error_upper: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// The keys of [`Envelope`], for the one-pass decoder.
#[derive(Deserialize, PartialEq, Eq)]
#[serde(field_identifier)]
enum EnvelopeKey {
    #[serde(rename = "channel")]
    Channel,
    #[serde(rename = "type")]
    Type,
    #[serde(rename = "data")]
    Data,
    #[serde(
        rename = "method",
        alias = "success",
        alias = "error",
        alias = "Error",
        alias = "result"
    )]
    Envelope,
    #[serde(other)]
    Other,
}

/// The one-pass book frame decoder (see [`KrakenV2::decode_book_in_one_pass`]); yields "is a
/// snapshot". Its errors only mean "not the usual book frame".
struct OnePass<'s>(DataSeed<'s>);

impl<'de> DeserializeSeed<'de> for OnePass<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OnePass<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a book frame")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let other = || de::Error::custom("not the usual book frame");
        let mut seed = Some(self.0);
        let (mut book, mut snapshot) = (None, None);
        while let Some(key) = map.next_key::<EnvelopeKey>()? {
            match key {
                EnvelopeKey::Channel if book.is_none() => {
                    book = Some(map.next_value::<Text<'_>>()?.0 == "book");
                }
                EnvelopeKey::Type if snapshot.is_none() => {
                    snapshot = Some(match map.next_value::<Text<'_>>()?.0.as_ref() {
                        "snapshot" => true,
                        "update" => false,
                        _ => return Err(other()),
                    });
                }
                // Decoded whatever the channel says (Kraken writes it first): a frame that turns
                // out not to be a book frame is given back to the general path.
                EnvelopeKey::Data => map.next_value_seed(seed.take().ok_or_else(other)?)?,
                EnvelopeKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => return Err(other()),
            }
        }
        match (book, snapshot, seed) {
            (Some(true), Some(snapshot), None) => Ok(snapshot),
            _ => Err(other()),
        }
    }
}

/// The `result` of a subscribe ack.
#[derive(Deserialize)]
struct AckResult<'a> {
    #[serde(borrow, default)]
    channel: Option<Text<'a>>,
    #[serde(borrow, default)]
    symbol: Option<Text<'a>>,
    #[serde(default)]
    depth: Option<u32>,
}

/// Step 2: the `data` array of a book frame, decoded straight into the reusable buffers.
struct DataSeed<'s> {
    symbol: &'s str,
    levels: &'s mut Vec<PendingLevel>,
    entries: &'s mut Vec<PendingEntry>,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of book entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let DataSeed {
            symbol,
            levels,
            entries,
        } = self;
        while seq
            .next_element_seed(EntrySeed {
                symbol,
                levels: &mut *levels,
                entries: &mut *entries,
            })?
            .is_some()
        {}
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum EntryField {
    Symbol,
    Bids,
    Asks,
    Checksum,
    #[serde(other)]
    Other,
}

/// One `data` entry: `symbol`, `bids`, `asks`, `checksum` (others skipped). Entries for another symbol
/// leave nothing behind.
struct EntrySeed<'s> {
    symbol: &'s str,
    levels: &'s mut Vec<PendingLevel>,
    entries: &'s mut Vec<PendingEntry>,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a book entry object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let start = self.levels.len();
        let mut ours: Option<bool> = None;
        let mut checksum: Option<u32> = None;
        while let Some(key) = map.next_key::<EntryField>()? {
            match key {
                EntryField::Symbol => {
                    if ours.is_some() {
                        return Err(de::Error::duplicate_field("symbol"));
                    }
                    ours = Some(map.next_value_seed(SymbolIs(self.symbol))?);
                }
                EntryField::Bids | EntryField::Asks if ours == Some(false) => {
                    map.next_value::<IgnoredAny>()?;
                }
                EntryField::Bids => map.next_value_seed(LevelsSeed {
                    side: Side::Bid,
                    levels: &mut *self.levels,
                })?,
                EntryField::Asks => map.next_value_seed(LevelsSeed {
                    side: Side::Ask,
                    levels: &mut *self.levels,
                })?,
                EntryField::Checksum => {
                    if checksum.is_some() {
                        return Err(de::Error::duplicate_field("checksum"));
                    }
                    checksum = Some(map.next_value()?);
                }
                EntryField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match ours {
            None => Err(de::Error::missing_field("symbol")),
            Some(false) => {
                self.levels.truncate(start);
                Ok(())
            }
            Some(true) => {
                let checksum = checksum.ok_or_else(|| de::Error::missing_field("checksum"))?;
                self.entries.push(PendingEntry {
                    start,
                    end: self.levels.len(),
                    checksum,
                });
                Ok(())
            }
        }
    }
}

/// Compares a JSON string with our symbol without allocating.
struct SymbolIs<'s>(&'s str);

impl<'de> DeserializeSeed<'de> for SymbolIs<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for SymbolIs<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a symbol string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

/// A `bids` or `asks` array, appended to the buffer in wire order.
struct LevelsSeed<'s> {
    side: Side,
    levels: &'s mut Vec<PendingLevel>,
}

impl<'de> DeserializeSeed<'de> for LevelsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LevelsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of levels")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some((price, qty)) = seq.next_element_seed(LevelSeed)? {
            self.levels.push(PendingLevel {
                side: self.side,
                price,
                qty,
            });
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum LevelField {
    Price,
    Qty,
    #[serde(other)]
    Other,
}

/// One `{"price": <number>, "qty": <number>}` level; both tokens parsed exactly.
struct LevelSeed;

impl<'de> DeserializeSeed<'de> for LevelSeed {
    type Value = (Decimal, Decimal);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LevelSeed {
    type Value = (Decimal, Decimal);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a {price, qty} level")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut price = None;
        let mut qty = None;
        while let Some(key) = map.next_key::<LevelField>()? {
            match key {
                LevelField::Price => {
                    if price.is_some() {
                        return Err(de::Error::duplicate_field("price"));
                    }
                    let raw: &'de RawValue = map.next_value()?;
                    price = Some(parse_price(raw.get()).map_err(frame_to_de)?);
                }
                LevelField::Qty => {
                    if qty.is_some() {
                        return Err(de::Error::duplicate_field("qty"));
                    }
                    let raw: &'de RawValue = map.next_value()?;
                    qty = Some(parse_decimal(raw.get()).map_err(frame_to_de)?);
                }
                LevelField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (price, qty) {
            (Some(p), Some(q)) => Ok((p, q)),
            (None, _) => Err(de::Error::missing_field("price")),
            (_, None) => Err(de::Error::missing_field("qty")),
        }
    }
}

fn frame_to_de<E: de::Error>(e: FrameError) -> E {
    match e {
        FrameError::Malformed(m) => E::custom(m),
        other => E::custom(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::d;
    use proptest::prelude::*;

    const SYM: &str = "BTC/USD";

    fn venue(depth: Option<u32>) -> VenueConfig {
        VenueConfig {
            name: "kraken".into(),
            adapter: "kraken-v2".into(),
            url: "ws://127.0.0.1:1/".into(),
            symbol: SYM.into(),
            depth,
            price_precision: Some(1),
            qty_precision: Some(8),
            subscribe: vec![],
            taker_fee_bps: Decimal::ZERO,
            quote: "USD".into(),
            stale_after_ms: 5000,
        }
    }

    fn adapter(depth: Option<u32>) -> KrakenV2 {
        KrakenV2::new(&venue(depth), Limits::default())
    }

    /// Naive oracle: format each value with `{:.N}` (exact for `Decimal`), drop the `.`, strip leading
    /// zeros, concatenate asks then bids (both best-first, as given), CRC32.
    fn naive_string(
        asks: &[(Decimal, Decimal)],
        bids: &[(Decimal, Decimal)],
        pp: u32,
        qp: u32,
    ) -> String {
        let mut s = String::new();
        for levels in [asks, bids] {
            for (p, q) in levels.iter().take(10) {
                for (v, prec) in [(p, pp), (q, qp)] {
                    let t = format!("{:.*}", prec as usize, v).replace('.', "");
                    s.push_str(t.trim_start_matches('0'));
                }
            }
        }
        s
    }

    fn dec(levels: &[(&str, &str)]) -> Vec<(Decimal, Decimal)> {
        levels.iter().map(|(p, q)| (d(p), d(q))).collect()
    }

    /// Expected checksum of a top of book given best-first as text.
    fn crc_of(asks: &[(&str, &str)], bids: &[(&str, &str)]) -> u32 {
        crc32fast::hash(naive_string(&dec(asks), &dec(bids), 1, 8).as_bytes())
    }

    fn levels_json(levels: &[(&str, &str)]) -> String {
        let v: Vec<String> = levels
            .iter()
            .map(|(p, q)| format!(r#"{{"price":{p},"qty":{q}}}"#))
            .collect();
        format!("[{}]", v.join(","))
    }

    fn book_frame(
        kind: &str,
        bids: &[(&str, &str)],
        asks: &[(&str, &str)],
        checksum: u32,
    ) -> String {
        format!(
            r#"{{"channel":"book","type":"{kind}","data":[{{"symbol":"{SYM}","bids":{},"asks":{},"checksum":{checksum},"timestamp":"2026-08-16T23:37:04.316445Z"}}]}}"#,
            levels_json(bids),
            levels_json(asks)
        )
    }

    fn side_vec(book: &OrderBook, side: Side) -> Vec<(Decimal, Decimal)> {
        book.levels(side).collect()
    }

    const ACK10: &str = r#"{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2026-08-16T23:37:04.334090Z","time_out":"2026-08-16T23:37:04.334135Z"}"#;

    // Kraken's documented example (book checksum guide, WebSocket v2).
    const DOC_ASKS: [(&str, &str); 10] = [
        ("45285.2", "0.00100000"),
        ("45286.4", "1.54571953"),
        ("45286.6", "1.54571109"),
        ("45289.6", "1.54560911"),
        ("45290.2", "0.15890660"),
        ("45291.8", "1.54553491"),
        ("45294.7", "0.04454749"),
        ("45296.1", "0.35380000"),
        ("45297.5", "0.09945542"),
        ("45299.5", "0.18772827"),
    ];
    const DOC_BIDS: [(&str, &str); 10] = [
        ("45283.5", "0.10000000"),
        ("45283.4", "1.54582015"),
        ("45282.1", "0.10000000"),
        ("45281.0", "0.10000000"),
        ("45280.3", "1.54592586"),
        ("45279.0", "0.07990000"),
        ("45277.6", "0.03310103"),
        ("45277.5", "0.30000000"),
        ("45277.3", "1.54602737"),
        ("45276.6", "0.15445238"),
    ];
    const DOC_CHECKSUM: u32 = 3_310_070_434;

    #[test]
    fn docs_example_checksum_from_a_book() {
        let mut book = OrderBook::new();
        for (p, q) in DOC_ASKS {
            book.apply(Side::Ask, d(p), d(q));
        }
        for (p, q) in DOC_BIDS {
            book.apply(Side::Bid, d(p), d(q));
        }
        assert_eq!(checksum(&book, 1, 8), DOC_CHECKSUM);
        let mut buf = Vec::new();
        assert_eq!(checksum_with(&book, 1, 8, &mut buf), DOC_CHECKSUM);
        // The documented per-level formatting: 45285.2 + 0.00100000 → 452852 + 100000.
        assert!(
            buf.starts_with(b"452852100000"),
            "{}",
            String::from_utf8_lossy(&buf)
        );
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            naive_string(&dec(&DOC_ASKS), &dec(&DOC_BIDS), 1, 8)
        );
    }

    #[test]
    fn docs_example_snapshot_frame_is_accepted() {
        let mut a = adapter(Some(10));
        let mut book = OrderBook::new();
        let frame = book_frame("snapshot", &DOC_BIDS, &DOC_ASKS, DOC_CHECKSUM);
        assert_eq!(a.on_frame(&frame, &mut book), Ok(FrameOutcome::Snapshot));
        assert!(a.has_snapshot());
        assert_eq!(book.best(Side::Bid), Some((d("45283.5"), d("0.1"))));
        assert_eq!(book.best(Side::Ask), Some((d("45285.2"), d("0.001"))));
        assert_eq!(book.depth(Side::Bid), 10);
        // The same frame with any other checksum is refused.
        let bad = book_frame("snapshot", &DOC_BIDS, &DOC_ASKS, DOC_CHECKSUM - 1);
        assert_eq!(
            a.on_frame(&bad, &mut book),
            Err(FrameError::Checksum {
                expected: DOC_CHECKSUM - 1,
                computed: DOC_CHECKSUM
            })
        );
    }

    #[test]
    fn qty_without_trailing_zeros_counts_at_full_precision() {
        // 100.0/0.05 → "1000" + "5000000"; 99/1 → "990" + "100000000" (hand-formatted).
        let expected = crc32fast::hash(b"10005000000990100000000");
        let frame = format!(
            r#"{{"channel":"book","type":"snapshot","data":[{{"symbol":"BTC/USD","bids":[{{"price":99,"qty":1}}],"asks":[{{"price":100.0,"qty":0.05}}],"checksum":{expected},"timestamp":"x"}}]}}"#
        );
        let mut a = adapter(Some(10));
        let mut book = OrderBook::new();
        assert_eq!(a.on_frame(&frame, &mut book), Ok(FrameOutcome::Snapshot));
        assert_eq!(checksum(&book, 1, 8), expected);
    }

    #[test]
    fn extra_decimals_are_truncated_to_the_precision() {
        let mut book = OrderBook::new();
        book.apply(Side::Ask, d("100.05"), d("0.123456789"));
        book.apply(Side::Bid, d("99.00"), d("2.500000000"));
        // 100.0 / 0.12345678, 99.0 / 2.50000000
        let expected = crc32fast::hash(b"100012345678990250000000");
        assert_eq!(checksum(&book, 1, 8), expected);
    }

    #[test]
    fn ack_remembers_the_depth_and_truncation_keeps_the_checksum_right() {
        // Config says 1000: only the acknowledged depth (10) makes the third frame verify.
        let mut a = adapter(Some(1000));
        let mut book = OrderBook::new();
        assert_eq!(a.window_depth(), 1000);
        assert_eq!(a.on_frame(ACK10, &mut book), Ok(FrameOutcome::Ack));
        assert_eq!(a.window_depth(), 10);

        let asks: Vec<(String, String)> = (101..=110)
            .map(|p| (format!("{p}.0"), "1.00000000".to_owned()))
            .collect();
        let asks: Vec<(&str, &str)> = asks.iter().map(|(p, q)| (p.as_str(), q.as_str())).collect();
        let bids0 = [
            ("100.0", "1.00000000"),
            ("99.0", "1.00000000"),
            ("98.0", "1.00000000"),
            ("97.0", "1.00000000"),
            ("96.0", "1.00000000"),
            ("95.0", "1.00000000"),
            ("94.0", "1.00000000"),
            ("93.0", "1.00000000"),
            ("92.0", "1.00000000"),
            ("91.0", "1.00000000"),
        ];
        let snap = book_frame("snapshot", &bids0, &asks, crc_of(&asks, &bids0));
        assert_eq!(a.on_frame(&snap, &mut book), Ok(FrameOutcome::Snapshot));

        // An insert at 95.5 pushes 91.0 out of the window (Kraken does not announce it).
        let bids1 = [
            ("100.0", "1.00000000"),
            ("99.0", "1.00000000"),
            ("98.0", "1.00000000"),
            ("97.0", "1.00000000"),
            ("96.0", "1.00000000"),
            ("95.5", "0.50000000"),
            ("95.0", "1.00000000"),
            ("94.0", "1.00000000"),
            ("93.0", "1.00000000"),
            ("92.0", "1.00000000"),
        ];
        let up1 = book_frame(
            "update",
            &[("95.5", "0.50000000")],
            &[],
            crc_of(&asks, &bids1),
        );
        assert_eq!(a.on_frame(&up1, &mut book), Ok(FrameOutcome::Update));
        assert_eq!(side_vec(&book, Side::Bid), dec(&bids1));
        assert_eq!(book.side(Side::Bid).get(d("91")), None);

        // Deleting 100.0 exposes a new 10th bid; 91.0 (gone meanwhile) is not it.
        let bids2 = [
            ("99.0", "1.00000000"),
            ("98.0", "1.00000000"),
            ("97.0", "1.00000000"),
            ("96.0", "1.00000000"),
            ("95.5", "0.50000000"),
            ("95.0", "1.00000000"),
            ("94.0", "1.00000000"),
            ("93.0", "1.00000000"),
            ("92.0", "1.00000000"),
            ("90.5", "0.25000000"),
        ];
        let up2 = book_frame(
            "update",
            &[("100.0", "0.00000000"), ("90.5", "0.25000000")],
            &[],
            crc_of(&asks, &bids2),
        );
        assert_eq!(a.on_frame(&up2, &mut book), Ok(FrameOutcome::Update));
        assert_eq!(side_vec(&book, Side::Bid), dec(&bids2));

        // Without the ack (depth 1000 from the config) the stale 91.0 breaks the checksum.
        let mut no_ack = adapter(Some(1000));
        let mut book2 = OrderBook::new();
        assert_eq!(
            no_ack.on_frame(&snap, &mut book2),
            Ok(FrameOutcome::Snapshot)
        );
        assert_eq!(no_ack.on_frame(&up1, &mut book2), Ok(FrameOutcome::Update));
        assert!(matches!(
            no_ack.on_frame(&up2, &mut book2),
            Err(FrameError::Checksum { .. })
        ));
        assert!(!no_ack.has_snapshot());

        // A new connection forgets the acknowledged depth.
        a.reset();
        assert_eq!(a.window_depth(), 1000);
        assert!(!a.has_snapshot());
    }

    #[test]
    fn snapshot_update_delete_and_repeated_price_in_wire_order() {
        let mut a = adapter(Some(10));
        let mut book = OrderBook::new();
        let bids = [("100.0", "1.00000000"), ("99.5", "2.00000000")];
        let asks = [("100.5", "0.50000000"), ("101.0", "3.00000000")];
        let snap = book_frame("snapshot", &bids, &asks, crc_of(&asks, &bids));
        assert_eq!(a.on_frame(&snap, &mut book), Ok(FrameOutcome::Snapshot));
        assert_eq!(side_vec(&book, Side::Bid), dec(&bids));
        assert_eq!(side_vec(&book, Side::Ask), dec(&asks));

        // Wire order, not sorted; 101.0 appears twice (second wins), 100.5 deleted.
        let exp_asks = [("100.7", "0.10000000"), ("101.0", "0.70000000")];
        let up = book_frame(
            "update",
            &[("99.5", "0.00000000")],
            &[
                ("101.0", "9.00000000"),
                ("100.5", "0.00000000"),
                ("100.7", "0.10000000"),
                ("101.0", "0.70000000"),
            ],
            crc_of(&exp_asks, &[("100.0", "1.00000000")]),
        );
        assert_eq!(a.on_frame(&up, &mut book), Ok(FrameOutcome::Update));
        assert_eq!(side_vec(&book, Side::Ask), dec(&exp_asks));
        assert_eq!(side_vec(&book, Side::Bid), vec![(d("100"), d("1"))]);

        // A new snapshot replaces the book wholesale.
        let bids3 = [("50.0", "1.00000000")];
        let asks3 = [("60.0", "1.00000000")];
        let snap3 = book_frame("snapshot", &bids3, &asks3, crc_of(&asks3, &bids3));
        assert_eq!(a.on_frame(&snap3, &mut book), Ok(FrameOutcome::Snapshot));
        assert_eq!(side_vec(&book, Side::Bid), dec(&bids3));
        assert_eq!(side_vec(&book, Side::Ask), dec(&asks3));
    }

    #[test]
    fn heartbeat_status_pong_and_other_channels() {
        let mut a = adapter(None);
        let mut book = OrderBook::new();
        let mut on = |f: &str| a.on_frame(f, &mut book);
        assert_eq!(
            on(r#"{"channel":"heartbeat"}"#),
            Ok(FrameOutcome::Heartbeat)
        );
        assert_eq!(
            on(
                r#"{"channel":"status","type":"update","data":[{"version":"2.0.10","system":"online","api_version":"v2","connection_id":769405522530892351}]}"#
            ),
            Ok(FrameOutcome::Ignored)
        );
        assert_eq!(
            on(
                r#"{"method":"pong","req_id":101,"time_in":"2026-08-16T23:37:04.334090Z","time_out":"2026-08-16T23:37:04.334135Z"}"#
            ),
            Ok(FrameOutcome::Ignored)
        );
        assert_eq!(
            on(r#"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","price":1.0}]}"#),
            Ok(FrameOutcome::Ignored)
        );
        // An ack for another symbol or channel is not ours.
        assert_eq!(
            on(
                r#"{"method":"subscribe","result":{"channel":"book","depth":25,"snapshot":true,"symbol":"ETH/USD"},"success":true}"#
            ),
            Ok(FrameOutcome::Ignored)
        );
        assert_eq!(
            on(
                r#"{"method":"subscribe","result":{"channel":"ticker","symbol":"BTC/USD"},"success":true,"req_id":1}"#
            ),
            Ok(FrameOutcome::Ignored)
        );
        assert_eq!(a.window_depth(), 1000);
        assert_eq!(a.keepalive().as_deref(), Some(r#"{"method":"ping"}"#));
        assert!(book.best(Side::Bid).is_none());
    }

    #[test]
    fn server_errors_carry_their_text() {
        let mut a = adapter(Some(10));
        let mut book = OrderBook::new();
        assert_eq!(
            a.on_frame(
                r#"{"error":"Subscription depth not supported","method":"subscribe","success":false,"symbol":"BTC/USD","time_in":"2026-08-16T23:37:04.334090Z","time_out":"2026-08-16T23:37:04.334135Z"}"#,
                &mut book
            ),
            Ok(FrameOutcome::ServerError("Subscription depth not supported".into()))
        );
        assert_eq!(
            a.on_frame(r#"{"Error":"Exceeded msg rate"}"#, &mut book),
            Ok(FrameOutcome::ServerError("Exceeded msg rate".into()))
        );
        assert_eq!(
            a.on_frame(r#"{"error":"Internal error","success":false}"#, &mut book),
            Ok(FrameOutcome::ServerError("Internal error".into()))
        );
        assert_eq!(a.window_depth(), 10);
    }

    #[test]
    fn entries_for_other_symbols_are_ignored() {
        let mut a = adapter(Some(10));
        let mut book = OrderBook::new();
        let bids = [("100.0", "1.00000000")];
        let asks = [("101.0", "2.00000000")];
        let ours = crc_of(&asks, &bids);
        // The ETH entry comes first, with a checksum that is not ours and levels that would matter.
        let frame = format!(
            r#"{{"channel":"book","type":"snapshot","data":[{{"symbol":"ETH/USD","bids":[{{"price":3000.1,"qty":5.0}}],"asks":[{{"price":3000.2,"qty":1.0}}],"checksum":12345,"timestamp":"x"}},{{"symbol":"BTC/USD","bids":{},"asks":{},"checksum":{ours},"timestamp":"x"}}]}}"#,
            levels_json(&bids),
            levels_json(&asks)
        );
        assert_eq!(a.on_frame(&frame, &mut book), Ok(FrameOutcome::Snapshot));
        assert_eq!(side_vec(&book, Side::Bid), dec(&bids));
        assert_eq!(side_vec(&book, Side::Ask), dec(&asks));

        let only_eth = r#"{"channel":"book","type":"update","data":[{"symbol":"ETH/USD","bids":[{"price":3000.1,"qty":0.0}],"asks":[],"checksum":1,"timestamp":"x"}]}"#;
        let before = book.clone();
        assert_eq!(a.on_frame(only_eth, &mut book), Ok(FrameOutcome::Ignored));
        assert_eq!(book, before);
    }

    #[test]
    fn update_before_snapshot_waits() {
        let mut a = adapter(Some(10));
        let mut book = OrderBook::new();
        book.apply(Side::Bid, d("1"), d("1")); // whatever the caller holds is not touched
        let before = book.clone();
        let up = book_frame("update", &[("100.0", "1.00000000")], &[], 0);
        assert_eq!(
            a.on_frame(&up, &mut book),
            Ok(FrameOutcome::AwaitingSnapshot)
        );
        assert_eq!(book, before);

        // After a snapshot updates apply; after reset they wait again.
        let bids = [("100.0", "1.00000000")];
        let snap = book_frame("snapshot", &bids, &[], crc_of(&[], &bids));
        assert_eq!(a.on_frame(&snap, &mut book), Ok(FrameOutcome::Snapshot));
        a.reset();
        let before = book.clone();
        assert_eq!(
            a.on_frame(&up, &mut book),
            Ok(FrameOutcome::AwaitingSnapshot)
        );
        assert_eq!(book, before);
    }

    #[test]
    fn malformed_frames_leave_the_book_untouched() {
        let mut a = adapter(Some(10));
        let mut book = OrderBook::new();
        let bids = [("100.0", "1.00000000"), ("99.0", "1.00000000")];
        let asks = [("101.0", "1.00000000")];
        let snap = book_frame("snapshot", &bids, &asks, crc_of(&asks, &bids));
        assert_eq!(a.on_frame(&snap, &mut book), Ok(FrameOutcome::Snapshot));
        let before = book.clone();

        // Each update starts with a valid level (a delete of 100.0) so a partial apply would show.
        let upd = |bad_level: &str| {
            format!(
                r#"{{"channel":"book","type":"update","data":[{{"symbol":"BTC/USD","bids":[{{"price":100.0,"qty":0.00000000}},{bad_level}],"asks":[],"checksum":1,"timestamp":"x"}}]}}"#
            )
        };
        let cases = [
            "not json".to_owned(),
            "".to_owned(),
            "[1,2,3]".to_owned(),
            "{}".to_owned(),
            r#"{"channel":"book","type":"update"}"#.to_owned(),
            r#"{"channel":"book","type":"update","data":{"symbol":"BTC/USD"}}"#.to_owned(),
            r#"{"channel":"book","type":"delta","data":[]}"#.to_owned(),
            r#"{"channel":"book","data":[]}"#.to_owned(),
            r#"{"channel":7}"#.to_owned(),
            r#"{"channel":"book","type":"update","data":[{"bids":[],"asks":[],"checksum":1}]}"#.to_owned(),
            r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[]}]}"#.to_owned(),
            r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":-1}]}"#.to_owned(),
            r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":4294967296}]}"#.to_owned(),
            r#"{"method":"subscribe","success":true}"#.to_owned(),
            r#"{"method":"subscribe","result":{"channel":"book","depth":"ten","symbol":"BTC/USD"},"success":true}"#.to_owned(),
            r#"{"method":"subscribe","result":{"channel":"book","depth":0,"symbol":"BTC/USD"},"success":true}"#.to_owned(),
            upd(r#"{"price":99.0,"qty":"abc"}"#),
            upd(r#"{"price":99.0,"qty":"1.0"}"#),
            upd(r#"{"price":99.0,"qty":NaN}"#),
            upd(r#"{"price":99.0,"qty":1e400}"#),
            upd(r#"{"price":99.0,"qty":1234567890123456789012345678901234567890}"#),
            upd(r#"{"price":99.0,"qty":-1.0}"#),
            upd(r#"{"price":-99.0,"qty":1.0}"#),
            upd(r#"{"price":0.0,"qty":1.0}"#),
            upd(r#"{"price":99.0}"#),
            upd(r#"{"qty":1.0}"#),
            upd(r#"{"price":99.0,"qty":1.0,"qty":2.0}"#),
            upd(r#"[99.0,1.0]"#),
            upd(r#"{"price":null,"qty":1.0}"#),
            upd(r#"{"price":99.0,"qty":true}"#),
        ];
        for frame in &cases {
            let r = a.on_frame(frame, &mut book);
            assert!(matches!(r, Err(FrameError::Malformed(_))), "{frame}: {r:?}");
            assert_eq!(book, before, "{frame}");
        }
        // The adapter is still usable: a good update applies.
        let good_bids = [("99.0", "1.00000000")];
        let good = book_frame(
            "update",
            &[("100.0", "0.00000000")],
            &[],
            crc_of(&asks, &good_bids),
        );
        assert_eq!(a.on_frame(&good, &mut book), Ok(FrameOutcome::Update));
        assert_eq!(side_vec(&book, Side::Bid), dec(&good_bids));
    }

    #[test]
    fn wrong_checksum_is_reported_and_updates_then_wait() {
        let mut a = adapter(Some(10));
        let mut book = OrderBook::new();
        let bids = [("100.0", "1.00000000")];
        let asks = [("101.0", "1.00000000")];
        let snap = book_frame("snapshot", &bids, &asks, crc_of(&asks, &bids));
        assert_eq!(a.on_frame(&snap, &mut book), Ok(FrameOutcome::Snapshot));
        let after = [("100.0", "1.50000000")];
        let right = crc_of(&asks, &after);
        let up = book_frame("update", &after, &[], right ^ 1);
        assert_eq!(
            a.on_frame(&up, &mut book),
            Err(FrameError::Checksum {
                expected: right ^ 1,
                computed: right
            })
        );
        assert!(!a.has_snapshot());
        let up_ok = book_frame("update", &after, &[], right);
        assert_eq!(
            a.on_frame(&up_ok, &mut book),
            Ok(FrameOutcome::AwaitingSnapshot)
        );
    }

    #[test]
    fn oversized_sides_are_refused() {
        let limits = Limits {
            max_levels_per_side: 3,
        };
        let mut a = KrakenV2::new(&venue(Some(10)), limits);
        let mut book = OrderBook::new();
        let bids = [
            ("100.0", "1.00000000"),
            ("99.0", "1.00000000"),
            ("98.0", "1.00000000"),
            ("97.0", "1.00000000"),
        ];
        let snap = book_frame("snapshot", &bids, &[], crc_of(&[], &bids));
        assert_eq!(
            a.on_frame(&snap, &mut book),
            Err(FrameError::TooManyLevels(3))
        );
        assert!(book.best(Side::Bid).is_none());

        let snap3 = book_frame("snapshot", &bids[..3], &[], crc_of(&[], &bids[..3]));
        assert_eq!(a.on_frame(&snap3, &mut book), Ok(FrameOutcome::Snapshot));
        let up = book_frame("update", &bids[3..], &[], crc_of(&[], &bids));
        assert_eq!(
            a.on_frame(&up, &mut book),
            Err(FrameError::TooManyLevels(3))
        );
    }

    #[test]
    fn decimal_precision_formatting_is_exact_for_the_oracle() {
        // The oracle relies on `{:.N}` padding exactly; check it on its own.
        assert_eq!(format!("{:.8}", d("0.05")), "0.05000000");
        assert_eq!(format!("{:.1}", d("62797")), "62797.0");
        assert_eq!(format!("{:.8}", d("0.00005100")), "0.00005100");
    }

    #[test]
    fn one_pass_and_two_steps_agree_on_every_shape_of_frame() {
        let bids = [("45283.5", "0.1"), ("45283.4", "1.5")];
        let asks = [("45285.2", "0.001"), ("45286.4", "2")];
        let crc = crc_of(&asks, &bids);
        let snap = book_frame("snapshot", &bids, &asks, crc);
        let body = r#""data":[{"symbol":"BTC/USD","bids":[{"price":45283.5,"qty":0}],"asks":[],"checksum":CRC}]"#;
        let crc_after = crc_of(&asks, &bids[1..]);
        let body = body.replace("CRC", &crc_after.to_string());
        let frames = [
            snap.clone(),
            format!(r#"{{"channel":"book","type":"update",{body}}}"#),
            format!(r#"{{"type":"update","channel":"book",{body}}}"#),
            format!(r#"{{{body},"type":"update","channel":"book"}}"#),
            format!(r#"{{"channel":"ticker","type":"update",{body}}}"#),
            format!(r#"{{"channel":"book",{body}}}"#),
            format!(r#"{{ "channel" : "book" , "type" : "update" , {body} }}"#),
            format!(r#"{{"channel":"book","type":"update",{body},"error":"boom"}}"#),
            format!(r#"{{"channel":"book","type":"update",{body},"method":"pong"}}"#),
            format!(r#"{{"channel":"book","type":"update",{body},"success":false}}"#),
            format!(r#"{{"channel":"book","type":"update",{body},"Error":"rate"}}"#),
            format!(r#"{{"channel":"book","type":"update",{body},"data":[]}}"#),
            format!(r#"{{"channel":"book","type":"update",{body},"channel":"book"}}"#),
            format!(r#"{{"channel":"book","type":"update",{body},"extra":{{"a":[1]}}}}"#),
            format!(r#"{{"channel":"book","type":"update",{body}}} x"#),
            format!(r#"{{"channel":"book","type":"update",{body}"#),
            format!(r#"{{"channel":"book","type":"weird",{body}}}"#),
            r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1e5,"qty":1}],"asks":[],"checksum":1}]}"#.to_owned(),
            r#"{"channel":"book","type":"update","data":[{"symbol":"ETH/USD","bids":[],"asks":[],"checksum":1}]}"#.to_owned(),
            format!(
                r#"{{"channel":"book","type":"update","data":[{{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":{}}}]}}"#,
                crc.wrapping_add(1)
            ),
            r#"{"channel":"heartbeat"}"#.to_owned(),
            r#"{"channel":"status","type":"update","data":[{"system":"online"}]}"#.to_owned(),
            ACK10.to_owned(),
        ];
        for frame in &frames {
            let (mut one, mut two) = (adapter(None), adapter(None));
            let (mut b1, mut b2) = (OrderBook::new(), OrderBook::new());
            assert_eq!(one.on_frame(&snap, &mut b1), Ok(FrameOutcome::Snapshot));
            assert_eq!(
                two.on_frame_two_steps(&snap, &mut b2),
                Ok(FrameOutcome::Snapshot)
            );
            assert_eq!(
                one.on_frame(frame, &mut b1),
                two.on_frame_two_steps(frame, &mut b2),
                "{frame}"
            );
            assert_eq!(b1, b2, "{frame}");
            assert_eq!(one.has_snapshot(), two.has_snapshot(), "{frame}");
        }
        // The usual frame does take the one-pass decoder.
        let mut a = adapter(None);
        assert_eq!(a.decode_book_in_one_pass(&frames[1]), Some(false));
        assert_eq!(a.decode_book_in_one_pass(&frames[2]), Some(false));
        assert_eq!(a.decode_book_in_one_pass(&frames[3]), Some(false));
        assert_eq!(a.decode_book_in_one_pass(&frames[4]), None);
        assert_eq!(a.decode_book_in_one_pass(&frames[6]), Some(false));
        assert_eq!(a.decode_book_in_one_pass(&frames[7]), None);
        assert_eq!(a.decode_book_in_one_pass(&frames[frames.len() - 2]), None);
    }

    fn owned_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
        v.iter().map(|(p, q)| (p.as_str(), q.as_str())).collect()
    }

    proptest! {
        /// Through the adapter: updates anywhere in the window (most below the top ten when the
        /// window is deep), each carrying the checksum of a book kept independently, are all
        /// accepted — a checksum wrongly kept from before a change of the top would be refused — and
        /// the same frames with a checksum off by one are all refused.
        #[test]
        fn skipped_and_recomputed_checksums_are_both_right(
            depth in prop::sample::select(vec![10u32, 12, 25]),
            frames in prop::collection::vec(
                prop::collection::vec((any::<bool>(), 0i64..30, 0u64..4, 1u64..999), 1..4),
                1..60,
            ),
        ) {
            let mut a = adapter(Some(depth));
            let mut b = adapter(Some(depth));
            let mut book = OrderBook::new();
            let mut other = OrderBook::new();
            let mut truth = OrderBook::new();
            let level = |bid: bool, off: i64| {
                let cents = if bid { 1_000_000 - 10 * off } else { 1_000_010 + 10 * off };
                Decimal::new(cents, 2).to_string()
            };
            let mut bids = Vec::new();
            let mut asks = Vec::new();
            for off in 0..20 {
                bids.push((level(true, off), "1.5".to_owned()));
                asks.push((level(false, off), "2.25".to_owned()));
            }
            let refs = owned_refs;
            for (p, q) in &bids {
                truth.apply(Side::Bid, d(p), d(q));
            }
            for (p, q) in &asks {
                truth.apply(Side::Ask, d(p), d(q));
            }
            truth.truncate(depth as usize);
            let snap = book_frame("snapshot", &refs(&bids), &refs(&asks), checksum(&truth, 1, 8));
            prop_assert_eq!(a.on_frame(&snap, &mut book), Ok(FrameOutcome::Snapshot));
            prop_assert_eq!(b.on_frame(&snap, &mut other), Ok(FrameOutcome::Snapshot));
            for levels in frames {
                let (mut ub, mut ua) = (Vec::new(), Vec::new());
                for (bid, off, kind, q) in levels {
                    let qty = if kind == 0 { "0".to_owned() } else { Decimal::new(q as i64, 3).to_string() };
                    let p = level(bid, off);
                    truth.apply(if bid { Side::Bid } else { Side::Ask }, d(&p), d(&qty));
                    if bid { ub.push((p, qty)); } else { ua.push((p, qty)); }
                }
                truth.truncate(depth as usize);
                let crc = checksum(&truth, 1, 8);
                let good = book_frame("update", &refs(&ub), &refs(&ua), crc);
                prop_assert_eq!(a.on_frame(&good, &mut book), Ok(FrameOutcome::Update));
                prop_assert_eq!(&book, &truth);
                let bad = book_frame("update", &refs(&ub), &refs(&ua), crc.wrapping_add(1));
                let refused = matches!(b.on_frame(&bad, &mut other), Err(FrameError::Checksum { .. }));
                prop_assert!(refused, "a wrong checksum was accepted");
                // Resynchronise the second adapter with a snapshot of the truth.
                let tb: Vec<(String, String)> = truth.levels(Side::Bid).map(|(p, q)| (p.to_string(), q.to_string())).collect();
                let ta: Vec<(String, String)> = truth.levels(Side::Ask).map(|(p, q)| (p.to_string(), q.to_string())).collect();
                let resync = book_frame("snapshot", &refs(&tb), &refs(&ta), crc);
                prop_assert_eq!(b.on_frame(&resync, &mut other), Ok(FrameOutcome::Snapshot));
            }
        }

        /// The level-reusing checksum equals the one formatted from scratch after every change, with
        /// changes anywhere (top, deep, deletes, re-spelled prices) and occasional snapshots.
        #[test]
        fn cached_checksum_equals_the_one_from_scratch(
            pp in 0u32..3,
            qp in 0u32..9,
            ops in prop::collection::vec(
                (any::<bool>(), 0i64..40, 0u32..3, 0i64..1_000_000_000, 0u32..10, 0u8..6),
                1..200,
            ),
        ) {
            let mut book = OrderBook::new();
            let mut cache = ChecksumCache::default();
            for (k, (bid, off, ps, q, qs, kind)) in ops.into_iter().enumerate() {
                let side = if bid { Side::Bid } else { Side::Ask };
                let base = if bid { 10_000 - off } else { 10_001 + off };
                let price = Decimal::new(base * 10i64.pow(ps), ps);
                match kind {
                    0 => book.apply(side, price, Decimal::ZERO),
                    1 if k % 7 == 0 => book.clear(),
                    _ => book.apply(side, price, Decimal::new(q.max(1), qs)),
                }
                if k % 3 == 0 {
                    book.truncate(12);
                }
                let fresh = checksum(&book, pp, qp);
                prop_assert_eq!(cache.checksum(&book, pp, qp), fresh);
                let mut buf = Vec::new();
                checksum_with(&book, pp, qp, &mut buf);
                prop_assert_eq!(&cache.text, &buf);
                // Asking again with nothing changed gives the same answer.
                prop_assert_eq!(cache.checksum(&book, pp, qp), fresh);
            }
        }

        #[test]
        fn checksum_matches_naive_formatting(
            pp in 0u32..4,
            qp in 0u32..10,
            ops in prop::collection::vec(
                (any::<bool>(), 1i64..5_000_000, 0u32..4, 0i64..100_000_000_000, 0u32..12, 0u8..5),
                1..80,
            ),
        ) {
            let mut book = OrderBook::new();
            for (bid, p, ps, q, qs, del) in ops {
                let side = if bid { Side::Bid } else { Side::Ask };
                // Scales may exceed the precision: both sides of the comparison truncate then.
                let price = Decimal::new(p, ps.min(pp + 1));
                let qty = if del == 0 { Decimal::ZERO } else { Decimal::new(q.max(1), qs) };
                book.apply(side, price, qty);
            }
            let asks: Vec<_> = book.levels(Side::Ask).collect();
            let bids: Vec<_> = book.levels(Side::Bid).collect();
            let s = naive_string(&asks, &bids, pp, qp);
            prop_assert_eq!(checksum(&book, pp, qp), crc32fast::hash(s.as_bytes()));
            let mut buf = Vec::new();
            checksum_with(&book, pp, qp, &mut buf);
            prop_assert_eq!(String::from_utf8(buf).unwrap(), s);
        }
    }
}
