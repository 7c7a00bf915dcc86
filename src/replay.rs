//! Replay: a capture file driven through the very same engine (adapters, integrity checks, walks).
//!
//! Two drivers share the routing rules: [`replay_headless`] runs synchronously and emits NDJSON lines
//! on the capture's own clock (as fast as the file can be read with `--speed max`), and
//! [`replay_feed`] paces frames into the state actor for the dashboard.
//!
//! A capture has no "connected" marker, so a new connection is inferred the way it shows on the wire:
//! a `dir: out` subscription that follows received frames (or starts the venue's stream).

use std::io::{self, BufRead, Write};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::feed::capture::{CaptureLine, Dir, LineDecoder, Parsed};
use crate::feed::ws::FeedEvent;
use crate::headless;
use crate::state::engine::{ConnectReason, Engine, LinkStatus, ViewOptions};

/// Replay pace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// As fast as possible.
    Max,
    /// This many times real time.
    Factor(f64),
}

impl std::str::FromStr for Speed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        let f: f64 = s
            .trim_end_matches(['x', 'X'])
            .parse()
            .map_err(|_| format!("invalid speed '{s}' (a positive number or 'max')"))?;
        if f.is_finite() && f > 0.0 {
            Ok(Speed::Factor(f))
        } else {
            Err(format!("invalid speed '{s}' (a positive number or 'max')"))
        }
    }
}

/// What to do with one capture line.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// A received frame for venue N.
    Frame(usize),
    /// Venue N subscribed again: a new connection starts here.
    Connected(usize, ConnectReason),
    /// Nothing (another sent frame, or a venue not in this run).
    Skip,
}

/// Maps capture venue names to engine indices and infers connections.
pub struct Router {
    names: Vec<String>,
    /// Per venue: `None` before any line, else whether the last line was received.
    last_in: Vec<Option<bool>>,
}

impl Router {
    /// A router for the engine's venues.
    #[must_use]
    pub fn new(engine: &Engine) -> Self {
        let names: Vec<String> = engine.venue_names().map(str::to_owned).collect();
        let last_in = vec![None; names.len()];
        Self { names, last_in }
    }

    /// Routes one line.
    pub fn route(&mut self, line: &CaptureLine<'_>) -> Route {
        let Some(i) = self.names.iter().position(|n| *n == line.venue) else {
            return Route::Skip;
        };
        let prev = self.last_in[i];
        self.last_in[i] = Some(line.dir == Dir::In);
        match line.dir {
            Dir::In => Route::Frame(i),
            Dir::Out if prev != Some(false) && line.frame.contains("subscribe") => {
                Route::Connected(
                    i,
                    if prev.is_none() {
                        ConnectReason::First
                    } else {
                        ConnectReason::Reconnect
                    },
                )
            }
            Dir::Out => Route::Skip,
        }
    }
}

/// Counts of a finished replay.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplayStats {
    /// Lines read.
    pub lines: u64,
    /// Received frames given to the engine.
    pub frames: u64,
    /// Lines that could not be parsed (counted and logged, never fatal).
    pub bad_lines: u64,
    /// NDJSON lines written.
    pub emitted: u64,
}

/// Replays `input` through `engine`, writing a headless line every `interval_ms` of the capture's
/// clock and always a last one at the end.
///
/// # Errors
/// Reading the capture or writing the output failed.
pub fn replay_headless(
    engine: &mut Engine,
    mut input: impl BufRead,
    interval_ms: u64,
    speed: Speed,
    out: &mut impl Write,
) -> io::Result<ReplayStats> {
    let mut router = Router::new(engine);
    let mut stats = ReplayStats::default();
    let interval = i64::try_from(interval_ms.max(1))
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000);
    let opts = ViewOptions { depth: false };
    let mut first_ts: Option<i64> = None;
    let mut next_emit = i64::MAX;
    let mut last_ts = 0;
    let wall_start = Instant::now();
    let mut decoder = LineDecoder::new();
    let emit = |engine: &Engine,
                ts: i64,
                stats: &mut ReplayStats,
                out: &mut dyn Write|
     -> io::Result<()> {
        stats.emitted += 1;
        writeln!(out, "{}", headless::line(&engine.view(ts, opts)))
    };
    for_each_line(&mut input, |line| {
        stats.lines += 1;
        let parsed = match std::str::from_utf8(line) {
            Ok(text) => decoder.decode(text),
            Err(e) => Err(format!("not UTF-8: {e}")),
        };
        let line = match parsed {
            Ok(Parsed::Frame(l)) => l,
            Ok(Parsed::Skip) => return Ok(()),
            Err(e) => {
                stats.bad_lines += 1;
                tracing::warn!(target: "processing", line = stats.lines, error = %e, "bad capture line");
                return Ok(());
            }
        };
        let ts = line.ts_ns;
        let start = *first_ts.get_or_insert_with(|| {
            next_emit = ts.saturating_add(interval);
            ts
        });
        if let Speed::Factor(f) = speed {
            let due = Duration::from_secs_f64(
                u64::try_from(ts.saturating_sub(start)).unwrap_or(0) as f64 / 1e9 / f,
            );
            if let Some(wait) = due.checked_sub(wall_start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        if ts >= next_emit {
            emit(engine, next_emit, &mut stats, out)?;
            // Skip the boundaries a quiet stretch jumped over: one line for the gap, not thousands.
            let k = ts.saturating_sub(start) / interval + 1;
            next_emit = start.saturating_add(k.saturating_mul(interval));
        }
        last_ts = last_ts.max(ts);
        match router.route(&line) {
            Route::Frame(i) => {
                stats.frames += 1;
                // In a replay there is nobody to resubscribe to: the venue waits for the next snapshot.
                let _ = engine.on_frame(i, ts, &line.frame);
            }
            Route::Connected(i, reason) => engine.on_connection(i, reason),
            Route::Skip => {}
        }
        Ok(())
    })?;
    if first_ts.is_some() || stats.emitted == 0 {
        emit(engine, last_ts, &mut stats, out)?;
    }
    out.flush()?;
    tracing::info!(target: "processing", ?stats, "replay finished");
    Ok(stats)
}

/// Calls `f` with every line of `input` (line end included, the last line with or without one), as
/// bytes: straight from the reader's buffer when the line lies whole in it (no copy into a `String`),
/// else assembled once. Bytes, so that a line that is not UTF-8 is the caller's to count, not an error
/// that ends the reading.
///
/// # Errors
/// Reading failed, or `f` failed (which stops the loop).
pub fn for_each_line(
    input: &mut impl BufRead,
    mut f: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut spill: Vec<u8> = Vec::new();
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        let mut at = 0;
        if !spill.is_empty() {
            // The end of a line begun in the previous buffer.
            match memchr::memchr(b'\n', buf) {
                Some(nl) => {
                    spill.extend_from_slice(&buf[..=nl]);
                    f(&spill)?;
                    spill.clear();
                    at = nl + 1;
                }
                None => {
                    spill.extend_from_slice(buf);
                    input.consume(len);
                    continue;
                }
            }
        }
        while let Some(nl) = memchr::memchr(b'\n', &buf[at..]) {
            f(&buf[at..=at + nl])?;
            at += nl + 1;
        }
        spill.extend_from_slice(&buf[at..]);
        input.consume(len);
    }
    if !spill.is_empty() {
        f(&spill)?;
    }
    Ok(())
}

/// Feeds a capture into the state actor at `speed`, for the dashboard. Ends at the end of the file
/// (the dashboard keeps showing the last state) or when the actor is gone.
pub async fn replay_feed(
    mut input: impl BufRead + Send,
    names: Vec<String>,
    speed: Speed,
    events: mpsc::Sender<FeedEvent>,
) {
    let mut router = Router {
        last_in: vec![None; names.len()],
        names,
    };
    let mut buf = String::new();
    let mut decoder = LineDecoder::new();
    let mut start: Option<(i64, tokio::time::Instant)> = None;
    let mut n = 0u64;
    loop {
        buf.clear();
        match input.read_line(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            // The line was read (and dropped): count it like any bad line and go on.
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                n += 1;
                tracing::warn!(target: "processing", line = n, error = %e, "bad capture line");
                continue;
            }
            Err(e) => {
                tracing::error!(target: "processing", error = %e, "replay read failed");
                break;
            }
        }
        n += 1;
        let line = match decoder.decode(&buf) {
            Ok(Parsed::Frame(l)) => l,
            Ok(Parsed::Skip) => continue,
            Err(e) => {
                tracing::warn!(target: "processing", line = n, error = %e, "bad capture line");
                continue;
            }
        };
        let ts = line.ts_ns;
        let (t0, w0) = *start.get_or_insert_with(|| (ts, tokio::time::Instant::now()));
        if let Speed::Factor(f) = speed {
            let due = Duration::from_secs_f64(
                u64::try_from(ts.saturating_sub(t0)).unwrap_or(0) as f64 / 1e9 / f,
            );
            tokio::time::sleep_until(w0 + due).await;
        } else if n.is_multiple_of(1024) {
            tokio::task::yield_now().await;
        }
        let ev = match router.route(&line) {
            Route::Frame(venue) => FeedEvent::Frame {
                venue,
                ts_ns: ts,
                recv: tokio::time::Instant::now(),
                text: line.frame.into_owned(),
            },
            Route::Connected(venue, reason) => FeedEvent::Link {
                venue,
                status: LinkStatus::Connected { reason },
            },
            Route::Skip => continue,
        };
        if events.send(ev).await.is_err() {
            return;
        }
    }
    tracing::info!(target: "processing", lines = n, "replay reached the end of the capture");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::Just;

    proptest::proptest! {
        /// Whatever the buffer size, the lines are those of `split_inclusive`, in order.
        #[test]
        fn lines_split_exactly_across_buffer_boundaries(
            text in proptest::collection::vec(
                proptest::prop_oneof![
                    Just(b'\n'), Just(b'a'), Just(b'{'), Just(0xc3u8), Just(0xa9u8)
                ],
                0..400,
            ),
            cap in 1usize..64,
        ) {
            let mut reader = io::BufReader::with_capacity(cap, text.as_slice());
            let mut got: Vec<Vec<u8>> = Vec::new();
            for_each_line(&mut reader, |l| {
                got.push(l.to_vec());
                Ok(())
            })
            .expect("in memory");
            let want: Vec<Vec<u8>> = text.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_is_a_bad_line_not_the_end() {
        let config = crate::config::Config::default_config().expect("config");
        let ticket = crate::state::engine::Ticket {
            action: crate::market::Action::Buy,
            quantity: crate::market::d("1"),
            step: crate::market::d("1"),
        };
        let mut engine =
            Engine::new(&config, ticket, crate::state::view::Source::Replay).expect("engine");
        let snapshot = r#"{"ts_ns":2,"venue":"gemini","frame":"{\"changes\":[[\"sell\",\"101\",\"1\"]],\"symbol\":\"BTCUSD\",\"type\":\"l2_updates\",\"trades\":[]}"}"#;
        let mut capture = b"{\"ts_ns\":1,\"venue\":\"gemini\",\"frame\":\"\xff\"}\n".to_vec();
        capture.extend_from_slice(snapshot.as_bytes());
        let mut out = Vec::new();
        let stats = replay_headless(&mut engine, capture.as_slice(), 1_000, Speed::Max, &mut out)
            .expect("replay");
        assert_eq!((stats.lines, stats.bad_lines, stats.frames), (2, 1, 1));
        assert_eq!(
            engine.book(2).map(|b| b.depth(crate::market::Side::Ask)),
            Some(1)
        );
    }

    #[tokio::test]
    async fn the_dashboard_replay_also_skips_a_line_that_is_not_utf8() {
        let mut capture = b"{\"ts_ns\":1,\"venue\":\"gemini\",\"frame\":\"\xff\"}\n".to_vec();
        capture.extend_from_slice(br#"{"ts_ns":2,"venue":"gemini","frame":"{}"}"#);
        let (tx, mut rx) = mpsc::channel(8);
        replay_feed(
            capture.as_slice(),
            vec!["gemini".to_owned()],
            Speed::Max,
            tx,
        )
        .await;
        let mut frames = Vec::new();
        while let Some(ev) = rx.recv().await {
            if let FeedEvent::Frame { ts_ns, text, .. } = ev {
                frames.push((ts_ns, text));
            }
        }
        assert_eq!(frames, vec![(2, "{}".to_owned())]);
    }

    #[test]
    fn speed_parses() {
        assert_eq!("max".parse::<Speed>().unwrap(), Speed::Max);
        assert_eq!("2".parse::<Speed>().unwrap(), Speed::Factor(2.0));
        assert_eq!("0.5x".parse::<Speed>().unwrap(), Speed::Factor(0.5));
        assert!("0".parse::<Speed>().is_err());
        assert!("fast".parse::<Speed>().is_err());
        assert!("-1".parse::<Speed>().is_err());
    }
}
