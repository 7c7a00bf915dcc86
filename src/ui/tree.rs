//! The depletion trees: one panel per venue (`├─ levels 18` … `└─ slippage 2.31 bps`), laid out in a
//! row next to the merged panel.
//!
//! A tree is a list of [`Node`]s (label, value spans, children) turned into lines with `├─`/`└─`
//! prefixes; the merged panel (`merged.rs`) builds its own nodes and reuses the same drawing.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::panel::{Panel, draw_lines};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::format::{bps, fixed, price_dp, qty, qty_fit};
use super::{merged, theme};
use crate::market::{Depletion, WalkResult};
use crate::state::view::{Status, VenueView, View};

/// Width of the label column (`levels`, `filled`, `VWAP`, …).
const LABEL_WIDTH: usize = 6;
/// Widest fill-ratio bar.
const MAX_GAUGE_CELLS: u16 = 20;

/// One line of a tree, with optional children drawn one level deeper.
#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    /// Left column; empty for a line without a label.
    pub label: &'static str,
    /// The value.
    pub value: Vec<Span<'static>>,
    /// Sub-lines.
    pub children: Vec<Node>,
    /// 0: always shown; higher: dropped first when the panel is too short.
    pub optional: u8,
}

impl Node {
    /// A labelled line.
    pub fn new(label: &'static str, value: Vec<Span<'static>>) -> Node {
        Node {
            label,
            value,
            children: Vec::new(),
            optional: 0,
        }
    }

    /// A labelled line with one plain value.
    pub fn text(label: &'static str, value: impl Into<String>) -> Node {
        Node::new(label, vec![Span::styled(value.into(), theme::TEXT)])
    }

    /// The same node, dropped first (`rank` 1, 2, … — higher goes first) when space is short.
    pub fn optional(mut self, rank: u8) -> Node {
        self.optional = rank;
        self
    }

    fn count(&self) -> usize {
        1 + self.children.iter().map(Node::count).sum::<usize>()
    }
}

/// Number of lines `nodes` draw.
pub(super) fn line_count(nodes: &[Node]) -> usize {
    nodes.iter().map(Node::count).sum()
}

/// Drops optional nodes (highest rank first) until `nodes` fit in `height` lines.
pub(super) fn fit(mut nodes: Vec<Node>, height: u16) -> Vec<Node> {
    while line_count(&nodes) > usize::from(height) {
        let Some((i, _)) = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.optional > 0)
            .max_by_key(|(i, n)| (n.optional, *i))
        else {
            break;
        };
        nodes.remove(i);
    }
    nodes
}

/// Draws `nodes` as tree lines; `dim` greys everything (a venue that is not merged).
pub(super) fn lines(nodes: &[Node], dim: bool) -> Vec<Line<'static>> {
    let mut out = Vec::with_capacity(line_count(nodes));
    push_lines(nodes, "", dim, &mut out);
    out
}

fn push_lines(nodes: &[Node], indent: &str, dim: bool, out: &mut Vec<Line<'static>>) {
    let restyle = |s: Style| if dim { theme::DIM } else { s };
    for (i, node) in nodes.iter().enumerate() {
        let last = i + 1 == nodes.len();
        let mut spans = vec![Span::styled(
            format!("{indent}{}", if last { "└─ " } else { "├─ " }),
            theme::DIM,
        )];
        if !node.label.is_empty() {
            spans.push(Span::styled(
                format!("{:<LABEL_WIDTH$} ", node.label),
                restyle(theme::LABEL),
            ));
        }
        spans.extend(
            node.value
                .iter()
                .map(|s| Span::styled(s.content.clone(), restyle(s.style))),
        );
        out.push(Line::from(spans));
        if !node.children.is_empty() {
            let deeper = format!("{indent}{}", if last { "   " } else { "│  " });
            push_lines(&node.children, &deeper, dim, out);
        }
    }
}

/// The figures every walk shows, venue or merged: `filled / requested`, the unfilled rest in red when
/// the book is too thin (the fill-ratio gauge goes in the panel's bottom border, see [`gauge`]), then
/// VWAP, best, worst and slippage.
pub(super) fn walk_nodes(w: &impl Depletion, width: u16, dp: u32) -> Vec<Node> {
    let (filled, unfilled) = (w.filled(), w.unfilled());
    let req = qty(w.requested());
    // Room for a value after the prefix and the label column (unbounded while only counting lines).
    let room = if width == 0 {
        usize::MAX
    } else {
        usize::from(width).saturating_sub(3 + LABEL_WIDTH + 1)
    };
    let filled_room = room.saturating_sub(3 + req.chars().count()).max(1);
    let mut out = vec![Node::text(
        "filled",
        format!("{} / {req}", qty_fit(filled, filled_room)),
    )];
    if unfilled > Decimal::ZERO {
        out.push(Node::new(
            "unfill",
            vec![Span::styled(qty_fit(unfilled, room.max(1)), theme::BAD)],
        ));
    }
    let p = |d: Option<Decimal>| d.map_or_else(|| "—".to_owned(), |d| fixed(d, dp));
    out.extend([
        Node::text("VWAP", p(w.vwap())),
        Node::text("best", p(w.best())).optional(1),
        Node::text("worst", p(w.worst())),
        Node::text(
            "slip",
            w.slippage_bps()
                .map_or_else(|| "—".to_owned(), |s| format!("{} bps", bps(s))),
        ),
    ]);
    out
}

/// The fill-ratio gauge for a panel `width` wide, `Some` only for a partial fill:
/// ` ▓▓▓▓░░░░ 52% filled `, exact (cells and percent are floored Decimal ratios).
pub(super) fn gauge(filled: Decimal, requested: Decimal, width: u16) -> Option<Line<'static>> {
    if requested <= Decimal::ZERO || filled >= requested {
        return None;
    }
    // Borders, padding and the " 100% filled " tail.
    let cells = width.saturating_sub(2 + 2 + 13).clamp(4, MAX_GAUGE_CELLS);
    let ratio = |scale: u16| -> u16 {
        filled
            .checked_mul(Decimal::from(scale))
            .and_then(|f| f.checked_div(requested))
            .map(|r| r.floor().min(Decimal::from(scale)))
            .and_then(|r| r.to_u16())
            .unwrap_or(0)
    };
    let full = ratio(cells);
    let pct = ratio(100);
    Some(Line::from(vec![
        Span::raw(" "),
        Span::styled("▓".repeat(usize::from(full)), theme::GOOD),
        Span::styled("░".repeat(usize::from(cells - full)), theme::BAD),
        Span::styled(format!(" {pct}% filled "), theme::BAD),
    ]))
}

/// The tree of one venue.
fn venue_nodes(v: &VenueView, view: &View, dp: u32, width: u16) -> Vec<Node> {
    let w: &WalkResult = &v.walk;
    if w.best.is_none() && w.fills.is_empty() {
        let side = match view.side() {
            crate::market::Side::Bid => "no bids",
            crate::market::Side::Ask => "no asks",
        };
        let mut out = vec![Node::text("status", v.status.as_str())];
        out.push(Node::text(
            "",
            match (&v.detail, v.status) {
                (Some(d), _) => d.clone(),
                (None, Status::Live) => side.to_owned(),
                (None, Status::Syncing) => "waiting for the book".to_owned(),
                (None, _) => "no book yet".to_owned(),
            },
        ));
        return out;
    }
    let mut out = vec![Node::text("levels", w.levels().to_string())];
    out.extend(walk_nodes(w, width, dp));
    out
}

/// ` 1 KRAKEN (stale, not merged) `, shortened to ` 1 KRAKEN (stale) ` when `width` is short.
fn venue_title(i: usize, v: &VenueView, width: u16) -> Line<'static> {
    let name = format!(" {} {}", i + 1, v.name.to_uppercase());
    let (long, short) = match (v.status, v.included) {
        (Status::Live, true) => (None, None),
        (Status::Live, false) => (Some("(excluded)".to_owned()), Some("(excl)".to_owned())),
        (s, true) => (Some(format!("({s}, not merged)")), Some(format!("({s})"))),
        (s, false) => (
            Some(format!("({s}, excluded)")),
            Some(format!("({s}, excl)")),
        ),
    };
    let fits = |m: &str| name.chars().count() + 1 + m.chars().count() + 3 <= usize::from(width);
    let mark = match (long, short) {
        (Some(l), _) if fits(&l) => Some(l),
        (_, s) => s,
    };
    let mut spans = vec![Span::styled(
        name,
        if v.merged { theme::TITLE } else { theme::DIM },
    )];
    if let Some(mark) = mark {
        spans.push(Span::styled(format!(" {mark}"), theme::WARN));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// Heights (with borders) of the tallest venue tree and of the merged panel.
pub(super) fn heights(view: &View) -> (u16, u16) {
    let dp = price_dp(view);
    let venues = view
        .venues
        .iter()
        .map(|v| line_count(&venue_nodes(v, view, dp, 0)))
        .max()
        .unwrap_or(0);
    let merged = line_count(&merged::nodes(view, dp, 0));
    let h = |n: usize| u16::try_from(n + 2).unwrap_or(u16::MAX);
    (h(venues), h(merged))
}

/// Draws the venue trees side by side in `area`.
pub(super) fn venues(view: &View, dp: u32, area: Rect, buf: &mut Buffer) {
    if area.is_empty() || view.venues.is_empty() {
        return;
    }
    let cols = area.layout_vec(&Layout::horizontal(
        view.venues.iter().map(|_| Constraint::Fill(1)),
    ));
    for (i, (v, col)) in view.venues.iter().zip(&cols).enumerate() {
        let dim = !v.merged;
        let mut block = Panel::bordered(if dim { theme::DIM } else { theme::LABEL })
            .title(venue_title(i, v, col.width));
        if let Some(g) = gauge(v.walk.filled, v.walk.requested, col.width) {
            block = block.title_bottom(g);
        }
        let inner = Panel::inner(*col);
        block.render(*col, buf);
        let nodes = fit(venue_nodes(v, view, dp, inner.width), inner.height);
        draw_lines(lines(&nodes, dim), inner, buf);
    }
}
