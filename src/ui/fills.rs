//! The raw fills: `(price, qty, venue)` of the merged walk or `(price, qty, cumulative)` of one venue,
//! scrolled by the app (PageUp/PageDown), switched with `f`.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::panel::{Panel, draw_table};
use rust_decimal::Decimal;

use super::format::{fixed, price_dp};
use super::{FillsTable, UiState, theme};
use crate::state::view::View;

/// Most decimals shown for a fill quantity.
const MAX_QTY_DP: u32 = 8;

/// Fill rows visible in a fills panel of `area` (borders and the header row taken off).
pub(super) fn visible_rows(area: Rect) -> u16 {
    area.height.saturating_sub(3)
}

/// The table actually shown (a venue index that no longer exists falls back to merged).
fn shown(view: &View, ui: &UiState) -> FillsTable {
    match ui.fills_table {
        FillsTable::Venue(i) if i < view.venues.len() => FillsTable::Venue(i),
        _ => FillsTable::Merged,
    }
}

/// Draws the fills panel in `area`.
pub(super) fn table(view: &View, ui: &UiState, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let pdp = price_dp(view);
    let table = shown(view, ui);
    // (price, qty, third column text, third column style)
    // Quantities share one number of decimals so the column lines up (exact up to MAX_QTY_DP).
    let qdp = match table {
        FillsTable::Merged => view
            .merged
            .walk
            .fills
            .iter()
            .map(|f| f.qty.normalize().scale())
            .max(),
        FillsTable::Venue(i) => view
            .venues
            .get(i)
            .and_then(|v| v.walk.fills.iter().map(|f| f.qty.normalize().scale()).max()),
    }
    .unwrap_or(0)
    .min(MAX_QTY_DP);
    let rows: Vec<(Decimal, Decimal, String, Style)> = match table {
        FillsTable::Merged => view
            .merged
            .walk
            .fills
            .iter()
            .map(|f| {
                let name = view
                    .venues
                    .get(f.venue)
                    .map_or_else(|| format!("#{}", f.venue), |v| v.name.clone());
                (
                    f.price,
                    f.qty,
                    name,
                    Style::new().fg(theme::venue_color(f.venue)),
                )
            })
            .collect(),
        FillsTable::Venue(i) => {
            let mut cum = Decimal::ZERO;
            view.venues
                .get(i)
                .map(|v| v.walk.fills.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|f| {
                    cum = cum.saturating_add(f.qty);
                    (f.price, f.qty, fixed(cum, qdp), theme::LABEL)
                })
                .collect()
        }
    };
    let page = usize::from(visible_rows(area));
    let offset = ui.fills_scroll.min(rows.len().saturating_sub(page));
    let name = match table {
        FillsTable::Merged => "merged".to_owned(),
        FillsTable::Venue(i) => view
            .venues
            .get(i)
            .map_or_else(String::new, |v| v.name.clone()),
    };
    let range = if rows.is_empty() {
        String::new()
    } else {
        format!(
            " {}–{} of {}",
            offset + 1,
            (offset + page).min(rows.len()),
            rows.len()
        )
    };
    let next_key = ui.keymap.first_label(crate::keymap::Action::CycleFills);
    let block = Panel::bordered(theme::LABEL)
        .title(Line::from(vec![
            Span::styled(format!(" FILLS {name}"), theme::TITLE),
            Span::styled(format!("{range} "), theme::DIM),
        ]))
        .title_bottom(
            Line::from(vec![
                Span::styled(format!(" {next_key}"), theme::KEY),
                Span::styled(" next table ", theme::DIM),
            ])
            .right_aligned(),
        );
    let inner = Panel::inner(area);
    block.render(area, buf);
    if rows.is_empty() {
        Paragraph::new(Span::styled("nothing filled", theme::DIM)).render(inner, buf);
        return;
    }
    let body: Vec<(String, String, String, Style)> = rows
        .iter()
        .skip(offset)
        .take(page)
        .map(|(p, q, third, style)| (fixed(*p, pdp), fixed(*q, qdp), third.clone(), *style))
        .collect();
    let width = |f: fn(&(String, String, String, Style)) -> usize, head: &str| -> u16 {
        let w = body
            .iter()
            .map(f)
            .max()
            .unwrap_or(0)
            .max(head.chars().count());
        u16::try_from(w).unwrap_or(u16::MAX)
    };
    let third_head = match table {
        FillsTable::Merged => "venue",
        FillsTable::Venue(_) => "cum qty",
    };
    let widths = [
        Constraint::Length(width(|r| r.0.len(), "price")),
        Constraint::Length(width(|r| r.1.len(), "qty")),
        match table {
            FillsTable::Merged => Constraint::Min(width(|r| r.2.chars().count(), third_head)),
            FillsTable::Venue(_) => Constraint::Length(width(|r| r.2.chars().count(), third_head)),
        },
    ];
    let right = |s: String, style: Style| Line::styled(s, style).right_aligned();
    let side = theme::side_style(view.side());
    let third_cell = |s: String, style: Style| match table {
        FillsTable::Merged => Line::from(Span::styled(s, style)),
        FillsTable::Venue(_) => right(s, style),
    };
    let header = [
        right("price".to_owned(), theme::LABEL),
        right("qty".to_owned(), theme::LABEL),
        third_cell(third_head.to_owned(), theme::LABEL),
    ];
    let body_rows = body.into_iter().map(|(p, q, third, style)| {
        [
            right(p, side),
            right(q, theme::TEXT),
            third_cell(third, style),
        ]
    });
    draw_table(header, body_rows, widths, 2, inner, buf);
}
