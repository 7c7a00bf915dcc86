//! The dashboard mode: the terminal guard, a pipeline (live, demo or replay) and the UI loop.
//!
//! The terminal is restored on every exit path: a normal quit or an error drops the guard; a panic in
//! any task goes through the panic hook (`terminal::install_panic_hook`), installed before the terminal
//! is taken; SIGTERM/SIGHUP/SIGINT end the loop like `q`. When nothing is reachable the screen offers
//! the offline demo, and accepting it restarts the pipeline against the simulators with the same ticket.

use std::fs::File;
use std::io::BufReader;

use crate::app::{UiExit, UiOptions, frame_period, run_ui};
use crate::cli::Cli;
use crate::config::Config;
use crate::feed::capture::Recorder;
use crate::feed::ws::FeedOptions;
use crate::keymap::Keymap;
use crate::replay::Speed;
use crate::run::{demo_config, start_live, start_replay};
use crate::state::engine::Ticket;
use crate::state::view::Source;
use crate::terminal::{TerminalEvents, TerminalGuard, install_panic_hook, quit_signal};

/// Runs the full-screen dashboard until the user quits.
///
/// # Errors
/// The terminal cannot be set up or drawn, or a pipeline cannot start.
pub async fn run(
    config: Config,
    mut ticket: Ticket,
    cli: Cli,
    mut replay: Option<BufReader<File>>,
    mut recorder: Option<Recorder>,
) -> Result<(), String> {
    let keymap =
        Keymap::from_overrides(&config.keys).map_err(|e| format!("invalid key bindings: {e}"))?;
    install_panic_hook();
    let mut guard =
        TerminalGuard::enter().map_err(|e| format!("cannot set up the terminal: {e}"))?;
    let mut events =
        TerminalEvents::spawn().map_err(|e| format!("cannot read the terminal's keys: {e}"))?;
    let mut demo = cli.demo;
    // The feeds read once a frame, on the grid the frames are drawn on: a dashboard drawing `fps`
    // frames a second has no use for the books more often, and each read costs a wake-up, a `recv`
    // and an ACK per feed (reading every 25 ms cost 1.0–1.1 % of a core more at the demo's rate).
    let feed_options = FeedOptions {
        read_pace: frame_period(config.fps),
        ..FeedOptions::default()
    };
    loop {
        let (pipeline, sims) = if let Some(input) = replay.take() {
            let speed = cli.speed.unwrap_or(Speed::Factor(1.0));
            (start_replay(&config, ticket, input, speed)?, Vec::new())
        } else if demo {
            let (demo_cfg, sims) = demo_config(&config).await?;
            (
                start_live(
                    &demo_cfg,
                    ticket,
                    Source::Demo,
                    recorder.take(),
                    &feed_options,
                )?,
                sims,
            )
        } else {
            (
                start_live(
                    &config,
                    ticket,
                    Source::Live,
                    recorder.take(),
                    &feed_options,
                )?,
                Vec::new(),
            )
        };
        let options = UiOptions {
            frame_origin: pipeline.pace_origin,
            ..UiOptions::new(keymap.clone(), config.fps)
        };
        let input = events.stream();
        let exit = run_ui(
            guard.screen_mut(),
            input,
            pipeline.views.clone(),
            pipeline.commands.clone(),
            options,
            quit_signal(),
        )
        .await;
        let last = pipeline.views.borrow().clone();
        pipeline.shutdown().await;
        drop(sims);
        match exit {
            Ok(UiExit::Quit) => return Ok(()),
            Ok(UiExit::SwitchToDemo) => {
                tracing::info!(target: "processing", "switching to the offline demo");
                ticket = Ticket {
                    action: last.action,
                    quantity: last.quantity,
                    step: last.step,
                };
                demo = true;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}
