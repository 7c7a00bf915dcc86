//! Every colour and style of the dashboard, in one place.
//!
//! Bids green, asks red, the walked side bold, stale venues dim, the unfilled rest red.

use ratatui::style::{Color, Modifier, Style};

use crate::market::Side;
use crate::state::view::Status;

/// Plain text.
pub const TEXT: Style = Style::new().fg(Color::White);
/// Labels in the trees and tables.
pub const LABEL: Style = Style::new().fg(Color::Gray);
/// Panels and text that do not count right now (stale, excluded, hints).
pub const DIM: Style = Style::new().fg(Color::DarkGray);
/// Panel titles.
pub const TITLE: Style = Style::new().fg(Color::White).add_modifier(Modifier::BOLD);
/// Something missing or wrong: the unfilled rest, an error.
pub const BAD: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
/// Something better: a saving.
pub const GOOD: Style = Style::new().fg(Color::Green);
/// Attention, not an error (pause badge, the walk's reach in the chart).
pub const WARN: Style = Style::new().fg(Color::Yellow);
/// Keys in the footer and the help.
pub const KEY: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
/// The merged walk (chart line, panel title).
pub const MERGED: Style = Style::new().fg(Color::White).add_modifier(Modifier::BOLD);

/// Colour of a book side.
#[must_use]
pub fn side_color(side: Side) -> Color {
    match side {
        Side::Bid => Color::Green,
        Side::Ask => Color::Red,
    }
}

/// The walked side, bold in its colour.
#[must_use]
pub fn side_style(side: Side) -> Style {
    Style::new()
        .fg(side_color(side))
        .add_modifier(Modifier::BOLD)
}

/// Colour of venue `i` (config order) in the chart and the split.
#[must_use]
pub fn venue_color(i: usize) -> Color {
    const PALETTE: [Color; 6] = [
        Color::Cyan,
        Color::Magenta,
        Color::Yellow,
        Color::LightBlue,
        Color::LightGreen,
        Color::LightRed,
    ];
    PALETTE[i % PALETTE.len()]
}

/// The health chip's symbol and style.
#[must_use]
pub fn status_chip(status: Status) -> (&'static str, Style) {
    match status {
        Status::Live => ("●", Style::new().fg(Color::Green)),
        Status::Connecting | Status::Syncing => ("◌", Style::new().fg(Color::Yellow)),
        Status::Stale => ("◌", Style::new().fg(Color::DarkGray)),
        Status::Resyncing => ("◌", Style::new().fg(Color::Magenta)),
        Status::Down => ("✕", Style::new().fg(Color::Red)),
    }
}
