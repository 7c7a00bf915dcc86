//! The `cra-tui` binary: everything lives in the library (`cra_tui::run`), so tests drive it too.

fn main() -> std::process::ExitCode {
    cra_tui::run::run(std::env::args_os())
}
