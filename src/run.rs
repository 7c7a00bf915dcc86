//! `run`: everything `main` does — parse, validate, set up logging, pick the mode, and map the outcome
//! to an exit code. Bad command-line or config input → one precise line on stderr and exit code 2.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::cli::Cli;
use crate::config::Config;
use crate::feed::capture::Recorder;
use crate::feed::ws::{FeedOptions, now_ns, run_feed};
use crate::feed::{Limits, build_adapter};
use crate::market::Action;
use crate::replay::{Speed, replay_headless};
use crate::state::Command;
use crate::state::actor::{ActorIo, Clock, run_actor};
use crate::state::engine::{Engine, Ticket};
use crate::state::view::{Source, View};

/// Exit code for bad input (command line, config, files).
pub const EXIT_USAGE: u8 = 2;
/// Exit code for a failure while running.
pub const EXIT_FAILURE: u8 = 1;

/// Capacity of the feeds → actor channel.
const EVENTS_CAP: usize = 4096;

/// Everything validated before anything starts.
pub struct Setup {
    /// The configuration after the user file, `--symbol`, `--venues`, `--fps`.
    pub config: Config,
    /// The initial ticket.
    pub ticket: Ticket,
    /// The parsed command line.
    pub cli: Cli,
    /// The opened replay file.
    pub replay: Option<BufReader<File>>,
    /// The opened recording.
    pub recorder: Option<Recorder>,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("cra-tui: {msg}");
    ExitCode::from(EXIT_USAGE)
}

/// The user config file: `--config`, else `$XDG_CONFIG_HOME/cra-tui/config.toml` (or
/// `~/.config/cra-tui/config.toml`) when it exists.
fn config_path(cli: &Cli) -> Option<PathBuf> {
    if let Some(p) = &cli.config {
        return Some(p.clone());
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    let p = base.join("cra-tui").join("config.toml");
    p.is_file().then_some(p)
}

/// Parses and validates everything; on bad input returns the exit code to use (the message is printed).
///
/// # Errors
/// The exit code (0 after `--help`/`--version`, 2 for bad input).
pub fn setup(args: impl IntoIterator<Item = OsString>) -> Result<Setup, ExitCode> {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return Err(ExitCode::SUCCESS);
            }
            // clap's first line names the argument and the problem; the rest is a usage hint.
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            return Err(usage(first));
        }
    };
    let mut config = Config::load_with_symbol(config_path(&cli).as_deref(), cli.symbol.as_deref())
        .map_err(usage)?;
    if let Some(v) = &cli.venues {
        config.select_venues(v).map_err(usage)?;
    }
    crate::keymap::Keymap::from_overrides(&config.keys)
        .map_err(|e| usage(format!("invalid config: {e}")))?;
    if let Some(fps) = cli.fps {
        config.fps = fps;
    }
    if let Some(dir) = &cli.log_dir {
        config.log_dir.clone_from(dir);
    }
    let replay = match &cli.replay {
        Some(p) => Some(BufReader::with_capacity(
            1 << 20,
            File::open(p)
                .map_err(|e| usage(format!("cannot read replay file {}: {e}", p.display())))?,
        )),
        None => None,
    };
    if let Some(p) = &cli.replay
        && p.is_dir()
    {
        return Err(usage(format!(
            "cannot read replay file {}: it is a directory",
            p.display()
        )));
    }
    let recorder = match &cli.record {
        Some(p) => {
            let names: Vec<String> = config.venues.iter().map(|v| v.name.clone()).collect();
            Some(
                Recorder::create(p, &config.symbol, &names, now_ns())
                    .map_err(|e| usage(format!("cannot write recording {}: {e}", p.display())))?,
            )
        }
        None => None,
    };
    let ticket = Ticket {
        action: cli.action().unwrap_or(Action::Sell),
        quantity: cli.liquidity().unwrap_or(config.default_liquidity),
        step: config.size_step,
    };
    Ok(Setup {
        config,
        ticket,
        cli,
        replay,
        recorder,
    })
}

/// The whole program. `args` includes the program name.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let setup = match setup(args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let _logs = match crate::logging::init(&setup.config.log_dir) {
        Ok(g) => g,
        Err(e) => {
            return usage(format!(
                "cannot write logs to {}: {e}",
                setup.config.log_dir.display()
            ));
        }
    };
    tracing::info!(target: "processing", version = env!("CARGO_PKG_VERSION"), args = ?std::env::args().collect::<Vec<_>>(), "start");
    // tokio-tungstenite's rustls has no crypto provider of its own: without this the first wss://
    // connect panics. An Err means one is installed already, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let result = if setup.cli.headless && setup.replay.is_some() {
        run_headless_replay(setup)
    } else {
        match tokio::runtime::Builder::new_multi_thread()
            // One worker beside the UI thread: the feeds and the actor share it (a few hundred frames
            // a second need far less than a core), and fewer threads wake each other per frame
            // (measured: 7.9 % → 6.9 % of a core at 450 msg/s, against two workers).
            .worker_threads(1)
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(run_async(setup)),
            Err(e) => Err(format!("cannot start the runtime: {e}")),
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(target: "processing", error = %e, "failed");
            eprintln!("cra-tui: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn run_headless_replay(setup: Setup) -> Result<(), String> {
    let Setup {
        config,
        ticket,
        cli,
        replay,
        ..
    } = setup;
    let Some(input) = replay else {
        return Err("no replay file".to_owned());
    };
    let mut engine = Engine::new(&config, ticket, Source::Replay)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let stats = replay_headless(
        &mut engine,
        input,
        cli.interval_ms,
        cli.speed.unwrap_or(Speed::Max),
        &mut out,
    )
    .map_err(|e| format!("replay failed: {e}"))?;
    if stats.bad_lines > 0 {
        tracing::warn!(target: "processing", bad_lines = stats.bad_lines, "capture had unreadable lines");
    }
    Ok(())
}

/// A running pipeline: feeds (or a replay) → actor → Views.
pub struct Pipeline {
    /// Latest View.
    pub views: watch::Receiver<Arc<View>>,
    /// Ticket commands.
    pub commands: mpsc::Sender<Command>,
    /// The actor; returns the engine when all sources are gone.
    pub actor: JoinHandle<Engine>,
    /// The sources (feed tasks or the replay task).
    pub sources: Vec<JoinHandle<()>>,
    /// The grid the live feeds pace their reads on (`None` for a replay): the dashboard draws on it.
    pub pace_origin: Option<tokio::time::Instant>,
}

impl Pipeline {
    /// Stops the sources, lets the actor apply what is queued, and returns its engine.
    ///
    /// # Errors
    /// The actor task panicked.
    pub async fn finish(self) -> Result<Engine, String> {
        for s in &self.sources {
            s.abort();
        }
        for s in self.sources {
            let _ = s.await;
        }
        self.actor
            .await
            .map_err(|e| format!("state actor failed: {e}"))
    }

    /// Stops the sources and waits for the actor's last View.
    pub async fn shutdown(self) -> Option<Arc<View>> {
        for s in &self.sources {
            s.abort();
        }
        for s in self.sources {
            let _ = s.await;
        }
        let views = self.views;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.actor).await;
        Some(views.borrow().clone())
    }
}

/// Starts live feeds for every venue of `config` (real exchanges or simulator URLs) and the actor.
///
/// # Errors
/// A venue whose adapter is unknown.
pub fn start_live(
    config: &Config,
    ticket: Ticket,
    source: Source,
    recorder: Option<Recorder>,
    opts: &FeedOptions,
) -> Result<Pipeline, String> {
    let engine = Engine::new(config, ticket, source)?;
    let (ev_tx, ev_rx) = mpsc::channel(EVENTS_CAP);
    let mut controls = Vec::new();
    let mut sources = Vec::new();
    let limits = Limits {
        max_levels_per_side: config.max_levels_per_side,
    };
    // Every feed paces its reads on the same grid, so they wake together.
    let pace_origin = Some(opts.pace_origin.unwrap_or_else(tokio::time::Instant::now));
    for (i, v) in config.venues.iter().enumerate() {
        let (ctl_tx, ctl_rx) = mpsc::channel(4);
        controls.push(ctl_tx);
        let keepalive = build_adapter(v, limits)?.keepalive();
        let opts = FeedOptions {
            max_frame_bytes: config.max_frame_bytes,
            pace_origin,
            ..opts.clone()
        };
        sources.push(tokio::spawn(run_feed(
            i,
            v.clone(),
            keepalive,
            opts,
            ev_tx.clone(),
            ctl_rx,
        )));
    }
    drop(ev_tx);
    Ok(Pipeline {
        pace_origin,
        ..spawn_actor(
            engine,
            ev_rx,
            controls,
            recorder,
            config.fps,
            Clock::Wall,
            sources,
        )
    })
}

/// Starts a paced replay of `input` and the actor.
///
/// # Errors
/// A venue whose adapter is unknown.
pub fn start_replay(
    config: &Config,
    ticket: Ticket,
    input: BufReader<File>,
    speed: Speed,
) -> Result<Pipeline, String> {
    let engine = Engine::new(config, ticket, Source::Replay)?;
    let (ev_tx, ev_rx) = mpsc::channel(EVENTS_CAP);
    let names = config.venues.iter().map(|v| v.name.clone()).collect();
    let source = tokio::spawn(async move {
        // Keep a sender alive after the end of the file: the dashboard goes on showing the last state
        // (the actor ends only when every source is gone).
        let _keep = ev_tx.clone();
        crate::replay::replay_feed(input, names, speed, ev_tx).await;
        std::future::pending::<()>().await;
    });
    Ok(spawn_actor(
        engine,
        ev_rx,
        Vec::new(),
        None,
        config.fps,
        Clock::Stream,
        vec![source],
    ))
}

fn spawn_actor(
    engine: Engine,
    events: mpsc::Receiver<crate::feed::ws::FeedEvent>,
    controls: Vec<mpsc::Sender<crate::state::engine::Control>>,
    recorder: Option<Recorder>,
    fps: u32,
    clock: Clock,
    sources: Vec<JoinHandle<()>>,
) -> Pipeline {
    let first = engine.view(now_ns(), crate::state::engine::ViewOptions { depth: false });
    let (view_tx, view_rx) = watch::channel(Arc::new(first));
    let (cmd_tx, cmd_rx) = mpsc::channel(64);
    let io = ActorIo {
        events,
        commands: cmd_rx,
        controls,
        views: view_tx,
        recorder,
        fps,
        clock,
    };
    Pipeline {
        views: view_rx,
        commands: cmd_tx,
        actor: tokio::spawn(run_actor(engine, io)),
        sources,
        pace_origin: None,
    }
}

/// Starts the simulated exchanges for `--demo` and points the venues at them.
pub(crate) async fn demo_config(
    config: &Config,
) -> Result<(Config, Vec<crate::sim::SimHandle>), String> {
    crate::sim::start_demo(config, crate::sim::SimOptions::demo())
        .await
        .map_err(|e| format!("cannot start the simulated exchanges: {e}"))
}

async fn run_async(setup: Setup) -> Result<(), String> {
    let Setup {
        config,
        ticket,
        cli,
        replay,
        recorder,
    } = setup;
    if cli.headless {
        let (config, _sims, source) = if cli.demo {
            let (c, s) = demo_config(&config).await?;
            (c, s, Source::Demo)
        } else {
            (config, Vec::new(), Source::Live)
        };
        let pipeline = start_live(&config, ticket, source, recorder, &FeedOptions::default())?;
        return headless_live(pipeline, cli.interval_ms).await;
    }
    crate::dashboard::run(config, ticket, cli, replay, recorder).await
}

/// Prints the latest View every `interval_ms` until a quit signal, then one last line.
async fn headless_live(pipeline: Pipeline, interval_ms: u64) -> Result<(), String> {
    let mut tick = tokio::time::interval(Duration::from_millis(interval_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tick.tick().await; // the first tick is immediate: wait one period before the first line
    let stdout = io::stdout();
    let write = |view: &View| -> Result<(), String> {
        let mut out = stdout.lock();
        writeln!(out, "{}", crate::headless::line(view))
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to stdout: {e}"))
    };
    let signal = crate::terminal::quit_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            _ = tick.tick() => {
                let view = pipeline.views.borrow().clone();
                if let Err(e) = write(&view) {
                    // A closed pipe (e.g. `| head`) ends the run quietly.
                    tracing::info!(target: "processing", error = %e, "stdout closed");
                    let _ = pipeline.shutdown().await;
                    return Ok(());
                }
            }
        }
    }
    if let Some(view) = pipeline.shutdown().await {
        write(&view)?;
    }
    Ok(())
}
