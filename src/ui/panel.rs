//! [`Panel`]: the bordered box every dashboard panel is drawn in, and [`draw_lines`] for its text — what ratatui's
//! `Block::bordered().border_style(..).title(..).title_bottom(..)` draws, cell for cell (a test checks
//! it), for the parts the dashboard uses: plain borders, left- and right-aligned titles on the top and
//! bottom borders, no block style. `Block` first sets its style over every cell of its area, even the
//! default style that changes nothing; a panel only writes its border cells and titles. Ten frames a
//! second, the four big panels (two thirds of a 200×60 screen) made that pass a sixth of the cost of
//! a frame's widgets.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Flex, Layout, Rect};
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
            render_line(
                line,
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
            render_line(
                line,
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
        render_line(
            &line,
            Rect {
                y,
                height: 1,
                ..area
            },
            buf,
        );
    }
}

/// `line` in `area`, as `line.render(area, buf)` draws it (a proptest compares them cell for cell).
///
/// The dashboard's lines are printable ASCII but for the tree's branches and the bars; such a line
/// is drawn byte by byte, without what `Line` and `Span` do for any text: measuring every span's
/// width through the Unicode tables (twice), copying each span, splitting it into graphemes and
/// measuring each one. Any other line, and a line cut short that is not left-aligned, is left to
/// ratatui.
pub(super) fn render_line(line: &Line<'_>, area: Rect, buf: &mut Buffer) {
    let ascii = |s: &str| s.bytes().all(|b| (b' '..=b'~').contains(&b));
    if !line.spans.iter().all(|s| ascii(&s.content)) {
        line.render(area, buf);
        return;
    }
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let width: usize = line.spans.iter().map(|s| s.content.len()).sum();
    let room = usize::from(area.width);
    let indent = match line.alignment {
        _ if width == 0 => return,
        Some(Alignment::Left) | None => 0,
        Some(Alignment::Center) if width <= room => (room - width) / 2,
        Some(Alignment::Right) if width <= room => room - width,
        // Cut short on the left: rare, and `Line` knows how.
        Some(Alignment::Center | Alignment::Right) => {
            line.render(area, buf);
            return;
        }
    };
    let row = Rect { height: 1, ..area };
    if line.style != Style::default() {
        buf.set_style(row, line.style);
    }
    let start = buf.index_of(area.x, area.y);
    let cells = &mut buf.content[start..start + room];
    let bytes = line.spans.iter().flat_map(|span| {
        let style = Style::default().patch(span.style);
        span.content.bytes().map(move |b| (b, style))
    });
    for (cell, (b, style)) in cells[indent..].iter_mut().zip(bytes) {
        cell.set_char(char::from(b)).set_style(style);
    }
}

/// A header and rows of `Line`s in columns: what
/// `Table::new(rows, widths).header(header).column_spacing(spacing)` draws when neither the table,
/// its rows nor its cells have a style and nothing is selected (a proptest compares them cell for
/// cell). The table sets each of those (default) styles over its area, row and cell, then copies
/// each cell's text through `Text`; here each cell is one [`render_line`].
pub(super) fn draw_table<'a, const N: usize>(
    header: [Line<'a>; N],
    rows: impl IntoIterator<Item = [Line<'a>; N]>,
    widths: [Constraint; N],
    spacing: u16,
    area: Rect,
    buf: &mut Buffer,
) {
    if area.is_empty() {
        return;
    }
    // The columns share the whole width, even past the buffer's edge.
    let columns = Layout::horizontal(widths)
        .flex(Flex::Start)
        .spacing(spacing)
        .split(Rect::new(0, 0, area.width, 1));
    let shown = area.intersection(buf.area);
    for (y, row) in (area.top()..shown.bottom()).zip(std::iter::once(header).chain(rows)) {
        for (column, line) in columns.iter().zip(&row) {
            let cell = Rect::new(area.x + column.x, y, column.width, 1);
            render_line(line, cell, buf);
        }
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
    use proptest::prelude::*;

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

    fn span() -> impl Strategy<Value = Span<'static>> {
        let text = prop_oneof![
            4 => "[ -~]{0,12}",
            1 => Just("├─ ".to_owned()),
            1 => Just("▓░ 75%".to_owned()),
            1 => Just("a\tb".to_owned()),
        ];
        let style = proptest::sample::select(vec![
            Style::default(),
            theme::DIM,
            theme::BAD,
            theme::TITLE,
            theme::KEY,
        ]);
        (text, style).prop_map(|(t, s)| Span::styled(t, s))
    }

    proptest! {
        /// A line drawn by [`render_line`] is what `Line::render` draws, cell for cell: any text
        /// (ASCII or not), styles, alignment, line style, an area larger or smaller than the line
        /// or partly off the buffer, and something already under it.
        #[test]
        fn a_line_is_drawn_as_ratatui_draws_it(
            spans in proptest::collection::vec(span(), 0..5),
            alignment in proptest::option::of(proptest::sample::select(vec![
                Alignment::Left, Alignment::Center, Alignment::Right,
            ])),
            line_style in proptest::sample::select(vec![Style::default(), theme::LABEL]),
            (x, y, w) in (0u16..30, 0u16..6, 0u16..40),
        ) {
            let line = Line { spans, alignment, style: line_style };
            let mut under = Buffer::empty(Rect::new(0, 0, 40, 5));
            under.set_string(0, 2, "z".repeat(40), theme::GOOD);
            let (mut ours, mut theirs) = (under.clone(), under);
            let area = Rect::new(x, y, w, 1);
            render_line(&line, area, &mut ours);
            line.render(area, &mut theirs);
            prop_assert_eq!(ours, theirs);
        }
    }

    fn constraint() -> impl Strategy<Value = Constraint> {
        prop_oneof![
            (0u16..12).prop_map(Constraint::Length),
            (0u16..12).prop_map(Constraint::Min),
        ]
    }

    fn cell_line() -> impl Strategy<Value = Line<'static>> {
        (
            proptest::collection::vec(span(), 0..3),
            proptest::sample::select(vec![None, Some(Alignment::Right)]),
        )
            .prop_map(|(spans, alignment)| Line {
                spans,
                alignment,
                style: Style::default(),
            })
    }

    proptest! {
        /// A table drawn by [`draw_table`] is what ratatui's `Table` draws, cell for cell: any
        /// column constraints (lengths that do not fit shrink as the table shrinks them), cells
        /// wider than their column, more rows than the area holds, fewer.
        #[test]
        fn a_table_is_drawn_as_ratatui_draws_it(
            widths in proptest::array::uniform3(constraint()),
            header in proptest::array::uniform3(cell_line()),
            rows in proptest::collection::vec(proptest::array::uniform3(cell_line()), 0..8),
            (x, y, w, h) in (0u16..10, 0u16..4, 0u16..50, 0u16..10),
        ) {
            use ratatui::widgets::{Row, Table};
            let mut under = Buffer::empty(Rect::new(0, 0, 50, 10));
            under.set_string(0, 2, "q".repeat(50), theme::BAD);
            let (mut ours, mut theirs) = (under.clone(), under);
            let area = Rect::new(x, y, w, h);
            draw_table(header.clone(), rows.clone(), widths, 2, area, &mut ours);
            Table::new(rows.into_iter().map(Row::new), widths)
                .header(Row::new(header))
                .column_spacing(2)
                .render(area, &mut theirs);
            prop_assert_eq!(ours, theirs);
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
