//! Simulated exchanges: a realistic evolving book per venue, each venue's wire encoder, and a loopback
//! WebSocket server speaking that venue's protocol as documented in `shared/protocols.md`.
//!
//! Layers, from the inside out:
//! - [`market`]: [`SimMarket`], a seeded BTC-USD book (exact `Decimal` levels on the venue's tick) that
//!   evolves one [`Step`] at a time: inserts, size changes, deletions, trades at the touch, bursts.
//! - [`kraken`], [`coinbase`], [`gemini`]: pure encoders (frames as `String`s) and a [`Session`] per venue:
//!   the synchronous per-connection protocol state machine (subscription handling, snapshot, updates,
//!   heartbeats, sequence numbers). No I/O, so tests and the capture generator drive them directly.
//! - [`server`]: one loopback WebSocket server per venue ([`SimHandle`]), one shared market per server,
//!   [`start_demo`] for `cra-tui --demo`.
//! - [`capture`]: deterministic large captures (design.md §2 capture format) for benchmarks.

pub mod capture;
pub mod coinbase;
pub mod gemini;
pub mod kraken;
pub mod market;
pub mod server;

use std::time::Duration;

use rust_decimal::Decimal;

use crate::market::OrderBook;

pub use market::{Change, MarketParams, SimMarket, Step, Trade};
pub use server::{Fault, SimHandle, spawn_server, start_demo};

/// The venue protocols the simulator speaks, named by the config's `adapter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimVenue {
    /// Kraken WebSocket v2 `book` (`kraken-v2`).
    Kraken,
    /// Coinbase Advanced Trade `level2` (`coinbase-advanced`).
    Coinbase,
    /// Gemini market data v2 `l2` (`gemini-v2`).
    Gemini,
}

impl SimVenue {
    /// The simulated venue for a config `adapter` name.
    #[must_use]
    pub fn from_adapter(adapter: &str) -> Option<SimVenue> {
        match adapter {
            "kraken-v2" => Some(SimVenue::Kraken),
            "coinbase-advanced" => Some(SimVenue::Coinbase),
            "gemini-v2" => Some(SimVenue::Gemini),
            _ => None,
        }
    }

    /// The price tick: Kraken `10^-price_precision` (0.1 for BTC/USD), Coinbase and Gemini 0.01.
    #[must_use]
    pub fn tick(self, price_precision: Option<u32>) -> Decimal {
        match self {
            SimVenue::Kraken => Decimal::new(1, price_precision.unwrap_or(1).min(8)),
            SimVenue::Coinbase | SimVenue::Gemini => Decimal::new(1, 2),
        }
    }
}

/// Knobs shared by the demo servers and the capture generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOptions {
    /// Base seed; each venue derives its own from it and its name (deterministic, different per venue).
    pub seed: u64,
    /// Market steps per second per venue (one step = one update message); 0 = only explicit
    /// [`SimHandle::step`] calls.
    pub updates_per_sec: u32,
    /// Target number of levels per book side (Kraken's market keeps 20 % more so a depth-1000 window
    /// always has levels to pull in).
    pub levels_per_side: usize,
    /// Where every venue's mid starts (and, slowly, returns to).
    pub mid: Decimal,
    /// Steps a connection may fall behind before it is closed as lagging.
    pub lag_capacity: usize,
    /// Coinbase closes a connection that has not subscribed within this time.
    pub subscribe_timeout: Duration,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            seed: 0x5eed_c0de,
            updates_per_sec: 150,
            levels_per_side: 1000,
            mid: Decimal::new(65_000, 0),
            lag_capacity: 4096,
            subscribe_timeout: Duration::from_secs(5),
        }
    }
}

/// Environment variable read by [`SimOptions::demo`]: market steps per second per venue.
pub const DEMO_RATE_ENV: &str = "CRA_TUI_DEMO_RATE";

impl SimOptions {
    /// The options of `--demo`: the defaults, with `updates_per_sec` taken from `CRA_TUI_DEMO_RATE`
    /// when it holds a number (soak and load runs; values above 1000 step several times per
    /// millisecond tick).
    #[must_use]
    pub fn demo() -> Self {
        let mut o = Self::default();
        if let Some(rate) = std::env::var(DEMO_RATE_ENV)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            o.updates_per_sec = rate;
        }
        o
    }

    /// The seed of one venue's market: `seed` mixed with the venue's name (FNV-1a + SplitMix64).
    #[must_use]
    pub fn venue_seed(&self, venue_name: &str) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in venue_name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        splitmix64(self.seed ^ h)
    }

    /// The market parameters for one venue.
    #[must_use]
    pub fn market_params(&self, venue: SimVenue, price_precision: Option<u32>) -> MarketParams {
        let levels = match venue {
            SimVenue::Kraken => self.levels_per_side + self.levels_per_side / 5,
            SimVenue::Coinbase | SimVenue::Gemini => self.levels_per_side,
        };
        MarketParams {
            tick: venue.tick(price_precision),
            levels_per_side: levels,
            mid: self.mid,
            ..MarketParams::default()
        }
    }
}

/// One SplitMix64 output: spreads related seeds apart.
#[must_use]
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What a [`Session`] wants done with the book stream after an incoming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BookRequest {
    /// Nothing changes.
    #[default]
    None,
    /// Take a snapshot and start streaming: the caller then calls [`Session::on_book`] with the book
    /// and feeds every later [`Step`] to [`Session::on_step`].
    Subscribe,
    /// Stop streaming steps.
    Unsubscribe,
}

/// The reply of a [`Session`] to one incoming text message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// Frames to send now, in order.
    pub frames: Vec<String>,
    /// What to do with the book stream.
    pub book: BookRequest,
}

/// One connection's protocol state for one venue: pure and synchronous (no I/O, no clock of its own;
/// `now_ns` is nanoseconds since the Unix epoch on the caller's clock).
pub trait Session: Send {
    /// Frames sent as soon as the connection is open (Kraken's `status`).
    fn open(&mut self, now_ns: u64) -> Vec<String>;
    /// Handles one incoming text message (subscribe, unsubscribe, ping, garbage).
    fn on_text(&mut self, text: &str, now_ns: u64) -> Reply;
    /// After [`BookRequest::Subscribe`]: the book as of the subscription; returns acks and the snapshot.
    fn on_book(&mut self, book: &OrderBook, now_ns: u64) -> Vec<String>;
    /// One market step while subscribed; returns the update frame(s), if any.
    fn on_step(&mut self, step: &Step, now_ns: u64) -> Vec<String>;
    /// Called every [`Session::tick_period`]: heartbeats.
    fn on_tick(&mut self, now_ns: u64) -> Vec<String>;
    /// How often [`Session::on_tick`] is called.
    fn tick_period(&self) -> Duration;
    /// True once the client may be closed for not subscribing in time (Coinbase's 5-second rule).
    fn requires_prompt_subscription(&self) -> bool {
        false
    }
    /// True while a book subscription is active.
    fn subscribed(&self) -> bool;
}

/// Builds the session for `venue` (its protocol is chosen by `venue.adapter`); `conn_seed` varies
/// per-connection identifiers (Kraken's `connection_id`).
#[must_use]
pub fn new_session(
    venue: &crate::config::VenueConfig,
    conn_seed: u64,
    server_start_ns: u64,
) -> Option<Box<dyn Session>> {
    Some(match SimVenue::from_adapter(&venue.adapter)? {
        SimVenue::Kraken => Box::new(kraken::KrakenSession::new(
            &venue.symbol,
            venue.price_precision.unwrap_or(1),
            venue.qty_precision.unwrap_or(8),
            conn_seed,
        )),
        SimVenue::Coinbase => Box::new(coinbase::CoinbaseSession::new(
            &venue.symbol,
            server_start_ns,
        )),
        SimVenue::Gemini => Box::new(gemini::GeminiSession::new(&venue.symbol)),
    })
}

/// Formats `unix_ns` as RFC 3339 UTC with `frac_digits` (0–9) fractional digits:
/// `2026-08-16T23:37:04.334090Z`.
#[must_use]
pub fn rfc3339(unix_ns: u64, frac_digits: u32) -> String {
    let (date, time, nanos) = civil(unix_ns);
    let digits = frac_digits.min(9);
    if digits == 0 {
        return format!("{date}T{time}Z");
    }
    let frac = nanos / 10u64.pow(9 - digits);
    format!("{date}T{time}.{frac:0w$}Z", w = digits as usize)
}

/// Go's `time.Time.String()`-like form Coinbase uses in `current_time`:
/// `2026-08-09 21:05:48.854840045 +0000 UTC m=+41691.260485341`.
#[must_use]
pub fn go_time(unix_ns: u64, monotonic_ns: u64) -> String {
    let (date, time, nanos) = civil(unix_ns);
    format!(
        "{date} {time}.{nanos:09} +0000 UTC m=+{}.{:09}",
        monotonic_ns / 1_000_000_000,
        monotonic_ns % 1_000_000_000
    )
}

/// `("YYYY-MM-DD", "hh:mm:ss", nanoseconds)` of a Unix time in ns (proleptic Gregorian, UTC).
fn civil(unix_ns: u64) -> (String, String, u64) {
    let secs = unix_ns / 1_000_000_000;
    let nanos = unix_ns % 1_000_000_000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let sod = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60),
        nanos,
    )
}

/// The wall clock as Unix nanoseconds (the demo servers' base time; 0 if the clock is before 1970).
#[must_use]
pub fn wall_clock_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        // `date -u -d @1786313195.331` → 2026-08-09T22:06:35.331
        assert_eq!(
            rfc3339(1_786_313_195_331_000_000, 6),
            "2026-08-09T22:06:35.331000Z"
        );
        assert_eq!(
            rfc3339(1_767_225_600_000_000_000, 0),
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(
            rfc3339(951_782_400_123_456_789, 9),
            "2000-02-29T00:00:00.123456789Z"
        );
        assert_eq!(
            go_time(1_767_225_601_000_000_005, 41_691_260_485_341),
            "2026-01-01 00:00:01.000000005 +0000 UTC m=+41691.260485341"
        );
    }

    #[test]
    fn venue_seeds_differ_and_are_stable() {
        let o = SimOptions::default();
        let k = o.venue_seed("kraken");
        assert_eq!(k, o.venue_seed("kraken"));
        assert_ne!(k, o.venue_seed("coinbase"));
        assert_ne!(o.venue_seed("coinbase"), o.venue_seed("gemini"));
    }

    #[test]
    fn adapters_map_to_venues_and_ticks() {
        assert_eq!(SimVenue::from_adapter("kraken-v2"), Some(SimVenue::Kraken));
        assert_eq!(SimVenue::from_adapter("nope"), None);
        assert_eq!(SimVenue::Kraken.tick(Some(1)).to_string(), "0.1");
        assert_eq!(SimVenue::Gemini.tick(None).to_string(), "0.01");
    }
}
