//! Service boxes: frames (plain, heavy for the root cause, dashed for its blast radius), the
//! name row and the error rate.

use super::*;

/// Where a box goes and which border cells carry line joints.
pub(super) struct BoxSpec {
    pub(super) x: i32,
    pub(super) y: i32,
    pub(super) w: i32,
    pub(super) h: i32,
    pub(super) tee_out: bool,
    pub(super) tee_in: bool,
    /// The name as it fits (see [`label`]).
    pub(super) label: String,
}

/// Frame glyphs: corners, horizontal, vertical, right-border joint, left-border joint.
pub(super) struct Frame {
    pub(super) tl: char,
    pub(super) tr: char,
    pub(super) bl: char,
    pub(super) br: char,
    pub(super) hz: char,
    pub(super) vt: char,
    pub(super) tee_out: char,
    pub(super) tee_in: char,
}

pub(super) const PLAIN: Frame = Frame {
    tl: '┌',
    tr: '┐',
    bl: '└',
    br: '┘',
    hz: '─',
    vt: '│',
    tee_out: '├',
    tee_in: '┤',
};
pub(super) const HEAVY: Frame = Frame {
    tl: '┏',
    tr: '┓',
    bl: '┗',
    br: '┛',
    hz: '━',
    vt: '┃',
    tee_out: '┠',
    tee_in: '┨',
};
pub(super) const DASHED: Frame = Frame {
    tl: '┌',
    tr: '┐',
    bl: '└',
    br: '┘',
    hz: '╌',
    vt: '┆',
    tee_out: '├',
    tee_in: '┤',
};

/// One service box: frame in its health colour (heavy for the root cause, dashed for the blast
/// radius), marker in the top border, name, and the error rate (and p99 when there is room).
pub(super) fn draw_box(c: &mut Canvas, b: &BoxSpec, s: &ServiceHealth, m: &Marks, theme: &Theme) {
    let has_top = b.h >= 3;
    let name_y = if has_top { b.y + 1 } else { b.y };
    draw_frame(c, b, m, theme, has_top, name_y);
    draw_name_row(c, b, m, theme, has_top, name_y);
    draw_rate(c, b, s, m, theme);
}

/// The frame, with joints where lines leave (right) or arrive without an arrowhead (left).
pub(super) fn draw_frame(
    c: &mut Canvas,
    b: &BoxSpec,
    m: &Marks,
    theme: &Theme,
    has_top: bool,
    name_y: i32,
) {
    let (frame, style) = if m.root {
        (&HEAVY, root_style(theme))
    } else if m.blast {
        (&DASHED, theme.status(m.health))
    } else {
        (&PLAIN, theme.status(m.health))
    };
    // Underlined box-drawing characters look broken; bold is enough in monochrome.
    let style = TextStyle::Fixed(style.remove_modifier(Modifier::UNDERLINED));
    let (x0, x1) = (b.x, b.x + b.w - 1);
    let bottom = b.y + b.h - 1;
    for y in b.y..=bottom {
        let edge_row = y == bottom || (has_top && y == b.y);
        for x in x0..=x1 {
            let ch = if edge_row {
                match (x == x0, x == x1, y == bottom) {
                    (true, _, false) => frame.tl,
                    (_, true, false) => frame.tr,
                    (true, _, true) => frame.bl,
                    (_, true, true) => frame.br,
                    _ => frame.hz,
                }
            } else if x == x0 {
                if b.tee_in && y == name_y {
                    frame.tee_in
                } else {
                    frame.vt
                }
            } else if x == x1 {
                if b.tee_out && y == name_y {
                    frame.tee_out
                } else {
                    frame.vt
                }
            } else {
                ' '
            };
            c.text(x, y, ch, style);
        }
    }
}

/// Marker (in the top border, or before the name in two-row boxes) and the name; the selection
/// highlights the whole name row.
pub(super) fn draw_name_row(
    c: &mut Canvas,
    b: &BoxSpec,
    m: &Marks,
    theme: &Theme,
    has_top: bool,
    name_y: i32,
) {
    let (x0, x1) = (b.x, b.x + b.w - 1);
    let sel = |st: Style| {
        if m.selected {
            st.patch(theme.selected())
        } else {
            st
        }
    };
    if m.selected {
        for x in x0 + 1..x1 {
            c.text(x, name_y, ' ', TextStyle::Fixed(theme.selected()));
        }
    }
    let mut name_x = x0 + 1;
    if let Some((text, style)) = marker_text(m, b.w - 2, theme) {
        if has_top {
            c.str(x0 + 1, b.y, text, b.w - 2, TextStyle::Fixed(style));
        } else {
            c.str(name_x, name_y, text, 1, TextStyle::Fixed(sel(style)));
            name_x += 1;
        }
    }
    let style = TextStyle::Fixed(sel(status_text(theme, m.health)));
    c.str(name_x, name_y, &b.label, x1 - name_x, style);
}

/// Error rate: its own row in four-row boxes (with p99 when it fits), else inside the bottom
/// border.
pub(super) fn draw_rate(c: &mut Canvas, b: &BoxSpec, s: &ServiceHealth, m: &Marks, theme: &Theme) {
    let (x0, x1) = (b.x, b.x + b.w - 1);
    let inner = b.w - 2;
    let rate = rate_text(s.error_rate);
    let style = TextStyle::Fixed(theme.status(m.health));
    if b.h >= 4 {
        let y = b.y + 2;
        c.str(x0 + 1, y, &rate, inner, style);
        if let Some(lat) = latency_text(s.latency_p99_ms) {
            let lat = format!("p99 {lat}");
            if chars(&rate) + 1 + chars(&lat) <= inner {
                let muted = TextStyle::Fixed(theme.status(Status::Muted));
                c.str(x1 - chars(&lat), y, &lat, inner, muted);
            }
        }
    } else if chars(&rate) < inner {
        c.str(x1 - 1 - chars(&rate), b.y + b.h - 1, &rate, inner, style);
    }
}

/// `◆ ROOT` / `▲` and their style, if the service is marked.
pub(super) fn marker_text(m: &Marks, inner: i32, theme: &Theme) -> Option<(&'static str, Style)> {
    if m.root {
        let text = if inner >= 8 { "◆ ROOT" } else { "◆" };
        Some((text, root_style(theme)))
    } else if m.blast {
        Some(("▲", blast_style(theme)))
    } else {
        None
    }
}
