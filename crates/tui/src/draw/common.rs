//! Small drawing helpers every pane uses, so borders, bars and truncation look the same everywhere.

use crate::pane::Pane;
use crate::theme::{Status, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Widget};

/// The border and title of a pane; the focused one gets a thick border and accent colour.
pub fn pane_block<'a>(p: Pane, focused: bool, theme: &Theme, extra: Option<Span<'a>>) -> Block<'a> {
    let border = if focused {
        Style::default()
            .fg(theme.border_focused)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default().fg(theme.border)
    };
    let title_style = if focused {
        Style::default().fg(theme.border_focused).add_modifier(
            Modifier::BOLD
                | if theme.monochrome {
                    Modifier::REVERSED
                } else {
                    Modifier::empty()
                },
        )
    } else {
        Style::default()
            .fg(theme.title)
            .add_modifier(Modifier::BOLD)
    };
    let mut title = vec![Span::styled(format!(" {} ", p.title()), title_style)];
    if let Some(e) = extra {
        title.push(e);
        title.push(Span::raw(" "));
    }
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(border)
        .title(Line::from(title))
        .style(theme.base())
}

/// A horizontal bar `██████░░░░` of `width` cells for a fraction in [0,1].
pub fn bar(frac: f64, width: usize) -> String {
    let f = if frac.is_finite() {
        frac.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let full = (f * width as f64).round() as usize;
    let mut s = "█".repeat(full.min(width));
    s.push_str(&"░".repeat(width - full.min(width)));
    s
}

/// Cut `s` to `w` display cells, ending in `…` when cut.
pub fn truncate(s: &str, w: usize) -> String {
    if w == 0 {
        return String::new();
    }
    let n = s.chars().count();
    if n <= w {
        return s.to_string();
    }
    let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `1h02m`, `3m07s`, `12s`: ages at a glance.
pub fn age(ms: i64) -> String {
    let s = (ms.max(0) / 1000) as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// A percentage with sensible precision: `13.7%`, `0.31%`.
pub fn pct(x: f64) -> String {
    let p = x * 100.0;
    if !p.is_finite() {
        "—".into()
    } else if p.abs() >= 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.2}%")
    }
}

/// A confidence in [0, 1] as a percentage with `decimals` digits, cut rather than rounded: a
/// candidate at 0.995 reads `99%` in the pane and `99.5%` in its details, never `100%` in one
/// and `99.5%` in the other. Only a confidence of 1 reads `100%`.
pub fn confidence_pct(c: f64, decimals: usize) -> String {
    if !c.is_finite() {
        return "—".into();
    }
    let scale = 10f64.powi(decimals as i32);
    // The small epsilon keeps 0.29 (28.999… in binary) from being cut to 28%.
    let cut = ((c.clamp(0.0, 1.0) * 100.0 * scale) + 1e-9).floor() / scale;
    format!("{cut:.decimals$}%")
}

/// A muted, centred message for panes with nothing to show yet.
pub fn placeholder(buf: &mut Buffer, area: Rect, msg: &str, theme: &Theme) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let y = area.y + area.height.saturating_sub(1) / 2;
    Paragraph::new(Line::from(Span::styled(
        msg.to_string(),
        theme.status(Status::Muted),
    )))
    .alignment(Alignment::Center)
    .render(Rect::new(area.x, y, area.width, 1), buf);
}

/// Greedy word wrap to `width` columns (words longer than a line are cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let wl = word.chars().count();
        let ll = line.chars().count();
        if ll > 0 && ll + 1 + wl > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&truncate(word, width));
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// Pass/fail mark that survives NO_COLOR.
pub fn mark(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

/// Keep the selected row visible: first row to draw for `sel` in a window of `height` rows.
pub fn scroll_for(sel: usize, height: usize, total: usize) -> usize {
    if height == 0 || total <= height {
        return 0;
    }
    let max_first = total - height;
    sel.saturating_sub(height - 1).min(max_first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(bar(0.5, 4), "██░░");
        assert_eq!(bar(f64::NAN, 3), "░░░");
        assert_eq!(bar(2.0, 2), "██");
        assert_eq!(truncate("payment-service", 8), "payment…");
        assert_eq!(truncate("api", 8), "api");
        assert_eq!(age(83_000), "1m23s");
        assert_eq!(age(3_723_000), "1h02m");
        assert_eq!(pct(0.137), "13.70%".replace("13.70", "13.7"));
        assert_eq!(pct(0.0031), "0.31%");
        assert_eq!(confidence_pct(0.995, 0), "99%");
        assert_eq!(confidence_pct(0.995, 1), "99.5%");
        assert_eq!(confidence_pct(0.9999, 1), "99.9%");
        assert_eq!(confidence_pct(1.0, 0), "100%");
        assert_eq!(confidence_pct(0.29, 0), "29%");
        assert_eq!(confidence_pct(0.0, 1), "0.0%");
        assert_eq!(wrap("a bb ccc dddd", 6), vec!["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("", 6), vec![""]);
        assert_eq!(scroll_for(0, 5, 20), 0);
        assert_eq!(scroll_for(9, 5, 20), 5);
        assert_eq!(scroll_for(19, 5, 20), 15);
    }
}
