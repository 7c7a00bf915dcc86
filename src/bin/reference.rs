//! `reference`: the yardstick of the end-to-end benchmark (`scripts/bench_e2e.sh`).
//!
//! A plain, competent program doing the *least* a book consumer must do with a capture file, with
//! none of cra-tui's checks: read the file line by line, parse each line with `serde_json` (the frame
//! comes out as an unescaped `String`), parse the frame into borrowed structs of the venue's wire
//! format, turn every price and quantity token into a `rust_decimal::Decimal` (exact, no `f64`) and
//! apply it to a `BTreeMap` per side. No integrity checks (no sequence numbers, no crossed-book check,
//! no Kraken checksum unless `--kraken-checksum` asks for one re-rendered from scratch per message),
//! no output but a summary on stderr. It shares no code with the `cra_tui` library.
//!
//! ```text
//! reference --venue coinbase|gemini|kraken [--liquidity 15] [--kraken-checksum] CAPTURE
//! ```
//! The summary ends with the depth of the final book and the cost of buying `--liquidity` from it, so
//! the benchmark can check that both programs built the same book.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

/// One capture line; the frame is a JSON string (so it is unescaped into an owned `String`).
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    venue: Cow<'a, str>,
    #[serde(borrow, default)]
    dir: Option<Cow<'a, str>>,
    #[serde(borrow)]
    frame: Cow<'a, str>,
}

/// Coinbase Advanced Trade: `{"channel":"l2_data","events":[{"type","updates":[…]}]}`.
#[derive(Deserialize)]
struct CbMsg<'a> {
    #[serde(borrow, default)]
    channel: &'a str,
    #[serde(borrow, default)]
    events: Vec<CbEvent<'a>>,
}

#[derive(Deserialize)]
struct CbEvent<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: &'a str,
    #[serde(borrow, default)]
    updates: Vec<CbLevel<'a>>,
}

#[derive(Deserialize)]
struct CbLevel<'a> {
    side: &'a str,
    price_level: &'a str,
    new_quantity: &'a str,
}

/// Gemini v2: `{"changes":[[side,price,qty],…],"symbol","type":"l2_updates"}`; `trades` marks the
/// full-book form.
#[derive(Deserialize)]
struct GmMsg<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: &'a str,
    #[serde(borrow, default)]
    changes: Vec<(&'a str, &'a str, &'a str)>,
    #[serde(default)]
    trades: Option<IgnoredAny>,
}

/// Kraken WS v2: `{"channel":"book","type":"snapshot"|"update","data":[{"bids","asks","checksum"}]}`,
/// prices and quantities as bare number tokens.
#[derive(Deserialize)]
struct KrMsg<'a> {
    #[serde(borrow, default)]
    channel: &'a str,
    #[serde(borrow, default, rename = "type")]
    kind: &'a str,
    #[serde(borrow, default)]
    data: Vec<KrEntry<'a>>,
    #[serde(default)]
    result: Option<KrAck>,
}

#[derive(Deserialize)]
struct KrEntry<'a> {
    #[serde(borrow, default)]
    bids: Vec<KrLevel<'a>>,
    #[serde(borrow, default)]
    asks: Vec<KrLevel<'a>>,
    #[serde(default)]
    checksum: u32,
}

#[derive(Deserialize)]
struct KrLevel<'a> {
    #[serde(borrow)]
    price: &'a RawValue,
    #[serde(borrow)]
    qty: &'a RawValue,
}

#[derive(Deserialize)]
struct KrAck {
    #[serde(default)]
    depth: Option<usize>,
}

/// Price → quantity per side.
#[derive(Default)]
struct Book {
    bids: BTreeMap<Decimal, Decimal>,
    asks: BTreeMap<Decimal, Decimal>,
}

fn set(side: &mut BTreeMap<Decimal, Decimal>, price: &str, qty: &str) -> Result<(), String> {
    let p = Decimal::from_str(price).map_err(|e| format!("price {price:?}: {e}"))?;
    let q = Decimal::from_str(qty).map_err(|e| format!("qty {qty:?}: {e}"))?;
    if q.is_zero() {
        side.remove(&p);
    } else {
        side.insert(p, q);
    }
    Ok(())
}

impl Book {
    fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    fn truncate(&mut self, depth: usize) {
        while self.bids.len() > depth {
            self.bids.pop_first();
        }
        while self.asks.len() > depth {
            self.asks.pop_last();
        }
    }
}

struct Args {
    venue: String,
    liquidity: Decimal,
    kraken_checksum: bool,
    path: String,
}

fn parse_args() -> Result<Args, String> {
    let mut venue = None;
    let mut liquidity = Decimal::from(15);
    let mut kraken_checksum = false;
    let mut path = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--venue" => venue = it.next(),
            "--liquidity" => {
                let v = it.next().ok_or("--liquidity needs a value")?;
                liquidity = Decimal::from_str(&v).map_err(|e| format!("--liquidity: {e}"))?;
            }
            "--kraken-checksum" => kraken_checksum = true,
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ => path = Some(a),
        }
    }
    let venue = venue.ok_or("--venue coinbase|gemini|kraken is required")?;
    if !matches!(venue.as_str(), "coinbase" | "gemini" | "kraken") {
        return Err(format!("unknown venue {venue:?}"));
    }
    Ok(Args {
        venue,
        liquidity,
        kraken_checksum,
        path: path.ok_or("a capture file is required")?,
    })
}

/// Per-venue state of the plain loop.
struct State {
    book: Book,
    kraken_depth: usize,
    kraken_checksum: bool,
    checksum_mismatches: u64,
    crc_buf: String,
}

impl State {
    fn coinbase(&mut self, frame: &str) -> Result<(), String> {
        let msg: CbMsg<'_> = serde_json::from_str(frame).map_err(|e| e.to_string())?;
        if msg.channel != "l2_data" {
            return Ok(());
        }
        for ev in msg.events {
            if ev.kind == "snapshot" {
                self.book.clear();
            }
            for l in ev.updates {
                let side = if l.side == "bid" {
                    &mut self.book.bids
                } else {
                    &mut self.book.asks
                };
                set(side, l.price_level, l.new_quantity)?;
            }
        }
        Ok(())
    }

    fn gemini(&mut self, frame: &str) -> Result<(), String> {
        let msg: GmMsg<'_> = serde_json::from_str(frame).map_err(|e| e.to_string())?;
        if msg.kind != "l2_updates" {
            return Ok(());
        }
        if msg.trades.is_some() {
            self.book.clear();
        }
        for (side, price, qty) in msg.changes {
            let side = if side == "buy" {
                &mut self.book.bids
            } else {
                &mut self.book.asks
            };
            set(side, price, qty)?;
        }
        Ok(())
    }

    fn kraken(&mut self, frame: &str) -> Result<(), String> {
        let msg: KrMsg<'_> = serde_json::from_str(frame).map_err(|e| e.to_string())?;
        if let Some(depth) = msg.result.and_then(|r| r.depth) {
            self.kraken_depth = depth;
        }
        if msg.channel != "book" {
            return Ok(());
        }
        for e in msg.data {
            if msg.kind == "snapshot" {
                self.book.clear();
            }
            for l in e.bids {
                set(&mut self.book.bids, l.price.get(), l.qty.get())?;
            }
            for l in e.asks {
                set(&mut self.book.asks, l.price.get(), l.qty.get())?;
            }
            self.book.truncate(self.kraken_depth);
            if self.kraken_checksum && self.crc() != e.checksum {
                self.checksum_mismatches += 1;
            }
        }
        Ok(())
    }

    /// Kraken's CRC32 over the top 10 asks then bids, re-rendered from scratch with `{:.N}` (BTC/USD:
    /// price 1 decimal, quantity 8), `.` removed, leading zeros stripped.
    fn crc(&mut self) -> u32 {
        use std::fmt::Write as _;
        self.crc_buf.clear();
        let asks = self.book.asks.iter().take(10);
        let bids = self.book.bids.iter().rev().take(10);
        for (p, q) in asks.chain(bids) {
            for (v, dp) in [(p, 1), (q, 8)] {
                let s = format!("{v:.dp$}").replace('.', "");
                let _ = write!(self.crc_buf, "{}", s.trim_start_matches('0'));
            }
        }
        crc32fast::hash(self.crc_buf.as_bytes())
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("reference: {e}");
            eprintln!(
                "usage: reference --venue coinbase|gemini|kraken [--liquidity Q] [--kraken-checksum] CAPTURE"
            );
            return ExitCode::from(2);
        }
    };
    let file = match File::open(&args.path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("reference: cannot read {}: {e}", args.path);
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let mut input = BufReader::with_capacity(1 << 20, file);
    let mut state = State {
        book: Book::default(),
        kraken_depth: 1000,
        kraken_checksum: args.kraken_checksum,
        checksum_mismatches: 0,
        crc_buf: String::new(),
    };
    let (mut frames, mut bad) = (0u64, 0u64);
    let mut buf = String::new();
    loop {
        buf.clear();
        match input.read_line(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("reference: read error: {e}");
                return ExitCode::FAILURE;
            }
        }
        let Ok(line) = serde_json::from_str::<Line<'_>>(&buf) else {
            bad += 1;
            continue;
        };
        if line.venue != args.venue || line.dir.as_deref().is_some_and(|d| d != "in") {
            continue;
        }
        frames += 1;
        let r = match args.venue.as_str() {
            "coinbase" => state.coinbase(&line.frame),
            "gemini" => state.gemini(&line.frame),
            _ => state.kraken(&line.frame),
        };
        if r.is_err() {
            bad += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();

    // Buy `liquidity` from the final book (asks, lowest first): the cross-check figures.
    let (mut left, mut notional) = (args.liquidity, Decimal::ZERO);
    for (p, q) in &state.book.asks {
        if left.is_zero() {
            break;
        }
        let take = (*q).min(left);
        left -= take;
        notional += *p * take;
    }
    #[expect(clippy::cast_precision_loss, reason = "display-only rate")]
    let rate = frames as f64 / secs;
    eprintln!(
        "reference: venue={} frames={frames} bad={bad} seconds={secs:.3} msg_per_s={rate:.0} bids={} asks={} filled={} notional={}{}",
        args.venue,
        state.book.bids.len(),
        state.book.asks.len(),
        args.liquidity - left,
        notional,
        if args.kraken_checksum {
            format!(" checksum_mismatches={}", state.checksum_mismatches)
        } else {
            String::new()
        },
    );
    ExitCode::SUCCESS
}
