//! The size prompt (`e`): a small centred popup with the text typed so far and, after a refused
//! Enter, the reason in red.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use super::format::{base_currency, qty};
use super::{SizePrompt, centered, theme};
use crate::state::view::View;

/// Popup width.
const WIDTH: u16 = 44;
/// Popup height: borders, input, message.
const HEIGHT: u16 = 4;

/// Draws the prompt; returns where the text cursor goes (`None` when it does not fit).
pub(super) fn popup(view: &View, p: &SizePrompt, area: Rect, buf: &mut Buffer) -> Option<Position> {
    let rect = centered(area, WIDTH, HEIGHT);
    if rect.is_empty() {
        return None;
    }
    Clear.render(rect, buf);
    let base = base_currency(&view.symbol);
    let block = Block::bordered()
        .border_style(theme::KEY)
        .title(Span::styled(
            format!(" Order size ({base}), now {} ", qty(view.quantity)),
            theme::TITLE,
        ));
    let inner = block.inner(rect);
    block.render(rect, buf);
    let prefix = " size: ";
    let message = match &p.error {
        Some(e) => Line::from(Span::styled(format!(" ✗ {e}"), theme::BAD)),
        None => Line::from(Span::styled(" Enter apply · Esc cancel", theme::DIM)),
    };
    Paragraph::new(vec![
        Line::from(vec![
            Span::styled(prefix, theme::LABEL),
            Span::styled(p.input.clone(), theme::TEXT),
        ]),
        message,
    ])
    .render(inner, buf);
    let col = u16::try_from(prefix.len() + p.input.chars().count()).unwrap_or(u16::MAX);
    (inner.height > 0 && col < inner.width).then(|| Position::new(inner.x + col, inner.y))
}
