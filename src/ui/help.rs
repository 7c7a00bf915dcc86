//! The `?` overlay: a centred popup over a cleared area listing every binding of the keymap.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Row, Table, Widget};

use super::{UiState, centered, theme};
use crate::keymap::Action;
use crate::state::view::View;

/// Draws the help popup centred in `area`.
pub(super) fn overlay(view: &View, ui: &UiState, area: Rect, buf: &mut Buffer) {
    let rows = ui.keymap.help_rows();
    let key_w = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let desc_w = rows
        .iter()
        .map(|(_, d)| d.chars().count())
        .max()
        .unwrap_or(0);
    let w = u16::try_from(key_w + desc_w + 2 + 4).unwrap_or(u16::MAX);
    let h = u16::try_from(rows.len() + 2).unwrap_or(u16::MAX);
    let popup = centered(area, w, h);
    if popup.is_empty() {
        return;
    }
    Clear.render(popup, buf);
    let km = &ui.keymap;
    let title = Line::from(vec![
        Span::styled(" Keys ", theme::TITLE),
        Span::styled(
            format!(
                "· {} {} ",
                view.venues.len(),
                if view.venues.len() == 1 {
                    "venue"
                } else {
                    "venues"
                }
            ),
            theme::DIM,
        ),
    ]);
    let bottom = Line::from(vec![
        Span::styled(format!(" {}", km.first_label(Action::Back)), theme::KEY),
        Span::styled(" / ", theme::DIM),
        Span::styled(km.first_label(Action::Help), theme::KEY),
        Span::styled(" close ", theme::DIM),
    ])
    .right_aligned();
    let block = Block::bordered()
        .border_style(theme::KEY)
        .title(title)
        .title_bottom(bottom);
    let key_w = u16::try_from(key_w).unwrap_or(u16::MAX);
    Table::new(
        rows.into_iter().map(|(k, d)| {
            Row::new([
                Line::styled(k, theme::KEY).right_aligned(),
                Line::styled(d, theme::TEXT),
            ])
        }),
        [Constraint::Length(key_w), Constraint::Fill(1)],
    )
    .column_spacing(2)
    .block(block)
    .render(popup, buf);
}
