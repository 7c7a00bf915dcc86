//! The depth picture: cumulative quantity against price on the walked side, one staircase per venue
//! and one for the merged book, with the order size (horizontal) and the merged walk's reach (worst
//! price, vertical) marked. `f64` is used here only for the chart's coordinates.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::style::Style;
use ratatui::symbols;
use ratatui::symbols::braille::BRAILLE;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::panel::Panel;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::format::{base_currency, fixed, price_dp, qty, qty_short};
use super::theme;
use crate::market::{Depletion, Side};
use crate::state::view::{DepthPoint, View};

/// One line of the chart: legend name, points, style.
type Series = (String, Vec<(f64, f64)>, Style);

/// A staircase through the depth points: cumulative quantity steps up at each level's price.
fn staircase(points: &[DepthPoint]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    let mut prev = 0.0;
    for p in points {
        let (Some(x), Some(y)) = (p.price.to_f64(), p.cum_qty.to_f64()) else {
            continue;
        };
        out.push((x, prev));
        out.push((x, y));
        prev = y;
    }
    out
}

/// Draws the depth chart in `area`.
pub(super) fn chart(view: &View, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let side = view.side();
    let side_name = match side {
        Side::Bid => "bids",
        Side::Ask => "asks",
    };
    let block = Panel::bordered(theme::LABEL).title(Line::from(vec![
        Span::styled(" DEPTH ", theme::TITLE),
        Span::styled(side_name, theme::side_style(side)),
        Span::styled(
            format!(", cumulative {} ", base_currency(&view.symbol)),
            theme::TITLE,
        ),
    ]));

    // Series: (name, points, style); the exact extremes are kept as Decimals for the labels.
    let mut series: Vec<Series> = Vec::new();
    let mut lo: Option<Decimal> = None;
    let mut hi: Option<Decimal> = None;
    let mut top = view.quantity.max(Decimal::ZERO);
    let mut extend = |pts: &[DepthPoint]| {
        for p in pts {
            lo = Some(lo.map_or(p.price, |l| l.min(p.price)));
            hi = Some(hi.map_or(p.price, |h| h.max(p.price)));
            top = top.max(p.cum_qty);
        }
    };
    for (i, v) in view.venues.iter().enumerate() {
        if v.depth.is_empty() {
            continue;
        }
        extend(&v.depth);
        let style = if v.merged {
            Style::new().fg(theme::venue_color(i))
        } else {
            theme::DIM
        };
        series.push((v.name.clone(), staircase(&v.depth), style));
    }
    if !view.merged.depth.is_empty() {
        extend(&view.merged.depth);
        series.push((
            "merged".to_owned(),
            staircase(&view.merged.depth),
            theme::MERGED,
        ));
    }
    let (Some(lo), Some(hi)) = (lo, hi) else {
        let inner = Panel::inner(area);
        block.render(area, buf);
        ratatui::widgets::Paragraph::new(Span::styled("no depth to draw", theme::DIM))
            .render(inner, buf);
        return;
    };
    let (lo, hi) = if lo == hi {
        (
            lo.checked_sub(Decimal::ONE).unwrap_or(lo),
            hi.checked_add(Decimal::ONE).unwrap_or(hi),
        )
    } else {
        (lo, hi)
    };
    let x_bounds = [lo.to_f64().unwrap_or(0.0), hi.to_f64().unwrap_or(1.0)];
    let top = if top.is_zero() { Decimal::ONE } else { top };
    let y_max = top.to_f64().unwrap_or(1.0);

    // The walk's reach: the order size across, the merged worst price up.
    let size_y = view.quantity.to_f64().unwrap_or(0.0);
    series.push((
        format!("size {}", qty(view.quantity)),
        vec![(x_bounds[0], size_y), (x_bounds[1], size_y)],
        theme::WARN,
    ));
    if let Some(worst) = view.merged.walk.worst() {
        let x = worst.to_f64().unwrap_or(0.0);
        series.push((
            format!("reach {}", fixed(worst, price_dp(view))),
            vec![(x, 0.0), (x, y_max)],
            theme::WARN,
        ));
    }

    let dp = price_dp(view);
    let mid = lo + (hi - lo) / Decimal::TWO;
    // The legend is the bottom title (one line, any height).
    let mut legend = vec![Span::raw(" ")];
    for (name, _, style) in &series {
        legend.push(Span::styled("━ ", *style));
        legend.push(Span::styled(format!("{name}  "), theme::LABEL));
    }
    let block = block.title_bottom(Line::from(legend));
    let inner = Panel::inner(area);
    block.render(area, buf);
    plot(
        &series,
        Axes {
            x_bounds,
            y_max,
            x_labels: [fixed(lo, dp), fixed(mid, dp), fixed(hi, dp)],
            y_labels: ["0".to_owned(), qty_short(top, 2)],
        },
        inner,
        buf,
    );
}

/// Bounds and labels of the plot.
struct Axes {
    x_bounds: [f64; 2],
    y_max: f64,
    /// Low, middle, high price.
    x_labels: [String; 3],
    /// Bottom (0) and top of the quantity axis.
    y_labels: [String; 2],
}

/// Axes, labels and every series as braille dots ([`Braille`]).
///
/// ratatui's `Chart` starts a new canvas layer (a fresh grid plus a full pass over the area) for
/// every dataset; with five or six series that was most of a frame's cost. Even one `Canvas` layer
/// was still a sixth of a live dashboard's UI time; [`Braille`] draws the same dots for less.
fn plot(series: &[Series], axes: Axes, area: Rect, buf: &mut Buffer) {
    let y_w = axes
        .y_labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1);
    let y_w = u16::try_from(y_w).unwrap_or(u16::MAX).saturating_add(1);
    // Room for the y labels + axis, and for the x axis + labels below.
    if area.width <= y_w.saturating_add(4) || area.height < 4 {
        return;
    }
    let canvas = Rect::new(
        area.x + y_w + 1,
        area.y,
        area.width - y_w - 1,
        area.height - 2,
    );
    let axis_y = area.y + area.height - 2;
    let labels_y = axis_y + 1;
    // Axes.
    for y in area.y..axis_y {
        buf[(area.x + y_w, y)]
            .set_symbol(symbols::line::VERTICAL)
            .set_style(theme::DIM);
    }
    buf[(area.x + y_w, axis_y)]
        .set_symbol(symbols::line::BOTTOM_LEFT)
        .set_style(theme::DIM);
    for x in canvas.x..canvas.right() {
        buf[(x, axis_y)]
            .set_symbol(symbols::line::HORIZONTAL)
            .set_style(theme::DIM);
    }
    // Labels: quantity top and bottom on the left, prices under the axis (left, centre, right).
    let [bottom, top] = &axes.y_labels;
    buf.set_stringn(area.x, area.y, top, usize::from(y_w), theme::DIM);
    buf.set_stringn(
        area.x,
        axis_y.saturating_sub(1),
        bottom,
        usize::from(y_w),
        theme::DIM,
    );
    let [lo, mid, hi] = &axes.x_labels;
    let width = |s: &str| u16::try_from(s.chars().count()).unwrap_or(u16::MAX);
    let hi_x = canvas.right().saturating_sub(width(hi)).max(canvas.x);
    let mid_x = (canvas.x + canvas.width / 2).saturating_sub(width(mid) / 2);
    let lo_end = canvas.x.saturating_add(width(lo));
    buf.set_stringn(
        canvas.x,
        labels_y,
        lo,
        usize::from(canvas.width),
        theme::DIM,
    );
    if mid_x > lo_end && mid_x.saturating_add(width(mid)) < hi_x {
        buf.set_stringn(mid_x, labels_y, mid, usize::from(width(mid)), theme::DIM);
    }
    if hi_x > lo_end {
        buf.set_stringn(hi_x, labels_y, hi, usize::from(width(hi)), theme::DIM);
    }
    let mut dots = Braille::new(canvas, axes.x_bounds, [0.0, axes.y_max]);
    for (_, points, style) in series {
        let color = style.fg.unwrap_or(Color::Reset);
        for w in points.windows(2) {
            if let [(x1, y1), (x2, y2)] = w {
                dots.line((*x1, *y1), (*x2, *y2), color);
            }
        }
    }
    dots.render(buf);
}

/// Braille dots drawn straight into the buffer, placed as ratatui's `Canvas` places them with
/// `Marker::Braille` (a point rounds to the nearest of a cell's 2×4 dots; where lines cross, the last
/// one drawn colours the cell). The `Canvas` also builds a layer of every cell each frame and passes
/// over all of them, blank or not; this touches only the cells that have a dot.
struct Braille {
    area: Rect,
    x_bounds: [f64; 2],
    y_bounds: [f64; 2],
    /// Per cell, row by row: the dot pattern (bit `x % 2 + 2 * (y % 4)`) and its colour.
    cells: Vec<(u8, Color)>,
}

impl Braille {
    fn new(area: Rect, x_bounds: [f64; 2], y_bounds: [f64; 2]) -> Self {
        Self {
            area,
            x_bounds,
            y_bounds,
            cells: vec![(0, Color::Reset); usize::from(area.width) * usize::from(area.height)],
        }
    }

    /// The dot nearest to a point inside the bounds (`Canvas`'s `Painter::get_point`).
    fn dot(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let [left, right] = self.x_bounds;
        let [bottom, top] = self.y_bounds;
        let (width, height) = (right - left, top - bottom);
        if !(left..=right).contains(&x)
            || !(bottom..=top).contains(&y)
            || width <= 0.0
            || height <= 0.0
        {
            return None;
        }
        let cols = f64::from(self.area.width) * 2.0 - 1.0;
        let rows = f64::from(self.area.height) * 4.0 - 1.0;
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "both are in 0..=cols / 0..=rows: the point is inside the bounds"
        )]
        let dot = (
            ((x - left) * cols / width).round() as usize,
            ((top - y) * rows / height).round() as usize,
        );
        Some(dot)
    }

    fn paint(&mut self, (x, y): (usize, usize), color: Color) {
        let index = (y / 4) * usize::from(self.area.width) + x / 2;
        if let Some(cell) = self.cells.get_mut(index) {
            cell.0 |= 1 << (x % 2 + 2 * (y % 4));
            cell.1 = color;
        }
    }

    /// A line from `a` to `b`. The chart's lines are horizontal or vertical: one is cut to the bounds
    /// (as `Canvas` clips it) and dropped if it lies outside them; a slanted line is drawn only when
    /// both ends are inside.
    fn line(&mut self, a: (f64, f64), b: (f64, f64), color: Color) {
        let clamp = |v: f64, [lo, hi]: [f64; 2]| v.max(lo).min(hi);
        let (mut a, mut b) = (a, b);
        if a.1 == b.1 {
            (a.0, b.0) = (clamp(a.0, self.x_bounds), clamp(b.0, self.x_bounds));
        } else if a.0 == b.0 {
            (a.1, b.1) = (clamp(a.1, self.y_bounds), clamp(b.1, self.y_bounds));
        }
        let (Some(from), Some(to)) = (self.dot(a.0, a.1), self.dot(b.0, b.1)) else {
            return;
        };
        // Bresenham over the dots (a horizontal or vertical line is every dot between its ends).
        let as_i = |v: usize| isize::try_from(v).unwrap_or(isize::MAX);
        let (mut x, mut y) = (as_i(from.0), as_i(from.1));
        let (x1, y1) = (as_i(to.0), as_i(to.1));
        let (dx, dy) = ((x1 - x).abs(), -(y1 - y).abs());
        let (sx, sy) = (if x < x1 { 1 } else { -1 }, if y < y1 { 1 } else { -1 });
        let mut err = dx + dy;
        loop {
            if let (Ok(px), Ok(py)) = (usize::try_from(x), usize::try_from(y)) {
                self.paint((px, py), color);
            }
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    fn render(&self, buf: &mut Buffer) {
        let width = usize::from(self.area.width.max(1));
        for (i, &(pattern, color)) in self.cells.iter().enumerate() {
            if pattern == 0 {
                continue;
            }
            let (Ok(col), Ok(row)) = (u16::try_from(i % width), u16::try_from(i / width)) else {
                continue;
            };
            buf[(self.area.x + col, self.area.y + row)]
                .set_char(BRAILLE[usize::from(pattern)])
                .set_fg(color);
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::symbols::Marker;
    use ratatui::widgets::canvas::{Canvas, Line as CanvasLine};

    use super::*;

    #[test]
    fn braille_dots_are_the_ones_ratatuis_canvas_draws() {
        // Two staircases (one crossing the other), the size line across and the reach line up, a
        // line running past the right edge (cut) and one above the top (dropped).
        let stair = |start: f64, step: f64, qty: f64| {
            let points: Vec<DepthPoint> = (0..12u32)
                .map(|i| DepthPoint {
                    price: Decimal::try_from(start + step * f64::from(i)).expect("price"),
                    cum_qty: Decimal::try_from(qty * f64::from(i + 1)).expect("qty"),
                })
                .collect();
            staircase(&points)
        };
        let lines: Vec<(Vec<(f64, f64)>, Color)> = vec![
            (stair(100.0, 3.25, 2.5), Color::Cyan),
            (stair(101.5, 2.75, 2.0), Color::Magenta),
            (vec![(100.0, 15.0), (137.5, 15.0)], Color::Yellow),
            (vec![(121.25, 0.0), (121.25, 30.0)], Color::Yellow),
            (vec![(130.0, 7.0), (150.0, 7.0)], Color::Green),
            (vec![(100.0, 31.0), (137.5, 31.0)], Color::Red),
        ];
        let (x_bounds, y_bounds) = ([100.0, 137.5], [0.0, 30.0]);
        for area in [Rect::new(0, 0, 37, 11), Rect::new(3, 2, 120, 30)] {
            let mut ours = Buffer::empty(Rect::new(0, 0, area.right(), area.bottom()));
            let mut theirs = ours.clone();
            let mut dots = Braille::new(area, x_bounds, y_bounds);
            for (points, color) in &lines {
                for w in points.windows(2) {
                    dots.line(w[0], w[1], *color);
                }
            }
            dots.render(&mut ours);
            Canvas::default()
                .marker(Marker::Braille)
                .x_bounds(x_bounds)
                .y_bounds(y_bounds)
                .paint(|ctx| {
                    for (points, color) in &lines {
                        for w in points.windows(2) {
                            ctx.draw(&CanvasLine::new(w[0].0, w[0].1, w[1].0, w[1].1, *color));
                        }
                    }
                })
                .render(area, &mut theirs);
            assert_eq!(ours, theirs, "{area:?}");
        }
    }
}
