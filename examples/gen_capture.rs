//! Writes a deterministic simulated capture (design.md §2 capture format) for benchmarks and replay.
//!
//! ```text
//! cargo run --release --example gen_capture -- --venue kraken --messages 200000 --seed 1 --out FILE
//! cargo run --release --example gen_capture -- --venue all --kraken-depth 100 --out FILE
//! ```
//! Venues come from the default config (`kraken`, `coinbase`, `gemini`); `all` interleaves them by
//! timestamp. `--messages` counts received frames (the subscription lines come on top).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use cra_tui::config::Config;
use cra_tui::sim::capture;

/// Generate a simulated capture.
#[derive(Debug, Parser)]
struct Args {
    /// A venue name from the default config, or `all`.
    #[arg(long, default_value = "all")]
    venue: String,
    /// Received frames to write.
    #[arg(long, default_value_t = 200_000)]
    messages: usize,
    /// Base seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (default: stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Kraken subscription depth (10, 25, 100, 500 or 1000; default: the config's).
    #[arg(long)]
    kraken_depth: Option<u32>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let config = match args.kraken_depth {
        Some(d) => Config::from_user_toml(&format!("[[venue]]\nname = \"kraken\"\ndepth = {d}\n"))?,
        None => Config::default_config()?,
    };
    let venues: Vec<_> = if args.venue == "all" {
        config.venues.clone()
    } else {
        let v = config
            .venues
            .iter()
            .find(|v| v.name == args.venue)
            .ok_or_else(|| {
                format!(
                    "unknown venue '{}' (kraken, coinbase, gemini or all)",
                    args.venue
                )
            })?;
        vec![v.clone()]
    };
    let started = Instant::now();
    let out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(File::create(p)?),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, out);
    capture::generate_interleaved(&venues, args.messages, args.seed, &mut out)?;
    out.flush()?;
    if let Some(p) = &args.out {
        let bytes = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "wrote {} frames ({} bytes) to {} in {:.2?}",
            args.messages,
            bytes,
            p.display(),
            started.elapsed()
        );
    }
    Ok(())
}
