//! cra-tui: what a market order of a given size would really cost, per venue and across venues.
//!
//! Module map:
//! - [`config`]: embedded defaults + strict user overlay.
//! - [`market`]: exact books, the depletion walk, the merged (k-way) walk.
//! - [`feed`]: venue adapters (Kraken v2, Coinbase Advanced Trade, Gemini v2), the WebSocket task,
//!   record/replay.
//! - [`state`]: the engine (books + ticket + health → View) and its actor.
//! - [`sim`]: simulated exchanges on loopback WebSockets, for `--demo` and the tests.
//! - [`ui`]: the full-screen dashboard (pure render of the View); [`app`]: its loop; [`screen`]: what it
//!   draws on (the diff and the bytes written); [`keymap`]: the one key table; [`terminal`]: the
//!   restore guard and the panic policy; [`dashboard`]: the wiring.
//! - [`headless`]: the NDJSON writer; [`replay`]: capture replay; [`run`]: what `main` does;
//!   [`cli`], [`logging`].

pub mod app;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod feed;
pub mod headless;
pub mod keymap;
pub mod logging;
pub mod market;
pub mod replay;
pub mod run;
pub mod screen;
pub mod sim;
pub mod state;
pub mod terminal;
pub mod ui;
