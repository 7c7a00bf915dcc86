//! Screen tests: `ui::render` over hand-built Views on a `TestBackend`, as insta snapshots (80×24 and
//! 160×48), plus exact checks of figures and styles, and a sweep of tiny sizes that must not panic.

mod ui_common;

use cra_tui::keymap::Keymap;
use cra_tui::market::{Action, Depletion};
use cra_tui::state::view::View;
use cra_tui::ui::{self, FillsTable, SizePrompt, UiState};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ui_common::*;

fn draw(view: &View, ui: &UiState, w: u16, h: u16) -> TestBackend {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        ui::render(f.buffer_mut(), view, ui);
    })
    .unwrap();
    t.backend().clone()
}

fn state() -> UiState {
    UiState::new(Keymap::default())
}

/// The screen's rows as text.
fn rows(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

/// The (column, row) where `needle` starts on screen.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    rows(buf).iter().enumerate().find_map(|(y, row)| {
        let byte = row.find(needle)?;
        let col = row[..byte].chars().count();
        Some((u16::try_from(col).ok()?, u16::try_from(y).ok()?))
    })
}

fn screen(b: &TestBackend) -> String {
    rows(b.buffer()).join("\n")
}

#[test]
fn sell_80x24() {
    let b = draw(&live(Action::Sell, "15"), &state(), 80, 24);
    insta::assert_snapshot!(b);
}

#[test]
fn sell_160x48() {
    let b = draw(&live(Action::Sell, "15"), &state(), 160, 48);
    insta::assert_snapshot!(b);
}

#[test]
fn buy_80x24() {
    let b = draw(&live(Action::Buy, "2.5"), &state(), 80, 24);
    insta::assert_snapshot!(b);
}

#[test]
fn buy_160x48() {
    let b = draw(&live(Action::Buy, "2.5"), &state(), 160, 48);
    insta::assert_snapshot!(b);
}

#[test]
fn stale_venue_160x48() {
    let b = draw(&stale_gemini(), &state(), 160, 48);
    let s = screen(&b);
    assert!(s.contains("3 GEMINI (stale, not merged)"), "{s}");
    assert!(s.contains("crc 2"), "{s}");
    insta::assert_snapshot!(b);
}

#[test]
fn stale_venue_80x24() {
    insta::assert_snapshot!(draw(&stale_gemini(), &state(), 80, 24));
}

#[test]
fn partial_fill_80x24() {
    insta::assert_snapshot!(draw(&thin_gemini(), &state(), 80, 24));
}

#[test]
fn partial_fill_160x48() {
    let view = thin_gemini();
    let g = &view.venues[2].walk;
    assert!(g.is_partial());
    let b = draw(&view, &state(), 160, 48);
    // The unfilled rest is shown, in red, with the exact figure.
    let rest = g.unfilled.normalize().to_string();
    let (x, y) = find(b.buffer(), &format!("unfill {rest}")).expect("unfilled line");
    let cell = &b.buffer()[(x + 7, y)];
    assert_eq!(cell.fg, Color::Red);
    // The gauge: floor(filled / 15 × 100) percent, computed here from the fixture's own levels.
    let pct = (g.filled * rust_decimal::Decimal::from(100) / g.requested).floor();
    let (gx, gy) = find(b.buffer(), &format!(" {pct}% filled")).expect("gauge");
    assert!(gy > y, "gauge in the bottom border");
    assert_eq!(b.buffer()[(gx + 1, gy)].fg, Color::Red);
    insta::assert_snapshot!(b);
}

#[test]
fn excluded_venue_80x24() {
    let b = draw(&coinbase_excluded(), &state(), 80, 24);
    assert!(screen(&b).contains("2 COINBASE (excluded)"));
    insta::assert_snapshot!(b);
}

#[test]
fn excluded_venue_160x48() {
    insta::assert_snapshot!(draw(&coinbase_excluded(), &state(), 160, 48));
}

#[test]
fn help_open_80x24() {
    let ui = UiState {
        help_open: true,
        ..state()
    };
    let b = draw(&live(Action::Sell, "15"), &ui, 80, 24);
    let s = screen(&b);
    // Every binding of the table is listed.
    for (keys, desc) in Keymap::default().help_rows() {
        assert!(s.contains(&keys), "missing {keys} in\n{s}");
        assert!(s.contains(&desc), "missing {desc} in\n{s}");
    }
    insta::assert_snapshot!(b);
}

#[test]
fn size_prompt_with_error_80x24() {
    let mut prompt = SizePrompt {
        input: "abc".into(),
        error: None,
    };
    assert_eq!(prompt.submit(), None);
    let ui = UiState {
        prompt: Some(prompt),
        ..state()
    };
    let b = draw(&live(Action::Sell, "15"), &ui, 80, 24);
    let (x, y) = find(b.buffer(), "✗ not a number: \"abc\"").expect("error line");
    assert_eq!(b.buffer()[(x, y)].fg, Color::Red);
    insta::assert_snapshot!(b);
}

#[test]
fn connecting_80x24() {
    let b = draw(&connecting(), &state(), 80, 24);
    let s = screen(&b);
    assert!(
        s.contains("connecting to kraken…  retry in 3s (connection refused)"),
        "{s}"
    );
    assert!(!s.contains("No venue is reachable"));
    insta::assert_snapshot!(b);
}

#[test]
fn offer_demo_80x24() {
    let ui = UiState {
        offer_demo: true,
        ..state()
    };
    let b = draw(&connecting(), &ui, 80, 24);
    let s = screen(&b);
    assert!(s.contains("No venue is reachable."), "{s}");
    assert!(s.contains("Press d to switch to the offline demo"), "{s}");
    insta::assert_snapshot!(b);
}

#[test]
fn offer_demo_160x48() {
    let ui = UiState {
        offer_demo: true,
        ..state()
    };
    insta::assert_snapshot!(draw(&connecting(), &ui, 160, 48));
}

#[test]
fn paused_per_venue_fills_120x36() {
    let ui = UiState {
        paused: true,
        fills_table: FillsTable::Venue(1),
        fills_scroll: 3,
        ..state()
    };
    let b = draw(&live(Action::Sell, "15"), &ui, 120, 36);
    let s = screen(&b);
    assert!(s.contains("PAUSED"));
    assert!(s.contains("FILLS coinbase"));
    insta::assert_snapshot!(b);
}

/// Figures computed by hand: bids 100 × 1 and 99 × 2, sell 2 → fills 1@100 + 1@99,
/// VWAP 99.5, worst 99, slippage 0.5 / 100 × 10 000 = 50 bps.
#[test]
fn exact_figures_on_a_tiny_book() {
    let b = draw(&tiny(), &state(), 100, 30);
    let s = screen(&b);
    for expected in [
        "levels 2",
        "filled 2 / 2",
        "VWAP   99.50",
        "best   100.00",
        "worst  99.00",
        "slip   50.00 bps",
        "SELL 2 BTC → walking BIDS",
    ] {
        assert!(s.contains(expected), "missing {expected:?} in\n{s}");
    }
    // The fills table lists both fills in order with the venue.
    let first = find(b.buffer(), "100.00    1  solo").expect("first fill");
    let second = find(b.buffer(), " 99.00    1  solo").expect("second fill");
    assert_eq!(second, (first.0, first.1 + 1));
}

#[test]
fn fills_scroll_is_clamped_to_the_last_page() {
    let view = live(Action::Sell, "15");
    let n = view.merged.walk.fills.len();
    let ui = UiState {
        fills_scroll: 10_000,
        ..state()
    };
    let b = draw(&view, &ui, 160, 48);
    let page = ui::fills_page_rows(ratatui::layout::Rect::new(0, 0, 160, 48), &view);
    let s = screen(&b);
    let expected = format!("{}–{} of {n}", n - page.min(n) + 1, n);
    assert!(s.contains(&expected), "missing {expected} in\n{s}");
}

#[test]
fn layout_folds_depth_then_fills() {
    let view = live(Action::Sell, "15");
    let big = ui::layout(ratatui::layout::Rect::new(0, 0, 160, 48), &view);
    assert!(!big.depth.is_empty() && !big.fills.is_empty());
    let mid = ui::layout(ratatui::layout::Rect::new(0, 0, 80, 24), &view);
    assert!(!mid.fills.is_empty());
    let short = ui::layout(ratatui::layout::Rect::new(0, 0, 160, 22), &view);
    assert!(short.depth.is_empty(), "{short:?}");
    assert!(!short.fills.is_empty(), "{short:?}");
    let tiny = ui::layout(ratatui::layout::Rect::new(0, 0, 160, 18), &view);
    assert!(tiny.depth.is_empty() && tiny.fills.is_empty(), "{tiny:?}");
    assert!(!tiny.venues.is_empty() && !tiny.merged.is_empty());
    // Narrow and tall: trees, then merged next to the fills, then the chart.
    let tall = ui::layout(ratatui::layout::Rect::new(0, 0, 80, 40), &view);
    assert!(tall.merged.y > tall.venues.y && tall.fills.y == tall.merged.y);
    assert!(
        tall.depth.y > tall.merged.y && !tall.depth.is_empty(),
        "{tall:?}"
    );
}

#[test]
fn tiny_and_odd_sizes_never_panic() {
    let views = [
        live(Action::Sell, "15"),
        live(Action::Buy, "2.5"),
        stale_gemini(),
        thin_gemini(),
        coinbase_excluded(),
        connecting(),
        tiny(),
    ];
    let uis = [
        state(),
        UiState {
            help_open: true,
            ..state()
        },
        UiState {
            prompt: Some(SizePrompt {
                input: "12345678901234567890".into(),
                error: Some("not a number".into()),
            }),
            offer_demo: true,
            fills_table: FillsTable::Venue(7),
            fills_scroll: usize::MAX,
            ..state()
        },
    ];
    let mut t = Terminal::new(TestBackend::new(0, 0)).unwrap();
    let sizes = (0..=12u16)
        .flat_map(|w| (0..=12u16).map(move |h| (w * 7, h * 3)))
        // Around the wide/narrow switch and the chart's smallest sizes.
        .chain((0..=8u16).flat_map(|w| (0..=10u16).map(move |h| (98 + w * 5, 18 + h * 2))))
        .chain([(1, 1), (0, 24), (80, 0), (1, 200), (300, 1), (500, 150)]);
    for (w, h) in sizes {
        t.backend_mut().resize(w, h);
        for v in &views {
            for u in &uis {
                t.draw(|f| {
                    ui::render(f.buffer_mut(), v, u);
                })
                .unwrap();
            }
        }
    }
}
