//! What the UI loop draws on: [`Screen`], with two implementations — [`AnsiScreen`], the dashboard's
//! own, which writes the frame's changes to the terminal itself, and ratatui's `Terminal`, which the
//! dashboard drew on before (a property test and the render bench compare the two).
//!
//! # Why the dashboard has its own screen
//! At 10 frames a second of a 200×60 screen, ratatui's `Terminal` compared 120,000 cells a second with
//! `Cell::eq` and measured the display width of each, and crossterm wrote each changed cell through
//! `core::fmt` (`MoveTo`, `Print`): together about a fifth of the dashboard's CPU. [`AnsiScreen`] keeps
//! ratatui's contract — the same double buffer, the same cells written, the same bytes (a property test
//! compares them with `Terminal` + `CrosstermBackend`, byte for byte) — and gets there faster:
//! - the diff takes a one-byte symbol as one column without the Unicode tables, measures only the new
//!   frame's cells (it remembers whether the frame on screen was all one column wide), compares a
//!   cell's colours before its symbol, and hands a frame holding a cell of any other width (wide,
//!   zero-width, forced) to ratatui's own diff;
//! - a cursor move and a cell's symbol are written as bytes; colours and attributes, which change far
//!   less often, still go through crossterm's commands;
//! - a frame is one `write` of bytes gathered in a reused buffer.

use std::io::{self, Write};

use crossterm::queue;
use crossterm::style::{
    Attribute, Color as CtColor, Colors, SetAttribute, SetBackgroundColor, SetColors,
    SetForegroundColor, SetUnderlineColor,
};
use ratatui::Terminal;
use ratatui::backend::{Backend, IntoCrossterm};
use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::layout::{Position, Rect, Size};
use ratatui::style::{Color, Modifier};

/// A full-screen surface the UI loop draws frames on.
pub trait Screen {
    /// What a failed draw reports.
    type Error: std::error::Error + 'static;

    /// The size frames are drawn at.
    ///
    /// # Errors
    /// The size cannot be read.
    fn size(&self) -> Result<Size, Self::Error>;

    /// The terminal now has `area`: the next frame is drawn whole at that size.
    ///
    /// # Errors
    /// The terminal cannot be cleared.
    fn resize(&mut self, area: Rect) -> Result<(), Self::Error>;

    /// Draws one frame: `render` fills a blank buffer and says where the cursor goes (`None`:
    /// hidden); what changed since the last frame reaches the terminal. Returns the frame's area.
    ///
    /// # Errors
    /// The terminal cannot be written.
    fn draw<F>(&mut self, render: F) -> Result<Rect, Self::Error>
    where
        F: FnOnce(&mut Buffer) -> Option<Position>;
}

impl<B> Screen for Terminal<B>
where
    B: Backend,
    B::Error: 'static,
{
    type Error = B::Error;

    fn size(&self) -> Result<Size, B::Error> {
        Terminal::size(self)
    }

    fn resize(&mut self, area: Rect) -> Result<(), B::Error> {
        Terminal::resize(self, area)
    }

    fn draw<F>(&mut self, render: F) -> Result<Rect, B::Error>
    where
        F: FnOnce(&mut Buffer) -> Option<Position>,
    {
        let completed = Terminal::draw(self, |frame| {
            if let Some(cursor) = render(frame.buffer_mut()) {
                frame.set_cursor_position(cursor);
            }
        })?;
        Ok(completed.area)
    }
}

/// The dashboard's screen: a full-screen double buffer written to `out` as ANSI escape sequences.
///
/// It assumes what the terminal shows at the start is blank (the alternate screen the
/// [`crate::terminal::TerminalGuard`] enters is): like ratatui, the first frame writes only the cells
/// that are not blank.
pub struct AnsiScreen<W: Write> {
    out: W,
    /// The frame being drawn and the one on screen.
    buffers: [Buffer; 2],
    /// Index of the frame being drawn in `buffers`.
    current: usize,
    /// The bytes of one frame, reused.
    bytes: Vec<u8>,
    /// The indices of the cells that changed, reused.
    changed: Vec<usize>,
    /// Every cell of the frame on screen is one column wide (see [`changed_cells`]).
    shown_narrow: bool,
}

impl<W: Write> AnsiScreen<W> {
    /// A screen of `size` that writes to `out`.
    pub fn new(out: W, size: Size) -> AnsiScreen<W> {
        let area = Rect::from((Position::ORIGIN, size));
        AnsiScreen {
            out,
            buffers: [Buffer::empty(area), Buffer::empty(area)],
            current: 0,
            bytes: Vec::with_capacity(64 * 1024),
            changed: Vec::new(),
            shown_narrow: true,
        }
    }

    /// Where the frames go.
    pub fn writer(&self) -> &W {
        &self.out
    }
}

impl<W: Write> Screen for AnsiScreen<W> {
    type Error = io::Error;

    fn size(&self) -> io::Result<Size> {
        Ok(self.buffers[self.current].area.as_size())
    }

    /// Clears the whole terminal with the next frame's bytes (not at once: no blank screen shows
    /// between the two) and forgets what it showed, so the next frame is drawn whole.
    fn resize(&mut self, area: Rect) -> io::Result<()> {
        for buffer in &mut self.buffers {
            buffer.resize(area);
            buffer.reset();
        }
        self.shown_narrow = true;
        queue!(
            self.bytes,
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
        )
    }

    fn draw<F>(&mut self, render: F) -> io::Result<Rect>
    where
        F: FnOnce(&mut Buffer) -> Option<Position>,
    {
        let cursor = render(&mut self.buffers[self.current]);
        let (next, prev) = (&self.buffers[self.current], &self.buffers[1 - self.current]);
        self.shown_narrow = changed_cells(prev, self.shown_narrow, next, &mut self.changed);
        write_cells(&mut self.bytes, next, &self.changed)?;
        match cursor {
            None => queue!(self.bytes, crossterm::cursor::Hide)?,
            Some(p) => queue!(
                self.bytes,
                crossterm::cursor::Show,
                crossterm::cursor::MoveTo(p.x, p.y)
            )?,
        }
        let area = next.area;
        self.buffers[1 - self.current].reset();
        self.current = 1 - self.current;
        let written = self
            .out
            .write_all(&self.bytes)
            .and_then(|()| self.out.flush());
        self.bytes.clear();
        written.map(|()| area)
    }
}

/// Sets `changed` to the indices (in `next.content`) of the cells to write to turn the screen from
/// `prev` to `next`, in order: exactly the cells of ratatui's `Buffer::diff`. `prev_narrow` says
/// whether every cell of `prev` is one column wide (the last call returned it); returns whether every
/// cell of `next` is.
///
/// Between two frames of cells one column wide (no forced width), ratatui's diff is "every cell that
/// is not skipped and is marked to be always written or differs from the cell it replaces". Any
/// other frame (a wide or zero-width symbol, a forced width, on either side) is handed to ratatui's
/// diff whole.
fn changed_cells(
    prev: &Buffer,
    prev_narrow: bool,
    next: &Buffer,
    changed: &mut Vec<usize>,
) -> bool {
    debug_assert_eq!(prev.area, next.area, "both frames have the screen's area");
    changed.clear();
    if prev_narrow && changed_narrow_cells(prev, next, changed) {
        return true;
    }
    changed.clear();
    let width = usize::from(next.area.width);
    changed.extend(
        prev.diff_iter(next)
            .map(|(x, y, _)| usize::from(y - next.area.y) * width + usize::from(x - next.area.x)),
    );
    next.content
        .iter()
        .all(|c| narrow(c.symbol()) && !forced(c))
}

/// [`changed_cells`] when `prev` is narrow: pushes the changed cells while `next` is narrow too;
/// false (and `changed` is to be dropped) at the first cell of `next` that is not.
fn changed_narrow_cells(prev: &Buffer, next: &Buffer, changed: &mut Vec<usize>) -> bool {
    for (i, (p, n)) in prev.content.iter().zip(&next.content).enumerate() {
        let symbol = n.symbol();
        if !narrow(symbol) || forced(n) {
            return false;
        }
        if !skipped(n)
            && (matches!(n.diff_option, CellDiffOption::AlwaysUpdate) || !same(p, n, symbol))
        {
            changed.push(i);
        }
    }
    true
}

/// A symbol one column wide (ratatui's `cell_width`, without the table lookup for one byte).
#[inline]
fn narrow(symbol: &str) -> bool {
    symbol.len() == 1 || symbol.cell_width() == 1
}

/// A cell whose width is forced (ratatui's diff takes it as the cell's width, old or new).
#[inline]
fn forced(cell: &Cell) -> bool {
    matches!(cell.diff_option, CellDiffOption::ForcedWidth(_))
}

/// ratatui's "skip this cell when diffing".
#[inline]
#[allow(deprecated)] // `Cell::skip` is still honoured by ratatui's diff; so must this one be.
fn skipped(cell: &Cell) -> bool {
    matches!(cell.diff_option, CellDiffOption::Skip)
        || (cell.skip && matches!(cell.diff_option, CellDiffOption::None))
}

/// `Cell::eq`, given the new cell's symbol: the colours first, a one-byte symbol without a `memcmp`.
#[inline]
#[allow(deprecated)] // `Cell::eq` compares `skip` too.
fn same(p: &Cell, n: &Cell, ns: &str) -> bool {
    p.fg == n.fg
        && p.bg == n.bg
        && p.modifier == n.modifier
        && p.underline_color == n.underline_color
        && p.skip == n.skip
        && p.diff_option == n.diff_option
        && match (p.symbol().as_bytes(), ns.as_bytes()) {
            ([a], [b]) => a == b,
            (a, b) => a == b,
        }
}

/// Appends to `bytes` what writes the cells `changed` of `next`: the bytes ratatui's
/// `CrosstermBackend::draw` writes for them — a cursor move where a cell does not follow the last one,
/// the attributes and colours where they change, the symbol — then a reset of colours and attributes.
fn write_cells(bytes: &mut Vec<u8>, next: &Buffer, changed: &[usize]) -> io::Result<()> {
    let width = usize::from(next.area.width.max(1));
    let mut fg = Color::Reset;
    let mut bg = Color::Reset;
    let mut underline = Color::Reset;
    let mut modifier = Modifier::empty();
    let mut last: Option<(u16, u16)> = None;
    for &i in changed {
        let cell = &next.content[i];
        // Both fit in u16: the buffer's area does.
        let x = next.area.x + (i % width) as u16;
        let y = next.area.y + (i / width) as u16;
        if !matches!(last, Some((lx, ly)) if ly == y && lx.checked_add(1) == Some(x)) {
            move_to(bytes, x, y);
        }
        last = Some((x, y));
        if cell.modifier != modifier {
            write_modifier_change(bytes, modifier, cell.modifier)?;
            modifier = cell.modifier;
        }
        if cell.fg != fg || cell.bg != bg {
            queue!(
                bytes,
                SetColors(Colors::new(
                    cell.fg.into_crossterm(),
                    cell.bg.into_crossterm()
                ))
            )?;
            fg = cell.fg;
            bg = cell.bg;
        }
        if cell.underline_color != underline {
            queue!(
                bytes,
                SetUnderlineColor(cell.underline_color.into_crossterm())
            )?;
            underline = cell.underline_color;
        }
        bytes.extend_from_slice(cell.symbol().as_bytes());
    }
    queue!(
        bytes,
        SetForegroundColor(CtColor::Reset),
        SetBackgroundColor(CtColor::Reset),
        SetUnderlineColor(CtColor::Reset),
        SetAttribute(Attribute::Reset),
    )
}

/// crossterm's `MoveTo(x, y)`: `ESC [ y+1 ; x+1 H`.
fn move_to(bytes: &mut Vec<u8>, x: u16, y: u16) {
    bytes.extend_from_slice(b"\x1b[");
    push_decimal(bytes, u32::from(y) + 1);
    bytes.push(b';');
    push_decimal(bytes, u32::from(x) + 1);
    bytes.push(b'H');
}

/// Appends `n` in decimal.
fn push_decimal(bytes: &mut Vec<u8>, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    bytes.extend_from_slice(&digits[at..]);
}

/// The attribute changes from `from` to `to`, as ratatui's crossterm backend writes them (its
/// `ModifierDiff`): removals first (one intensity reset for bold and dim, then re-adding what stays),
/// then additions.
fn write_modifier_change(bytes: &mut Vec<u8>, from: Modifier, to: Modifier) -> io::Result<()> {
    let removed = from - to;
    let mut set = |a: Attribute| queue!(bytes, SetAttribute(a));
    if removed.contains(Modifier::REVERSED) {
        set(Attribute::NoReverse)?;
    }
    let reset_intensity = removed.intersects(Modifier::BOLD | Modifier::DIM);
    if reset_intensity {
        set(Attribute::NormalIntensity)?;
        if to.contains(Modifier::DIM) {
            set(Attribute::Dim)?;
        }
        if to.contains(Modifier::BOLD) {
            set(Attribute::Bold)?;
        }
    }
    for (modifier, attribute) in [
        (Modifier::ITALIC, Attribute::NoItalic),
        (Modifier::UNDERLINED, Attribute::NoUnderline),
        (Modifier::CROSSED_OUT, Attribute::NotCrossedOut),
        (Modifier::HIDDEN, Attribute::NoHidden),
    ] {
        if removed.contains(modifier) {
            set(attribute)?;
        }
    }
    if removed.intersects(Modifier::SLOW_BLINK | Modifier::RAPID_BLINK) {
        set(Attribute::NoBlink)?;
    }
    let added = to - from;
    for (modifier, attribute, unless_reset) in [
        (Modifier::REVERSED, Attribute::Reverse, false),
        (Modifier::BOLD, Attribute::Bold, true),
        (Modifier::ITALIC, Attribute::Italic, false),
        (Modifier::UNDERLINED, Attribute::Underlined, false),
        (Modifier::DIM, Attribute::Dim, true),
        (Modifier::CROSSED_OUT, Attribute::CrossedOut, false),
        (Modifier::HIDDEN, Attribute::Hidden, false),
        (Modifier::SLOW_BLINK, Attribute::SlowBlink, false),
        (Modifier::RAPID_BLINK, Attribute::RapidBlink, false),
    ] {
        if added.contains(modifier) && !(unless_reset && reset_intensity) {
            set(attribute)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::num::NonZeroU16;
    use std::rc::Rc;

    use proptest::prelude::*;
    use ratatui::TerminalOptions;
    use ratatui::Viewport;
    use ratatui::backend::CrosstermBackend;

    use super::*;

    /// Symbols of width 1 (one byte, several bytes, a combining mark), plus a blank one.
    const NARROW: &[&str] = &[" ", "a", "Z", "7", "─", "⣿", "—", "e\u{301}", ""];
    /// Wide symbols, and one with a variation selector: frames holding them take ratatui's diff.
    const WIDE: &[&str] = &["コ", "日", "☀\u{FE0F}"];
    const COLORS: &[Color] = &[
        Color::Reset,
        Color::Red,
        Color::LightCyan,
        Color::Indexed(42),
        Color::Rgb(1, 200, 3),
    ];

    fn cell(wide: bool) -> impl Strategy<Value = Cell> {
        let symbols: Vec<&'static str> = if wide {
            NARROW.iter().chain(WIDE).copied().collect()
        } else {
            NARROW.to_vec()
        };
        (
            proptest::sample::select(symbols),
            proptest::sample::select(COLORS),
            proptest::sample::select(COLORS),
            prop_oneof![9 => Just(Color::Reset), 1 => Just(Color::Blue)],
            prop_oneof![3 => Just(0u16), 1 => any::<u16>()],
            prop_oneof![
                20 => Just(CellDiffOption::None),
                1 => Just(CellDiffOption::AlwaysUpdate),
                1 => Just(CellDiffOption::Skip),
                1 => (1u16..=2).prop_map(|w| CellDiffOption::ForcedWidth(
                    NonZeroU16::new(w).expect("1 or 2"))),
            ],
        )
            .prop_map(|(symbol, fg, bg, underline, bits, diff_option)| {
                let mut c = Cell::new(symbol);
                c.fg = fg;
                c.bg = bg;
                c.underline_color = underline;
                c.modifier = Modifier::from_bits_truncate(bits);
                c.diff_option = diff_option;
                c
            })
    }

    /// A first frame and the edits that make each next one (most cells stay as they were), with
    /// the cursor of each frame. An edit takes some fields of a cell (a bit each), so that cells
    /// differing in one field only are common.
    type Frames = (
        u16,
        u16,
        Vec<Cell>,
        Vec<(Vec<(usize, Cell, u8)>, Option<Position>)>,
    );

    #[allow(deprecated)] // `skip` too: ratatui's diff reads it.
    fn take_fields(cell: &mut Cell, from: Cell, fields: u8) {
        let bit = |b: u8| fields & (1 << b) != 0;
        if bit(0) {
            cell.set_symbol(from.symbol());
        }
        if bit(1) {
            cell.fg = from.fg;
        }
        if bit(2) {
            cell.bg = from.bg;
        }
        if bit(3) {
            cell.underline_color = from.underline_color;
        }
        if bit(4) {
            cell.modifier = from.modifier;
        }
        if bit(5) {
            cell.diff_option = from.diff_option;
        }
        if bit(6) {
            cell.skip = !cell.skip;
        }
    }

    fn frames() -> impl Strategy<Value = Frames> {
        (
            1u16..=12,
            1u16..=5,
            prop_oneof![3 => Just(false), 1 => Just(true)],
        )
            .prop_flat_map(|(w, h, wide)| {
                let n = usize::from(w * h);
                let cursor = proptest::option::of((0..w, 0..h).prop_map(Position::from));
                (
                    Just(w),
                    Just(h),
                    proptest::collection::vec(cell(wide), n),
                    proptest::collection::vec(
                        (
                            proptest::collection::vec((0..n, cell(wide), any::<u8>()), 0..=n),
                            cursor,
                        ),
                        1..6,
                    ),
                )
            })
    }

    /// Makes `cells` a frame ratatui's widgets can draw (and its diff can read without going past
    /// the end): a wide cell (symbol or forced width) fits in its row, and the cell it covers is blank.
    fn well_formed(cells: &mut [Cell], w: u16) {
        let w = usize::from(w);
        for i in 0..cells.len() {
            if cells[i].cell_width() > 1 {
                if i % w == w - 1 {
                    cells[i] = Cell::EMPTY;
                } else {
                    cells[i + 1] = Cell::EMPTY;
                }
            }
        }
    }

    /// Bytes written, readable while a backend owns the writer.
    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Draws `cells` on `screen`.
    fn draw(screen: &mut impl Screen, cells: &[Cell], cursor: Option<Position>) {
        screen
            .draw(|buf| {
                buf.content.clone_from_slice(cells);
                cursor
            })
            .expect("writing to memory");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The dashboard's screen writes what ratatui's `Terminal` over crossterm writes, frame
        /// after frame, byte for byte: the same cells, moves, colours, attributes and cursor.
        #[test]
        fn the_bytes_are_ratatuis_byte_for_byte((w, h, first, edits) in frames()) {
            let area = Rect::new(0, 0, w, h);
            let written = Shared::default();
            let mut reference = Terminal::with_options(
                CrosstermBackend::new(written.clone()),
                TerminalOptions { viewport: Viewport::Fixed(area) },
            )
            .expect("a fixed viewport");
            let mut ours = AnsiScreen::new(Vec::new(), area.as_size());
            let mut cells = first;
            well_formed(&mut cells, w);
            draw(&mut reference, &cells, None);
            draw(&mut ours, &cells, None);
            prop_assert_eq!(ours.writer(), &*written.0.borrow());
            for (edit, cursor) in edits {
                for (i, c, fields) in edit {
                    take_fields(&mut cells[i], c, fields);
                }
                well_formed(&mut cells, w);
                draw(&mut reference, &cells, cursor);
                draw(&mut ours, &cells, cursor);
                let (a, b) = (ours.writer(), &*written.0.borrow());
                prop_assert!(
                    a == b,
                    "ours:\n{:?}\nratatui's:\n{:?}",
                    String::from_utf8_lossy(a),
                    String::from_utf8_lossy(b)
                );
            }
        }
    }

    /// The text a terminal shows after reading `bytes`, a line per row, a blank cell as a space.
    fn shown(bytes: &[u8], w: u16, h: u16) -> Vec<String> {
        let mut term = terminal(w, h);
        term.process(bytes);
        (0..h)
            .map(|y| {
                (0..w)
                    .map(|x| {
                        let c = term.screen().cell(y, x).map_or("", |c| c.contents());
                        if c.is_empty() { " " } else { c }.to_owned()
                    })
                    .collect()
            })
            .collect()
    }

    /// A terminal of `w`×`h`.
    fn terminal(w: u16, h: u16) -> vt100::Parser {
        let n = |v: u16| NonZeroU16::new(v).expect("not empty");
        vt100::Parser::new(n(h), n(w), 0)
    }

    fn lines(rows: &[&str]) -> Vec<Cell> {
        rows.iter()
            .flat_map(|r| r.chars())
            .map(|c| {
                let mut cell = Cell::default();
                cell.set_char(c);
                cell
            })
            .collect()
    }

    #[test]
    fn a_terminal_shows_each_frame_and_only_the_changes_are_written() {
        let mut screen = AnsiScreen::new(Vec::new(), Size::new(4, 2));
        draw(&mut screen, &lines(&["ab─⣿", "    "]), None);
        let first = screen.writer().len();
        draw(&mut screen, &lines(&["ab─⣿", "  x "]), None);
        assert_eq!(shown(screen.writer(), 4, 2), ["ab─⣿", "  x "]);
        let second = &screen.writer()[first..];
        // One move, one symbol, the resets and the hidden cursor.
        assert_eq!(
            second,
            b"\x1b[2;3Hx\x1b[39m\x1b[49m\x1b[59m\x1b[0m\x1b[?25l",
            "{:?}",
            String::from_utf8_lossy(second)
        );
    }

    #[test]
    fn after_a_resize_the_whole_frame_is_drawn_on_a_cleared_screen() {
        let mut screen = AnsiScreen::new(Vec::new(), Size::new(6, 3));
        draw(&mut screen, &lines(&["xxxxxx", "xxxxxx", "xxxxxx"]), None);
        screen.resize(Rect::new(0, 0, 4, 2)).unwrap();
        assert_eq!(screen.size().unwrap(), Size::new(4, 2));
        // A frame mostly blank: without the clear, the old x's would stay where it is blank.
        draw(&mut screen, &lines(&["y   ", "   y"]), None);
        let mut term = terminal(6, 3);
        term.process(screen.writer());
        term.set_size(
            NonZeroU16::MIN.saturating_add(1),
            NonZeroU16::MIN.saturating_add(3),
        );
        let rows: Vec<String> = term.screen().rows(0, 4).collect();
        assert_eq!(rows, ["y", "   y"]);
        assert_eq!(shown(screen.writer(), 4, 2), ["y   ", "   y"]);
    }

    #[test]
    fn the_cursor_is_shown_where_the_frame_puts_it() {
        let mut screen = AnsiScreen::new(Vec::new(), Size::new(5, 2));
        draw(
            &mut screen,
            &lines(&["hello", "     "]),
            Some(Position::new(3, 1)),
        );
        let mut term = terminal(5, 2);
        term.process(screen.writer());
        assert!(!term.screen().hide_cursor());
        assert_eq!(term.screen().cursor_position(), (1, 3));
        draw(&mut screen, &lines(&["hello", "     "]), None);
        term.process(screen.writer());
        assert!(term.screen().hide_cursor());
    }
}
