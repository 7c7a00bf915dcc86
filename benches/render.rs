//! Render benchmark: one full frame of the dashboard (three venues, merged walk, fills, depth chart)
//! at 200×60 on a `TestBackend`. Target: well under 1 ms per frame.

#[path = "../tests/ui_common/mod.rs"]
mod ui_common;

use std::hint::black_box;

use cra_tui::keymap::Keymap;
use cra_tui::market::Action;
use cra_tui::ui::{self, UiState};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn render(c: &mut Criterion) {
    let ui_state = UiState::new(Keymap::default());
    for (name, view) in [
        ("render_200x60_sell_15", ui_common::live(Action::Sell, "15")),
        ("render_200x60_partial", ui_common::thin_gemini()),
    ] {
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test backend");
        c.bench_function(name, |b| {
            b.iter(|| {
                // A full draw: render into the back buffer, diff, "write" to the backend.
                terminal
                    .draw(|f| ui::render(f, black_box(&view), &ui_state))
                    .expect("draw");
            });
        });
    }
    // Every frame differs from the previous one (the diff writes most cells).
    let view = ui_common::live(Action::Sell, "15");
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test backend");
    c.bench_function("render_200x60_alternating_views", |b| {
        let other = ui_common::live(Action::Buy, "2.5");
        let mut flip = false;
        b.iter(|| {
            flip = !flip;
            let v = if flip { &view } else { &other };
            terminal
                .draw(|f| ui::render(f, black_box(v), &ui_state))
                .expect("draw");
        });
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
