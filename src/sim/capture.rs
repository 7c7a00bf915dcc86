//! Deterministic large captures for benchmarks and replay tests, in the capture format of design.md §2:
//! one `{"ts_ns":…,"venue":"<name>","dir":"in"|"out","frame":"<frame text>"}` per line.
//!
//! A [`FrameGen`] plays one client connection against a [`SimMarket`] on a virtual clock that starts at
//! 2026-01-01T00:00:00Z: the venue's subscription message(s) (`dir":"out"`), then exactly what the
//! venue's [`Session`] answers (Kraken: status, ack, snapshot, windowed updates with checksums,
//! heartbeats when idle; Coinbase: snapshot, `subscriptions`, updates, 1-second heartbeats, one
//! `sequence_num`; Gemini: full-book `l2_updates`, updates, trades, 5-second heartbeats), with one
//! market step every 1/150 s. Same venue config + seed → byte-identical output.

use std::collections::VecDeque;
use std::io::{self, Write};

use super::market::SimMarket;
use super::{BookRequest, Session, SimOptions, SimVenue, new_session};
use crate::config::VenueConfig;

/// The virtual clock's start: 2026-01-01T00:00:00Z in Unix nanoseconds.
pub const START_NS: u64 = 1_767_225_600_000_000_000;

/// The direction of a captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Received from the venue.
    In,
    /// Sent to the venue.
    Out,
}

impl Dir {
    /// `in` / `out`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::In => "in",
            Dir::Out => "out",
        }
    }
}

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedFrame {
    /// Nanoseconds since the Unix epoch (virtual clock; strictly increasing per generator).
    pub ts_ns: u64,
    /// Direction.
    pub dir: Dir,
    /// The frame text, verbatim.
    pub frame: String,
}

/// An endless, deterministic stream of one venue's frames.
pub struct FrameGen {
    name: String,
    session: Box<dyn Session>,
    market: SimMarket,
    queue: VecDeque<CapturedFrame>,
    last_ts: u64,
    step_period: u64,
    tick_period: u64,
    next_step: u64,
    next_tick: u64,
}

impl std::fmt::Debug for FrameGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameGen")
            .field("venue", &self.name)
            .field("last_ts", &self.last_ts)
            .finish_non_exhaustive()
    }
}

impl FrameGen {
    /// A generator for `venue` whose market is the one `--demo` would run with `opts`
    /// (seed `opts.venue_seed(&venue.name)`); the subscription is `venue.subscribe`.
    ///
    /// # Errors
    /// `InvalidInput` when the venue's adapter has no simulator or its subscription is refused.
    pub fn new(venue: &VenueConfig, opts: &SimOptions) -> io::Result<Self> {
        let bad = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let kind = SimVenue::from_adapter(&venue.adapter)
            .ok_or_else(|| bad(format!("no simulator for adapter '{}'", venue.adapter)))?;
        let seed = opts.venue_seed(&venue.name);
        let market = SimMarket::with_params(seed, opts.market_params(kind, venue.price_precision));
        let session = new_session(venue, seed, START_NS - 3_600_000_000_000)
            .ok_or_else(|| bad(format!("no simulator for adapter '{}'", venue.adapter)))?;
        let step_period = 1_000_000_000 / u64::from(opts.updates_per_sec.max(1));
        let tick_period = u64::try_from(session.tick_period().as_nanos()).unwrap_or(u64::MAX);
        let mut g = FrameGen {
            name: venue.name.clone(),
            session,
            market,
            queue: VecDeque::new(),
            last_ts: START_NS,
            step_period,
            tick_period,
            next_step: START_NS + 10_000_000,
            next_tick: START_NS + tick_period,
        };
        let mut t = START_NS;
        for sub in &venue.subscribe {
            g.push(t, Dir::Out, sub.clone());
            t += 100_000;
        }
        let opened = g.session.open(t);
        g.push_all(t, opened);
        let mut refused = Vec::new();
        for sub in &venue.subscribe {
            t += 1_000_000;
            let reply = g.session.on_text(sub, t);
            if reply.book == BookRequest::None && !reply.frames.is_empty() {
                refused.extend(reply.frames.iter().cloned());
            }
            g.push_all(t, reply.frames);
            if reply.book == BookRequest::Subscribe {
                t += 300_000;
                let frames = g.session.on_book(g.market.book(), t);
                g.push_all(t, frames);
            }
        }
        if !g.session.subscribed() {
            return Err(bad(format!(
                "venue '{}': the simulated server refused the subscription: {}",
                venue.name,
                refused.join(" ")
            )));
        }
        Ok(g)
    }

    /// The venue's config name.
    #[must_use]
    pub fn venue(&self) -> &str {
        &self.name
    }

    /// The market's full book as of the frames generated so far (every frame of the steps taken is
    /// queued or already returned: compare with a client's book when [`FrameGen::pending`] is 0).
    #[must_use]
    pub fn book(&self) -> &crate::market::OrderBook {
        self.market.book()
    }

    /// Frames generated but not yet returned.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    fn push(&mut self, t: u64, dir: Dir, frame: String) {
        let ts = t.max(self.last_ts + 1_000);
        self.last_ts = ts;
        self.queue.push_back(CapturedFrame {
            ts_ns: ts,
            dir,
            frame,
        });
    }

    fn push_all(&mut self, t: u64, frames: Vec<String>) {
        for f in frames {
            self.push(t, Dir::In, f);
        }
    }

    /// Advances the virtual clock until at least one frame is queued.
    fn fill(&mut self) {
        while self.queue.is_empty() {
            if self.next_tick <= self.next_step {
                let t = self.next_tick;
                self.next_tick += self.tick_period;
                let frames = self.session.on_tick(t);
                self.push_all(t, frames);
            } else {
                let t = self.next_step;
                self.next_step += self.step_period;
                let step = self.market.step_full();
                let frames = self.session.on_step(&step, t);
                self.push_all(t, frames);
            }
        }
    }

    /// The timestamp of the next frame.
    pub fn peek_ts(&mut self) -> u64 {
        self.fill();
        self.queue.front().map_or(u64::MAX, |f| f.ts_ns)
    }

    /// The next frame (the stream never ends).
    pub fn next_frame(&mut self) -> CapturedFrame {
        self.fill();
        self.queue.pop_front().unwrap_or(CapturedFrame {
            ts_ns: self.last_ts,
            dir: Dir::In,
            frame: String::new(),
        })
    }
}

/// Writes one capture line.
///
/// # Errors
/// The writer's.
pub fn write_line(out: &mut impl Write, venue: &str, f: &CapturedFrame) -> io::Result<()> {
    let mut line = Vec::with_capacity(f.frame.len() + f.frame.len() / 8 + 80);
    line.extend_from_slice(b"{\"ts_ns\":");
    line.extend_from_slice(f.ts_ns.to_string().as_bytes());
    line.extend_from_slice(b",\"venue\":");
    serde_json::to_writer(&mut line, venue)?;
    line.extend_from_slice(b",\"dir\":\"");
    line.extend_from_slice(f.dir.as_str().as_bytes());
    line.extend_from_slice(b"\",\"frame\":");
    serde_json::to_writer(&mut line, &f.frame)?;
    line.extend_from_slice(b"}\n");
    out.write_all(&line)
}

/// Writes a capture of `venue`: its subscription line(s) (`"dir":"out"`), then `messages` received
/// frames, with the default [`SimOptions`] and `seed`.
///
/// # Errors
/// The writer's, or `InvalidInput` (see [`FrameGen::new`]).
pub fn generate(
    venue: &VenueConfig,
    messages: usize,
    seed: u64,
    out: &mut impl Write,
) -> io::Result<()> {
    generate_interleaved(std::slice::from_ref(venue), messages, seed, out)
}

/// Writes one capture of several venues, interleaved by timestamp (ties in venue order): every
/// venue's subscription line(s), then `messages` received frames in total.
///
/// # Errors
/// As [`generate`].
pub fn generate_interleaved(
    venues: &[VenueConfig],
    messages: usize,
    seed: u64,
    out: &mut impl Write,
) -> io::Result<()> {
    let opts = SimOptions {
        seed,
        ..SimOptions::default()
    };
    let mut gens = venues
        .iter()
        .map(|v| FrameGen::new(v, &opts))
        .collect::<io::Result<Vec<_>>>()?;
    let mut written = 0;
    while written < messages {
        let mut best: Option<(u64, usize)> = None;
        for (i, g) in gens.iter_mut().enumerate() {
            let ts = g.peek_ts();
            if best.is_none_or(|(b, _)| ts < b) {
                best = Some((ts, i));
            }
        }
        let Some(g) = best.and_then(|(_, i)| gens.get_mut(i)) else {
            break;
        };
        let f = g.next_frame();
        write_line(out, &g.name, &f)?;
        if f.dir == Dir::In {
            written += 1;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn lines(venue: &str, n: usize, seed: u64) -> Vec<serde_json::Value> {
        let c = Config::default_config().expect("config");
        let v = c.venues.iter().find(|v| v.name == venue).expect("venue");
        let mut buf = Vec::new();
        generate(v, n, seed, &mut buf).expect("generate");
        String::from_utf8(buf)
            .expect("utf8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("line json"))
            .collect()
    }

    #[test]
    fn capture_lines_follow_the_format_and_the_venue_order() {
        let ls = lines("coinbase", 50, 1);
        assert_eq!(ls.len(), 52, "2 out lines + 50 in");
        assert_eq!(ls[0]["dir"], "out");
        assert_eq!(
            ls[0]["frame"],
            r#"{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}"#
        );
        assert_eq!(ls[1]["dir"], "out");
        let mut last = 0;
        for (i, l) in ls.iter().enumerate() {
            let mut keys: Vec<_> = l.as_object().expect("obj").keys().cloned().collect();
            keys.sort();
            assert_eq!(keys, ["dir", "frame", "ts_ns", "venue"]);
            assert_eq!(l["venue"], "coinbase");
            let ts = l["ts_ns"].as_u64().expect("ts");
            assert!(ts > last, "line {i}: ts not increasing");
            last = ts;
        }
        let f: serde_json::Value =
            serde_json::from_str(ls[2]["frame"].as_str().expect("frame")).expect("frame json");
        assert_eq!(f["events"][0]["type"], "snapshot");
        assert_eq!(f["sequence_num"], 0);

        let ks = lines("kraken", 5, 1);
        let kinds: Vec<String> = ks[1..]
            .iter()
            .map(|l| l["frame"].as_str().expect("frame")[..40].to_owned())
            .collect();
        assert!(kinds[0].starts_with(r#"{"channel":"status""#), "{kinds:?}");
        assert!(kinds[1].starts_with(r#"{"method":"subscribe""#));
        assert!(kinds[2].contains("snapshot"));
        let gs = lines("gemini", 3, 1);
        assert!(
            gs[1]["frame"]
                .as_str()
                .expect("f")
                .starts_with(r#"{"auction_events":[]"#)
        );
    }

    #[test]
    fn same_seed_same_bytes_other_seed_differs() {
        let c = Config::default_config().expect("config");
        let run = |seed| {
            let mut buf = Vec::new();
            generate_interleaved(&c.venues, 400, seed, &mut buf).expect("gen");
            buf
        };
        let a = run(1);
        assert_eq!(a, run(1));
        assert_ne!(a, run(2));
        let text = String::from_utf8(a).expect("utf8");
        let venues: std::collections::BTreeSet<_> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json");
                v["venue"].as_str().expect("venue").to_owned()
            })
            .collect();
        assert_eq!(venues.len(), 3);
        assert_eq!(
            text.lines().filter(|l| l.contains(r#""dir":"in""#)).count(),
            400
        );
    }

    #[test]
    fn a_refused_subscription_is_an_error() {
        let mut c = Config::default_config().expect("config");
        c.venues[0].subscribe = vec![
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":27}}"#
                .into(),
        ];
        let e = generate(&c.venues[0], 10, 1, &mut Vec::new()).expect_err("refused");
        assert!(e.to_string().contains("depth not supported"), "{e}");
    }
}
