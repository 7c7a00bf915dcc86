//! Coinbase Advanced Trade `level2` adapter (`coinbase-advanced`, protocols.md §2.1).
//!
//! Every server message is an envelope `{"channel", "timestamp", "sequence_num", "events": [...]}`.
//! `sequence_num` is ONE counter for the whole connection, across all channels: the first frame after
//! [`Adapter::reset`] sets the baseline and every later frame must carry `last + 1`, otherwise the frame
//! is refused with [`FrameError::SequenceGap`]. After a gap the new number becomes the baseline (so the
//! gap is reported once) and the book is marked unsynced: updates are dropped as
//! [`FrameOutcome::AwaitingSnapshot`] until the next snapshot.
//!
//! Book messages use channel `l2_data`; each event is a `snapshot` (the full book of one product: the
//! book is cleared, then filled) or an `update` (absolute new sizes, `"0"` deletes) for `product_id`;
//! levels are `{"side": "bid"|"offer", "price_level": "…", "new_quantity": "…"}` with string numbers.
//!
//! Decoding is borrowed and single-pass in the usual key order (`channel` and `sequence_num` before
//! `events`, `product_id` before `updates`): levels are parsed straight from the frame text into a
//! buffer the adapter reuses, so the ~5 MB BTC-USD snapshot costs no allocation per level and no second
//! scan. Other key orders are handled too, by capturing the value as a `&RawValue` and decoding it once
//! the deciding key is known. The whole frame is decoded before anything is applied, so a malformed
//! frame leaves the book untouched.

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

/// The channel carrying book snapshots and updates.
const BOOK_CHANNEL: &str = "l2_data";

/// Decodes Coinbase Advanced Trade frames for one product (`VenueConfig::symbol`, e.g. `BTC-USD`).
pub struct CoinbaseAdvanced {
    product: String,
    limits: Limits,
    /// The last `sequence_num` seen on this connection.
    last_seq: Option<u64>,
    /// A snapshot of our product has been applied since the last reset or integrity failure.
    synced: bool,
    scratch: Scratch,
}

/// Levels decoded from the current frame, kept between frames to reuse the allocation.
#[derive(Default)]
struct Scratch {
    levels: Vec<Level>,
    events: Vec<Segment>,
}

type Level = (Side, Decimal, Decimal);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventKind {
    Snapshot,
    Update,
}

/// One `l2_data` event of our product: its levels are `levels[previous end..end]`.
struct Segment {
    kind: EventKind,
    end: usize,
}

impl CoinbaseAdvanced {
    /// Builds the adapter for `venue.symbol`, bounding each book side by `limits`.
    #[must_use]
    pub fn new(venue: &VenueConfig, limits: Limits) -> Self {
        Self {
            product: venue.symbol.clone(),
            limits,
            last_seq: None,
            synced: false,
            scratch: Scratch::default(),
        }
    }

    /// Checks `got` against the connection-wide counter and makes it the new baseline.
    fn check_sequence(&mut self, got: u64) -> Result<(), FrameError> {
        match self.last_seq.replace(got) {
            Some(last) if got != last.wrapping_add(1) => {
                self.synced = false;
                Err(FrameError::SequenceGap {
                    expected: last.wrapping_add(1),
                    got,
                })
            }
            _ => Ok(()),
        }
    }

    /// Applies the decoded events of the current frame, in order.
    fn apply(&mut self, book: &mut OrderBook) -> Result<FrameOutcome, FrameError> {
        let mut outcome = FrameOutcome::Ignored;
        let mut touched = false;
        let mut start = 0;
        for segment in &self.scratch.events {
            let levels = self.scratch.levels.get(start..segment.end).unwrap_or(&[]);
            start = segment.end;
            match segment.kind {
                EventKind::Snapshot => {
                    book.clear();
                    apply_levels(book, levels);
                    self.synced = true;
                    touched = true;
                    outcome = FrameOutcome::Snapshot;
                }
                EventKind::Update if self.synced => {
                    apply_levels(book, levels);
                    touched = true;
                    if outcome != FrameOutcome::Snapshot {
                        outcome = FrameOutcome::Update;
                    }
                }
                EventKind::Update => {
                    if outcome == FrameOutcome::Ignored {
                        outcome = FrameOutcome::AwaitingSnapshot;
                    }
                }
            }
        }
        let max = self.limits.max_levels_per_side;
        if touched && (book.depth(Side::Bid) > max || book.depth(Side::Ask) > max) {
            self.synced = false;
            return Err(FrameError::TooManyLevels(max));
        }
        Ok(outcome)
    }
}

fn apply_levels(book: &mut OrderBook, levels: &[Level]) {
    for &(side, price, qty) in levels {
        book.apply(side, price, qty);
    }
}

fn malformed(e: &serde_json::Error) -> FrameError {
    FrameError::Malformed(e.to_string())
}

impl Adapter for CoinbaseAdvanced {
    fn reset(&mut self) {
        self.last_seq = None;
        self.synced = false;
    }

    fn invalidate(&mut self) {
        // Keep the sequence baseline: the connection's counter goes on.
        self.synced = false;
    }

    fn on_frame(&mut self, frame: &str, book: &mut OrderBook) -> Result<FrameOutcome, FrameError> {
        self.scratch.levels.clear();
        self.scratch.events.clear();
        let mut env = Envelope::default();
        let decoded = {
            let mut de = serde_json::Deserializer::from_str(frame);
            EnvelopeSeed {
                env: &mut env,
                product: &self.product,
                scratch: &mut self.scratch,
            }
            .deserialize(&mut de)
            .and_then(|()| de.end())
        };
        // A frame whose number could be read took its place in the sequence, even if its body is bad.
        if let Some(seq) = env.seq {
            self.check_sequence(seq)?;
        }
        decoded.map_err(|e| malformed(&e))?;
        if let Some(text) = env.error_text() {
            return Ok(FrameOutcome::ServerError(text));
        }
        let Some(channel) = env.channel else {
            return Err(FrameError::Malformed("no channel".into()));
        };
        if env.seq.is_none() {
            return Err(FrameError::Malformed(format!(
                "no sequence_num on channel {:?}",
                truncate_for_log(channel)
            )));
        }
        match channel {
            BOOK_CHANNEL => {
                if let Some(raw) = env.deferred_events {
                    EventsSeed {
                        product: &self.product,
                        scratch: &mut self.scratch,
                    }
                    .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                    .map_err(|e| malformed(&e))?;
                }
                self.apply(book)
            }
            "subscriptions" => Ok(FrameOutcome::Ack),
            "heartbeats" => Ok(FrameOutcome::Heartbeat),
            _ => Ok(FrameOutcome::Ignored),
        }
    }
}

/// What the envelope said, filled while decoding (kept even when decoding fails half-way).
#[derive(Default)]
struct Envelope<'a> {
    channel: Option<&'a str>,
    seq: Option<u64>,
    kind: Option<String>,
    message: Option<String>,
    reason: Option<String>,
    /// `events` met before `channel`: decoded once the channel is known.
    deferred_events: Option<&'a RawValue>,
    events_seen: bool,
}

impl Envelope<'_> {
    /// The server's error text, when this frame reports an error (`type: error`, or a top-level
    /// `message`, which ordinary channel messages never carry).
    fn error_text(&self) -> Option<String> {
        let is_error = self.kind.as_deref() == Some("error")
            || self.channel == Some("error")
            || self.message.is_some();
        if !is_error {
            return None;
        }
        let text = match (self.message.as_deref(), self.reason.as_deref()) {
            (Some(m), Some(r)) => format!("{m}: {r}"),
            (Some(t), None) | (None, Some(t)) => t.to_owned(),
            (None, None) => "error (no message)".to_owned(),
        };
        Some(text)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum EnvelopeField {
    Channel,
    SequenceNum,
    Type,
    Message,
    Reason,
    Events,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum EventField {
    Type,
    ProductId,
    Updates,
    #[serde(other)]
    Other,
}

/// One entry of `updates[]`; `event_time` is skipped.
struct WireLevel<'a> {
    side: &'a str,
    price_level: &'a str,
    new_quantity: &'a str,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum LevelField {
    Side,
    PriceLevel,
    NewQuantity,
    #[serde(other)]
    Other,
}

/// Decodes one level, accepting only the documented object form (a derived struct would also take
/// a positional array).
struct LevelSeed;

impl<'de> DeserializeSeed<'de> for LevelSeed {
    type Value = WireLevel<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LevelSeed {
    type Value = WireLevel<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a level update object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut side, mut price, mut qty) = (None, None, None);
        while let Some(key) = map.next_key::<LevelField>()? {
            match key {
                LevelField::Side => once(&mut side, map.next_value()?, "side")?,
                LevelField::PriceLevel => once(&mut price, map.next_value()?, "price_level")?,
                LevelField::NewQuantity => once(&mut qty, map.next_value()?, "new_quantity")?,
                LevelField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(WireLevel {
            side: side.ok_or_else(|| de::Error::missing_field("side"))?,
            price_level: price.ok_or_else(|| de::Error::missing_field("price_level"))?,
            new_quantity: qty.ok_or_else(|| de::Error::missing_field("new_quantity"))?,
        })
    }
}

fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

/// Turns a [`FrameError`] raised inside the decoder into a serde error carrying its message.
fn to_de<E: de::Error>(e: FrameError) -> E {
    match e {
        FrameError::Malformed(m) => E::custom(m),
        other => E::custom(other),
    }
}

/// Decodes the envelope; decodes `events` in place when the channel is already known.
struct EnvelopeSeed<'s, 'a> {
    env: &'s mut Envelope<'a>,
    product: &'s str,
    scratch: &'s mut Scratch,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Coinbase message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<EnvelopeField>()? {
            match key {
                EnvelopeField::Channel => {
                    once(&mut self.env.channel, map.next_value()?, "channel")?
                }
                EnvelopeField::SequenceNum => {
                    once(&mut self.env.seq, map.next_value()?, "sequence_num")?;
                }
                EnvelopeField::Type => once(&mut self.env.kind, map.next_value()?, "type")?,
                EnvelopeField::Message => {
                    once(&mut self.env.message, map.next_value()?, "message")?;
                }
                EnvelopeField::Reason => once(&mut self.env.reason, map.next_value()?, "reason")?,
                EnvelopeField::Events => {
                    if self.env.events_seen {
                        return Err(de::Error::duplicate_field("events"));
                    }
                    self.env.events_seen = true;
                    match self.env.channel {
                        Some(BOOK_CHANNEL) => map.next_value_seed(EventsSeed {
                            product: self.product,
                            scratch: &mut *self.scratch,
                        })?,
                        Some(_) => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        None => self.env.deferred_events = Some(map.next_value()?),
                    }
                }
                EnvelopeField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Decodes `events[]` of an `l2_data` message into the scratch buffer.
struct EventsSeed<'s> {
    product: &'s str,
    scratch: &'s mut Scratch,
}

impl<'de> DeserializeSeed<'de> for EventsSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of l2_data events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(EventSeed {
                product: self.product,
                scratch: &mut *self.scratch,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// Decodes one `l2_data` event; levels of other products are skipped without being parsed.
struct EventSeed<'s> {
    product: &'s str,
    scratch: &'s mut Scratch,
}

impl<'de> DeserializeSeed<'de> for EventSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EventSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an l2_data event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut kind: Option<&'de str> = None;
        let mut product: Option<&'de str> = None;
        let mut updates_seen = false;
        let mut parsed = false;
        let mut deferred: Option<&'de RawValue> = None;
        while let Some(key) = map.next_key::<EventField>()? {
            match key {
                EventField::Type => once(&mut kind, map.next_value()?, "type")?,
                EventField::ProductId => once(&mut product, map.next_value()?, "product_id")?,
                EventField::Updates => {
                    if updates_seen {
                        return Err(de::Error::duplicate_field("updates"));
                    }
                    updates_seen = true;
                    match product {
                        Some(p) if p == self.product => {
                            map.next_value_seed(UpdatesSeed {
                                levels: &mut self.scratch.levels,
                            })?;
                            parsed = true;
                        }
                        Some(_) => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        None => deferred = Some(map.next_value()?),
                    }
                }
                EventField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if product != Some(self.product) {
            // Another product (a connection can carry several), or no product at all: not ours.
            return Ok(());
        }
        if let Some(raw) = deferred {
            UpdatesSeed {
                levels: &mut self.scratch.levels,
            }
            .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
            .map_err(de::Error::custom)?;
            parsed = true;
        }
        if !parsed {
            return Err(de::Error::missing_field("updates"));
        }
        let kind = match kind {
            Some("snapshot") => EventKind::Snapshot,
            Some("update") => EventKind::Update,
            Some(other) => {
                return Err(de::Error::custom(format_args!(
                    "unknown l2_data event type {:?}",
                    truncate_for_log(other)
                )));
            }
            None => return Err(de::Error::missing_field("type")),
        };
        self.scratch.events.push(Segment {
            kind,
            end: self.scratch.levels.len(),
        });
        Ok(())
    }
}

/// Decodes `updates[]` straight into the level buffer.
struct UpdatesSeed<'s> {
    levels: &'s mut Vec<Level>,
}

impl<'de> DeserializeSeed<'de> for UpdatesSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for UpdatesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of level updates")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(level) = seq.next_element_seed(LevelSeed)? {
            let side = match level.side {
                "bid" => Side::Bid,
                "offer" => Side::Ask,
                other => {
                    return Err(de::Error::custom(format_args!(
                        "unknown side {:?}",
                        truncate_for_log(other)
                    )));
                }
            };
            let price = parse_price(level.price_level).map_err(to_de)?;
            let qty = parse_decimal(level.new_quantity).map_err(to_de)?;
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
            name: "coinbase".into(),
            adapter: "coinbase-advanced".into(),
            url: "wss://advanced-trade-ws.coinbase.com".into(),
            symbol: "BTC-USD".into(),
            depth: None,
            price_precision: None,
            qty_precision: None,
            subscribe: Vec::new(),
            taker_fee_bps: Decimal::ZERO,
            quote: "USD".into(),
            stale_after_ms: 5000,
        }
    }

    fn adapter() -> CoinbaseAdvanced {
        CoinbaseAdvanced::new(&venue(), Limits::default())
    }

    /// An `l2_data` frame in the documented shape, one event.
    fn l2(seq: u64, kind: &str, product: &str, levels: &[(&str, &str, &str)]) -> String {
        let updates: Vec<String> = levels
            .iter()
            .map(|(side, price, qty)| {
                format!(
                    r#"{{"side":"{side}","event_time":"2026-08-09T21:05:48.170326Z","price_level":"{price}","new_quantity":"{qty}"}}"#
                )
            })
            .collect();
        format!(
            r#"{{"channel":"l2_data","timestamp":"2026-08-09T21:05:48.483587501Z","sequence_num":{seq},"events":[{{"type":"{kind}","product_id":"{product}","updates":[{}]}}]}}"#,
            updates.join(",")
        )
    }

    fn heartbeat(seq: u64) -> String {
        format!(
            r#"{{"channel":"heartbeats","timestamp":"2026-08-09T21:05:48.856364007Z","sequence_num":{seq},"events":[{{"current_time":"2026-08-09 21:05:48.854840045 +0000 UTC m=+41691.260485341","heartbeat_counter":{seq}}}]}}"#
        )
    }

    fn levels(book: &OrderBook, side: Side) -> Vec<(Decimal, Decimal)> {
        book.levels(side).collect()
    }

    const SNAP: &[(&str, &str, &str)] = &[
        ("bid", "65083.66", "0.20371215"),
        ("bid", "65080", "0.12"),
        ("offer", "65083.67", "1.5"),
        ("offer", "65090.10", "0.5"),
    ];

    /// An adapter and a book holding `SNAP` (sequence 1).
    fn synced() -> (CoinbaseAdvanced, OrderBook) {
        let mut a = adapter();
        let mut book = OrderBook::new();
        assert_eq!(
            a.on_frame(&l2(1, "snapshot", "BTC-USD", SNAP), &mut book),
            Ok(FrameOutcome::Snapshot)
        );
        (a, book)
    }

    #[test]
    fn snapshot_fills_the_book_best_first() {
        let (_, book) = synced();
        assert_eq!(
            levels(&book, Side::Bid),
            vec![(d("65083.66"), d("0.20371215")), (d("65080"), d("0.12"))]
        );
        assert_eq!(
            levels(&book, Side::Ask),
            vec![(d("65083.67"), d("1.5")), (d("65090.1"), d("0.5"))]
        );
    }

    #[test]
    fn snapshot_replaces_whatever_the_book_held() {
        let mut a = adapter();
        let mut book = OrderBook::new();
        book.apply(Side::Bid, d("1"), d("9"));
        book.apply(Side::Ask, d("99999"), d("9"));
        let frame = l2(
            7,
            "snapshot",
            "BTC-USD",
            &[("bid", "100", "1"), ("offer", "101", "2")],
        );
        assert_eq!(a.on_frame(&frame, &mut book), Ok(FrameOutcome::Snapshot));
        assert_eq!(levels(&book, Side::Bid), vec![(d("100"), d("1"))]);
        assert_eq!(levels(&book, Side::Ask), vec![(d("101"), d("2"))]);
    }

    #[test]
    fn update_sets_absolute_sizes_and_zero_deletes() {
        let (mut a, mut book) = synced();
        let frame = l2(
            2,
            "update",
            "BTC-USD",
            &[
                ("bid", "65083.66", "0.5"),       // replace, not add
                ("bid", "65080.00", "0"),         // delete, padded differently
                ("offer", "65083.670", "0.0000"), // delete, zero written with decimals
                ("offer", "65085", "2"),          // new level
            ],
        );
        assert_eq!(a.on_frame(&frame, &mut book), Ok(FrameOutcome::Update));
        assert_eq!(levels(&book, Side::Bid), vec![(d("65083.66"), d("0.5"))]);
        assert_eq!(
            levels(&book, Side::Ask),
            vec![(d("65085"), d("2")), (d("65090.1"), d("0.5"))]
        );
    }

    #[test]
    fn acks_heartbeats_and_other_channels() {
        let (mut a, mut book) = synced();
        let before = book.clone();
        let ack = r#"{"channel":"subscriptions","timestamp":"2026-08-09T21:05:48.629627857Z","sequence_num":2,"events":[{"subscriptions":{"level2":["BTC-USD"],"heartbeats":["BTC-USD"]}}]}"#;
        assert_eq!(a.on_frame(ack, &mut book), Ok(FrameOutcome::Ack));
        assert_eq!(
            a.on_frame(&heartbeat(3), &mut book),
            Ok(FrameOutcome::Heartbeat)
        );
        let trades = r#"{"channel":"market_trades","timestamp":"2026-08-09T21:05:48.2Z","sequence_num":4,"events":[{"type":"update","trades":[{"product_id":"BTC-USD","trade_id":"1","price":"65083.67","size":"0.1","side":"BUY","time":"2026-08-09T21:05:48.2Z"}]}]}"#;
        assert_eq!(a.on_frame(trades, &mut book), Ok(FrameOutcome::Ignored));
        let ticker = r#"{"channel":"ticker","timestamp":"2026-08-09T21:05:48.2Z","sequence_num":5,"events":[{"type":"update","tickers":[{"type":"ticker","product_id":"BTC-USD","price":"65086.18"}]}]}"#;
        assert_eq!(a.on_frame(ticker, &mut book), Ok(FrameOutcome::Ignored));
        assert_eq!(book, before);
    }

    #[test]
    fn other_products_are_ignored() {
        let (mut a, mut book) = synced();
        let before = book.clone();
        let snap = l2(
            2,
            "snapshot",
            "ETH-USD",
            &[("bid", "1919.41", "3"), ("offer", "1919.5", "1")],
        );
        assert_eq!(a.on_frame(&snap, &mut book), Ok(FrameOutcome::Ignored));
        let upd = l2(3, "update", "ETH-USD", &[("bid", "1919.42", "1")]);
        assert_eq!(a.on_frame(&upd, &mut book), Ok(FrameOutcome::Ignored));
        // Another product's bad level is not ours to judge.
        let odd = l2(4, "update", "ETH-USD", &[("sideways", "abc", "x")]);
        assert_eq!(a.on_frame(&odd, &mut book), Ok(FrameOutcome::Ignored));
        assert_eq!(book, before);
    }

    #[test]
    fn mixed_products_in_one_frame_apply_only_ours() {
        let (mut a, mut book) = synced();
        let frame = r#"{"channel":"l2_data","sequence_num":2,"events":[
            {"type":"update","product_id":"ETH-USD","updates":[{"side":"bid","price_level":"1919","new_quantity":"5"}]},
            {"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","price_level":"65081","new_quantity":"3"}]}]}"#;
        assert_eq!(a.on_frame(frame, &mut book), Ok(FrameOutcome::Update));
        assert_eq!(
            levels(&book, Side::Bid),
            vec![
                (d("65083.66"), d("0.20371215")),
                (d("65081"), d("3")),
                (d("65080"), d("0.12"))
            ]
        );
    }

    #[test]
    fn unusual_key_order_decodes_the_same() {
        // `events` before `channel`/`sequence_num`, and `updates` before `product_id`/`type`.
        let frame = r#"{"events":[{"updates":[{"new_quantity":"2","price_level":"101","side":"offer"},{"price_level":"100","side":"bid","new_quantity":"1"}],"product_id":"BTC-USD","type":"snapshot"},{"updates":[{"side":"bid","price_level":"1","new_quantity":"1"}],"type":"snapshot","product_id":"ETH-USD"}],"sequence_num":1,"channel":"l2_data"}"#;
        let mut a = adapter();
        let mut book = OrderBook::new();
        assert_eq!(a.on_frame(frame, &mut book), Ok(FrameOutcome::Snapshot));
        assert_eq!(levels(&book, Side::Bid), vec![(d("100"), d("1"))]);
        assert_eq!(levels(&book, Side::Ask), vec![(d("101"), d("2"))]);
        // A bad level found on the deferred path is still malformed.
        let bad = r#"{"events":[{"updates":[{"side":"bid","price_level":"abc","new_quantity":"1"}],"product_id":"BTC-USD","type":"update"}],"sequence_num":2,"channel":"l2_data"}"#;
        assert!(matches!(
            a.on_frame(bad, &mut book),
            Err(FrameError::Malformed(_))
        ));
    }

    #[test]
    fn updates_before_a_snapshot_wait_for_it() {
        let mut a = adapter();
        let mut book = OrderBook::new();
        let upd = l2(5, "update", "BTC-USD", &[("bid", "100", "1")]);
        assert_eq!(
            a.on_frame(&upd, &mut book),
            Ok(FrameOutcome::AwaitingSnapshot)
        );
        assert_eq!(book, OrderBook::new());
        let snap = l2(6, "snapshot", "BTC-USD", &[("bid", "99", "1")]);
        assert_eq!(a.on_frame(&snap, &mut book), Ok(FrameOutcome::Snapshot));
        let upd = l2(7, "update", "BTC-USD", &[("bid", "100", "1")]);
        assert_eq!(a.on_frame(&upd, &mut book), Ok(FrameOutcome::Update));
        assert_eq!(book.depth(Side::Bid), 2);
    }

    #[test]
    fn malformed_frames_leave_the_book_untouched() {
        let snap_bad_last = l2(
            2,
            "snapshot",
            "BTC-USD",
            &[
                ("bid", "100", "1"),
                ("offer", "101", "1"),
                ("offer", "102", "abc"),
            ],
        );
        let cases: Vec<String> = vec![
            "not json".into(),
            String::new(),
            "[1,2,3]".into(),
            r#"{"channel":"l2_data","sequence_num":2,"events":"x"}"#.into(),
            r#"{"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":{}}]}"#.into(),
            r#"{"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD"}]}"#.into(),
            r#"{"channel":"l2_data","sequence_num":2,"events":[{"product_id":"BTC-USD","updates":[]}]}"#.into(),
            r#"{"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","price_level":"100"}]}]}"#.into(),
            r#"{"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","price_level":65000.5,"new_quantity":"1"}]}]}"#.into(),
            r#"{"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":[["bid","100","1"]]}]}"#.into(),
            r#"{"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","side":"offer","price_level":"100","new_quantity":"1"}]}]}"#.into(),
            r#"{"channel":"l2_data","sequence_num":"2","events":[]}"#.into(),
            r#"{"channel":"l2_data","sequence_num":-2,"events":[]}"#.into(),
            r#"{"channel":"heartbeats","events":[]}"#.into(),
            r#"{"sequence_num":2,"events":[]}"#.into(),
            r#"{"channel":"l2_data","sequence_num":2,"events":[]} trailing"#.into(),
            l2(2, "partial", "BTC-USD", &[("bid", "100", "1")]),
            l2(2, "update", "BTC-USD", &[("bid", "100", "1"), ("ask", "101", "1")]),
            l2(2, "update", "BTC-USD", &[("bid", "abc", "1")]),
            l2(2, "update", "BTC-USD", &[("bid", "100", "NaN")]),
            l2(2, "update", "BTC-USD", &[("bid", "1e400", "1")]),
            l2(2, "update", "BTC-USD", &[("bid", "100", "1234567890123456789012345678901234567890")]),
            l2(2, "update", "BTC-USD", &[("bid", "100", "-1")]),
            l2(2, "update", "BTC-USD", &[("bid", "0", "1")]),
            l2(2, "update", "BTC-USD", &[("bid", "100", "")]),
            snap_bad_last,
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
    fn a_malformed_frame_with_a_readable_number_keeps_the_sequence() {
        let (mut a, mut book) = synced();
        let bad = l2(2, "update", "BTC-USD", &[("bid", "abc", "1")]);
        assert!(matches!(
            a.on_frame(&bad, &mut book),
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(
            a.on_frame("garbage", &mut book),
            Err(FrameError::Malformed(_))
        ));
        let upd = l2(3, "update", "BTC-USD", &[("bid", "65000", "1")]);
        assert_eq!(a.on_frame(&upd, &mut book), Ok(FrameOutcome::Update));
    }

    #[test]
    fn sequence_gap_is_reported_once_then_updates_wait_for_a_snapshot() {
        let (mut a, mut book) = synced();
        let before = book.clone();
        let upd = |seq| l2(seq, "update", "BTC-USD", &[("bid", "65081", "1")]);
        assert_eq!(
            a.on_frame(&upd(3), &mut book),
            Err(FrameError::SequenceGap {
                expected: 2,
                got: 3
            })
        );
        assert_eq!(book, before, "the gap frame itself is not applied");
        assert_eq!(
            a.on_frame(&upd(4), &mut book),
            Ok(FrameOutcome::AwaitingSnapshot)
        );
        assert_eq!(
            a.on_frame(&heartbeat(5), &mut book),
            Ok(FrameOutcome::Heartbeat)
        );
        assert_eq!(book, before);
        let snap = l2(6, "snapshot", "BTC-USD", &[("bid", "64000", "2")]);
        assert_eq!(a.on_frame(&snap, &mut book), Ok(FrameOutcome::Snapshot));
        assert_eq!(a.on_frame(&upd(7), &mut book), Ok(FrameOutcome::Update));
        assert_eq!(
            levels(&book, Side::Bid),
            vec![(d("65081"), d("1")), (d("64000"), d("2"))]
        );
    }

    #[test]
    fn duplicate_and_reordered_numbers_are_gaps() {
        let (mut a, mut book) = synced();
        assert_eq!(
            a.on_frame(&heartbeat(2), &mut book),
            Ok(FrameOutcome::Heartbeat)
        );
        assert_eq!(
            a.on_frame(&heartbeat(2), &mut book),
            Err(FrameError::SequenceGap {
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            a.on_frame(&heartbeat(3), &mut book),
            Ok(FrameOutcome::Heartbeat)
        );
        // 5 arrives before 4.
        assert_eq!(
            a.on_frame(&heartbeat(5), &mut book),
            Err(FrameError::SequenceGap {
                expected: 4,
                got: 5
            })
        );
        assert_eq!(
            a.on_frame(&heartbeat(4), &mut book),
            Err(FrameError::SequenceGap {
                expected: 6,
                got: 4
            })
        );
        assert_eq!(
            a.on_frame(&heartbeat(5), &mut book),
            Ok(FrameOutcome::Heartbeat)
        );
        let upd = l2(6, "update", "BTC-USD", &[("bid", "65081", "1")]);
        assert_eq!(
            a.on_frame(&upd, &mut book),
            Ok(FrameOutcome::AwaitingSnapshot)
        );
    }

    #[test]
    fn heartbeats_alone_are_sequence_checked() {
        let mut a = adapter();
        let mut book = OrderBook::new();
        assert_eq!(
            a.on_frame(&heartbeat(100), &mut book),
            Ok(FrameOutcome::Heartbeat)
        );
        assert_eq!(
            a.on_frame(&heartbeat(101), &mut book),
            Ok(FrameOutcome::Heartbeat)
        );
        assert_eq!(
            a.on_frame(&heartbeat(103), &mut book),
            Err(FrameError::SequenceGap {
                expected: 102,
                got: 103
            })
        );
        assert_eq!(
            a.on_frame(&heartbeat(104), &mut book),
            Ok(FrameOutcome::Heartbeat)
        );
    }

    #[test]
    fn reset_forgets_the_counter_and_the_snapshot() {
        let (mut a, mut book) = synced();
        a.reset();
        // A new connection starts its own counter at any value.
        assert_eq!(
            a.on_frame(&heartbeat(0), &mut book),
            Ok(FrameOutcome::Heartbeat)
        );
        let upd = l2(1, "update", "BTC-USD", &[("bid", "65081", "1")]);
        assert_eq!(
            a.on_frame(&upd, &mut book),
            Ok(FrameOutcome::AwaitingSnapshot)
        );
    }

    #[test]
    fn server_errors_carry_their_text() {
        let mut a = adapter();
        let mut book = OrderBook::new();
        let err = r#"{"type":"error","message":"failure to subscribe"}"#;
        assert_eq!(
            a.on_frame(err, &mut book),
            Ok(FrameOutcome::ServerError("failure to subscribe".into()))
        );
        let err = r#"{"type":"error","message":"Failed to subscribe","reason":"level2 requires \"auth\""}"#;
        assert_eq!(
            a.on_frame(err, &mut book),
            Ok(FrameOutcome::ServerError(
                "Failed to subscribe: level2 requires \"auth\"".into()
            ))
        );
        assert_eq!(
            a.on_frame(r#"{"message":"rate limited"}"#, &mut book),
            Ok(FrameOutcome::ServerError("rate limited".into()))
        );
    }

    #[test]
    fn too_many_levels_is_refused() {
        let limits = Limits {
            max_levels_per_side: 2,
        };
        let mut a = CoinbaseAdvanced::new(&venue(), limits);
        let mut book = OrderBook::new();
        let snap = l2(
            1,
            "snapshot",
            "BTC-USD",
            &[("bid", "1", "1"), ("bid", "2", "1"), ("bid", "3", "1")],
        );
        assert_eq!(
            a.on_frame(&snap, &mut book),
            Err(FrameError::TooManyLevels(2))
        );
        let snap = l2(
            2,
            "snapshot",
            "BTC-USD",
            &[("bid", "1", "1"), ("bid", "2", "1"), ("offer", "5", "1")],
        );
        assert_eq!(a.on_frame(&snap, &mut book), Ok(FrameOutcome::Snapshot));
        let upd = l2(3, "update", "BTC-USD", &[("bid", "3", "1")]);
        assert_eq!(
            a.on_frame(&upd, &mut book),
            Err(FrameError::TooManyLevels(2))
        );
        // The book is unusable until a new snapshot.
        let upd = l2(4, "update", "BTC-USD", &[("bid", "2", "0")]);
        assert_eq!(
            a.on_frame(&upd, &mut book),
            Ok(FrameOutcome::AwaitingSnapshot)
        );
    }
}
