//! The merged panel: the live, included venues walked as one book — the same figures as a venue tree,
//! the split by venue (quantity and notional, short venue letters) and the difference against the best
//! single venue.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::panel::{Panel, draw_lines};
use rust_decimal::Decimal;

use super::format::{base_currency, money, qty_fit, short_names};
use super::theme;
use super::tree::{Node, fit, gauge, lines, walk_nodes};
use crate::market::Depletion;
use crate::state::view::View;

/// The quote currency label of the merged walk (the first merged venue's, else the first venue's).
pub(super) fn quote(view: &View) -> &str {
    view.venues
        .iter()
        .find(|v| v.merged)
        .or_else(|| view.venues.first())
        .map_or("", |v| v.quote.as_str())
}

/// The merged tree.
pub(super) fn nodes(view: &View, dp: u32, width: u16) -> Vec<Node> {
    let m = &view.merged;
    let w = &m.walk;
    let names: Vec<&str> = view.venues.iter().map(|v| v.name.as_str()).collect();
    let short = short_names(&names);
    let mut out = Vec::new();
    let excluded = (!m.excluded.is_empty()).then(|| {
        Node::new("out", vec![Span::styled(m.excluded.join(", "), theme::DIM)]).optional(2)
    });
    if m.venues.is_empty() {
        out.push(Node::new(
            "",
            vec![Span::styled("no live venue included", theme::BAD)],
        ));
        out.extend(excluded);
        return out;
    }
    // Per-venue contributions, in config order, for the venues that were walked.
    let parts: Vec<(usize, &str, Style)> = view
        .venues
        .iter()
        .enumerate()
        .filter(|(_, v)| m.venues.contains(&v.name))
        .map(|(i, _)| {
            (
                i,
                short.get(i).map_or("?", String::as_str),
                Style::new().fg(theme::venue_color(i)),
            )
        })
        .collect();

    let mut levels = vec![Span::styled(w.levels().to_string(), theme::TEXT)];
    let touched: Vec<String> = parts
        .iter()
        .filter_map(|&(i, s, _)| {
            let l = w.by_venue.get(i)?.levels;
            (l > 0).then(|| format!("{s} {l}"))
        })
        .collect();
    if touched.len() > 1 {
        levels.push(Span::styled(
            format!(" ({})", touched.join(" · ")),
            theme::DIM,
        ));
    }
    out.push(Node::new("levels", levels));
    out.extend(walk_nodes(w, width, dp));
    let quote = quote(view);
    match &m.vs_best_single {
        Some((name, diff)) => {
            let (sign, style) = if *diff > Decimal::ZERO {
                ("+", theme::GOOD)
            } else if *diff < Decimal::ZERO {
                ("−", theme::BAD)
            } else {
                ("±", theme::TEXT)
            };
            out.push(Node::new(
                "",
                vec![
                    Span::styled(format!("{sign}{} {quote}", money(diff.abs())), style),
                    Span::styled(format!(" vs {name}"), theme::LABEL),
                ],
            ));
        }
        None if m.venues.len() > 1 => out.push(Node::new(
            "",
            vec![Span::styled("no single venue fills it", theme::DIM)],
        )),
        None => {}
    }
    let split = parts
        .iter()
        .map(|&(i, s, style)| {
            let part = w.by_venue.get(i).copied().unwrap_or_default();
            Node::new(
                "",
                vec![
                    Span::styled(format!("{s} "), style),
                    Span::styled(qty_fit(part.filled, 10), theme::TEXT),
                    Span::styled(format!(" · {}", money(part.notional)), theme::LABEL),
                ],
            )
        })
        .collect();
    out.push(Node {
        optional: 0,
        label: "split",
        value: vec![Span::styled(
            format!("{} · {quote}", base_currency(&view.symbol)),
            theme::DIM,
        )],
        children: split,
    });
    out.extend(excluded);
    out
}

/// Draws the merged panel in `area`.
pub(super) fn panel(view: &View, dp: u32, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let title = Line::from(vec![
        Span::styled(" MERGED", theme::MERGED),
        Span::styled(
            format!(" {} of {} ", view.merged.venues.len(), view.venues.len()),
            theme::DIM,
        ),
    ]);
    let w = &view.merged.walk;
    let mut block = Panel::bordered(theme::side_style(view.side())).title(title);
    if let Some(g) = gauge(w.filled, w.requested, area.width) {
        block = block.title_bottom(g);
    }
    let inner = Panel::inner(area);
    block.render(area, buf);
    let nodes = fit(nodes(view, dp, inner.width), inner.height);
    draw_lines(lines(&nodes, false), inner, buf);
}
