//! The canvas: lines kept as direction bits per cell, so crossings and joints get the right
//! box-drawing glyphs, then resolved into the buffer.

use super::*;

pub(super) const LEFT: u8 = 1;
pub(super) const RIGHT: u8 = 2;
pub(super) const UP: u8 = 4;
pub(super) const DOWN: u8 = 8;
pub(super) const HORIZ: u8 = LEFT | RIGHT;
pub(super) const VERT: u8 = UP | DOWN;

/// Style of a text cell, resolved when the canvas is copied to the buffer.
#[derive(Debug, Clone, Copy)]
pub(super) enum TextStyle {
    Fixed(Style),
    Edge(u8),
}

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cell {
    pub(super) bits: u8,
    /// Owner of the first full horizontal / vertical pass through the cell.
    pub(super) h_owner: Option<usize>,
    pub(super) v_owner: Option<usize>,
    /// Some line ends or bends here (so crossing lines really join).
    pub(super) has_end: bool,
    pub(super) h_sev: u8,
    pub(super) v_sev: u8,
    pub(super) text: Option<(char, TextStyle)>,
}

pub(super) struct Canvas {
    pub(super) w: i32,
    pub(super) h: i32,
    pub(super) cells: Vec<Cell>,
}

impl Canvas {
    pub(super) fn new(w: i32, h: i32) -> Self {
        let n = usize::try_from(w.max(0)).unwrap_or(0) * usize::try_from(h.max(0)).unwrap_or(0);
        Canvas {
            w: w.max(0),
            h: h.max(0),
            cells: vec![Cell::default(); n],
        }
    }

    pub(super) fn cell(&mut self, x: i32, y: i32) -> Option<&mut Cell> {
        if x < 0 || y < 0 || x >= self.w || y >= self.h {
            return None;
        }
        let (x, y, w) = (
            usize::try_from(x).ok()?,
            usize::try_from(y).ok()?,
            usize::try_from(self.w).ok()?,
        );
        self.cells.get_mut(y * w + x)
    }

    /// Add line directions `bits` at (x, y) on behalf of `owner`.
    pub(super) fn line(&mut self, x: i32, y: i32, bits: u8, owner: usize, sev: u8) {
        let Some(c) = self.cell(x, y) else {
            return;
        };
        c.bits |= bits;
        if bits == HORIZ {
            c.h_owner.get_or_insert(owner);
            c.h_sev = c.h_sev.max(sev);
        } else if bits == VERT {
            c.v_owner.get_or_insert(owner);
            c.v_sev = c.v_sev.max(sev);
        } else {
            c.has_end = true;
            c.h_sev = c.h_sev.max(sev);
            c.v_sev = c.v_sev.max(sev);
        }
    }

    /// An orthogonal segment (x1, y1)–(x2, y2); an L-shaped pair of points draws nothing.
    pub(super) fn seg(&mut self, x1: i32, y1: i32, x2: i32, y2: i32, owner: usize, sev: u8) {
        if y1 == y2 {
            let (a, b) = (x1.min(x2), x1.max(x2));
            for x in a..=b {
                let bits = if a == b {
                    0
                } else if x == a {
                    RIGHT
                } else if x == b {
                    LEFT
                } else {
                    HORIZ
                };
                if bits != 0 {
                    self.line(x, y1, bits, owner, sev);
                }
            }
        } else if x1 == x2 {
            let (a, b) = (y1.min(y2), y1.max(y2));
            for y in a..=b {
                let bits = if y == a {
                    DOWN
                } else if y == b {
                    UP
                } else {
                    VERT
                };
                self.line(x1, y, bits, owner, sev);
            }
        }
    }

    pub(super) fn text(&mut self, x: i32, y: i32, ch: char, style: TextStyle) {
        if let Some(c) = self.cell(x, y) {
            c.text = Some((ch, style));
        }
    }

    pub(super) fn str(&mut self, x: i32, y: i32, s: &str, max: i32, style: TextStyle) {
        for (i, ch) in s.chars().enumerate() {
            let i = i32::try_from(i).unwrap_or(i32::MAX);
            if i >= max {
                break;
            }
            self.text(x + i, y, ch, style);
        }
    }

    /// Copy onto `buf` at (`clip`.x + `ox`, `clip`.y + `oy`), never outside `clip`.
    pub(super) fn blit(&self, buf: &mut Buffer, clip: Rect, ox: i32, oy: i32, theme: &Theme) {
        let w = usize::try_from(self.w).unwrap_or(0).max(1);
        for (i, cell) in self.cells.iter().enumerate() {
            let Some((ch, style)) = resolve(cell, theme) else {
                continue;
            };
            let (x, y) = (i64::try_from(i % w), i64::try_from(i / w));
            let (Ok(x), Ok(y)) = (x, y) else {
                continue;
            };
            let (Ok(dx), Ok(dy)) = (
                u16::try_from(x + i64::from(ox)),
                u16::try_from(y + i64::from(oy)),
            ) else {
                continue;
            };
            let p = Position::new(clip.x.saturating_add(dx), clip.y.saturating_add(dy));
            if dx >= clip.width || dy >= clip.height || !clip.contains(p) {
                continue;
            }
            if let Some(bc) = buf.cell_mut(p) {
                bc.set_char(ch).set_style(style);
            }
        }
    }
}

/// Glyph and style of a canvas cell: text wins; lines get rounded bends, and a crossing of two
/// unrelated lines shows the vertical one whole so it does not read as a joint.
pub(super) fn resolve(c: &Cell, theme: &Theme) -> Option<(char, Style)> {
    if let Some((ch, st)) = c.text {
        let style = match st {
            TextStyle::Fixed(s) => s,
            TextStyle::Edge(sev) => edge_style(theme, sev),
        };
        return Some((ch, style));
    }
    if c.bits == 0 {
        return None;
    }
    let crossing = c.bits == HORIZ | VERT
        && !c.has_end
        && matches!((c.h_owner, c.v_owner), (Some(a), Some(b)) if a != b);
    if crossing {
        return Some(('│', edge_style(theme, c.v_sev)));
    }
    let ch = match c.bits {
        HORIZ | LEFT | RIGHT => '─',
        VERT | UP | DOWN => '│',
        b if b == DOWN | RIGHT => '╭',
        b if b == DOWN | LEFT => '╮',
        b if b == UP | RIGHT => '╰',
        b if b == UP | LEFT => '╯',
        b if b == VERT | RIGHT => '├',
        b if b == VERT | LEFT => '┤',
        b if b == HORIZ | DOWN => '┬',
        b if b == HORIZ | UP => '┴',
        _ => '┼',
    };
    Some((ch, edge_style(theme, c.h_sev.max(c.v_sev))))
}
