//! Render benchmark: one full frame of the dashboard (three venues, merged walk, fills, depth chart)
//! at 200×60, drawn as the dashboard draws it: rendered, diffed against the frame before and written
//! as escape sequences by its `AnsiScreen` (to `io::sink()`). Target: well under 1 ms per frame.
//! `render_200x60_alternating_views_ratatui` draws the same frames through ratatui's `Terminal` and
//! crossterm backend, which the dashboard used before.

#[path = "../tests/ui_common/mod.rs"]
mod ui_common;

use std::hint::black_box;

use cra_tui::keymap::Keymap;
use cra_tui::market::Action;
use cra_tui::screen::{AnsiScreen, Screen};
use cra_tui::ui::{self, UiState};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::{Rect, Size};
use ratatui::{Terminal, TerminalOptions, Viewport};

const SIZE: Size = Size::new(200, 60);

fn screen() -> AnsiScreen<std::io::Sink> {
    AnsiScreen::new(std::io::sink(), SIZE)
}

fn render(c: &mut Criterion) {
    let ui_state = UiState::new(Keymap::default());
    for (name, view) in [
        ("render_200x60_sell_15", ui_common::live(Action::Sell, "15")),
        ("render_200x60_partial", ui_common::thin_gemini()),
    ] {
        let mut screen = screen();
        c.bench_function(name, |b| {
            b.iter(|| {
                // A full draw: render into the back buffer, diff, write the changes.
                screen
                    .draw(|buf| ui::render(buf, black_box(&view), &ui_state))
                    .expect("draw");
            });
        });
    }
    // Every frame differs from the previous one (the diff writes most cells).
    let view = ui_common::live(Action::Sell, "15");
    let other = ui_common::live(Action::Buy, "2.5");
    let mut screen = screen();
    let mut ratatui = Terminal::with_options(
        // As the dashboard had it: a frame gathered in a buffer, then written at once.
        CrosstermBackend::new(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::sink(),
        )),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::from((Default::default(), SIZE))),
        },
    )
    .expect("a fixed viewport");
    for (name, screen) in [
        (
            "render_200x60_alternating_views",
            &mut screen as &mut dyn Draw,
        ),
        ("render_200x60_alternating_views_ratatui", &mut ratatui),
        (
            "render_200x60_alternating_views_widgets_only",
            &mut WidgetsOnly(ratatui::buffer::Buffer::empty(Rect::from((
                Default::default(),
                SIZE,
            )))),
        ),
    ] {
        c.bench_function(name, |b| {
            let mut flip = false;
            b.iter(|| {
                flip = !flip;
                let v = if flip { &view } else { &other };
                screen.frame(&|buf| ui::render(buf, black_box(v), &ui_state));
            });
        });
    }
}

/// Only the widgets: no diff, no output.
struct WidgetsOnly(ratatui::buffer::Buffer);

impl Draw for WidgetsOnly {
    fn frame(
        &mut self,
        render: &dyn Fn(&mut ratatui::buffer::Buffer) -> Option<ratatui::layout::Position>,
    ) {
        self.0.reset();
        render(&mut self.0);
    }
}

/// A [`Screen`] as a trait object, to bench two of them in one loop.
trait Draw {
    fn frame(
        &mut self,
        render: &dyn Fn(&mut ratatui::buffer::Buffer) -> Option<ratatui::layout::Position>,
    );
}

impl<T: Screen> Draw for T {
    fn frame(
        &mut self,
        render: &dyn Fn(&mut ratatui::buffer::Buffer) -> Option<ratatui::layout::Position>,
    ) {
        self.draw(render).expect("draw");
    }
}

criterion_group!(benches, render);
criterion_main!(benches);
