//! [`Panel`]: the bordered box every dashboard panel is drawn in, and [`draw_lines`] for its text — what ratatui's
//! `Block::bordered().border_style(..).title(..).title_bottom(..)` draws, cell for cell (a test checks
//! it), for the parts the dashboard uses: plain borders, left- and right-aligned titles on the top and
//! bottom borders, no block style. `Block` first sets its style over every cell of its area, even the
//! default style that changes nothing; a panel only writes its border cells and titles. Ten frames a
//! second, the four big panels (two thirds of a 200×60 screen) made that pass a sixth of the cost of
//! a frame's widgets.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::symbols::border;
use ratatui::text::Line;
use ratatui::widgets::Widget;

/// A bordered panel with titles.
#[derive(Debug, Clone, Default)]
pub(super) struct Panel<'a> {
    border_style: Style,
    /// Titles on the top border; a right-aligned line goes to the right end, any other to the left.
    top: Vec<Line<'a>>,
    /// The same on the bottom border.
    bottom: Vec<Line<'a>>,
}

impl<'a> Panel<'a> {
    /// A panel whose borders are drawn in `style`.
    pub(super) fn bordered(style: Style) -> Self {
        Self {
            border_style: style,
            ..Self::default()
        }
    }

    /// Adds a title on the top border.
    pub(super) fn title(mut self, line: impl Into<Line<'a>>) -> Self {
        self.top.push(line.into());
        self
    }

    /// Adds a title on the bottom border.
    pub(super) fn title_bottom(mut self, line: impl Into<Line<'a>>) -> Self {
        self.bottom.push(line.into());
        self
    }

    /// The area inside the borders.
    pub(super) fn inner(area: Rect) -> Rect {
        Rect {
            x: area.x.saturating_add(1),
            y: area.y.saturating_add(1),
            width: area.width.saturating_sub(2),
            height: area.height.saturating_sub(2),
        }
    }

    fn borders(&self, area: Rect, buf: &mut Buffer) {
        let set = border::PLAIN;
        let (left, top) = (area.left(), area.top());
        let (right, bottom) = (area.right() - 1, area.bottom() - 1);
        let mut put = |x: u16, y: u16, symbol: &str| {
            buf[(x, y)].set_symbol(symbol).set_style(self.border_style);
        };
        // Sides first, then corners, in `Block`'s order (it matters for 1-wide or 1-high areas).
        for y in top..=bottom {
            put(left, y, set.vertical_left);
        }
        for x in left..=right {
            put(x, top, set.horizontal_top);
        }
        for y in top..=bottom {
            put(right, y, set.vertical_right);
        }
        for x in left..=right {
            put(x, bottom, set.horizontal_bottom);
        }
        put(right, bottom, set.bottom_right);
        put(right, top, set.top_right);
        put(left, bottom, set.bottom_left);
        put(left, top, set.top_left);
    }

    /// `titles` on row `y` between the borders: left-aligned ones from the left, each followed by a
    /// space, then right-aligned ones from the right, last first.
    fn titles(titles: &[Line<'_>], area: Rect, y: u16, buf: &mut Buffer) {
        let row = Rect {
            x: area.left().saturating_add(1),
            y,
            width: area.width.saturating_sub(2),
            height: 1,
        };
        let width = |line: &Line<'_>| u16::try_from(line.width()).unwrap_or(u16::MAX);
        let right = |line: &&Line<'_>| line.alignment == Some(Alignment::Right);
        let mut free = row;
        for line in titles.iter().filter(|l| !right(l)) {
            if free.is_empty() {
                break;
            }
            let w = width(line);
            line.render(
                Rect {
                    width: w.min(free.width),
                    ..free
                },
                buf,
            );
            let advance = w.saturating_add(1);
            free.x = free.x.saturating_add(advance);
            free.width = free.width.saturating_sub(advance);
        }
        let mut free = row;
        for line in titles.iter().filter(right).rev() {
            if free.is_empty() {
                break;
            }
            let w = width(line);
            line.render(
                Rect {
                    x: free.right().saturating_sub(w).max(free.left()),
                    width: w.min(free.width),
                    ..free
                },
                buf,
            );
            free.width = free.width.saturating_sub(w).saturating_sub(1);
        }
    }
}

/// `lines` one per row of `area` from its top, each cut at the area's width: what
/// `Paragraph::new(lines)` draws (no wrapping, scrolling or style; a test compares them cell for cell),
/// without the paragraph's reflow of every grapheme through a line composer.
pub(super) fn draw_lines<'a>(
    lines: impl IntoIterator<Item = Line<'a>>,
    area: Rect,
    buf: &mut Buffer,
) {
    for (line, y) in lines.into_iter().zip(area.top()..area.bottom()) {
        // A paragraph keeps the start of a line too long for the area, whatever its alignment.
        let line = if line.width() > usize::from(area.width) {
            line.left_aligned()
        } else {
            line
        };
        line.render(
            Rect {
                y,
                height: 1,
                ..area
            },
            buf,
        );
    }
}

impl Widget for Panel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return;
        }
        debug_assert!(
            self.top
                .iter()
                .chain(&self.bottom)
                .all(|l| l.alignment != Some(Alignment::Center)),
            "centred titles are not drawn as Block draws them"
        );
        self.borders(area, buf);
        Self::titles(&self.top, area, area.top(), buf);
        Self::titles(&self.bottom, area, area.bottom() - 1, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::theme;
    use ratatui::text::Span;
    use ratatui::widgets::{Block, Paragraph};

    /// Titles like the dashboard's: styled spans, left on top, right or left at the bottom, one of
    /// them long enough to be cut short in small areas.
    fn titles() -> (Vec<Line<'static>>, Vec<Line<'static>>) {
        let top = vec![
            Line::from(vec![
                Span::styled(" 1 KRAKEN ", theme::TITLE),
                Span::styled("(stale, not merged) ", theme::DIM),
            ]),
            Line::from(Span::styled("second", theme::BAD)),
        ];
        let bottom = vec![
            Line::from(Span::styled(" ━ kraken ", theme::KEY)),
            Line::from(vec![
                Span::styled(" f", theme::KEY),
                Span::styled(" next table ", theme::DIM),
            ])
            .right_aligned(),
            Line::from(Span::styled("▓▓░░ 50% ", theme::GOOD)).right_aligned(),
        ];
        (top, bottom)
    }

    #[test]
    fn a_panel_draws_what_block_draws_cell_for_cell() {
        let (top, bottom) = titles();
        for (w, h) in [
            (1, 1),
            (1, 5),
            (5, 1),
            (2, 2),
            (7, 3),
            (12, 4),
            (40, 10),
            (80, 24),
        ] {
            for offset in [0, 3] {
                let area = Rect::new(offset, offset, w, h);
                let screen = Rect::new(0, 0, 90, 30);
                // Something already on screen under the panel: both must leave it alike.
                let mut under = Buffer::empty(screen);
                under.set_string(0, 1, "x".repeat(90), theme::BAD);
                let (mut ours, mut theirs) = (under.clone(), under);
                let mut panel = Panel::bordered(theme::LABEL);
                let mut block = Block::bordered().border_style(theme::LABEL);
                for t in &top {
                    panel = panel.title(t.clone());
                    block = block.title(t.clone());
                }
                for t in &bottom {
                    panel = panel.title_bottom(t.clone());
                    block = block.title_bottom(t.clone());
                }
                assert_eq!(Panel::inner(area), block.inner(area), "{w}x{h}");
                panel.render(area, &mut ours);
                block.render(area, &mut theirs);
                assert_eq!(ours, theirs, "{w}x{h} at {offset}");
            }
        }
    }

    #[test]
    fn drawn_lines_are_what_a_paragraph_draws_cell_for_cell() {
        let lines = vec![
            Line::from(vec![
                Span::styled("├─ ", theme::DIM),
                Span::styled("levels ", theme::LABEL),
                Span::styled("35 (K 17 · C 8)", theme::TEXT),
            ]),
            Line::from(Span::styled("84 msg/s · 0 crc/seq fail", theme::DIM)).right_aligned(),
            Line::default(),
            Line::from("a plain line that is longer than the narrow areas below"),
            Line::from(vec![
                Span::styled("▓▓▓", theme::GOOD),
                Span::styled("░ 75%", theme::BAD),
            ])
            .right_aligned(),
        ];
        for (w, h) in [(1, 1), (4, 2), (9, 5), (20, 3), (40, 8), (70, 6)] {
            let area = Rect::new(2, 1, w, h);
            let mut under = Buffer::empty(Rect::new(0, 0, 80, 12));
            under.set_string(0, 2, "y".repeat(80), theme::KEY);
            let (mut ours, mut theirs) = (under.clone(), under);
            draw_lines(lines.clone(), area, &mut ours);
            Paragraph::new(lines.clone()).render(area, &mut theirs);
            assert_eq!(ours, theirs, "{w}x{h}");
        }
    }
}
