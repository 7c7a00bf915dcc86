//! `Engine`: the synchronous core that owns every venue's book, the ticket and venue health.
//!
//! Frames go in (from a WebSocket task, the simulator or a capture file — the engine cannot tell), the
//! venue's adapter decodes and verifies them, and [`Engine::view`] builds the immutable [`View`]. All
//! time is the *stream clock* passed in with each event (`ts_ns`), so a replay at any speed computes
//! exactly what the live run showed.

use std::collections::VecDeque;

use rust_decimal::Decimal;

use crate::config::{Config, VenueConfig};
use crate::feed::{Adapter, FrameError, FrameOutcome, Limits, build_adapter, truncate_for_log};
use crate::market::book::{Px, UNITS_SCALE, exact_units};
use crate::market::{Action, Depletion, OrderBook, Side, walk, walk_merged, walk_merged_levels};
use crate::state::Command;
use crate::state::view::{Counters, DepthPoint, MergedView, Source, Status, VenueView, View};

/// Why the feed of a venue should act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// The book failed an integrity check: get a fresh snapshot now.
    Resync,
    /// The venue reported an error: drop the connection and retry with backoff.
    Reconnect,
}

/// The state of a venue's connection, as reported by its feed task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    /// Opening a connection (attempt number, from 1).
    Connecting {
        /// Attempt number since the last stable connection.
        attempt: u32,
    },
    /// Connected and subscriptions sent; why this connection was made.
    Connected {
        /// First connection, a reconnect after a loss, or a resync.
        reason: ConnectReason,
    },
    /// The connection is gone; the next attempt is in `retry_in_ms`.
    Down {
        /// What happened (close reason, I/O error, DNS failure…).
        reason: String,
        /// Delay before the next attempt.
        retry_in_ms: u64,
    },
    /// No frame for longer than the venue's silence limit: the connection is being replaced.
    Stale,
}

/// Why a connection was (re)established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectReason {
    /// The first connection of the run.
    First,
    /// After a lost or failed connection.
    Reconnect,
    /// After an integrity failure asked for a fresh book.
    Resync,
}

/// The order being priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    /// Buy or sell.
    pub action: Action,
    /// Size in base currency (> 0).
    pub quantity: Decimal,
    /// What Up/Down add or remove.
    pub step: Decimal,
}

/// Smallest step; sizes are kept on this grid's precision.
const MIN_STEP: Decimal = Decimal::from_parts(1, 0, 0, false, 8);
/// Largest size or step accepted (base currency).
const MAX_SIZE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
const TEN: Decimal = Decimal::TEN;
const NS_PER_MS: i64 = 1_000_000;
const RATE_WINDOW_S: usize = 5;
const LATENCY_SAMPLES: usize = 2048;

impl Ticket {
    /// Applies a ticket command; returns false when it changed nothing.
    pub fn apply(&mut self, cmd: &Command) -> bool {
        let before = *self;
        match cmd {
            Command::SetAction(a) => self.action = *a,
            Command::FlipAction => self.action = self.action.flipped(),
            Command::SizeUp => {
                let q = self.quantity + self.step;
                if q <= MAX_SIZE {
                    self.quantity = q;
                }
            }
            Command::SizeDown => {
                let q = self.quantity - self.step;
                if q > Decimal::ZERO {
                    self.quantity = q;
                }
            }
            Command::StepUp => {
                let s = self.step * TEN;
                if s <= MAX_SIZE {
                    self.step = s;
                }
            }
            Command::StepDown => {
                let s = self.step / TEN;
                if s >= MIN_STEP {
                    self.step = s.normalize();
                }
            }
            Command::SetSize(q) => {
                if *q > Decimal::ZERO && *q <= MAX_SIZE {
                    self.quantity = *q;
                }
            }
            Command::ToggleVenue(_) => {}
        }
        *self != before
    }
}

/// Frames per stream-clock second over a short window.
#[derive(Debug, Default)]
struct RateMeter {
    /// (second, count), oldest first.
    buckets: VecDeque<(i64, u32)>,
}

impl RateMeter {
    fn record(&mut self, ts_ns: i64) {
        let sec = ts_ns.div_euclid(1_000_000_000);
        match self.buckets.back_mut() {
            Some((s, n)) if *s == sec => *n += 1,
            _ => {
                self.buckets.push_back((sec, 1));
                while self.buckets.len() > RATE_WINDOW_S + 1 {
                    self.buckets.pop_front();
                }
            }
        }
    }

    /// Average over the last full seconds before `now_ns`.
    #[expect(clippy::cast_precision_loss, reason = "display-only rate")]
    fn per_sec(&self, now_ns: i64) -> f64 {
        let now = now_ns.div_euclid(1_000_000_000);
        let lo = now - RATE_WINDOW_S as i64;
        let n: u64 = self
            .buckets
            .iter()
            .filter(|(s, _)| *s >= lo && *s < now)
            .map(|(_, n)| u64::from(*n))
            .sum();
        // A venue seen for less than the window is averaged over the seconds it has been seen.
        let first = self.buckets.front().map_or(now, |(s, _)| *s).max(lo);
        let span = (now - first).clamp(1, RATE_WINDOW_S as i64);
        n as f64 / span as f64
    }
}

struct VenueState {
    cfg: VenueConfig,
    adapter: Box<dyn Adapter>,
    book: OrderBook,
    status: Status,
    detail: Option<String>,
    included: bool,
    counters: Counters,
    last_frame_ns: Option<i64>,
    /// When a down venue's next connection attempt is due (for the countdown).
    retry_at_ns: Option<i64>,
    rate: RateMeter,
    /// The last latency samples, oldest first.
    latency_us: VecDeque<u64>,
    /// The same samples, sorted (kept in step so a View reads p50/p99 without sorting).
    latency_sorted: Vec<u64>,
    /// Stream time of the first frame since the venue last needed a snapshot (syncing/resyncing).
    waiting_since_ns: Option<i64>,
    /// Stream time of the first of an unbroken run of frames that could not be read.
    malformed_since_ns: Option<i64>,
}

impl VenueState {
    /// Drops the book; the adapter waits for a real snapshot on this same stream.
    fn drop_book(&mut self, status: Status, detail: Option<String>) {
        self.book.clear();
        self.adapter.invalidate();
        self.status = status;
        self.detail = detail;
        self.waiting_since_ns = None;
        self.malformed_since_ns = None;
    }

    /// How long a connection may talk without delivering a book: twice the silence limit.
    fn snapshot_deadline_ns(&self) -> i64 {
        i64::try_from(self.cfg.stale_after_ms)
            .unwrap_or(i64::MAX / 2)
            .saturating_mul(2 * NS_PER_MS)
    }
}

/// Books, ticket and health for every configured venue.
pub struct Engine {
    symbol: String,
    source: Source,
    ticket: Ticket,
    venues: Vec<VenueState>,
}

/// What [`Engine::view`] should include beyond the headless figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewOptions {
    /// Build the cumulative depth curves (the dashboard's chart); the headless writer does not need them.
    pub depth: bool,
}

impl Engine {
    /// An engine for the enabled venues of `config`, starting with `ticket`.
    ///
    /// # Errors
    /// A venue whose adapter this build does not know.
    pub fn new(config: &Config, ticket: Ticket, source: Source) -> Result<Self, String> {
        let limits = Limits {
            max_levels_per_side: config.max_levels_per_side,
        };
        let venues = config
            .venues
            .iter()
            .map(|v| {
                Ok(VenueState {
                    cfg: v.clone(),
                    adapter: build_adapter(v, limits)?,
                    book: OrderBook::new(),
                    status: Status::Connecting,
                    detail: None,
                    included: true,
                    counters: Counters::default(),
                    last_frame_ns: None,
                    retry_at_ns: None,
                    rate: RateMeter::default(),
                    latency_us: VecDeque::new(),
                    waiting_since_ns: None,
                    malformed_since_ns: None,
                    latency_sorted: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            symbol: config.symbol.clone(),
            source,
            ticket,
            venues,
        })
    }

    /// The venue names, in config order.
    pub fn venue_names(&self) -> impl Iterator<Item = &str> {
        self.venues.iter().map(|v| v.cfg.name.as_str())
    }

    /// Index of the venue called `name`.
    #[must_use]
    pub fn venue_index(&self, name: &str) -> Option<usize> {
        self.venues.iter().position(|v| v.cfg.name == name)
    }

    /// The current ticket.
    #[must_use]
    pub fn ticket(&self) -> Ticket {
        self.ticket
    }

    /// A venue's book (tests and benchmarks).
    #[must_use]
    pub fn book(&self, venue: usize) -> Option<&OrderBook> {
        self.venues.get(venue).map(|v| &v.book)
    }

    /// The latest frame time over all venues (the stream clock's "now" at the end of a run).
    #[must_use]
    pub fn last_frame_ns(&self) -> Option<i64> {
        self.venues.iter().filter_map(|v| v.last_frame_ns).max()
    }

    /// A venue's status as stored (stale is derived in [`Engine::view`]).
    #[must_use]
    pub fn status(&self, venue: usize) -> Option<Status> {
        self.venues.get(venue).map(|v| v.status)
    }

    /// Applies a ticket or merge-set command; returns false when nothing changed.
    pub fn command(&mut self, cmd: &Command) -> bool {
        if let Command::ToggleVenue(i) = cmd {
            return match self.venues.get_mut(*i) {
                Some(v) => {
                    v.included = !v.included;
                    tracing::info!(target: "walk", venue = %v.cfg.name, included = v.included, "merge set changed");
                    true
                }
                None => false,
            };
        }
        let changed = self.ticket.apply(cmd);
        if changed {
            tracing::info!(target: "walk", action = %self.ticket.action, quantity = %self.ticket.quantity, step = %self.ticket.step, "ticket changed");
        }
        changed
    }

    /// A new connection (live: the feed connected; replay: the capture shows a new subscription).
    /// The old book is gone: nothing of it can be trusted on a new connection.
    pub fn on_connection(&mut self, venue: usize, reason: ConnectReason) {
        let Some(v) = self.venues.get_mut(venue) else {
            return;
        };
        if reason == ConnectReason::Reconnect {
            v.counters.reconnects += 1;
        }
        v.book.clear();
        v.adapter.reset();
        v.status = Status::Syncing;
        v.detail = None;
        v.waiting_since_ns = None;
        v.malformed_since_ns = None;
        tracing::info!(target: "connection", venue = %v.cfg.name, ?reason, "connected, subscribed");
    }

    /// A change in a venue's connection, at stream time `now_ns`.
    pub fn on_link(&mut self, venue: usize, now_ns: i64, status: &LinkStatus) {
        let Some(v) = self.venues.get_mut(venue) else {
            return;
        };
        match status {
            LinkStatus::Connecting { attempt } => {
                // Keep a Down venue's error text visible while it retries.
                if v.status != Status::Down {
                    v.status = Status::Connecting;
                    v.detail = (*attempt > 1).then(|| format!("attempt {attempt}"));
                }
            }
            LinkStatus::Connected { reason } => {
                v.retry_at_ns = None;
                self.on_connection(venue, *reason);
            }
            LinkStatus::Down {
                reason,
                retry_in_ms,
            } => {
                // An empty reason follows a venue error whose text is already shown: keep it.
                let text = if reason.is_empty() {
                    v.detail.clone().unwrap_or_else(|| "venue error".to_owned())
                } else {
                    reason.clone()
                };
                let retry_ns = i64::try_from(*retry_in_ms)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(NS_PER_MS);
                v.retry_at_ns = Some(now_ns.saturating_add(retry_ns));
                tracing::warn!(target: "connection", venue = %v.cfg.name, %text, retry_in_ms, "down");
                v.drop_book(Status::Down, Some(text));
            }
            LinkStatus::Stale => {
                v.drop_book(Status::Stale, Some("no data: reconnecting".to_owned()));
                tracing::warn!(target: "connection", venue = %v.cfg.name, "stale: reconnecting");
            }
        }
    }

    /// One frame received from `venue` at stream time `ts_ns`. Returns what the feed should do, if
    /// anything (a live feed resubscribes or reconnects; a replay just waits for the next snapshot).
    ///
    /// A connection that keeps talking (heartbeats, acks, updates it cannot use) without delivering a
    /// book for twice the venue's silence limit is stalled: it is resynced like an integrity failure.
    /// So is a live one whose every frame for that long is malformed: its book would be frozen.
    pub fn on_frame(&mut self, venue: usize, ts_ns: i64, frame: &str) -> Option<Control> {
        let ctl = self.apply_frame(venue, ts_ns, frame);
        let v = self.venues.get_mut(venue)?;
        if ctl.is_none()
            && v.status == Status::Live
            && let Some(since) = v.malformed_since_ns
            && ts_ns.saturating_sub(since) > v.snapshot_deadline_ns()
        {
            v.counters.resyncs += 1;
            let secs = v.snapshot_deadline_ns() / 1_000_000_000;
            tracing::warn!(target: "processing", venue = %v.cfg.name, secs, "only malformed frames: resync");
            v.drop_book(
                Status::Resyncing,
                Some(format!("only malformed frames for {secs}s: resubscribing")),
            );
            return Some(Control::Resync);
        }
        if ctl.is_some() || !matches!(v.status, Status::Syncing | Status::Resyncing) {
            v.waiting_since_ns = None;
            return ctl;
        }
        let since = *v.waiting_since_ns.get_or_insert(ts_ns);
        let deadline = v.snapshot_deadline_ns();
        if ts_ns.saturating_sub(since) <= deadline {
            return None;
        }
        v.counters.resyncs += 1;
        let secs = deadline / 1_000_000_000;
        tracing::warn!(target: "processing", venue = %v.cfg.name, secs, "no book: resync");
        v.drop_book(
            Status::Resyncing,
            Some(format!("no book after {secs}s: resubscribing")),
        );
        Some(Control::Resync)
    }

    fn apply_frame(&mut self, venue: usize, ts_ns: i64, frame: &str) -> Option<Control> {
        let v = self.venues.get_mut(venue)?;
        v.counters.messages += 1;
        v.last_frame_ns = Some(ts_ns);
        v.rate.record(ts_ns);
        let name = &v.cfg.name;
        // A decoder bug must not take every venue down with the actor: contain it to this venue.
        let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            v.adapter.on_frame(frame, &mut v.book)
        }));
        if !matches!(decoded, Ok(Err(FrameError::Malformed(_)))) {
            v.malformed_since_ns = None;
        }
        let Ok(decoded) = decoded else {
            v.counters.bad_frames += 1;
            v.counters.resyncs += 1;
            tracing::error!(target: "processing", venue = %name, frame = truncate_for_log(frame), "decoder panicked: book dropped, resync");
            v.book.clear();
            v.adapter.reset();
            v.status = Status::Resyncing;
            v.detail = Some("internal error: resync".to_owned());
            return Some(Control::Resync);
        };
        match decoded {
            Ok(FrameOutcome::Snapshot | FrameOutcome::Update) => {
                if v.book.is_crossed() {
                    v.counters.crossed_books += 1;
                    v.counters.resyncs += 1;
                    tracing::warn!(target: "processing", venue = %name, bid = ?v.book.best(Side::Bid), ask = ?v.book.best(Side::Ask), "crossed book: resync");
                    v.drop_book(Status::Resyncing, Some("crossed book".to_owned()));
                    return Some(Control::Resync);
                }
                if v.status != Status::Live {
                    tracing::info!(target: "processing", venue = %name, bids = v.book.depth(Side::Bid), asks = v.book.depth(Side::Ask), "live");
                }
                v.status = Status::Live;
                v.detail = None;
                None
            }
            Ok(FrameOutcome::Heartbeat | FrameOutcome::Ack | FrameOutcome::Ignored) => {
                if v.status == Status::Connecting {
                    v.status = Status::Syncing;
                }
                None
            }
            Ok(FrameOutcome::AwaitingSnapshot) => None,
            Ok(FrameOutcome::ServerError(text)) => {
                tracing::error!(target: "connection", venue = %name, error = %text, "venue error");
                v.drop_book(Status::Down, Some(format!("venue error: {text}")));
                Some(Control::Reconnect)
            }
            Err(FrameError::Malformed(why)) => {
                v.counters.bad_frames += 1;
                v.malformed_since_ns.get_or_insert(ts_ns);
                tracing::warn!(target: "processing", venue = %name, %why, frame = truncate_for_log(frame), "bad frame");
                None
            }
            Err(e) if v.status == Status::Resyncing => {
                // The book is already dropped and a fresh one requested: later failures on the same
                // stream (e.g. the rest of a reordered pair) belong to the same incident.
                tracing::debug!(target: "processing", venue = %name, error = %e, "integrity failure while resyncing");
                None
            }
            Err(e) => {
                match e {
                    FrameError::Checksum { .. } => v.counters.checksum_failures += 1,
                    FrameError::SequenceGap { .. } => v.counters.sequence_gaps += 1,
                    _ => v.counters.bad_frames += 1,
                }
                v.counters.resyncs += 1;
                tracing::warn!(target: "processing", venue = %name, error = %e, "integrity failure: resync");
                v.drop_book(Status::Resyncing, Some(e.to_string()));
                Some(Control::Resync)
            }
        }
    }

    /// Records a receive → View latency sample (live runs).
    pub fn record_latency(&mut self, venue: usize, micros: u64) {
        if let Some(v) = self.venues.get_mut(venue) {
            if v.latency_us.len() == LATENCY_SAMPLES
                && let Some(old) = v.latency_us.pop_front()
                && let Ok(i) = v.latency_sorted.binary_search(&old)
            {
                v.latency_sorted.remove(i);
            }
            v.latency_us.push_back(micros);
            let at = v.latency_sorted.partition_point(|&x| x <= micros);
            v.latency_sorted.insert(at, micros);
        }
    }

    /// Receive → View latency per venue over its last samples, for the processing log.
    #[must_use]
    pub fn latency_summary(&self) -> Vec<LatencySummary> {
        self.venues
            .iter()
            .map(|v| {
                let mut histogram = [0; LATENCY_BUCKETS_US.len() + 1];
                let mut below = 0;
                for (i, &edge) in LATENCY_BUCKETS_US.iter().enumerate() {
                    let upto = v.latency_sorted.partition_point(|&x| x <= edge);
                    histogram[i] = upto - below;
                    below = upto;
                }
                histogram[LATENCY_BUCKETS_US.len()] = v.latency_sorted.len() - below;
                LatencySummary {
                    venue: v.cfg.name.clone(),
                    frames: v.counters.messages,
                    percentiles: percentiles(&v.latency_sorted),
                    histogram,
                }
            })
            .collect()
    }

    fn effective_status(v: &VenueState, now_ns: i64) -> Status {
        let silent_too_long = |limit_ms: u64| {
            v.last_frame_ns.is_some_and(|t| {
                now_ns.saturating_sub(t)
                    > i64::try_from(limit_ms)
                        .unwrap_or(i64::MAX)
                        .saturating_mul(NS_PER_MS)
            })
        };
        if v.status == Status::Live && silent_too_long(v.cfg.stale_after_ms) {
            Status::Stale
        } else {
            v.status
        }
    }

    /// Builds the View at stream time `now_ns`.
    #[must_use]
    pub fn view(&self, now_ns: i64, opts: ViewOptions) -> View {
        let side = self.ticket.action.walked_side();
        let q = self.ticket.quantity;
        let mut merged_books = Vec::with_capacity(self.venues.len());
        let mut venues = Vec::with_capacity(self.venues.len());
        let mut msgs_per_sec = 0.0;
        // With depth curves, each book is read once, as far as the curves go (twice the order), and
        // the walks and curves all read that.
        let target = units(depth_reach(q));
        let reaches: Vec<Reach> = if opts.depth {
            self.venues
                .iter()
                .map(|v| reach(v.book.levels(side).keyed(), target))
                .collect()
        } else {
            Vec::new()
        };
        let mut merged_reaches = Vec::with_capacity(self.venues.len());
        for (i, v) in self.venues.iter().enumerate() {
            let status = Self::effective_status(v, now_ns);
            let merged = status == Status::Live && v.included;
            merged_books.push(merged.then_some(&v.book));
            let rate = v.rate.per_sec(now_ns);
            msgs_per_sec += rate;
            let (walk, depth) = match reaches.get(i) {
                Some(r) => {
                    if merged {
                        merged_reaches.push(r.as_slice());
                    }
                    let levels = r.iter().map(|&(key, qty, _)| (key.price(), qty));
                    (walk(levels, q), depth_curve(r))
                }
                None => (walk(v.book.levels(side), q), Vec::new()),
            };
            let detail = match (status, &v.detail, v.retry_at_ns) {
                (Status::Stale, None, _) => Some(format!(
                    "no frame for {}s",
                    v.last_frame_ns
                        .map_or(0, |t| now_ns.saturating_sub(t) / 1_000_000_000)
                )),
                // A live countdown to the next attempt.
                (Status::Down, Some(d), Some(at)) if at > now_ns => {
                    let secs = Decimal::new((at - now_ns) / NS_PER_MS, 3).round_dp(1);
                    Some(format!("{d} · retry in {secs}s"))
                }
                (Status::Down, Some(d), Some(_)) => Some(format!("{d} · retrying")),
                (_, d, _) => d.clone(),
            };
            venues.push(VenueView {
                name: v.cfg.name.clone(),
                quote: v.cfg.quote.clone(),
                status,
                detail,
                included: v.included,
                merged,
                counters: v.counters,
                last_frame_age_ms: v
                    .last_frame_ns
                    .map(|t| u64::try_from(now_ns.saturating_sub(t) / NS_PER_MS).unwrap_or(0)),
                msgs_per_sec: rate,
                best_bid: v.book.best(Side::Bid).map(|l| l.0),
                best_ask: v.book.best(Side::Ask).map(|l| l.0),
                book_levels: (v.book.depth(Side::Bid), v.book.depth(Side::Ask)),
                walk,
                depth,
                taker_fee_bps: v.cfg.taker_fee_bps,
                latency_us: percentiles(&v.latency_sorted),
            });
        }
        let mwalk = if opts.depth {
            let heads = reaches.iter().zip(&merged_books).map(|(r, b)| {
                b.is_some()
                    .then(|| r.iter().map(|&(key, qty, _)| (key.price(), qty)))
            });
            walk_merged_levels(heads, side, q)
        } else {
            walk_merged(&merged_books, side, q)
        };
        let merged_depth = if opts.depth {
            merged_depth_curve(&merged_reaches, side, target)
        } else {
            Vec::new()
        };
        let vs_best_single = best_single(&venues, &mwalk, side);
        let (incl, excl): (Vec<_>, Vec<_>) = venues.iter().partition(|v| v.merged);
        View {
            ts_ns: now_ns,
            symbol: self.symbol.clone(),
            action: self.ticket.action,
            quantity: q,
            step: self.ticket.step,
            source: self.source,
            merged: MergedView {
                venues: incl.iter().map(|v| v.name.clone()).collect(),
                excluded: excl.iter().map(|v| v.name.clone()).collect(),
                walk: mwalk,
                depth: merged_depth,
                vs_best_single,
            },
            venues,
            msgs_per_sec,
            seq: 0,
            first_received: None,
        }
    }
}

/// The depth picture reaches this multiple of the order size.
const DEPTH_REACH: Decimal = Decimal::from_parts(2, 0, 0, false, 0);
const DEPTH_MAX_POINTS: usize = 120;

/// A quantity as a count of 10^-18 units, for the depth sums: integer adds and compares instead of
/// `Decimal` ones (a View sums a few hundred levels). Exact for every quantity of at most 18
/// decimals — all the adapters produce; a finer one is rounded, below anything a picture can show.
fn units(q: Decimal) -> u128 {
    if q.is_sign_negative() {
        return 0;
    }
    exact_units(q)
        .or_else(|| exact_units(q.round_dp(UNITS_SCALE)))
        .unwrap_or(u128::MAX)
}

/// The quantity of `units` 10^-18 units (saturating at `Decimal::MAX`).
fn from_units(units: u128) -> Decimal {
    i128::try_from(units)
        .ok()
        .and_then(|m| Decimal::try_from_i128_with_scale(m, UNITS_SCALE).ok())
        .unwrap_or(Decimal::MAX)
}

/// How deep the depth picture goes for an order of `quantity`.
fn depth_reach(quantity: Decimal) -> Decimal {
    quantity.checked_mul(DEPTH_REACH).unwrap_or(Decimal::MAX)
}

/// One side of a book from the best level until `target` units are reached (or the book ends): each
/// level's key (its price, comparing as integers), quantity, and quantity in units.
type Reach = Vec<(Px, Decimal, u128)>;

/// The levels of `levels` up to `target` units (the level that reaches it included).
fn reach(levels: impl Iterator<Item = (Px, Decimal)>, target: u128) -> Reach {
    let mut cum = 0u128;
    let mut out = Vec::with_capacity(DEPTH_MAX_POINTS);
    for (key, qty) in levels {
        let u = units(qty);
        cum = cum.saturating_add(u);
        out.push((key, qty, u));
        if cum >= target {
            break;
        }
    }
    out
}

/// Cumulative depth along one venue's reach.
fn depth_curve(reach: &[(Px, Decimal, u128)]) -> Vec<DepthPoint> {
    let mut cum = 0u128;
    thin(
        reach
            .iter()
            .map(|&(key, _, u)| {
                cum = cum.saturating_add(u);
                DepthPoint {
                    price: key.price(),
                    cum_qty: from_units(cum),
                }
            })
            .collect(),
    )
}

/// The merged books' cumulative depth up to `target` units: the fills of
/// `walk_merged(books, side, target)` (same order, ties to the venue listed first, the last one
/// partial) as cumulative points, without the walk's notional and per-venue sums, which the picture
/// does not need. Each venue's reach goes at least as far as `target`, which is as far as the merged
/// walk can take it.
fn merged_depth_curve(
    reaches: &[&[(Px, Decimal, u128)]],
    side: Side,
    target: u128,
) -> Vec<DepthPoint> {
    let mut next = vec![0usize; reaches.len()];
    let mut remaining = target;
    let mut cum = 0u128;
    let mut out = Vec::with_capacity(DEPTH_MAX_POINTS);
    while remaining > 0 {
        let mut pick: Option<(usize, Px, u128)> = None;
        for (i, r) in reaches.iter().enumerate() {
            if let Some(&(key, _, u)) = r.get(next[i])
                && pick.is_none_or(|(_, best, _)| match side {
                    Side::Bid => key > best,
                    Side::Ask => key < best,
                })
            {
                pick = Some((i, key, u));
            }
        }
        let Some((i, key, u)) = pick else { break };
        next[i] += 1;
        let take = u.min(remaining);
        remaining -= take;
        cum += take;
        out.push(DepthPoint {
            price: key.price(),
            cum_qty: from_units(cum),
        });
    }
    thin(out)
}

/// Keeps at most `DEPTH_MAX_POINTS` points, always the first and the last.
fn thin(mut points: Vec<DepthPoint>) -> Vec<DepthPoint> {
    if points.len() <= DEPTH_MAX_POINTS {
        return points;
    }
    let stride = points.len().div_ceil(DEPTH_MAX_POINTS);
    let last = points.len() - 1;
    let mut i = 0;
    points.retain(|_| {
        let keep = i % stride == 0 || i == last;
        i += 1;
        keep
    });
    points
}

/// The best single merged venue that fills the whole order, and merged's advantage over it.
fn best_single(
    venues: &[VenueView],
    merged: &crate::market::MergedWalk,
    side: Side,
) -> Option<(String, Decimal)> {
    if merged.filled.is_zero() || merged.is_partial() {
        return None;
    }
    let best = venues
        .iter()
        .filter(|v| v.merged && !v.walk.is_partial() && !v.walk.filled.is_zero())
        .reduce(|a, b| {
            let b_better = match side {
                Side::Bid => b.walk.notional > a.walk.notional,
                Side::Ask => b.walk.notional < a.walk.notional,
            };
            if b_better { b } else { a }
        })?;
    let saving = match side {
        Side::Bid => merged.notional - best.walk.notional,
        Side::Ask => best.walk.notional - merged.notional,
    };
    Some((best.name.clone(), saving))
}

/// Upper edges (µs, inclusive) of the latency histogram's buckets; one more bucket holds the rest.
pub const LATENCY_BUCKETS_US: [u64; 9] = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000];

/// One venue's receive → View latency (see [`Engine::latency_summary`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencySummary {
    /// Config name.
    pub venue: String,
    /// Frames received so far.
    pub frames: u64,
    /// p50 and p99 in µs over the last samples, if any.
    pub percentiles: Option<(u64, u64)>,
    /// Samples per bucket of [`LATENCY_BUCKETS_US`], the last one above its last edge.
    pub histogram: [usize; LATENCY_BUCKETS_US.len() + 1],
}

impl LatencySummary {
    /// The histogram as `≤50µs:3 ≤100µs:40 … >50ms:0`.
    #[must_use]
    pub fn histogram_text(&self) -> String {
        let mut out = String::new();
        for (i, n) in self.histogram.iter().enumerate() {
            if !out.is_empty() {
                out.push(' ');
            }
            match LATENCY_BUCKETS_US.get(i) {
                Some(edge) => out.push_str(&format!("≤{}:{n}", crate::ui::format::micros(*edge))),
                None => {
                    let last = LATENCY_BUCKETS_US.last().copied().unwrap_or(0);
                    out.push_str(&format!(">{}:{n}", crate::ui::format::micros(last)));
                }
            }
        }
        out
    }
}

/// p50 and p99 of `sorted` (ascending), nearest-rank below.
fn percentiles(sorted: &[u64]) -> Option<(u64, u64)> {
    let at = |p: usize| {
        sorted
            .get((sorted.len().checked_sub(1)? * p) / 100)
            .copied()
    };
    Some((at(50)?, at(99)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::d;

    const CB: usize = 1;
    const GE: usize = 2;
    const T0: i64 = 1_786_309_600_000_000_000;
    const MS: i64 = 1_000_000;

    fn engine(action: Action, qty: &str) -> Engine {
        let config = Config::default_config().expect("default config");
        let ticket = Ticket {
            action,
            quantity: d(qty),
            step: d("1"),
        };
        Engine::new(&config, ticket, Source::Replay).expect("engine")
    }

    fn cb_frame(seq: u64, kind: &str, levels: &[(&str, &str, &str)]) -> String {
        let ups: Vec<String> = levels
            .iter()
            .map(|(s, p, q)| {
                format!(r#"{{"side":"{s}","event_time":"2026-08-09T21:05:48.170326Z","price_level":"{p}","new_quantity":"{q}"}}"#)
            })
            .collect();
        format!(
            r#"{{"channel":"l2_data","timestamp":"2026-08-09T21:05:48.483587501Z","sequence_num":{seq},"events":[{{"type":"{kind}","product_id":"BTC-USD","updates":[{}]}}]}}"#,
            ups.join(",")
        )
    }

    fn gem_snapshot(levels: &[(&str, &str, &str)]) -> String {
        let ch: Vec<String> = levels
            .iter()
            .map(|(s, p, q)| format!(r#"["{s}","{p}","{q}"]"#))
            .collect();
        format!(
            r#"{{"auction_events":[],"changes":[{}],"symbol":"BTCUSD","trades":[],"type":"l2_updates"}}"#,
            ch.join(",")
        )
    }

    /// Coinbase and Gemini live with small books; Kraken never connected.
    fn two_live(action: Action, qty: &str) -> Engine {
        let mut e = engine(action, qty);
        e.on_connection(CB, ConnectReason::First);
        e.on_connection(GE, ConnectReason::First);
        let cb = cb_frame(
            0,
            "snapshot",
            &[
                ("bid", "100.00", "1"),
                ("bid", "99.50", "2"),
                ("offer", "101", "1"),
                ("offer", "102", "3"),
            ],
        );
        assert_eq!(e.on_frame(CB, T0, &cb), None);
        let ge = gem_snapshot(&[
            ("buy", "100.25", "0.5"),
            ("buy", "99.5", "1"),
            ("sell", "100.75", "2"),
        ]);
        assert_eq!(e.on_frame(GE, T0, &ge), None);
        e
    }

    fn status(view: &View, venue: usize) -> Status {
        view.venues[venue].status
    }

    #[test]
    fn snapshots_make_venues_live_and_merged_walks_them_together() {
        let e = two_live(Action::Sell, "2");
        let v = e.view(T0, ViewOptions { depth: true });
        assert_eq!(
            (status(&v, CB), status(&v, GE), status(&v, 0)),
            (Status::Live, Status::Live, Status::Connecting)
        );
        assert_eq!(v.merged.venues, ["coinbase", "gemini"]);
        assert_eq!(v.merged.excluded, ["kraken"]);
        let fills: Vec<_> = v
            .merged
            .walk
            .fills
            .iter()
            .map(|f| (f.price, f.qty, f.venue))
            .collect();
        // gemini 100.25 first, then coinbase 100.00, then 99.50: coinbase (config order) before gemini.
        assert_eq!(
            fills,
            vec![
                (d("100.25"), d("0.5"), GE),
                (d("100.00"), d("1"), CB),
                (d("99.50"), d("0.5"), CB)
            ]
        );
        assert_eq!(v.merged.walk.notional, d("50.125") + d("100") + d("49.75"));
        // Coinbase alone: 100 + 99.5 = 199.5; merged: 199.875 → 0.375 better.
        assert_eq!(
            v.merged.vs_best_single,
            Some(("coinbase".to_owned(), d("0.375")))
        );
        assert_eq!(v.venues[GE].walk.unfilled, d("0.5"));
        assert_eq!(v.venues[CB].depth.last().map(|p| p.cum_qty), Some(d("3")));
    }

    #[test]
    fn sequence_gap_resyncs_and_leaves_the_merged_walk_until_a_snapshot() {
        let mut e = two_live(Action::Buy, "1");
        let gap = cb_frame(2, "update", &[("offer", "101", "5")]);
        assert_eq!(e.on_frame(CB, T0 + MS, &gap), Some(Control::Resync));
        let v = e.view(T0 + MS, ViewOptions { depth: false });
        assert_eq!(status(&v, CB), Status::Resyncing);
        assert_eq!(
            (
                v.venues[CB].counters.sequence_gaps,
                v.venues[CB].counters.resyncs
            ),
            (1, 1)
        );
        assert_eq!(v.merged.venues, ["gemini"]);
        assert_eq!(v.venues[CB].book_levels, (0, 0));
        // Updates on the same stream wait for a snapshot; the snapshot brings the venue back.
        assert_eq!(
            e.on_frame(
                CB,
                T0 + 2 * MS,
                &cb_frame(3, "update", &[("offer", "101", "5")])
            ),
            None
        );
        assert_eq!(e.status(CB), Some(Status::Resyncing));
        assert_eq!(
            e.on_frame(
                CB,
                T0 + 3 * MS,
                &cb_frame(4, "snapshot", &[("bid", "100", "1"), ("offer", "101", "2")])
            ),
            None
        );
        assert_eq!(e.status(CB), Some(Status::Live));
    }

    #[test]
    fn malformed_frames_are_counted_and_leave_the_book_alone() {
        let mut e = two_live(Action::Sell, "1");
        let before = e.book(GE).cloned();
        for bad in [
            "not json",
            "{\"type\":\"l2_updates\"}",
            "[1,2]",
            "{\"changes\":[[\"buy\",\"NaN\",\"1\"]],\"symbol\":\"BTCUSD\",\"type\":\"l2_updates\"}",
        ] {
            assert_eq!(e.on_frame(GE, T0, bad), None);
        }
        let v = e.view(T0, ViewOptions { depth: false });
        assert_eq!(v.venues[GE].counters.bad_frames, 4);
        assert_eq!(status(&v, GE), Status::Live);
        assert_eq!(e.book(GE).cloned(), before);
    }

    #[test]
    fn a_live_venue_sending_only_malformed_frames_is_resynced() {
        let mut e = two_live(Action::Sell, "1");
        let deadline = e.venues[GE].snapshot_deadline_ns();
        let bad = "{\"type\":\"l2_updates\"}";
        let good = r#"{"changes":[["buy","99","1"]],"symbol":"BTCUSD","type":"l2_updates"}"#;
        // Bad frames with a good one among them: counted, the book kept.
        assert_eq!(e.on_frame(GE, T0, bad), None);
        assert_eq!(e.on_frame(GE, T0 + deadline, good), None);
        assert_eq!(e.on_frame(GE, T0 + deadline + MS, bad), None);
        assert_eq!(e.on_frame(GE, T0 + 2 * deadline, bad), None);
        assert_eq!(e.status(GE), Some(Status::Live));
        // Nothing but bad frames for longer than the deadline: resync.
        assert_eq!(
            e.on_frame(GE, T0 + 2 * deadline + 2 * MS, bad),
            Some(Control::Resync)
        );
        let v = e.view(T0 + 2 * deadline + 2 * MS, ViewOptions { depth: false });
        assert_eq!(status(&v, GE), Status::Resyncing);
        assert_eq!(v.venues[GE].counters.bad_frames, 4);
        assert_eq!(v.venues[GE].counters.resyncs, 1);
        assert!(
            v.venues[GE]
                .detail
                .as_deref()
                .is_some_and(|d| d.starts_with("only malformed frames")),
            "{:?}",
            v.venues[GE].detail
        );
        assert!(!v.venues[GE].merged);
    }

    #[test]
    fn a_crossed_book_is_dropped_and_resynced() {
        let mut e = two_live(Action::Sell, "1");
        let crossing = r#"{"changes":[["buy","101","1"]],"symbol":"BTCUSD","type":"l2_updates"}"#;
        assert_eq!(e.on_frame(GE, T0, crossing), Some(Control::Resync));
        let v = e.view(T0, ViewOptions { depth: false });
        assert_eq!(status(&v, GE), Status::Resyncing);
        assert_eq!(v.venues[GE].counters.crossed_books, 1);
        assert_eq!(v.merged.excluded, ["kraken", "gemini"]);
    }

    #[test]
    fn a_venue_error_takes_it_down_with_the_text_and_asks_for_a_reconnect() {
        let mut e = two_live(Action::Sell, "1");
        let err = r#"{"type":"error","message":"Failed to subscribe"}"#;
        assert_eq!(e.on_frame(CB, T0, err), Some(Control::Reconnect));
        e.on_link(
            CB,
            T0,
            &LinkStatus::Down {
                reason: String::new(),
                retry_in_ms: 1500,
            },
        );
        let v = e.view(T0, ViewOptions { depth: false });
        assert_eq!(status(&v, CB), Status::Down);
        assert_eq!(
            v.venues[CB].detail.as_deref(),
            Some("venue error: Failed to subscribe · retry in 1.5s")
        );
        // The countdown runs on the stream clock.
        let later = e.view(T0 + 1_000 * MS, ViewOptions { depth: false });
        assert_eq!(
            later.venues[CB].detail.as_deref(),
            Some("venue error: Failed to subscribe · retry in 0.5s")
        );
        let due = e.view(T0 + 2_000 * MS, ViewOptions { depth: false });
        assert_eq!(
            due.venues[CB].detail.as_deref(),
            Some("venue error: Failed to subscribe · retrying")
        );
        // Retrying keeps the error visible.
        e.on_link(CB, T0, &LinkStatus::Connecting { attempt: 2 });
        assert_eq!(e.status(CB), Some(Status::Down));
    }

    #[test]
    fn silence_beyond_the_limit_reads_stale_and_leaves_the_merged_walk() {
        let e = two_live(Action::Sell, "1");
        // Gemini's limit is 15 s, Coinbase's 5 s.
        let v = e.view(T0 + 6_000 * MS, ViewOptions { depth: false });
        assert_eq!(
            (status(&v, CB), status(&v, GE)),
            (Status::Stale, Status::Live)
        );
        assert_eq!(v.merged.venues, ["gemini"]);
        assert_eq!(v.venues[CB].detail.as_deref(), Some("no frame for 6s"));
    }

    #[test]
    fn reconnects_count_and_clear_the_book() {
        let mut e = two_live(Action::Sell, "1");
        e.on_link(
            GE,
            T0,
            &LinkStatus::Down {
                reason: "connection lost".into(),
                retry_in_ms: 500,
            },
        );
        assert_eq!(e.book(GE).map(|b| b.depth(Side::Bid)), Some(0));
        e.on_link(
            GE,
            T0,
            &LinkStatus::Connected {
                reason: ConnectReason::Reconnect,
            },
        );
        let v = e.view(T0, ViewOptions { depth: false });
        assert_eq!(
            (status(&v, GE), v.venues[GE].counters.reconnects),
            (Status::Syncing, 1)
        );
        e.on_link(
            GE,
            T0,
            &LinkStatus::Connected {
                reason: ConnectReason::Resync,
            },
        );
        assert_eq!(
            e.view(T0, ViewOptions { depth: false }).venues[GE]
                .counters
                .reconnects,
            1
        );
    }

    #[test]
    fn message_rate_is_averaged_over_the_seconds_seen() {
        let mut r = RateMeter::default();
        let sec = 1_000_000_000;
        for i in 0..200 {
            r.record(T0 + i * (sec / 100)); // 100/s for 2 s
        }
        // Only 2 s seen: not diluted over the 5 s window.
        assert!(
            (r.per_sec(T0 + 2 * sec) - 100.0).abs() < 1e-9,
            "{}",
            r.per_sec(T0 + 2 * sec)
        );
        for i in 0..2000 {
            r.record(T0 + 2 * sec + i * (sec / 200)); // then 200/s for 10 s
        }
        assert!(
            (r.per_sec(T0 + 12 * sec) - 200.0).abs() < 1e-9,
            "{}",
            r.per_sec(T0 + 12 * sec)
        );
        assert!(r.per_sec(T0 + 30 * sec).abs() < 1e-9);
    }

    #[test]
    fn user_exclusion_and_ticket_commands() {
        let mut e = two_live(Action::Sell, "1");
        assert!(e.command(&Command::ToggleVenue(CB)));
        let v = e.view(T0, ViewOptions { depth: false });
        assert_eq!(v.merged.venues, ["gemini"]);
        assert!(!v.venues[CB].included && !v.venues[CB].merged);
        assert!(!e.command(&Command::ToggleVenue(9)));
        assert!(e.command(&Command::FlipAction));
        assert_eq!(e.ticket().action, Action::Buy);
        // Size never reaches zero: 1 - 1 is refused.
        assert!(!e.command(&Command::SizeDown));
        assert!(e.command(&Command::StepDown));
        assert!(e.command(&Command::SizeDown));
        assert_eq!(e.ticket().quantity, d("0.9"));
        assert!(!e.command(&Command::SetSize(d("0"))));
        assert!(!e.command(&Command::SetSize(d("-2"))));
        assert!(e.command(&Command::SetSize(d("2.5"))));
        assert!(e.command(&Command::StepUp) && e.command(&Command::StepUp));
        assert_eq!(e.ticket().step, d("10"));
        for _ in 0..20 {
            e.command(&Command::StepDown);
        }
        assert_eq!(e.ticket().step, d("0.00000001"));
    }

    /// Panics on a frame saying "boom"; otherwise a Gemini adapter.
    struct Panicky(Box<dyn Adapter>);

    impl Adapter for Panicky {
        fn reset(&mut self) {
            self.0.reset();
        }
        fn on_frame(
            &mut self,
            frame: &str,
            book: &mut OrderBook,
        ) -> Result<FrameOutcome, FrameError> {
            assert!(frame != "boom", "decoder bug");
            self.0.on_frame(frame, book)
        }
    }

    #[test]
    fn depth_units_are_exact_to_18_decimals() {
        for q in [
            "0",
            "1",
            "0.00000001",
            "12.5",
            "79228162514.264337593543950335",
        ] {
            let x = d(q);
            let back = from_units(units(x));
            if x.scale() <= UNITS_SCALE {
                assert_eq!(back, x, "{q}");
            }
        }
        // Finer than 10^-18: rounded; negative: nothing; too large for a Decimal: saturated.
        assert_eq!(
            from_units(units(d("0.0000000000000000015"))),
            d("0.000000000000000002")
        );
        assert_eq!(units(d("-1")), 0);
        assert_eq!(from_units(u128::MAX), Decimal::MAX);
        assert_eq!(
            from_units(units(d("1.5")) + units(d("0.25"))),
            d("1.75"),
            "sums are exact"
        );
    }

    /// The old way: the cumulative fills of a full merged walk.
    fn depth_via_walk(
        books: &[Option<&OrderBook>],
        side: Side,
        target: Decimal,
    ) -> Vec<DepthPoint> {
        let mut cum = Decimal::ZERO;
        thin(
            walk_merged(books, side, target)
                .fills
                .iter()
                .map(|f| {
                    cum += f.qty;
                    DepthPoint {
                        price: f.price,
                        cum_qty: cum,
                    }
                })
                .collect(),
        )
    }

    /// Three books from `(book, price, quantity, extra price decimals)`: both sides get each level,
    /// with prices spelt with different scales and ties across books.
    fn three_books(levels: &[(usize, i64, i64, u32)]) -> [OrderBook; 3] {
        let mut books = [OrderBook::new(), OrderBook::new(), OrderBook::new()];
        for &(b, p, q, s) in levels {
            let price = Decimal::new(p * 10i64.pow(s), 2 + s);
            books[b].apply(Side::Bid, price, Decimal::new(q, 3));
            books[b].apply(Side::Ask, price, Decimal::new(q, 3));
        }
        books
    }

    proptest::proptest! {
        #[test]
        fn merged_depth_curve_is_the_merged_walk_cumulated(
            levels in proptest::collection::vec((0usize..3, 1i64..400, 1i64..5000, 0u32..3), 0..300),
            merged in proptest::collection::vec(proptest::bool::ANY, 3),
            target in 0i64..3000,
            bid in proptest::bool::ANY,
        ) {
            let books = three_books(&levels);
            let refs: Vec<Option<&OrderBook>> =
                books.iter().zip(&merged).map(|(b, m)| m.then_some(b)).collect();
            let side = if bid { Side::Bid } else { Side::Ask };
            let target = Decimal::new(target, 2);
            let reaches: Vec<Reach> = refs
                .iter()
                .flatten()
                .map(|b| reach(b.levels(side).keyed(), units(target)))
                .collect();
            let slices: Vec<&[(Px, Decimal, u128)]> = reaches.iter().map(Vec::as_slice).collect();
            let fast = merged_depth_curve(&slices, side, units(target));
            let slow = depth_via_walk(&refs, side, target);
            let show = |v: &[DepthPoint]| -> Vec<(String, String)> {
                v.iter().map(|p| (p.price.to_string(), p.cum_qty.normalize().to_string())).collect()
            };
            proptest::prop_assert_eq!(show(&fast), show(&slow));
        }

        #[test]
        fn walks_over_the_reach_are_the_walks_over_the_books(
            levels in proptest::collection::vec((0usize..3, 1i64..400, 1i64..5000, 0u32..3), 0..300),
            merged in proptest::collection::vec(proptest::bool::ANY, 3),
            quantity in 0i64..3000,
            bid in proptest::bool::ANY,
        ) {
            let books = three_books(&levels);
            let side = if bid { Side::Bid } else { Side::Ask };
            let q = Decimal::new(quantity, 2);
            let reaches: Vec<Reach> =
                books.iter().map(|b| reach(b.levels(side).keyed(), units(depth_reach(q)))).collect();
            for (b, r) in books.iter().zip(&reaches) {
                let via_reach = walk(r.iter().map(|&(key, qty, _)| (key.price(), qty)), q);
                proptest::prop_assert_eq!(format!("{via_reach:?}"), format!("{:?}", walk(b.levels(side), q)));
            }
            let refs: Vec<Option<&OrderBook>> =
                books.iter().zip(&merged).map(|(b, m)| m.then_some(b)).collect();
            let heads = reaches
                .iter()
                .zip(&merged)
                .map(|(r, m)| m.then(|| r.iter().map(|&(key, qty, _)| (key.price(), qty))));
            proptest::prop_assert_eq!(
                format!("{:?}", walk_merged_levels(heads, side, q)),
                format!("{:?}", walk_merged(&refs, side, q))
            );
        }
    }

    #[test]
    fn a_decoder_panic_is_contained_to_its_venue() {
        let mut e = two_live(Action::Sell, "1");
        let cfg = Config::default_config().expect("config");
        let inner = build_adapter(&cfg.venues[GE], Limits::default()).expect("adapter");
        e.venues[GE].adapter = Box::new(Panicky(inner));
        assert_eq!(e.on_frame(GE, T0, "boom"), Some(Control::Resync));
        let v = e.view(T0, ViewOptions { depth: false });
        assert_eq!(status(&v, GE), Status::Resyncing);
        assert_eq!(v.venues[GE].book_levels, (0, 0));
        assert_eq!(
            (
                v.venues[GE].counters.bad_frames,
                v.venues[GE].counters.resyncs
            ),
            (1, 1)
        );
        assert_eq!(status(&v, CB), Status::Live);
        // The same adapter takes the next snapshot.
        let snap = gem_snapshot(&[("buy", "100", "1"), ("sell", "101", "1")]);
        assert_eq!(e.on_frame(GE, T0, &snap), None);
        assert_eq!(e.status(GE), Some(Status::Live));
    }

    #[test]
    fn a_connection_that_talks_but_never_delivers_a_book_is_resynced() {
        let mut e = engine(Action::Sell, "1");
        e.on_connection(CB, ConnectReason::First);
        let hb = |seq: u64| {
            format!(
                r#"{{"channel":"heartbeats","timestamp":"2026-08-09T21:05:48.8Z","sequence_num":{seq},"events":[{{"current_time":"2026-08-09 21:05:48.854840045 +0000 UTC m=+41691.260485341","heartbeat_counter":{seq}}}]}}"#
            )
        };
        // Coinbase's silence limit is 5 s: heartbeats for 10 s are patience, past that a stall.
        for s in 0..=10 {
            let ts = T0 + i64::try_from(s).expect("small") * 1_000 * MS;
            assert_eq!(e.on_frame(CB, ts, &hb(s)), None, "at {s} s");
        }
        assert_eq!(e.status(CB), Some(Status::Syncing));
        assert_eq!(
            e.on_frame(CB, T0 + 10_001 * MS, &hb(11)),
            Some(Control::Resync)
        );
        let v = e.view(T0 + 10_001 * MS, ViewOptions { depth: false });
        assert_eq!(status(&v, CB), Status::Resyncing);
        assert_eq!(
            v.venues[CB].detail.as_deref(),
            Some("no book after 10s: resubscribing")
        );
        assert_eq!(v.venues[CB].counters.resyncs, 1);
        // The clock restarts: a snapshot makes it live, and live venues are never timed out.
        assert_eq!(e.on_frame(CB, T0 + 10_002 * MS, &hb(12)), None);
        e.on_connection(CB, ConnectReason::Resync);
        let snap = cb_frame(0, "snapshot", &[("bid", "100", "1"), ("offer", "101", "1")]);
        assert_eq!(e.on_frame(CB, T0 + 11_000 * MS, &snap), None);
        assert_eq!(e.on_frame(CB, T0 + 60_000 * MS, &hb(1)), None);
        assert_eq!(e.status(CB), Some(Status::Live));
    }

    #[test]
    fn latency_percentiles_follow_the_last_samples() {
        let mut e = engine(Action::Buy, "1");
        assert_eq!(e.latency_summary()[0].percentiles, None);
        // 3000 samples: only the last 2048 count.
        let samples: Vec<u64> = (0..3000u64).map(|i| (i * 7919) % 5003).collect();
        for &s in &samples {
            e.record_latency(0, s);
        }
        let mut last: Vec<u64> = samples[samples.len() - LATENCY_SAMPLES..].to_vec();
        last.sort_unstable();
        let at = |p: usize| last[(last.len() - 1) * p / 100];
        let s = &e.latency_summary()[0];
        assert_eq!(s.percentiles, Some((at(50), at(99))));
        // The histogram counts the same window, bucket by bucket.
        let mut lower = 0;
        for (i, &n) in s.histogram.iter().enumerate() {
            let upper = LATENCY_BUCKETS_US.get(i).copied().unwrap_or(u64::MAX);
            let expected = last.iter().filter(|&&x| x > lower && x <= upper).count()
                + usize::from(i == 0) * last.iter().filter(|&&x| x == 0).count();
            assert_eq!(n, expected, "bucket {i}");
            lower = upper;
        }
        assert_eq!(s.histogram.iter().sum::<usize>(), LATENCY_SAMPLES);
        e.record_latency(1, 42);
        e.record_latency(1, 70_000);
        let s = &e.latency_summary()[1];
        // Two samples: both percentiles are the lower (index ⌊(n-1)·p/100⌋).
        assert_eq!(s.percentiles, Some((42, 42)));
        assert_eq!(
            s.histogram_text(),
            "≤50µs:1 ≤100µs:0 ≤250µs:0 ≤500µs:0 ≤1.0ms:0 ≤2.5ms:0 ≤5.0ms:0 ≤10ms:0 ≤50ms:0 >50ms:1"
        );
    }
}
