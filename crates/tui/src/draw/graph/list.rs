//! The fallback list, grouped by layer, for panes too small for any layered drawing: root
//! cause, unhealthy and blast-radius services first.

use super::*;

/// Compact list grouped by layer (indented by depth); when it does not fit, root cause,
/// unhealthy, blast radius and degraded services come first, the selection is kept visible and a
/// last line counts the rest.
pub(super) fn draw_list(buf: &mut Buffer, area: Rect, model: &Model, theme: &Theme) {
    let order = real_order(&model.layered);
    let rows = usize::from(area.height);
    let total = order.len();
    let fits = total <= rows;
    let shown: Vec<usize> = if fits {
        order.clone()
    } else {
        pick_priority(model, &order, rows.saturating_sub(1).max(1))
    };
    let depth = |i: usize| -> u16 {
        if fits {
            u16::try_from(model.layered.layer.get(i).copied().unwrap_or(0).min(4)).unwrap_or(0)
        } else {
            0
        }
    };
    let name_max = shown
        .iter()
        .filter_map(|&i| model.services.get(i))
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0);
    let max_indent = shown.iter().map(|&i| depth(i)).max().unwrap_or(0);
    let want = usize::from(max_indent) + 2 + name_max + 2 + 6;
    let right = area.x + u16::try_from(want).unwrap_or(u16::MAX).min(area.width);
    for (row, &i) in shown.iter().enumerate() {
        let (Some(s), Some(m)) = (model.services.get(i), model.marks.get(i)) else {
            continue;
        };
        let y = area
            .y
            .saturating_add(u16::try_from(row).unwrap_or(u16::MAX));
        if y >= area.y.saturating_add(area.height) {
            break;
        }
        let at = ListRow {
            y,
            indent: depth(i),
            right,
        };
        list_line(buf, area, at, s, m, theme);
    }
    if !fits && rows > 1 {
        let more = total - shown.len();
        let y = area
            .y
            .saturating_add(u16::try_from(shown.len()).unwrap_or(u16::MAX));
        put_str(
            buf,
            area,
            area.x,
            y,
            &format!("… +{more} more"),
            area.width,
            theme.status(Status::Muted),
        );
    } else if fits && total < rows && area.height >= 6 {
        draw_legend(buf, area, area.y + area.height - 1, model, theme);
    }
}

/// The `n` services most worth seeing, in the order they are listed.
pub(super) fn pick_priority(model: &Model, order: &[usize], n: usize) -> Vec<usize> {
    let rank = |i: usize| -> (u8, i64) {
        let Some(m) = model.marks.get(i) else {
            return (9, 0);
        };
        let err = model.services.get(i).map_or(0.0, |s| s.error_rate);
        let class = if m.root {
            0
        } else if m.health == Status::Bad {
            1
        } else if m.blast {
            2
        } else if m.health == Status::Warn {
            3
        } else {
            4
        };
        // Worse error rates first within a class; NaN counts as zero.
        let e = if err.is_finite() {
            (err * 1e6) as i64
        } else {
            0
        };
        (class, -e)
    };
    let mut ranked: Vec<(usize, usize)> = order.iter().copied().enumerate().collect();
    ranked.sort_by_key(|&(pos, i)| (rank(i), pos));
    let mut shown: Vec<usize> = ranked.iter().take(n).map(|&(_, i)| i).collect();
    if let Some(sel) = order
        .iter()
        .copied()
        .find(|&i| model.marks.get(i).is_some_and(|m| m.selected))
    {
        if !shown.contains(&sel) {
            if let Some(last) = shown.last_mut() {
                *last = sel;
            }
        }
    }
    shown
}

/// Where a list line goes: its row, its indent, and the column its rate ends at.
pub(super) struct ListRow {
    pub(super) y: u16,
    pub(super) indent: u16,
    pub(super) right: u16,
}

/// `● name  13.7%`, marker and rate in health colours, selection across the line.
pub(super) fn list_line(
    buf: &mut Buffer,
    area: Rect,
    row: ListRow,
    s: &ServiceHealth,
    m: &Marks,
    theme: &Theme,
) {
    let ListRow { y, indent, right } = row;
    let (glyph, gstyle) = if m.root {
        ("◆", root_style(theme))
    } else if m.blast {
        ("▲", blast_style(theme))
    } else {
        ("●", theme.status(m.health))
    };
    let end = area.x.saturating_add(area.width);
    if m.selected {
        buf.set_style(Rect::new(area.x, y, area.width, 1), theme.selected());
    }
    let sel = |st: Style| {
        if m.selected {
            st.patch(theme.selected())
        } else {
            st
        }
    };
    let mut x = area.x + indent.min(area.width);
    x += put_str(buf, area, x, y, glyph, end.saturating_sub(x), sel(gstyle));
    x = x.saturating_add(1);
    let rate = rate_text(s.error_rate);
    let rate_w = u16::try_from(rate.chars().count()).unwrap_or(u16::MAX);
    let rate_x = right.saturating_sub(rate_w);
    let show_rate = rate_x > x.saturating_add(3);
    let name_room = if show_rate {
        rate_x - 1 - x.min(rate_x - 1)
    } else {
        end.saturating_sub(x)
    };
    let name = label(&s.name, usize::from(name_room), false);
    put_str(
        buf,
        area,
        x,
        y,
        &name,
        name_room,
        sel(status_text(theme, m.health)),
    );
    if show_rate {
        put_str(
            buf,
            area,
            rate_x,
            y,
            &rate,
            rate_w,
            sel(theme.status(m.health)),
        );
    }
}
