//! The `cra-tui` binary: everything lives in the library (`cra_tui::run`), so tests drive it too.

fn main() -> std::process::ExitCode {
    // Readable panic and error reports; the dashboard chains its terminal-restoring hook after this one.
    let _ = color_eyre::install();
    cra_tui::run::run(std::env::args_os())
}
