//! The depth picture: cumulative quantity against price on the walked side, one staircase per venue
//! and one for the merged book, with the order size (horizontal) and the merged walk's reach (worst
//! price, vertical) marked. `f64` is used here only for the chart's coordinates.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::style::Style;
use ratatui::symbols;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as CanvasLine};
use ratatui::widgets::{Block, Widget};
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
    let block = Block::bordered()
        .border_style(theme::LABEL)
        .title(Line::from(vec![
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
        let inner = block.inner(area);
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
    let inner = block.inner(area);
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

/// Axes, labels and every series on ONE braille canvas layer.
///
/// ratatui's `Chart` starts a new canvas layer (a fresh grid plus a full pass over the area) for
/// every dataset; with five or six series that was most of a frame's cost. Drawing all lines into
/// one layer (where lines cross, the last one drawn colours the cell) keeps a 200×60 frame cheap.
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
    Canvas::default()
        .marker(Marker::Braille)
        .x_bounds(axes.x_bounds)
        .y_bounds([0.0, axes.y_max])
        .paint(|ctx| {
            for (_, points, style) in series {
                let color = style.fg.unwrap_or(Color::Reset);
                for w in points.windows(2) {
                    if let [(x1, y1), (x2, y2)] = w {
                        ctx.draw(&CanvasLine {
                            x1: *x1,
                            y1: *y1,
                            x2: *x2,
                            y2: *y2,
                            color,
                        });
                    }
                }
            }
        })
        .render(canvas, buf);
}
