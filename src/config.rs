//! Configuration: `config/default.toml` is embedded in the binary; a user file overrides it key by key.
//!
//! Both files are read into the same strict "layer" shape (every key optional, unknown keys rejected),
//! the user layer is laid over the default one (a `[[venue]]` with a known `name` overrides that venue's
//! keys, a new `name` adds a venue), and the result is validated into [`Config`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::Deserialize;

/// The shipped defaults.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Adapters this build knows, by config name.
pub const ADAPTERS: &[&str] = &["kraken-v2", "coinbase-advanced", "gemini-v2"];

/// A configuration problem, with a message precise enough to fix the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// TOML syntax or an unknown/mistyped key.
    #[error("invalid config {origin}: {message}")]
    Parse {
        /// `the default config` or the file path.
        origin: String,
        /// The TOML parser's message (names the key and line).
        message: String,
    },
    /// A value that parses but makes no sense.
    #[error("invalid config: {0}")]
    Invalid(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    symbol: Option<String>,
    fps: Option<u32>,
    default_liquidity: Option<Decimal>,
    size_step: Option<Decimal>,
    log_dir: Option<PathBuf>,
    max_frame_bytes: Option<usize>,
    max_levels_per_side: Option<usize>,
    #[serde(default)]
    venue: Vec<VenueLayer>,
    #[serde(default)]
    keys: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct VenueLayer {
    name: String,
    adapter: Option<String>,
    url: Option<String>,
    symbol: Option<String>,
    depth: Option<u32>,
    price_precision: Option<u32>,
    qty_precision: Option<u32>,
    subscribe: Option<Vec<String>>,
    taker_fee_bps: Option<Decimal>,
    quote: Option<String>,
    stale_after_ms: Option<u64>,
    enabled: Option<bool>,
}

impl VenueLayer {
    fn overlay(&mut self, o: VenueLayer) {
        macro_rules! take {
            ($($f:ident),*) => { $( if o.$f.is_some() { self.$f = o.$f; } )* };
        }
        take!(
            adapter,
            url,
            symbol,
            depth,
            price_precision,
            qty_precision,
            subscribe,
            taker_fee_bps,
            quote,
            stale_after_ms,
            enabled
        );
    }
}

/// One source of order-book data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueConfig {
    /// The name captures and the headless output use (`kraken`, `coinbase`, `gemini`, …).
    pub name: String,
    /// The adapter that decodes this venue's frames (one of [`ADAPTERS`]).
    pub adapter: String,
    /// WebSocket endpoint.
    pub url: String,
    /// The venue's own spelling of the symbol.
    pub symbol: String,
    /// Subscribed depth, where the venue has one.
    pub depth: Option<u32>,
    /// Price decimals used by a checksum (Kraken).
    pub price_precision: Option<u32>,
    /// Quantity decimals used by a checksum (Kraken).
    pub qty_precision: Option<u32>,
    /// Subscription messages with `{symbol}` and `{depth}` filled in, sent in order after connecting.
    pub subscribe: Vec<String>,
    /// Taker fee in basis points.
    pub taker_fee_bps: Decimal,
    /// Quote currency label.
    pub quote: String,
    /// No frame at all for this long → the venue is stale and the connection is replaced.
    pub stale_after_ms: u64,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The symbol shown in the header.
    pub symbol: String,
    /// Frames per second of the dashboard.
    pub fps: u32,
    /// Default order size.
    pub default_liquidity: Decimal,
    /// Default size step.
    pub size_step: Decimal,
    /// Where the log files go.
    pub log_dir: PathBuf,
    /// Largest WebSocket frame/message accepted.
    pub max_frame_bytes: usize,
    /// Largest book side accepted.
    pub max_levels_per_side: usize,
    /// Enabled venues, in config order.
    pub venues: Vec<VenueConfig>,
    /// Key bindings overriding the defaults: action name → keys.
    pub keys: BTreeMap<String, Vec<String>>,
}

fn parse_layer(text: &str, origin: &str) -> Result<Layer, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        origin: origin.to_owned(),
        message: e.to_string().trim_end().replace('\n', " | "),
    })
}

impl Config {
    /// The embedded defaults alone.
    ///
    /// # Errors
    /// Only if the shipped file is broken (a test keeps it from being).
    pub fn default_config() -> Result<Config, ConfigError> {
        Self::from_layers(&[DEFAULT_TOML], &[], None)
    }

    /// Defaults overlaid with the user file at `path`.
    ///
    /// # Errors
    /// Unreadable file, bad TOML, unknown key, or an invalid value.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_with_symbol(path, None)
    }

    /// Like [`Config::load`], with every venue's symbol derived from `symbol` (`BASE-QUOTE`) by its
    /// adapter's spelling (Kraken `BASE/QUOTE`, Coinbase `BASE-QUOTE`, Gemini `BASEQUOTE`).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_with_symbol(
        path: Option<&Path>,
        symbol: Option<&str>,
    ) -> Result<Config, ConfigError> {
        match path {
            None => Self::from_layers(&[DEFAULT_TOML], &[], symbol),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_owned(),
                    source,
                })?;
                Self::from_layers(&[DEFAULT_TOML, &text], &[&p.display().to_string()], symbol)
            }
        }
    }

    /// Defaults overlaid with a user config given as text (for tests and embedding).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn from_user_toml(text: &str) -> Result<Config, ConfigError> {
        Self::from_layers(&[DEFAULT_TOML, text], &["user config"], None)
    }

    fn from_layers(
        texts: &[&str],
        origins: &[&str],
        symbol: Option<&str>,
    ) -> Result<Config, ConfigError> {
        let mut base = Layer::default();
        for (i, text) in texts.iter().enumerate() {
            let origin = if i == 0 {
                "the default config"
            } else {
                origins.get(i - 1).copied().unwrap_or("user config")
            };
            let layer = parse_layer(text, origin)?;
            macro_rules! take {
                ($($f:ident),*) => { $( if layer.$f.is_some() { base.$f = layer.$f; } )* };
            }
            take!(
                symbol,
                fps,
                default_liquidity,
                size_step,
                log_dir,
                max_frame_bytes,
                max_levels_per_side
            );
            for v in layer.venue {
                match base.venue.iter_mut().find(|b| b.name == v.name) {
                    Some(existing) => existing.overlay(v),
                    None => base.venue.push(v),
                }
            }
            base.keys.extend(layer.keys);
        }
        if let Some(sym) = symbol {
            let (b, q) = sym
                .split_once('-')
                .ok_or_else(|| ConfigError::Invalid(format!("symbol '{sym}' is not BASE-QUOTE")))?;
            base.symbol = Some(sym.to_owned());
            for v in &mut base.venue {
                v.symbol = Some(venue_symbol(v.adapter.as_deref().unwrap_or_default(), b, q));
            }
        }
        validate(base)
    }

    /// Keeps only the venues named in `names`, in that order.
    ///
    /// # Errors
    /// A name that is not a configured, enabled venue.
    pub fn select_venues(&mut self, names: &[String]) -> Result<(), ConfigError> {
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            let Some(v) = self.venues.iter().find(|v| &v.name == n) else {
                let known: Vec<_> = self.venues.iter().map(|v| v.name.as_str()).collect();
                return Err(ConfigError::Invalid(format!(
                    "unknown venue '{n}' (configured: {})",
                    known.join(", ")
                )));
            };
            if out.iter().any(|o: &VenueConfig| &o.name == n) {
                return Err(ConfigError::Invalid(format!("venue '{n}' listed twice")));
            }
            out.push(v.clone());
        }
        self.venues = out;
        Ok(())
    }
}

/// A venue's own spelling of `BASE-QUOTE`, by adapter.
#[must_use]
pub fn venue_symbol(adapter: &str, base: &str, quote: &str) -> String {
    match adapter {
        "kraken-v2" => format!("{base}/{quote}"),
        "gemini-v2" => format!("{base}{quote}"),
        _ => format!("{base}-{quote}"),
    }
}

fn positive(name: &str, v: Option<Decimal>) -> Result<Decimal, ConfigError> {
    match v {
        Some(v) if v > Decimal::ZERO => Ok(v),
        Some(v) => Err(ConfigError::Invalid(format!(
            "`{name}` must be positive, got {v}"
        ))),
        None => Err(ConfigError::Invalid(format!("`{name}` is missing"))),
    }
}

fn validate(l: Layer) -> Result<Config, ConfigError> {
    let missing = |k: &str| ConfigError::Invalid(format!("`{k}` is missing"));
    let fps = l.fps.ok_or_else(|| missing("fps"))?;
    if !(1..=120).contains(&fps) {
        return Err(ConfigError::Invalid(format!(
            "`fps` must be 1 to 120, got {fps}"
        )));
    }
    let mut venues = Vec::new();
    for v in l.venue {
        let name = v.name.clone();
        let need = |f: Option<String>, k: &str| {
            f.filter(|s| !s.is_empty())
                .ok_or_else(|| ConfigError::Invalid(format!("venue '{name}': `{k}` is missing")))
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError::Invalid(format!(
                "venue name '{name}' must be non-empty letters, digits, '-' or '_'"
            )));
        }
        if !v.enabled.unwrap_or(true) {
            continue;
        }
        let adapter = need(v.adapter, "adapter")?;
        if !ADAPTERS.contains(&adapter.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "venue '{name}': unknown adapter '{adapter}' (known: {})",
                ADAPTERS.join(", ")
            )));
        }
        let url = need(v.url, "url")?;
        if !(url.starts_with("wss://") || url.starts_with("ws://")) {
            return Err(ConfigError::Invalid(format!(
                "venue '{name}': url must start with wss:// or ws://, got '{url}'"
            )));
        }
        let symbol = need(v.symbol, "symbol")?;
        let subscribe = v.subscribe.unwrap_or_default();
        if subscribe.is_empty() {
            return Err(ConfigError::Invalid(format!(
                "venue '{name}': `subscribe` is missing or empty"
            )));
        }
        let depth_text = v.depth.map(|d| d.to_string()).unwrap_or_default();
        let subscribe = subscribe
            .iter()
            .map(|t| {
                t.replace("{symbol}", &symbol)
                    .replace("{depth}", &depth_text)
            })
            .collect();
        let taker_fee_bps = v.taker_fee_bps.unwrap_or_default();
        if taker_fee_bps < Decimal::ZERO {
            return Err(ConfigError::Invalid(format!(
                "venue '{name}': `taker_fee_bps` must not be negative"
            )));
        }
        let stale_after_ms = v.stale_after_ms.unwrap_or(10_000);
        if stale_after_ms == 0 {
            return Err(ConfigError::Invalid(format!(
                "venue '{name}': `stale_after_ms` must be positive"
            )));
        }
        if venues.iter().any(|o: &VenueConfig| o.name == name) {
            return Err(ConfigError::Invalid(format!(
                "venue '{name}' defined twice"
            )));
        }
        venues.push(VenueConfig {
            name,
            adapter,
            url,
            symbol,
            depth: v.depth,
            price_precision: v.price_precision,
            qty_precision: v.qty_precision,
            subscribe,
            taker_fee_bps,
            quote: v.quote.unwrap_or_else(|| "USD".to_owned()),
            stale_after_ms,
        });
    }
    if venues.is_empty() {
        return Err(ConfigError::Invalid("no enabled venue".to_owned()));
    }
    Ok(Config {
        symbol: l.symbol.ok_or_else(|| missing("symbol"))?,
        fps,
        default_liquidity: positive("default_liquidity", l.default_liquidity)?,
        size_step: positive("size_step", l.size_step)?,
        log_dir: l.log_dir.ok_or_else(|| missing("log_dir"))?,
        max_frame_bytes: l
            .max_frame_bytes
            .ok_or_else(|| missing("max_frame_bytes"))?
            .max(1024),
        max_levels_per_side: l
            .max_levels_per_side
            .ok_or_else(|| missing("max_levels_per_side"))?
            .max(1),
        venues,
        keys: l.keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_default_parses_with_three_venues_in_order() {
        let c = Config::default_config().expect("default config");
        let names: Vec<_> = c.venues.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["kraken", "coinbase", "gemini"]);
        assert_eq!(
            c.venues[0].subscribe[0],
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":1000,"snapshot":true}}"#
        );
        assert_eq!(c.venues[1].subscribe.len(), 2);
    }

    #[test]
    fn user_file_overrides_one_key_of_a_venue_and_adds_another() {
        let c = Config::from_user_toml(
            r#"
fps = 20
[[venue]]
name = "gemini"
url = "ws://127.0.0.1:9/"
[[venue]]
name = "kraken2"
adapter = "kraken-v2"
url = "ws://127.0.0.1:10/"
symbol = "ETH/USD"
depth = 10
subscribe = ['{"depth":{depth},"s":"{symbol}"}']
"#,
        )
        .expect("overlay");
        assert_eq!(c.fps, 20);
        let g = &c.venues[2];
        assert_eq!(
            (g.name.as_str(), g.url.as_str(), g.symbol.as_str()),
            ("gemini", "ws://127.0.0.1:9/", "BTCUSD")
        );
        assert_eq!(
            c.venues[3].subscribe,
            vec![r#"{"depth":10,"s":"ETH/USD"}"#.to_owned()]
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_precise_errors() {
        let e = Config::from_user_toml("colour = 1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour"), "{e}");
        let e = Config::from_user_toml("[[venue]]\nname = \"kraken\"\nurll = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("urll"), "{e}");
        let e = Config::from_user_toml("[[venue]]\nname = \"kraken\"\nadapter = \"nope\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown adapter 'nope'"), "{e}");
        let e = Config::from_user_toml("default_liquidity = \"-1\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("default_liquidity"), "{e}");
        let e = Config::from_user_toml("fps = 0").unwrap_err().to_string();
        assert!(e.contains("fps"), "{e}");
    }

    #[test]
    fn shipped_example_parses_and_only_overrides() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
        let c = Config::load(Some(&path)).expect("example config");
        let d = Config::default_config().expect("default");
        assert_eq!(
            (c.fps, c.default_liquidity.to_string().as_str()),
            (15, "2.5")
        );
        let names: Vec<_> = c.venues.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["kraken", "coinbase"]);
        assert_eq!(c.venues[0].depth, Some(100));
        assert!(c.venues[0].subscribe[0].contains(r#""depth":100"#));
        assert_eq!(c.venues[0].url, d.venues[0].url);
        assert_eq!(c.venues[1], d.venues[1]);
        assert_eq!(c.keys.get("flip").map(Vec::len), Some(2));
        crate::keymap::Keymap::from_overrides(&c.keys).expect("example key bindings");
    }

    #[test]
    fn symbol_override_is_spelled_per_adapter() {
        let c = Config::load_with_symbol(None, Some("ETH-USD")).expect("load");
        let syms: Vec<_> = c.venues.iter().map(|v| v.symbol.as_str()).collect();
        assert_eq!(syms, ["ETH/USD", "ETH-USD", "ETHUSD"]);
        assert!(c.venues[1].subscribe[0].contains(r#"["ETH-USD"]"#));
        assert_eq!(c.symbol, "ETH-USD");
    }

    #[test]
    fn select_venues_keeps_order_and_rejects_unknown_names() {
        let mut c = Config::default_config().expect("default");
        c.select_venues(&["gemini".into(), "kraken".into()])
            .expect("select");
        assert_eq!(c.venues[0].name, "gemini");
        let e = c
            .select_venues(&["binance".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown venue 'binance'"), "{e}");
    }
}
