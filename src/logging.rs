//! File logging through `tracing` + `tracing-appender`: one file per component under the log dir,
//! never stdout/stderr (the dashboard owns the terminal; headless owns stdout).
//!
//! - `connection.log`: connects, disconnects, backoff, venue errors (target `connection`);
//! - `walk.log`: ticket and merge-set changes (target `walk`);
//! - `processing.log`: everything else (frames, integrity failures, latency, replay).
//!
//! The level comes from `CRA_TUI_LOG` (an `EnvFilter` spec), default `info`.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::prelude::*;

/// Lines queued per log file before new ones are dropped (each writer's channel is allocated whole
/// up front: the crate's default of 128,000 lines cost 4 MB of resident memory per file).
const BUFFERED_LINES: usize = 4_096;

/// Keeps the background log writers alive; drop it last (it flushes).
pub struct LogGuards {
    _guards: Vec<WorkerGuard>,
}

/// Starts logging into `dir` (created if needed).
///
/// # Errors
/// The directory cannot be created or a file cannot be opened there.
pub fn init(dir: &Path) -> std::io::Result<LogGuards> {
    std::fs::create_dir_all(dir)?;
    let mut guards = Vec::new();
    let mut writer = |name: &str| -> std::io::Result<tracing_appender::non_blocking::NonBlocking> {
        // Open once here so an unwritable directory is reported now, not silently dropped later.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(name))?;
        let (w, g) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .buffered_lines_limit(BUFFERED_LINES)
            .finish(tracing_appender::rolling::never(dir, name));
        guards.push(g);
        Ok(w)
    };
    let connection = writer("connection.log")?;
    let walk = writer("walk.log")?;
    let processing = writer("processing.log")?;
    let filter = EnvFilter::try_from_env("CRA_TUI_LOG").unwrap_or_else(|_| {
        EnvFilter::new("info,tungstenite=warn,tokio_tungstenite=warn,rustls=warn")
    });
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(connection)
                .with_filter(filter_fn(|m| m.target() == "connection")),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(walk)
                .with_filter(filter_fn(|m| m.target() == "walk")),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(processing)
                .with_filter(filter_fn(|m| {
                    m.target() != "connection" && m.target() != "walk"
                })),
        );
    // A second init (tests) keeps the first subscriber.
    let _ = registry.try_init();
    Ok(LogGuards { _guards: guards })
}
