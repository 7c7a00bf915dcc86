//! The command line (design.md §2). Bad values produce one precise line on stderr and exit code 2.

use std::path::PathBuf;

use clap::Parser;
use rust_decimal::Decimal;

use crate::market::Action;
use crate::replay::Speed;

/// What a market order of a given size would really cost, on each exchange and across all of them.
#[derive(Debug, Clone, Parser)]
#[command(name = "cra-tui", version, about, long_about = None)]
pub struct Cli {
    /// `buy` walks the asks, `sell` walks the bids (positional form of --action, as in `cra-tui sell 15`).
    #[arg(value_name = "ACTION", value_parser = parse_action)]
    pub action_pos: Option<Action>,
    /// Order size in base currency (positional form of --liquidity).
    #[arg(value_name = "QTY", value_parser = parse_size)]
    pub liquidity_pos: Option<Decimal>,
    /// buy or sell.
    #[arg(long, value_parser = parse_action, conflicts_with = "action_pos")]
    pub action: Option<Action>,
    /// Order size in base currency (a positive decimal; default from the config).
    #[arg(long, value_name = "QTY", value_parser = parse_size, conflicts_with = "liquidity_pos")]
    pub liquidity: Option<Decimal>,
    /// Symbol as BASE-QUOTE (default BTC-USD); each venue's own spelling is derived from it.
    #[arg(long, value_parser = parse_symbol)]
    pub symbol: Option<String>,
    /// A config file overriding the embedded defaults key by key.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only these venues, in this order (comma-separated config names).
    #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
    pub venues: Option<Vec<String>>,
    /// Run against the built-in simulated exchanges on loopback (offline).
    #[arg(long, conflicts_with = "replay")]
    pub demo: bool,
    /// Replay a capture file through the same pipeline.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Replay pace: a factor of real time, or `max` (default 1 with the dashboard, max headless).
    #[arg(long, value_name = "X|max", value_parser = parse_speed, requires = "replay")]
    pub speed: Option<Speed>,
    /// Record every frame received and sent to this capture file.
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    pub record: Option<PathBuf>,
    /// No dashboard: NDJSON lines on stdout.
    #[arg(long)]
    pub headless: bool,
    /// Headless emission period in ms, on the stream's own clock.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub interval_ms: u64,
    /// Directory for the log files (default from the config: /tmp/cra-tui).
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Dashboard frames per second (1–120; default from the config).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=120))]
    pub fps: Option<u32>,
}

impl Cli {
    /// The action, from --action or the positional form.
    #[must_use]
    pub fn action(&self) -> Option<Action> {
        self.action.or(self.action_pos)
    }

    /// The size, from --liquidity or the positional form.
    #[must_use]
    pub fn liquidity(&self) -> Option<Decimal> {
        self.liquidity.or(self.liquidity_pos)
    }
}

fn parse_action(s: &str) -> Result<Action, String> {
    s.parse()
}

/// Largest order size accepted.
const MAX_SIZE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// Parses a positive decimal order size.
///
/// # Errors
/// Not a plain decimal, zero, negative, or absurdly large.
pub fn parse_size(s: &str) -> Result<Decimal, String> {
    let v: Decimal = s.trim().parse().map_err(|_| {
        format!("'{s}' is not a number (expected a positive decimal such as 15 or 2.5)")
    })?;
    if v <= Decimal::ZERO {
        return Err(format!("size must be positive, got {s}"));
    }
    if v > MAX_SIZE {
        return Err(format!("size {s} is too large (at most {MAX_SIZE})"));
    }
    Ok(v)
}

fn parse_speed(s: &str) -> Result<Speed, String> {
    s.parse()
}

fn parse_symbol(s: &str) -> Result<String, String> {
    let up = s.to_ascii_uppercase();
    match up.split_once(['-', '/']) {
        Some((b, q))
            if !b.is_empty()
                && !q.is_empty()
                && b.chars()
                    .chain(q.chars())
                    .all(|c| c.is_ascii_alphanumeric()) =>
        {
            Ok(format!("{b}-{q}"))
        }
        _ => Err(format!(
            "invalid symbol '{s}' (expected BASE-QUOTE, e.g. BTC-USD)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn positional_and_flag_forms_mean_the_same() {
        let a = Cli::try_parse_from(["cra-tui", "sell", "15"]).unwrap();
        let b = Cli::try_parse_from(["cra-tui", "--action", "sell", "--liquidity", "15"]).unwrap();
        assert_eq!((a.action(), a.liquidity()), (b.action(), b.liquidity()));
        assert_eq!(a.liquidity(), Some(Decimal::from(15)));
    }

    #[test]
    fn bad_values_are_rejected() {
        for args in [
            &["cra-tui", "--liquidity", "0"][..],
            &["cra-tui", "--liquidity", "-3"],
            &["cra-tui", "--liquidity", "abc"],
            &["cra-tui", "--action", "hold"],
            &["cra-tui", "--speed", "2"],
            &["cra-tui", "--symbol", "BTCUSD"],
            &["cra-tui", "--fps", "0"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?} accepted");
        }
        assert_eq!(parse_symbol("eth/usd").unwrap(), "ETH-USD");
    }
}
