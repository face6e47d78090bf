//! Text and style helpers: names fitted to a box, rates and latencies as short text, and the
//! styles of frames and edges per theme.

use super::*;

/// `s` cut to `max` characters, ending in `…` when cut.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

/// Generic suffixes that say nothing about which service it is; dropped before cutting a name.
pub(super) const NOISE_SUFFIXES: [&str; 4] = ["-service", "_service", "-svc", "_svc"];

/// A service name in `max` columns: whole if it fits, else without a generic `-service` suffix,
/// else cut with `…` — in the middle when `middle`, so `postgres_primary` and `postgres_replica`
/// stay apart when both are cut.
pub(super) fn label(name: &str, max: usize, middle: bool) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    let core = NOISE_SUFFIXES
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .filter(|c| !c.is_empty())
        .unwrap_or(name);
    let chars: Vec<char> = core.chars().collect();
    if chars.len() <= max {
        return core.to_string();
    }
    if middle && max >= 3 {
        let head = max / 2;
        let tail = max - 1 - head;
        let mut t: String = chars[..head].iter().collect();
        t.push('…');
        t.extend(&chars[chars.len() - tail..]);
        t
    } else {
        truncate(core, max)
    }
}

/// Labels for (node, name, width) triples; labels that would come out the same are cut in the
/// middle instead, so every box stays identifiable.
pub(super) fn distinct_labels(items: &[(usize, &str, usize)]) -> HashMap<usize, String> {
    let mut count: HashMap<String, usize> = HashMap::new();
    let plain: Vec<String> = items.iter().map(|&(_, n, w)| label(n, w, false)).collect();
    for l in &plain {
        *count.entry(l.clone()).or_insert(0) += 1;
    }
    items
        .iter()
        .zip(plain)
        .map(|(&(v, n, w), l)| {
            if count.get(&l).copied().unwrap_or(0) > 1 {
                (v, label(n, w, true))
            } else {
                (v, l)
            }
        })
        .collect()
}

/// Error rate as a percentage with one decimal (`13.7%`).
pub(super) fn rate_text(r: f64) -> String {
    if r.is_finite() {
        format!("{:.1}%", r * 100.0)
    } else {
        "?%".to_string()
    }
}

/// p99 latency (`120ms`, `1.2s`).
pub(super) fn latency_text(ms: f64) -> Option<String> {
    if !ms.is_finite() || ms <= 0.0 {
        None
    } else if ms >= 1000.0 {
        Some(format!("{:.1}s", ms / 1000.0))
    } else {
        Some(format!("{ms:.0}ms"))
    }
}

pub(super) fn chars(s: &str) -> i32 {
    i32::try_from(s.chars().count()).unwrap_or(i32::MAX)
}

/// Style of the health status, for text.
pub(super) fn status_text(theme: &Theme, s: Status) -> Style {
    match s {
        Status::Ok => theme.base(),
        _ => theme.status(s).add_modifier(Modifier::BOLD),
    }
}

pub(super) fn root_style(theme: &Theme) -> Style {
    theme.status(Status::Bad).add_modifier(Modifier::BOLD)
}

pub(super) fn blast_style(theme: &Theme) -> Style {
    theme.status(Status::Warn).add_modifier(Modifier::BOLD)
}

/// Style of a line by severity; bold stands in for colour in monochrome.
pub(super) fn edge_style(theme: &Theme, sev: u8) -> Style {
    let s = match sev {
        0 => return Style::default().fg(theme.border),
        1 => Style::default().fg(theme.warn),
        _ => Style::default().fg(theme.bad),
    };
    if theme.monochrome || sev >= 2 {
        s.add_modifier(Modifier::BOLD)
    } else {
        s
    }
}

/// Write `s` at (x, y) inside `area`, at most `max` columns; returns columns written.
pub(super) fn put_str(
    buf: &mut Buffer,
    area: Rect,
    x: u16,
    y: u16,
    s: &str,
    max: u16,
    style: Style,
) -> u16 {
    let mut n = 0;
    for ch in s.chars() {
        if n >= max {
            break;
        }
        let p = Position::new(x.saturating_add(n), y);
        if !area.contains(p) {
            break;
        }
        if let Some(c) = buf.cell_mut(p) {
            c.set_char(ch).set_style(style);
        }
        n += 1;
    }
    n
}

/// "No topology yet": a centred muted line.
pub(super) fn draw_waiting(buf: &mut Buffer, area: Rect, theme: &Theme) {
    let msg = truncate("waiting for the first incident…", usize::from(area.width));
    let w = u16::try_from(msg.chars().count()).unwrap_or(area.width);
    let x = area.x + (area.width - w.min(area.width)) / 2;
    let y = area.y + area.height / 2;
    put_str(
        buf,
        area,
        x,
        y,
        &msg,
        area.width,
        theme.status(Status::Muted),
    );
}

/// One-line legend; items that do not fit are dropped whole.
pub(super) fn draw_legend(buf: &mut Buffer, area: Rect, y: u16, model: &Model, theme: &Theme) {
    let mono = theme.monochrome;
    let label = |s: Status| {
        if mono {
            theme.status(s)
        } else {
            theme.status(Status::Muted)
        }
    };
    let mut items: Vec<(&str, Style, String, Style)> = Vec::new();
    if model.marks.iter().any(|m| m.root) {
        items.push((
            "◆",
            root_style(theme),
            " root cause".into(),
            label(Status::Muted),
        ));
    }
    if model.blast_count > 0 {
        let text = format!(" blast radius ({})", model.blast_count);
        items.push(("▲", blast_style(theme), text, label(Status::Muted)));
    }
    items.push((
        "■",
        theme.status(Status::Bad),
        " unhealthy".into(),
        label(Status::Bad),
    ));
    items.push((
        "■",
        theme.status(Status::Warn),
        " degraded".into(),
        label(Status::Warn),
    ));
    items.push((
        "■",
        theme.status(Status::Ok),
        " healthy".into(),
        label(Status::Ok),
    ));
    let mut x = area.x;
    let end = area.x.saturating_add(area.width);
    for (i, (glyph, gs, text, ts)) in items.iter().enumerate() {
        let sep = if i == 0 { 0 } else { 2 };
        let need = sep + 1 + u16::try_from(text.chars().count()).unwrap_or(u16::MAX);
        if x.saturating_add(need) > end {
            break;
        }
        x += sep;
        x += put_str(buf, area, x, y, glyph, 1, *gs);
        x += put_str(buf, area, x, y, text, end - x, *ts);
    }
}
