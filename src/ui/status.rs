//! Header (ticket + one health chip per venue), footer (key hints from the keymap + totals) and the
//! connection panel shown before any venue is live.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use super::format::{age, base_currency, micros, qty, rate};
use super::panel::draw_lines;
use super::{UiState, theme};
use crate::keymap::Action;
use crate::market::Side;
use crate::state::view::{Source, Status, VenueView, View};

/// The ticket line: `cra-tui  BTC-USD  SELL 15 BTC → walking BIDS  step 1  LIVE`.
fn ticket_line(view: &View, ui: &UiState) -> Line<'static> {
    let side = view.side();
    let side_style = theme::side_style(side);
    let walked = match side {
        Side::Bid => "BIDS",
        Side::Ask => "ASKS",
    };
    let source = match view.source {
        Source::Live => "LIVE",
        Source::Demo => "DEMO",
        Source::Replay => "REPLAY",
    };
    let mut spans = vec![
        Span::styled(" cra-tui ", theme::TITLE.add_modifier(Modifier::REVERSED)),
        Span::styled(format!(" {} ", view.symbol), theme::TITLE),
        Span::styled(
            format!(
                " {} {} {}",
                view.action.as_str().to_uppercase(),
                qty(view.quantity),
                base_currency(&view.symbol)
            ),
            side_style,
        ),
        Span::styled(format!(" → walking {walked} "), side_style),
        Span::styled(format!(" step {} ", qty(view.step)), theme::LABEL),
        Span::styled(
            format!(" {source} "),
            if view.source == Source::Live {
                theme::GOOD
            } else {
                theme::WARN
            },
        ),
    ];
    if ui.paused {
        spans.push(Span::styled(
            " PAUSED ",
            theme::WARN.add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ));
    }
    Line::from(spans)
}

/// One health chip: `● kraken live 0.2s 12/s lat 180µs/950µs` plus any failure counts. `detail` 0 is
/// the full chip; 1 drops the receive→View latency (p50/p99), 2 the status word (the symbol's colour
/// says it), 3 the rate, 4 the age.
fn chip(v: &VenueView, detail: u8) -> Vec<Span<'static>> {
    let (symbol, style) = theme::status_chip(v.status);
    let name_style = if v.merged { theme::TEXT } else { theme::DIM };
    let mut spans = vec![
        Span::styled(format!("{symbol} "), style),
        Span::styled(v.name.clone(), name_style),
    ];
    let mut info = String::new();
    if detail < 2 {
        info.push_str(&format!(" {}", v.status));
    }
    if detail < 4 {
        info.push_str(&format!(" {}", age(v.last_frame_age_ms)));
    }
    if detail < 3 {
        info.push_str(&format!(" {}", rate(v.msgs_per_sec)));
    }
    if detail < 1
        && let Some((p50, p99)) = v.latency_us
    {
        info.push_str(&format!(" lat {}/{}", micros(p50), micros(p99)));
    }
    spans.push(Span::styled(info, theme::DIM));
    let c = &v.counters;
    let faults = [
        ("crc", c.checksum_failures),
        ("seq", c.sequence_gaps),
        ("bad", c.bad_frames),
        ("rc", c.reconnects),
    ];
    for (label, n) in faults {
        if n > 0 {
            spans.push(Span::styled(format!(" {label} {n}"), theme::BAD));
        }
    }
    if !v.included {
        spans.push(Span::styled(" excl", theme::WARN));
    }
    spans
}

/// All chips on one line, as detailed as `width` allows.
fn chips(view: &View, width: u16) -> Line<'static> {
    let build = |detail: u8| {
        let mut spans: Vec<Span<'static>> = vec![Span::raw(" ")];
        for (i, v) in view.venues.iter().enumerate() {
            if i > 0 {
                spans.push(Span::raw("   "));
            }
            spans.extend(chip(v, detail));
        }
        Line::from(spans)
    };
    (0..4)
        .map(build)
        .find(|l| l.width() <= usize::from(width))
        .unwrap_or_else(|| build(4))
}

/// Draws the header in `area` (the chips go on the second line when there is one).
pub(super) fn header(view: &View, ui: &UiState, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let lines = if area.height >= 2 {
        vec![ticket_line(view, ui), chips(view, area.width)]
    } else {
        vec![ticket_line(view, ui)]
    };
    draw_lines(lines, area, buf);
}

/// Footer hints dropped first when the line is too narrow (`help` and `quit` always stay).
const DROP_ORDER: [&str; 9] = [
    "fills",
    "step",
    "pause",
    "edit size",
    "venues",
    "flip",
    "size",
    "sell",
    "buy",
];

/// Key hints `(keys, label)` for the current mode, from the keymap.
fn hints(view: &View, ui: &UiState) -> Vec<(String, &'static str)> {
    let km = &ui.keymap;
    if ui.help_open {
        vec![
            (km.first_label(Action::Back), "close"),
            (km.first_label(Action::Help), "close"),
            (km.first_label(Action::Quit), "quit"),
        ]
    } else if ui.prompt.is_some() {
        vec![("Enter".to_owned(), "apply"), ("Esc".to_owned(), "cancel")]
    } else {
        let mut v = km.footer_hints(view.venues.len());
        if ui.offer_demo && !view.any_live() {
            v.insert(0, (km.first_label(Action::Demo), "demo"));
        }
        v
    }
}

fn hints_line(hints: &[(String, &'static str)]) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (k, h) in hints {
        spans.push(Span::styled(k.clone(), theme::KEY));
        spans.push(Span::styled(format!(" {h}  "), theme::LABEL));
    }
    Line::from(spans)
}

/// Draws the footer: hints on the left (the least useful dropped when narrow), message rate and
/// integrity failures on the right when there is room.
pub(super) fn footer(view: &View, ui: &UiState, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let fails: u64 = view
        .venues
        .iter()
        .map(|v| v.counters.checksum_failures + v.counters.sequence_gaps)
        .sum();
    let totals = Line::from(vec![
        Span::styled(
            format!(
                "{} msg/s · ",
                rate(view.msgs_per_sec).trim_end_matches("/s")
            ),
            theme::DIM,
        ),
        Span::styled(
            format!("{fails} crc/seq fail "),
            if fails > 0 { theme::BAD } else { theme::DIM },
        ),
    ]);
    let mut hints = hints(view, ui);
    let fits = |h: &[(String, &'static str)]| hints_line(h).width() <= usize::from(area.width);
    for drop in DROP_ORDER {
        if fits(&hints) {
            break;
        }
        hints.retain(|(_, label)| *label != drop);
    }
    let hints = hints_line(&hints);
    let totals_w = u16::try_from(totals.width()).unwrap_or(u16::MAX);
    let hints_w = u16::try_from(hints.width()).unwrap_or(u16::MAX);
    if area.width >= hints_w.saturating_add(totals_w) {
        let [left, right] = area.layout(&Layout::horizontal([
            Constraint::Fill(1),
            Constraint::Length(totals_w),
        ]));
        draw_lines([hints], left, buf);
        draw_lines([totals.right_aligned()], right, buf);
    } else {
        draw_lines([hints], area, buf);
    }
}

/// What one venue is doing while nothing is live: `connecting to kraken…`, `gemini: down`.
fn connection_line(v: &VenueView) -> Line<'static> {
    let (symbol, style) = theme::status_chip(v.status);
    let what = match v.status {
        Status::Connecting => format!("connecting to {}…", v.name),
        Status::Syncing => format!("{}: subscribed, waiting for the book…", v.name),
        Status::Live => format!("{}: live", v.name),
        Status::Stale => format!("{}: stale, reconnecting…", v.name),
        Status::Resyncing => format!("{}: resyncing…", v.name),
        Status::Down => format!("{}: down", v.name),
    };
    let mut spans = vec![
        Span::styled(format!(" {symbol} "), style),
        Span::styled(what, theme::TEXT),
    ];
    if let Some(d) = &v.detail {
        spans.push(Span::styled(format!("  {d}"), theme::LABEL));
    }
    if v.counters.reconnects > 0 {
        let n = v.counters.reconnects;
        spans.push(Span::styled(
            format!("  ({n} reconnect{})", if n == 1 { "" } else { "s" }),
            theme::DIM,
        ));
    }
    Line::from(spans)
}

/// Draws the panel shown before any venue is live (and the offline-demo offer).
pub(super) fn connecting(view: &View, ui: &UiState, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let mut lines = vec![
        Line::from(Span::styled(
            " Waiting for a live order book…",
            theme::TITLE,
        )),
        Line::default(),
    ];
    lines.extend(view.venues.iter().map(connection_line));
    if view.venues.is_empty() {
        lines.push(Line::from(Span::styled(" no venue configured", theme::BAD)));
    }
    if ui.offer_demo {
        let km = &ui.keymap;
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            " No venue is reachable.",
            theme::BAD,
        )));
        lines.push(Line::from(vec![
            Span::styled(" Press ", theme::TEXT),
            Span::styled(km.first_label(Action::Demo), theme::KEY),
            Span::styled(
                " to switch to the offline demo (simulated exchanges), or ",
                theme::TEXT,
            ),
            Span::styled(km.first_label(Action::Quit), theme::KEY),
            Span::styled(" to quit.", theme::TEXT),
        ]));
    }
    let title = match view.source {
        Source::Live => " CONNECTING ",
        Source::Demo => " CONNECTING (demo) ",
        Source::Replay => " REPLAY (waiting for the first book) ",
    };
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::bordered()
                .border_style(theme::LABEL)
                .title(Span::styled(title, theme::TITLE)),
        )
        .render(area, buf);
}
