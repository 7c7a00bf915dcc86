//! `View`: the immutable picture of everything the dashboard and the headless writer show.
//!
//! Built by the engine at most once per frame; `ui::render` and `headless` are pure functions of it.

use std::fmt;

use rust_decimal::Decimal;

use crate::market::{Action, MergedWalk, Side, WalkResult};

/// A venue's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Status {
    /// Opening the connection (or waiting for the next attempt).
    #[default]
    Connecting,
    /// Connected and subscribed; no snapshot yet.
    Syncing,
    /// Book complete and verified.
    Live,
    /// No frame within the venue's silence limit.
    Stale,
    /// An integrity failure dropped the book; waiting for a fresh snapshot.
    Resyncing,
    /// The connection failed or the venue reported an error; retrying with backoff.
    Down,
}

impl Status {
    /// The output spelling (`connecting`, `syncing`, `live`, `stale`, `resyncing`, `down`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Syncing => "syncing",
            Status::Live => "live",
            Status::Stale => "stale",
            Status::Resyncing => "resyncing",
            Status::Down => "down",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong, and how often, at one venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Frames received.
    pub messages: u64,
    /// Frames that could not be decoded or were out of bounds.
    pub bad_frames: u64,
    /// Kraken checksum mismatches.
    pub checksum_failures: u64,
    /// Sequence gaps (Coinbase `sequence_num`).
    pub sequence_gaps: u64,
    /// Crossed books seen.
    pub crossed_books: u64,
    /// Times the book was dropped and rebuilt from a new snapshot.
    pub resyncs: u64,
    /// Connections lost or replaced (not counting resyncs).
    pub reconnects: u64,
}

/// One point of the cumulative depth picture: at `price`, `cum_qty` is available from the best price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthPoint {
    /// Price of the level.
    pub price: Decimal,
    /// Cumulative quantity from the best level through this one.
    pub cum_qty: Decimal,
}

/// One venue in the View.
#[derive(Debug, Clone, PartialEq)]
pub struct VenueView {
    /// Config name.
    pub name: String,
    /// Quote currency label.
    pub quote: String,
    /// Health.
    pub status: Status,
    /// A short explanation for a non-live status: the venue's error text, the next retry, the failure.
    pub detail: Option<String>,
    /// False when the user excluded the venue from the merged walk.
    pub included: bool,
    /// True when this venue entered the merged walk (live and included).
    pub merged: bool,
    /// Counters.
    pub counters: Counters,
    /// Milliseconds since the last frame (stream clock), `None` before the first.
    pub last_frame_age_ms: Option<u64>,
    /// Frames per second over the last few seconds (display only).
    pub msgs_per_sec: f64,
    /// Best bid and ask.
    pub best_bid: Option<Decimal>,
    /// Best ask.
    pub best_ask: Option<Decimal>,
    /// Levels held per side (bids, asks).
    pub book_levels: (usize, usize),
    /// The walk of the ticket over this venue's walked side (empty when the book is not usable).
    pub walk: WalkResult,
    /// Cumulative depth of the walked side, best first, up to a bit past the walk's reach.
    pub depth: Vec<DepthPoint>,
    /// Taker fee in bps.
    pub taker_fee_bps: Decimal,
    /// Receive → View latency, p50 and p99, in microseconds (live only).
    pub latency_us: Option<(u64, u64)>,
}

/// The merged walk in the View.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MergedView {
    /// Venues walked (live and included), config order.
    pub venues: Vec<String>,
    /// Venues left out (not live, or excluded by the user).
    pub excluded: Vec<String>,
    /// The walk; `fills[i].venue` and `by_venue` index into [`View::venues`].
    pub walk: MergedWalk,
    /// Cumulative depth of the merged walked side.
    pub depth: Vec<DepthPoint>,
    /// The best single venue that fills the whole order, and how much better (positive) or worse the
    /// merged walk is, in quote currency.
    pub vs_best_single: Option<(String, Decimal)>,
}

/// Where the data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// The real exchanges.
    #[default]
    Live,
    /// The built-in simulated exchanges.
    Demo,
    /// A capture file.
    Replay,
}

/// Everything the screen and the headless writer show, at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// Stream clock (ns since the Unix epoch): wall clock live, `ts_ns` of the last frame in replay.
    pub ts_ns: i64,
    /// Symbol shown.
    pub symbol: String,
    /// Buy or sell.
    pub action: Action,
    /// Order size (base currency).
    pub quantity: Decimal,
    /// Size step for the keys.
    pub step: Decimal,
    /// Where the data comes from.
    pub source: Source,
    /// Venues in config order.
    pub venues: Vec<VenueView>,
    /// The merged walk.
    pub merged: MergedView,
    /// Total frames per second over all venues.
    pub msgs_per_sec: f64,
    /// The state actor's count of Views published before this one (0 from the engine itself).
    pub seq: u64,
    /// When the earliest frame applied since the previous View was received, if any (set by the
    /// state actor; the UI measures receive → screen with it).
    pub first_received: Option<tokio::time::Instant>,
}

impl View {
    /// The side the ticket walks.
    #[must_use]
    pub fn side(&self) -> Side {
        self.action.walked_side()
    }

    /// True once at least one venue is live.
    #[must_use]
    pub fn any_live(&self) -> bool {
        self.venues.iter().any(|v| v.status == Status::Live)
    }
}
