//! The depth picture: cumulative quantity against price on the walked side, one staircase per venue
//! and one for the merged book, with the order size (horizontal) and the merged walk's reach (worst
//! price, vertical) marked. `f64` is used here only for the chart's coordinates.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Widget};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::format::{base_currency, fixed, price_dp, qty, qty_short};
use super::theme;
use crate::market::Side;
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

    let datasets = series
        .iter()
        .map(|(name, pts, style)| {
            Dataset::default()
                .name(name.clone())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(*style)
                .data(pts)
        })
        .collect();
    let dp = price_dp(view);
    let mid = lo + (hi - lo) / Decimal::TWO;
    let x_axis = Axis::default().bounds(x_bounds).style(theme::DIM).labels([
        fixed(lo, dp),
        fixed(mid, dp),
        fixed(hi, dp),
    ]);
    let y_axis = Axis::default()
        .bounds([0.0, y_max])
        .style(theme::DIM)
        .labels(["0".to_owned(), qty_short(top, 2)]);
    // The legend is the bottom title (one line, any height), not ratatui's boxed legend.
    let mut legend = vec![Span::raw(" ")];
    for (name, _, style) in &series {
        legend.push(Span::styled("━ ", *style));
        legend.push(Span::styled(format!("{name}  "), theme::LABEL));
    }
    Chart::new(datasets)
        .block(block.title_bottom(Line::from(legend)))
        .x_axis(x_axis)
        .y_axis(y_axis)
        .legend_position(None)
        .render(area, buf);
}
