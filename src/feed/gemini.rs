//! Gemini market data v2 `l2` adapter (`gemini-v2`, protocols.md §3.1).
//!
//! Book messages are `{"type":"l2_updates","symbol":S,"changes":[[side, price, qty],…]}` with side
//! `buy`|`sell` and string numbers; the quantity is the new absolute size and a zero (`"0"`, `"0.0"`)
//! deletes the level. v2 has no sequence numbers and no checksum, so the only integrity rule is the
//! reset: the first `l2_updates` of our symbol after [`Adapter::reset`] is the full book and REPLACES
//! whatever the book held (keeping old levels is the "ghost levels" bug of ccxt #29210). A message that
//! carries `trades` or `auction_events` is the snapshot form and replaces the book as well, even without
//! a reset (so replays of captures spanning several connections stay right).
//!
//! The envelope is decoded borrowed with `changes` as a `&RawValue` (Gemini sends keys in alphabetical
//! order, so `changes` precedes `symbol` and `type`), then the changes of our symbol are decoded into a
//! reused buffer; the book is only touched once the whole frame has decoded.

use std::fmt;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{
    Adapter, FrameError, FrameOutcome, Limits, parse_decimal, parse_price, truncate_for_log,
};
use crate::config::VenueConfig;
use crate::market::{OrderBook, Side};

/// Decodes Gemini v2 frames for one symbol (`VenueConfig::symbol`, e.g. `BTCUSD`).
pub struct GeminiV2 {
    symbol: String,
    limits: Limits,
    /// Our symbol's full book has been received since the last reset.
    snapshot_seen: bool,
    /// The book was dropped on this connection: only a snapshot-form message (with `trades` or
    /// `auction_events`) may rebuild it.
    invalidated: bool,
    /// Levels of the current frame (kept to reuse the allocation).
    levels: Vec<Level>,
}

type Level = (Side, Decimal, Decimal);

impl GeminiV2 {
    /// Builds the adapter for `venue.symbol`, bounding each book side by `limits`.
    #[must_use]
    pub fn new(venue: &VenueConfig, limits: Limits) -> Self {
        Self {
            symbol: venue.symbol.clone(),
            limits,
            snapshot_seen: false,
            invalidated: false,
            levels: Vec::new(),
        }
    }
}

/// The top-level keys we read; everything else is skipped.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<&'a str>,
    #[serde(borrow, default)]
    symbol: Option<&'a str>,
    #[serde(borrow, default)]
    changes: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "present")]
    trades: bool,
    #[serde(default, deserialize_with = "present")]
    auction_events: bool,
    #[serde(borrow, default)]
    result: Option<&'a str>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// True for any value: records that the key was there.
fn present<'de, D: de::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

impl Message<'_> {
    /// The server's error text, when this frame looks like an error report.
    fn error_text(&self) -> Option<String> {
        let is_error = self.kind == Some("error")
            || self.result == Some("error")
            || self.reason.is_some()
            || self.message.is_some();
        if !is_error {
            return None;
        }
        let text = match (self.reason.as_deref(), self.message.as_deref()) {
            (Some(r), Some(m)) => format!("{r}: {m}"),
            (Some(t), None) | (None, Some(t)) => t.to_owned(),
            (None, None) => "error (no message)".to_owned(),
        };
        Some(text)
    }
}

impl Adapter for GeminiV2 {
    fn reset(&mut self) {
        self.snapshot_seen = false;
        self.invalidated = false;
    }

    fn invalidate(&mut self) {
        self.invalidated = true;
    }

    fn on_frame(&mut self, frame: &str, book: &mut OrderBook) -> Result<FrameOutcome, FrameError> {
        // The usual book message in one pass; anything else (or anything wrong) takes two.
        if let Some(snapshot_form) = self.decode_in_one_pass(frame) {
            return self.apply(snapshot_form, book);
        }
        self.on_frame_two_steps(frame, book)
    }
}

impl GeminiV2 {
    /// Decodes an `l2_updates` message of our symbol in a single pass, `changes` going straight into
    /// the level buffer (before `symbol` and `type` are known: Gemini's keys come in alphabetical
    /// order). Yields whether it is the snapshot form. `None` — the frame is then decoded again by
    /// [`GeminiV2::on_frame_two_steps`], which reports it exactly as before — for anything else: another
    /// type or symbol, an error report (`result`, `reason`, `message`), a repeated key, any decoding
    /// error.
    fn decode_in_one_pass(&mut self, frame: &str) -> Option<bool> {
        self.levels.clear();
        let mut de = serde_json::Deserializer::from_str(frame);
        let found = OnePass {
            levels: &mut self.levels,
        }
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        (found.kind == Some("l2_updates")
            && found.symbol == Some(self.symbol.as_str())
            && found.changes)
            .then_some(found.snapshot_form)
    }

    /// Applies the decoded levels of an `l2_updates` message of our symbol.
    fn apply(
        &mut self,
        snapshot_form: bool,
        book: &mut OrderBook,
    ) -> Result<FrameOutcome, FrameError> {
        let snapshot = snapshot_form || (!self.snapshot_seen && !self.invalidated);
        if !snapshot && self.invalidated {
            return Ok(FrameOutcome::AwaitingSnapshot);
        }
        if snapshot {
            book.clear();
            self.snapshot_seen = true;
            self.invalidated = false;
        }
        for &(side, price, qty) in &self.levels {
            book.apply(side, price, qty);
        }
        let max = self.limits.max_levels_per_side;
        if book.depth(Side::Bid) > max || book.depth(Side::Ask) > max {
            return Err(FrameError::TooManyLevels(max));
        }
        Ok(if snapshot {
            FrameOutcome::Snapshot
        } else {
            FrameOutcome::Update
        })
    }

    /// The general decoder: the envelope with `changes` kept raw, then the changes of our symbol.
    fn on_frame_two_steps(
        &mut self,
        frame: &str,
        book: &mut OrderBook,
    ) -> Result<FrameOutcome, FrameError> {
        // serde's derived structs would also take a positional array: only objects are messages.
        if !frame.trim_start().starts_with('{') {
            return Err(FrameError::Malformed(format!(
                "not a JSON object: {:?}",
                truncate_for_log(frame)
            )));
        }
        let msg: Message<'_> =
            serde_json::from_str(frame).map_err(|e| FrameError::Malformed(e.to_string()))?;
        if let Some(text) = msg.error_text() {
            return Ok(FrameOutcome::ServerError(text));
        }
        match msg.kind {
            Some("l2_updates") => {}
            Some("heartbeat") => return Ok(FrameOutcome::Heartbeat),
            Some(_) => return Ok(FrameOutcome::Ignored), // trade, auction events, …
            None => return Err(FrameError::Malformed("no type".into())),
        }
        let Some(symbol) = msg.symbol else {
            return Err(FrameError::Malformed("l2_updates without symbol".into()));
        };
        if symbol != self.symbol {
            return Ok(FrameOutcome::Ignored);
        }
        let Some(changes) = msg.changes else {
            return Err(FrameError::Malformed("l2_updates without changes".into()));
        };
        self.levels.clear();
        ChangesSeed {
            levels: &mut self.levels,
        }
        .deserialize(&mut serde_json::Deserializer::from_str(changes.get()))
        .map_err(|e| FrameError::Malformed(e.to_string()))?;
        self.apply(msg.trades || msg.auction_events, book)
    }
}

/// What the one-pass decoder saw.
#[derive(Default)]
struct Found<'a> {
    kind: Option<&'a str>,
    symbol: Option<&'a str>,
    changes: bool,
    snapshot_form: bool,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    Type,
    Symbol,
    Changes,
    Trades,
    AuctionEvents,
    Result,
    Reason,
    Message,
    #[serde(other)]
    Other,
}

/// The one-pass decoder (see [`GeminiV2::decode_in_one_pass`]); its errors only mean "not the usual
/// message".
struct OnePass<'s> {
    levels: &'s mut Vec<Level>,
}

impl<'de> DeserializeSeed<'de> for OnePass<'_> {
    type Value = Found<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OnePass<'_> {
    type Value = Found<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an l2_updates message")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let other = || de::Error::custom("not the usual message");
        let mut found = Found::default();
        let (mut trades, mut auction) = (false, false);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Type if found.kind.is_none() => found.kind = Some(map.next_value()?),
                Key::Symbol if found.symbol.is_none() => found.symbol = Some(map.next_value()?),
                Key::Changes if !found.changes => {
                    found.changes = true;
                    map.next_value_seed(ChangesSeed {
                        levels: &mut *self.levels,
                    })?;
                }
                Key::Trades if !trades => {
                    trades = true;
                    map.next_value::<IgnoredAny>()?;
                }
                Key::AuctionEvents if !auction => {
                    auction = true;
                    map.next_value::<IgnoredAny>()?;
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => return Err(other()),
            }
        }
        found.snapshot_form = trades || auction;
        Ok(found)
    }
}

/// Decodes `changes` straight into the level buffer.
struct ChangesSeed<'s> {
    levels: &'s mut Vec<Level>,
}

impl<'de> DeserializeSeed<'de> for ChangesSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

/// Turns a [`FrameError`] raised inside the decoder into a serde error carrying its message.
fn to_de<E: de::Error>(e: FrameError) -> E {
    match e {
        FrameError::Malformed(m) => E::custom(m),
        other => E::custom(other),
    }
}

impl<'de> Visitor<'de> for ChangesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of [side, price, quantity] changes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some((side, price, qty)) = seq.next_element::<(&'de str, &'de str, &'de str)>()? {
            let side = match side {
                "buy" => Side::Bid,
                "sell" => Side::Ask,
                other => {
                    return Err(de::Error::custom(format_args!(
                        "unknown side {:?}",
                        truncate_for_log(other)
                    )));
                }
            };
            let price = parse_price(price).map_err(to_de)?;
            let qty = parse_decimal(qty).map_err(to_de)?;
            self.levels.push((side, price, qty));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::d;

    fn venue() -> VenueConfig {
        VenueConfig {
            name: "gemini".into(),
            adapter: "gemini-v2".into(),
            url: "wss://api.gemini.com/v2/marketdata".into(),
            symbol: "BTCUSD".into(),
            depth: None,
            price_precision: None,
            qty_precision: None,
            subscribe: Vec::new(),
            taker_fee_bps: Decimal::ZERO,
            quote: "USD".into(),
            stale_after_ms: 15_000,
        }
    }

    fn adapter() -> GeminiV2 {
        GeminiV2::new(&venue(), Limits::default())
    }

    fn changes(levels: &[(&str, &str, &str)]) -> String {
        let parts: Vec<String> = levels
            .iter()
            .map(|(s, p, q)| format!(r#"["{s}","{p}","{q}"]"#))
            .collect();
        parts.join(",")
    }

    /// A plain update in the documented shape (alphabetical keys, as on the wire).
    fn update(symbol: &str, levels: &[(&str, &str, &str)]) -> String {
        format!(
            r#"{{"changes":[{}],"symbol":"{symbol}","type":"l2_updates"}}"#,
            changes(levels)
        )
    }

    /// The snapshot form: full book plus recent trades and auction events.
    fn snapshot(symbol: &str, levels: &[(&str, &str, &str)]) -> String {
        format!(
            r#"{{"auction_events":[],"changes":[{}],"symbol":"{symbol}","trades":[{{"event_id":1,"price":"65206.29","quantity":"0.00007667","side":"buy","symbol":"{symbol}","tid":2,"timestamp":1786313194672,"type":"trade"}}],"type":"l2_updates"}}"#,
            changes(levels)
        )
    }

    fn levels(book: &OrderBook, side: Side) -> Vec<(Decimal, Decimal)> {
        book.levels(side).collect()
    }

    const BOOK: &[(&str, &str, &str)] = &[
        ("buy", "65317.0", "0.0031"),
        ("buy", "65309.0", "0.1622"),
        ("sell", "65317.5", "0.0006"),
        ("sell", "65320", "1.25"),
    ];

    fn synced() -> (GeminiV2, OrderBook) {
        let mut a = adapter();
        let mut book = OrderBook::new();
        assert_eq!(
            a.on_frame(&snapshot("BTCUSD", BOOK), &mut book),
            Ok(FrameOutcome::Snapshot)
        );
        (a, book)
    }

    #[test]
    fn one_pass_and_two_steps_agree_on_every_shape_of_message() {
        let ch = changes(&[("buy", "65316", "0.5"), ("sell", "65318", "0")]);
        let frames = [
            update("BTCUSD", &[("buy", "65316", "0.5"), ("sell", "65318", "0")]),
            update("ETHUSD", &[("buy", "1", "1")]),
            snapshot("BTCUSD", &[("buy", "65000", "1"), ("sell", "65400", "2")]),
            format!(r#"{{"type":"l2_updates","symbol":"BTCUSD","changes":[{ch}]}}"#),
            format!(r#"{{"changes":[{ch}],"symbol":"BTCUSD","type":"l2_updates","trades":[]}}"#),
            format!(r#"{{"changes":[{ch}],"symbol":"BTCUSD","type":"l2_updates","reason":"x"}}"#),
            format!(
                r#"{{"changes":[{ch}],"symbol":"BTCUSD","type":"l2_updates","result":"error"}}"#
            ),
            format!(r#"{{"changes":[{ch}],"symbol":"BTCUSD","type":"l2_updates","message":"m"}}"#),
            format!(r#"{{"changes":[{ch}],"changes":[],"symbol":"BTCUSD","type":"l2_updates"}}"#),
            format!(
                r#"{{"changes":[{ch}],"symbol":"BTCUSD","symbol":"BTCUSD","type":"l2_updates"}}"#
            ),
            format!(r#"{{"changes":[{ch}],"symbol":"BTC\u0055SD","type":"l2_updates"}}"#),
            format!(r#"{{"changes":[{ch}],"symbol":null,"type":"l2_updates"}}"#),
            format!(r#"{{"changes":[{ch}],"symbol":"BTCUSD","type":"l2_updates"}} x"#),
            format!(r#"{{"changes":[{ch}],"symbol":"BTCUSD"}}"#),
            format!(r#"{{"changes":[{ch}],"type":"l2_updates"}}"#),
            r#"{"changes":[["buy","1e5","1"]],"symbol":"BTCUSD","type":"l2_updates"}"#.to_owned(),
            r#"{"changes":[["buy","1e5","1"]],"symbol":"ETHUSD","type":"l2_updates"}"#.to_owned(),
            r#"{"changes":[["hold","1","1"]],"symbol":"BTCUSD","type":"l2_updates"}"#.to_owned(),
            r#"{"symbol":"BTCUSD","type":"l2_updates"}"#.to_owned(),
            r#"{"type":"heartbeat","timestamp":1}"#.to_owned(),
            r#"{"type":"trade","symbol":"BTCUSD","price":"1","quantity":"1","side":"buy"}"#
                .to_owned(),
            format!(r#"[{ch}]"#),
        ];
        for frame in &frames {
            for state in 0..3 {
                let (mut one, mut b1) = synced();
                let (mut two, mut b2) = synced();
                match state {
                    0 => {}
                    1 => {
                        one.invalidate();
                        two.invalidate();
                    }
                    _ => {
                        one.reset();
                        two.reset();
                    }
                }
                assert_eq!(
                    one.on_frame(frame, &mut b1),
                    two.on_frame_two_steps(frame, &mut b2),
                    "{frame}"
                );
                assert_eq!(b1, b2, "{frame}");
            }
        }
        // The usual message does take the one-pass decoder.
        let mut a = adapter();
        assert_eq!(a.decode_in_one_pass(&frames[0]), Some(false));
        assert_eq!(a.decode_in_one_pass(&frames[2]), Some(true));
        assert_eq!(a.decode_in_one_pass(&frames[1]), None);
    }

    #[test]
    fn after_invalidate_only_a_snapshot_form_rebuilds_the_book() {
        let (mut a, mut book) = synced();
        book.clear();
        a.invalidate();
        // A plain update on the same connection is not a book: it must not become one.
        let upd = update("BTCUSD", &[("buy", "65000", "1")]);
        assert_eq!(
            a.on_frame(&upd, &mut book),
            Ok(FrameOutcome::AwaitingSnapshot)
        );
        assert!(book.side(Side::Bid).is_empty());
        assert_eq!(
            a.on_frame(&snapshot("BTCUSD", BOOK), &mut book),
            Ok(FrameOutcome::Snapshot)
        );
        assert_eq!(a.on_frame(&upd, &mut book), Ok(FrameOutcome::Update));
        assert_eq!(book.depth(Side::Bid), 3);
    }

    #[test]
    fn first_message_is_the_book() {
        let (_, book) = synced();
        assert_eq!(
            levels(&book, Side::Bid),
            vec![(d("65317"), d("0.0031")), (d("65309"), d("0.1622"))]
        );
        assert_eq!(
            levels(&book, Side::Ask),
            vec![(d("65317.5"), d("0.0006")), (d("65320"), d("1.25"))]
        );
    }

    #[test]
    fn updates_set_absolute_sizes_and_zero_deletes() {
        let (mut a, mut book) = synced();
        let frame = update(
            "BTCUSD",
            &[
                ("buy", "65317.00", "0.5"),
                ("buy", "65309.0", "0.0"),
                ("sell", "65317.5", "0"),
                ("sell", "65318", "2"),
            ],
        );
        assert_eq!(a.on_frame(&frame, &mut book), Ok(FrameOutcome::Update));
        assert_eq!(levels(&book, Side::Bid), vec![(d("65317"), d("0.5"))]);
        assert_eq!(
            levels(&book, Side::Ask),
            vec![(d("65318"), d("2")), (d("65320"), d("1.25"))]
        );
    }

    #[test]
    fn heartbeats_trades_and_other_symbols() {
        let (mut a, mut book) = synced();
        let before = book.clone();
        assert_eq!(
            a.on_frame(
                r#"{"timestamp":1786313195331,"type":"heartbeat"}"#,
                &mut book
            ),
            Ok(FrameOutcome::Heartbeat)
        );
        let trade = r#"{"event_id":1,"price":"65206.29","quantity":"0.00007667","side":"buy","symbol":"BTCUSD","tid":3,"timestamp":1786313194672,"type":"trade"}"#;
        assert_eq!(a.on_frame(trade, &mut book), Ok(FrameOutcome::Ignored));
        assert_eq!(
            a.on_frame(&snapshot("ETHUSD", &[("buy", "1925.95", "1")]), &mut book),
            Ok(FrameOutcome::Ignored)
        );
        assert_eq!(
            a.on_frame(&update("ETHUSD", &[("sell", "1924.89", "0.0")]), &mut book),
            Ok(FrameOutcome::Ignored)
        );
        assert_eq!(book, before);
    }

    #[test]
    fn another_symbols_first_message_is_not_our_snapshot() {
        let mut a = adapter();
        let mut book = OrderBook::new();
        book.apply(Side::Bid, d("1"), d("1")); // stale level from a previous connection
        assert_eq!(
            a.on_frame(&snapshot("ETHUSD", &[("buy", "1925.95", "1")]), &mut book),
            Ok(FrameOutcome::Ignored)
        );
        assert_eq!(
            a.on_frame(&update("BTCUSD", &[("buy", "65000", "1")]), &mut book),
            Ok(FrameOutcome::Snapshot)
        );
        assert_eq!(levels(&book, Side::Bid), vec![(d("65000"), d("1"))]);
    }

    #[test]
    fn a_new_connection_replaces_the_book_without_ghosts() {
        let (mut a, mut book) = synced();
        a.reset();
        // The second connection's first message, even in the plain form, is the whole book.
        let frame = update("BTCUSD", &[("buy", "65200", "1"), ("sell", "65210", "2")]);
        assert_eq!(a.on_frame(&frame, &mut book), Ok(FrameOutcome::Snapshot));
        assert_eq!(levels(&book, Side::Bid), vec![(d("65200"), d("1"))]);
        assert_eq!(levels(&book, Side::Ask), vec![(d("65210"), d("2"))]);
        let frame = update("BTCUSD", &[("buy", "65201", "1")]);
        assert_eq!(a.on_frame(&frame, &mut book), Ok(FrameOutcome::Update));
        assert_eq!(book.depth(Side::Bid), 2);
    }

    #[test]
    fn the_snapshot_form_replaces_the_book_without_a_reset() {
        let (mut a, mut book) = synced();
        let frame = snapshot("BTCUSD", &[("buy", "64000", "3")]);
        assert_eq!(a.on_frame(&frame, &mut book), Ok(FrameOutcome::Snapshot));
        assert_eq!(levels(&book, Side::Bid), vec![(d("64000"), d("3"))]);
        assert!(book.side(Side::Ask).is_empty());
        // `auction_events` alone marks the snapshot form too.
        let frame = r#"{"auction_events":[],"changes":[["sell","64100","1"]],"symbol":"BTCUSD","type":"l2_updates"}"#;
        assert_eq!(a.on_frame(frame, &mut book), Ok(FrameOutcome::Snapshot));
        assert!(book.side(Side::Bid).is_empty());
        assert_eq!(levels(&book, Side::Ask), vec![(d("64100"), d("1"))]);
    }

    #[test]
    fn malformed_frames_leave_the_book_untouched() {
        let cases: Vec<String> = vec![
            "not json".into(),
            String::new(),
            "[]".into(),
            r#"["l2_updates","BTCUSD",[["buy","100","1"]]]"#.into(),
            r#"{"type":"l2_updates","type":"l2_updates","symbol":"BTCUSD","changes":[]}"#.into(),
            r#"{"changes":[]}"#.into(),
            r#"{"type":"l2_updates","changes":[]}"#.into(),
            r#"{"type":"l2_updates","symbol":"BTCUSD"}"#.into(),
            r#"{"type":"l2_updates","symbol":"BTCUSD","changes":{}}"#.into(),
            r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","100"]]}"#.into(),
            r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","100","1","x"]]}"#.into(),
            r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy",100.5,"1"]]}"#.into(),
            r#"{"type":7,"symbol":"BTCUSD","changes":[]}"#.into(),
            r#"{"changes":[],"symbol":"BTCUSD","type":"l2_updates"} x"#.into(),
            update("BTCUSD", &[("buy", "100", "1"), ("bid", "99", "1")]),
            update("BTCUSD", &[("buy", "abc", "1")]),
            update("BTCUSD", &[("buy", "100", "NaN")]),
            update("BTCUSD", &[("buy", "1e400", "1")]),
            update(
                "BTCUSD",
                &[("buy", "100", "1234567890123456789012345678901234567890")],
            ),
            update("BTCUSD", &[("sell", "100", "-1")]),
            update("BTCUSD", &[("sell", "0.0", "1")]),
            // The snapshot form with one bad level must not clear the book either.
            snapshot("BTCUSD", &[("buy", "1", "1"), ("sell", "2", "abc")]),
        ];
        for frame in &cases {
            let (mut a, mut book) = synced();
            let before = book.clone();
            let got = a.on_frame(frame, &mut book);
            assert!(
                matches!(got, Err(FrameError::Malformed(_))),
                "{frame:?} gave {got:?}"
            );
            assert_eq!(book, before, "{frame:?} touched the book");
        }
    }

    #[test]
    fn a_malformed_first_message_is_not_taken_as_the_snapshot() {
        let mut a = adapter();
        let mut book = OrderBook::new();
        book.apply(Side::Bid, d("1"), d("1"));
        let bad = update("BTCUSD", &[("buy", "abc", "1")]);
        assert!(matches!(
            a.on_frame(&bad, &mut book),
            Err(FrameError::Malformed(_))
        ));
        let good = update("BTCUSD", &[("buy", "65000", "1")]);
        assert_eq!(a.on_frame(&good, &mut book), Ok(FrameOutcome::Snapshot));
        assert_eq!(levels(&book, Side::Bid), vec![(d("65000"), d("1"))]);
    }

    #[test]
    fn server_errors_carry_their_text() {
        let mut a = adapter();
        let mut book = OrderBook::new();
        assert_eq!(
            a.on_frame(
                r#"{"type":"error","reason":"InvalidJson","message":"bad subscription"}"#,
                &mut book
            ),
            Ok(FrameOutcome::ServerError(
                "InvalidJson: bad subscription".into()
            ))
        );
        assert_eq!(
            a.on_frame(r#"{"result":"error","reason":"RateLimit"}"#, &mut book),
            Ok(FrameOutcome::ServerError("RateLimit".into()))
        );
        assert_eq!(
            a.on_frame(r#"{"type":"error"}"#, &mut book),
            Ok(FrameOutcome::ServerError("error (no message)".into()))
        );
    }

    #[test]
    fn too_many_levels_is_refused() {
        let limits = Limits {
            max_levels_per_side: 2,
        };
        let mut a = GeminiV2::new(&venue(), limits);
        let mut book = OrderBook::new();
        let frame = snapshot(
            "BTCUSD",
            &[("sell", "1", "1"), ("sell", "2", "1"), ("sell", "3", "1")],
        );
        assert_eq!(
            a.on_frame(&frame, &mut book),
            Err(FrameError::TooManyLevels(2))
        );
        let frame = snapshot("BTCUSD", &[("sell", "1", "1"), ("sell", "2", "1")]);
        assert_eq!(a.on_frame(&frame, &mut book), Ok(FrameOutcome::Snapshot));
        let frame = update("BTCUSD", &[("sell", "3", "1")]);
        assert_eq!(
            a.on_frame(&frame, &mut book),
            Err(FrameError::TooManyLevels(2))
        );
    }
}
