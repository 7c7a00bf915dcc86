//! The dashboard: [`render`] is a pure function of a [`View`] and the UI-only [`UiState`].
//!
//! Layout ([`layout`] computes it, so the app can ask how many fills rows a page shows). Wide:
//! ```text
//!  cra-tui  BTC-USD  SELL 15 BTC → walking BIDS  step 1  LIVE                      header: ticket,
//!  ● kraken live 0.2s 18/s   ● coinbase live 0.1s 61/s rc 1   ◌ gemini stale 7.0s  one chip/venue
//! ┌ 1 KRAKEN ────┐┌ 2 COINBASE ──┐┌ 3 GEMINI (stale, not merged) ┐┌ MERGED 2 of 3 ───────┐
//! │├─ levels 17  ││├─ levels 15  ││├─ levels 14                  ││├─ levels 16 (K 8 · C 8)│
//! │├─ filled …   ││├─ …          ││└─ …                          ││├─ +11.81 USD vs coinbase
//! │└─ slip 0.49  ││└─ …          ││                              ││└─ split  BTC · USD   │
//! └──────────────┘└──────────────┘└──────────────────────────────┘└──────────────────────┘
//! ┌ FILLS merged 1–10 of 16 ─┐┌ DEPTH bids, cumulative BTC ─────────────────────────────┐
//! │   price    qty   venue   ││ staircases per venue + merged, size line, reach line   │
//! └──────────── f next table ┘└ ━ kraken ━ coinbase ━ merged ━ size 15 ━ reach … ───────┘
//!  b buy  s sell  Tab flip  ↑/↓ size  ]/[ step  e edit size  1-3 venues  …   84 msg/s · 0 crc/seq fail
//! ```
//! Narrower screens (80 columns) put the merged panel under the venue trees, next to the fills.
//! Short screens fold the depth chart first, then the fills; trees drop their optional lines
//! (`best`, `out`) before clipping. A partial fill shows the unfilled rest in red in the tree and a
//! fill-ratio gauge in the panel's bottom border. Before any venue is live the panels give way to
//! one connection panel (and, when the app sets [`UiState::offer_demo`], the offer to switch to the
//! offline demo). `?` draws the help over everything; `e` draws the size prompt.

mod depth;
mod fills;
pub mod format;
mod help;
mod merged;
mod panel;
mod prompt;
mod status;
pub mod theme;
mod tree;

use std::str::FromStr;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use rust_decimal::Decimal;

use crate::keymap::Keymap;
use crate::state::view::View;

/// Which fills table is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FillsTable {
    /// The merged walk's fills, with a venue column.
    #[default]
    Merged,
    /// One venue's fills (index in [`View::venues`]).
    Venue(usize),
}

impl FillsTable {
    /// The next table: merged, then each of `venues`, then merged again.
    #[must_use]
    pub fn next(self, venues: usize) -> FillsTable {
        match self {
            FillsTable::Merged if venues > 0 => FillsTable::Venue(0),
            FillsTable::Venue(i) if i + 1 < venues => FillsTable::Venue(i + 1),
            _ => FillsTable::Merged,
        }
    }
}

/// The size prompt opened by `e`: what was typed and, after a bad Enter, why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SizePrompt {
    /// The text typed so far.
    pub input: String,
    /// Why the last Enter was refused (cleared by the next edit).
    pub error: Option<String>,
}

/// Longest text the prompt accepts.
const PROMPT_MAX_CHARS: usize = 32;
/// Largest size the prompt accepts (far beyond any visible book; keeps the walk's arithmetic far
/// from `Decimal`'s limits).
const PROMPT_MAX_SIZE: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

impl SizePrompt {
    /// Adds a typed character (ignored past a sane length); clears the error.
    pub fn push(&mut self, c: char) {
        if self.input.chars().count() < PROMPT_MAX_CHARS {
            self.input.push(c);
        }
        self.error = None;
    }

    /// Deletes the last character; clears the error.
    pub fn backspace(&mut self) {
        self.input.pop();
        self.error = None;
    }

    /// Validates the input: `Some(size)` for a positive decimal, otherwise `None` with
    /// [`SizePrompt::error`] set.
    pub fn submit(&mut self) -> Option<Decimal> {
        let text = self.input.trim();
        let result = if text.is_empty() {
            Err("type a size first".to_owned())
        } else {
            match Decimal::from_str(text) {
                Err(_) => Err(format!("not a number: \"{text}\"")),
                Ok(q) if q <= Decimal::ZERO => Err(format!("must be positive, not {text}")),
                Ok(q) if q > PROMPT_MAX_SIZE => Err(format!("too large (max {PROMPT_MAX_SIZE})")),
                Ok(q) => Ok(q.normalize()),
            }
        };
        match result {
            Ok(q) => {
                self.error = None;
                Some(q)
            }
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }
}

/// UI-only state: everything on screen that is not in the [`View`].
#[derive(Debug, Clone, Default)]
pub struct UiState {
    /// The key table (for the footer hints and the help overlay).
    pub keymap: Keymap,
    /// The `?` overlay is open.
    pub help_open: bool,
    /// The size prompt is open.
    pub prompt: Option<SizePrompt>,
    /// The display is frozen (the app keeps showing the View it had).
    pub paused: bool,
    /// First fills row shown.
    pub fills_scroll: usize,
    /// Which fills table is shown.
    pub fills_table: FillsTable,
    /// Nothing became live in time: offer the offline demo.
    pub offer_demo: bool,
}

impl UiState {
    /// A fresh state with this key table.
    #[must_use]
    pub fn new(keymap: Keymap) -> UiState {
        UiState {
            keymap,
            ..UiState::default()
        }
    }
}

/// Where each part of the screen goes. Empty rectangles are not drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    /// Ticket and health chips (1–2 lines).
    pub header: Rect,
    /// Everything between header and footer (the connection panel uses all of it).
    pub body: Rect,
    /// The depletion trees, side by side.
    pub venues: Rect,
    /// The merged walk.
    pub merged: Rect,
    /// The fills table.
    pub fills: Rect,
    /// The depth chart.
    pub depth: Rect,
    /// Key hints.
    pub footer: Rect,
}

/// Smallest fills panel worth drawing (borders, header row, two fills).
const MIN_FILLS_HEIGHT: u16 = 5;
/// Narrowest fills panel worth drawing.
const MIN_FILLS_WIDTH: u16 = 28;
/// Smallest depth chart worth drawing.
const MIN_DEPTH_HEIGHT: u16 = 8;
/// Narrowest depth chart worth drawing.
const MIN_DEPTH_WIDTH: u16 = 34;
/// A venue tree needs this width to show its figures unclipped.
const MIN_TREE_WIDTH: u16 = 24;
/// The merged panel needs this width (its split lines are the longest).
const MIN_MERGED_WIDTH: u16 = 32;

/// Splits `area` into the screen's parts.
///
/// Wide screens put the merged panel next to the venue trees and the fills next to the depth chart
/// below; narrower ones put the merged panel under the trees, next to the fills. Short screens fold
/// the depth chart first, then the fills.
#[must_use]
pub fn layout(area: Rect, view: &View) -> Areas {
    if area.is_empty() {
        return Areas::default();
    }
    let h = area.height;
    let header_h = if h >= 8 { 2 } else { 1 };
    let footer_h = u16::from(h >= 3);
    let [header, body, footer] = area.layout(&Layout::vertical([
        Constraint::Length(header_h),
        Constraint::Fill(1),
        Constraint::Length(footer_h),
    ]));
    let mut out = Areas {
        header,
        body,
        footer,
        ..Areas::default()
    };
    if !view.any_live() || body.is_empty() {
        return out;
    }
    let (trees_h, merged_h) = tree::heights(view);
    let n = u16::try_from(view.venues.len()).unwrap_or(u16::MAX);
    let wide = body.width
        >= n.saturating_mul(MIN_TREE_WIDTH)
            .saturating_add(MIN_MERGED_WIDTH);
    if wide {
        let row_h = trees_h.max(merged_h);
        let row_h = if body.height < row_h.saturating_add(MIN_FILLS_HEIGHT) {
            body.height
        } else {
            row_h
        };
        let [row, bottom] = body.layout(&Layout::vertical([
            Constraint::Length(row_h),
            Constraint::Fill(1),
        ]));
        let merged_w = (body.width / n.saturating_add(1)).max(MIN_MERGED_WIDTH);
        [out.venues, out.merged] = row.layout(&Layout::horizontal([
            Constraint::Fill(1),
            Constraint::Length(merged_w),
        ]));
        if bottom.height >= MIN_DEPTH_HEIGHT
            && bottom.width >= MIN_FILLS_WIDTH.saturating_add(MIN_DEPTH_WIDTH)
        {
            let fills_w = (bottom.width * 2 / 5).clamp(MIN_FILLS_WIDTH, 64);
            [out.fills, out.depth] = bottom.layout(&Layout::horizontal([
                Constraint::Length(fills_w),
                Constraint::Fill(1),
            ]));
        } else if bottom.height >= MIN_FILLS_HEIGHT {
            out.fills = bottom;
        }
        return out;
    }
    // Narrow: trees on top; merged (+ fills) below; the depth chart at the bottom if it fits.
    let trees_h = trees_h.min(body.height);
    let [trees, rest] = body.layout(&Layout::vertical([
        Constraint::Length(trees_h),
        Constraint::Fill(1),
    ]));
    out.venues = trees;
    let row_h = if rest.height >= merged_h.saturating_add(MIN_DEPTH_HEIGHT)
        && rest.width >= MIN_DEPTH_WIDTH
    {
        merged_h
    } else {
        rest.height
    };
    let [row, depth] = rest.layout(&Layout::vertical([
        Constraint::Length(row_h),
        Constraint::Fill(1),
    ]));
    out.depth = depth;
    let merged_w = (row.width / 2).max(MIN_MERGED_WIDTH).min(row.width);
    if row.height >= MIN_FILLS_HEIGHT && row.width >= merged_w.saturating_add(MIN_FILLS_WIDTH) {
        [out.merged, out.fills] = row.layout(&Layout::horizontal([
            Constraint::Length(merged_w),
            Constraint::Fill(1),
        ]));
    } else {
        out.merged = row;
    }
    out
}

/// How many fills rows one page shows on a screen of `area` (at least 1): the app's PageUp/PageDown
/// step.
#[must_use]
pub fn fills_page_rows(area: Rect, view: &View) -> usize {
    usize::from(fills::visible_rows(layout(area, view).fills)).max(1)
}

/// Draws the whole screen into `buf` (blank, the screen's size) and says where the cursor goes
/// (`None`: hidden). Pure: reads `view` and `ui`, writes only into `buf`.
pub fn render(buf: &mut Buffer, view: &View, ui: &UiState) -> Option<Position> {
    let area = buf.area;
    if area.is_empty() {
        return None;
    }
    let a = layout(area, view);
    status::header(view, ui, a.header, buf);
    if view.any_live() {
        let dp = format::price_dp(view);
        tree::venues(view, dp, a.venues, buf);
        merged::panel(view, dp, a.merged, buf);
        fills::table(view, ui, a.fills, buf);
        depth::chart(view, a.depth, buf);
    } else {
        status::connecting(view, ui, a.body, buf);
    }
    status::footer(view, ui, a.footer, buf);
    let cursor = ui
        .prompt
        .as_ref()
        .and_then(|p| prompt::popup(view, p, area, buf));
    if ui.help_open {
        help::overlay(view, ui, area, buf);
    }
    cursor
}

/// A rectangle of at most `w`×`h` centred in `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    area.centered(
        Constraint::Length(w.min(area.width)),
        Constraint::Length(h.min(area.height)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_validates() {
        let mut p = SizePrompt::default();
        for c in "2.50".chars() {
            p.push(c);
        }
        assert_eq!(p.submit(), Some(Decimal::new(25, 1)));
        assert_eq!(PROMPT_MAX_SIZE, Decimal::from(1_000_000_000_000_u64));
        let mut p = SizePrompt {
            input: "abc".into(),
            error: None,
        };
        assert_eq!(p.submit(), None);
        assert_eq!(p.error.as_deref(), Some("not a number: \"abc\""));
        p.backspace();
        assert_eq!(p.error, None);
        for bad in [
            "0",
            "0.000",
            "-0",
            "-1",
            "",
            "  ",
            "1.2.3",
            "2,5",
            "--1",
            "1000000000000.1",
        ] {
            let mut p = SizePrompt {
                input: bad.into(),
                error: None,
            };
            assert_eq!(p.submit(), None, "{bad:?}");
            assert!(p.error.is_some());
        }
    }

    #[test]
    fn fills_tables_cycle() {
        let t = FillsTable::Merged;
        assert_eq!(t.next(2), FillsTable::Venue(0));
        assert_eq!(FillsTable::Venue(0).next(2), FillsTable::Venue(1));
        assert_eq!(FillsTable::Venue(1).next(2), FillsTable::Merged);
        assert_eq!(FillsTable::Merged.next(0), FillsTable::Merged);
        assert_eq!(FillsTable::Venue(5).next(2), FillsTable::Merged);
    }
}
