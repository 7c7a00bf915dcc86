//! Serves the simulated exchanges of `--demo` from a process of their own, and writes a config file that
//! points cra-tui's venues at them — so the cost of the dashboard can be measured apart from the cost of
//! the simulated markets (`scripts/live_cost.sh`), or several clients can watch the same markets.
//!
//! ```text
//! cargo run --release --example sim_exchanges -- --config-out /tmp/sim.toml [--rate 150]
//! cra-tui --config /tmp/sim.toml --action sell --liquidity 15
//! ```
//! `--rate` is book updates per second per venue (the demo's default: 150, so ~450 msg/s for the
//! three venues, about what the real feeds send for BTC-USD on a quiet day). Runs until Ctrl-C.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Parser;
use cra_tui::config::Config;
use cra_tui::sim::{SimOptions, start_demo};

/// Serve the simulated exchanges.
#[derive(Debug, Parser)]
struct Args {
    /// Where to write the config overlay naming each venue's loopback URL.
    #[arg(long)]
    config_out: PathBuf,
    /// Book updates per second per venue (default: the demo's).
    #[arg(long)]
    rate: Option<u32>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut opts = SimOptions::demo();
    if let Some(rate) = args.rate {
        opts.updates_per_sec = rate;
    }
    let (served, _handles) = start_demo(&Config::default_config()?, opts.clone()).await?;
    let mut overlay =
        String::from("# Written by `cargo run --example sim_exchanges`: the simulated venues.\n");
    for v in &served.venues {
        writeln!(
            overlay,
            "\n[[venue]]\nname = {:?}\nurl = {:?}",
            v.name, v.url
        )?;
    }
    std::fs::write(&args.config_out, overlay)?;
    eprintln!(
        "sim_exchanges: {} venues at {} updates/s each; config in {}; Ctrl-C stops",
        served.venues.len(),
        opts.updates_per_sec,
        args.config_out.display()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
