//! The Diff pane's content: a proposed fix (a git-style unified diff) turned into display lines
//! with a line-number gutter, a `+`/`-` marker column and syntax-highlighted code.
//!
//! Parsing is deliberately forgiving: the diff comes from a pipeline stage and may be truncated or
//! hand-edited, so anything that does not look like a diff is shown as plain text, one display
//! line per input line, and nothing here can panic on its input.
//!
//! Syntax state is kept per hunk and per side: the old side (context + removed lines) and the new
//! side (context + added lines) each get their own `HighlightLines`, so a string or comment that a
//! removed line opens cannot bleed colour into the added lines that replace it.

use std::fmt;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme as SyntaxTheme, ThemeSet};
use syntect::parsing::{SyntaxReference, SyntaxSet};

use crate::theme::Theme;

/// The syntect theme used when a cockpit theme names one syntect does not ship.
const FALLBACK_SYNTAX_THEME: &str = "base16-ocean.dark";
/// Tab stops every four columns, so indentation looks the same as in most editors.
const TAB_WIDTH: usize = 4;
/// Lines longer than this are shown without syntax colours: the regex engine can take a long time
/// on minified or generated lines, and the cockpit redraws several times a second.
const MAX_HIGHLIGHT_LEN: usize = 4096;
/// How much of the diff colour is mixed into the background of added and removed lines.
const TINT_ALPHA: f32 = 0.2;

/// Syntax highlighter for the Diff pane. Loading syntect's bundled syntaxes and themes takes tens
/// of milliseconds, so the cockpit builds one at start-up and reuses it for every frame.
pub struct Highlighter {
    syntaxes: SyntaxSet,
    themes: ThemeSet,
}

impl fmt::Debug for Highlighter {
    /// Summarised: the full syntax set would print megabytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.themes.themes.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Highlighter")
            .field("syntaxes", &self.syntaxes.syntaxes().len())
            .field("themes", &names)
            .finish()
    }
}

impl Default for Highlighter {
    /// Same as [`Highlighter::new`], so the cockpit state can derive `Default`.
    fn default() -> Self {
        Self::new()
    }
}

/// What kind of code line a hunk body line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Context,
    Added,
    Removed,
}

/// One classified input line. Classification happens before drawing so the gutter width can be
/// fitted to the largest line number in the whole diff.
enum Row<'a, 's> {
    /// `diff --git`, `--- a/…`, `+++ b/…`.
    FileHeader(&'a str),
    /// Git extended headers: `index`, mode changes, renames, `Binary files … differ`.
    Meta(&'a str),
    /// `@@ -a,b +c,d @@ …`, with the syntax of the file it belongs to (`None`: plain text).
    Hunk(&'a str, Option<&'s SyntaxReference>),
    /// A code line inside a hunk (`code` is without the marker).
    Body {
        kind: Kind,
        old: Option<u64>,
        new: Option<u64>,
        code: &'a str,
    },
    /// `\ No newline at end of file`.
    NoNewline(&'a str),
    /// Anything else: shown as it is.
    Plain(&'a str),
}

/// Where the parser is inside the current hunk.
struct HunkPos {
    old: u64,
    new: u64,
    old_left: u64,
    new_left: u64,
}

/// Everything `diff_lines` needs to style a line, worked out once per call from the theme.
struct Palette {
    gutter: Style,
    file_header: Style,
    meta: Style,
    hunk: Style,
    plain: Style,
    no_newline: Style,
    context_marker: Style,
    added_marker: Style,
    removed_marker: Style,
    /// Code style of each kind of line; syntax colours (when on) are laid over it.
    context_code: Style,
    added_code: Style,
    removed_code: Style,
    /// Whether syntax colours are used on added / removed lines (context lines use them whenever
    /// a syntect theme is active). Off when the line is carried by a diff colour instead.
    syntax_on_changes: bool,
}

/// The two syntect states of one hunk: old side (context + removed) and new side (context + added).
struct HunkHighlight<'t> {
    old: HighlightLines<'t>,
    new: HighlightLines<'t>,
}

impl Highlighter {
    /// Load syntect's bundled syntaxes and themes. Costs tens of milliseconds: make one and keep it.
    pub fn new() -> Self {
        Highlighter {
            syntaxes: SyntaxSet::load_defaults_newlines(),
            themes: ThemeSet::load_defaults(),
        }
    }

    /// Render a unified diff as display lines, one per input line.
    ///
    /// Hunk body lines get a gutter with the old and new line numbers (right-aligned, as wide as
    /// the largest number), a `+`/`-`/` ` marker, then the code, syntax-highlighted by the
    /// extension of the `+++ b/path` file (plain text if unknown). Added lines are tinted with
    /// `theme.diff_added`, removed ones with `theme.diff_removed`, hunk headers use
    /// `theme.diff_hunk` and file headers `theme.title` in bold. Tabs expand to 4-column stops.
    ///
    /// With `theme.syntax_theme == None` or a monochrome theme there are no syntax colours and the
    /// line kinds are told apart by modifiers (added bold, removed dim, hunk headers underlined),
    /// so `NO_COLOR` loses nothing. Malformed input degrades to plain lines; it never panics.
    ///
    /// The result is span-index stable for body lines: span 0 is the gutter, span 1 the marker,
    /// the rest is code.
    pub fn diff_lines(&self, diff: &str, theme: &Theme) -> Vec<Line<'static>> {
        let syntax_theme = if theme.monochrome {
            None
        } else {
            theme.syntax_theme.as_deref().and_then(|name| {
                self.themes
                    .themes
                    .get(name)
                    .or_else(|| self.themes.themes.get(FALLBACK_SYNTAX_THEME))
            })
        };
        let palette = Palette::new(theme, syntax_theme);
        let rows = self.classify(diff);
        let max_no = rows
            .iter()
            .filter_map(|r| match r {
                Row::Body { old, new, .. } => (*old).max(*new),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let width = digits(max_no);

        let mut out = Vec::with_capacity(rows.len());
        let mut hl: Option<HunkHighlight<'_>> = None;
        for row in rows {
            let line = match row {
                Row::FileHeader(t) => {
                    hl = None;
                    Line::from(Span::styled(clean(t), palette.file_header))
                }
                Row::Meta(t) => Line::from(Span::styled(clean(t), palette.meta)),
                Row::Hunk(t, syntax) => {
                    hl = syntax.zip(syntax_theme).map(|(s, st)| HunkHighlight {
                        old: HighlightLines::new(s, st),
                        new: HighlightLines::new(s, st),
                    });
                    Line::from(Span::styled(clean(t), palette.hunk))
                }
                Row::NoNewline(t) => Line::from(Span::styled(clean(t), palette.no_newline)),
                Row::Plain(t) => Line::from(Span::styled(clean(t), palette.plain)),
                Row::Body {
                    kind,
                    old,
                    new,
                    code,
                } => {
                    let mut spans = Vec::with_capacity(8);
                    spans.push(Span::styled(
                        format!("{} {} │", num(old, width), num(new, width)),
                        palette.gutter,
                    ));
                    let (marker, marker_style, base) = match kind {
                        Kind::Context => (" ", palette.context_marker, palette.context_code),
                        Kind::Added => ("+", palette.added_marker, palette.added_code),
                        Kind::Removed => ("-", palette.removed_marker, palette.removed_code),
                    };
                    spans.push(Span::styled(marker, marker_style));
                    let pieces = highlight_code(&mut hl, &self.syntaxes, kind, code);
                    let use_syntax = kind == Kind::Context || palette.syntax_on_changes;
                    match pieces {
                        Some(pieces) if use_syntax => {
                            let mut col = 0;
                            for (st, text) in pieces {
                                let s = expand(&text, &mut col);
                                if !s.is_empty() {
                                    spans.push(Span::styled(s, base.patch(syntax_style(st))));
                                }
                            }
                        }
                        _ => {
                            let s = expand(code, &mut 0);
                            if !s.is_empty() {
                                spans.push(Span::styled(s, base));
                            }
                        }
                    }
                    Line::from(spans)
                }
            };
            out.push(line);
        }
        out
    }

    /// First pass: classify every input line and number the hunk bodies.
    fn classify<'a>(&self, diff: &'a str) -> Vec<Row<'a, '_>> {
        let mut rows = Vec::new();
        let mut syntax: Option<&SyntaxReference> = None;
        let mut pos: Option<HunkPos> = None;
        for raw in diff.lines() {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if let Some(p) = pos.as_mut() {
                if let Some(row) = body_row(p, line) {
                    if p.old_left == 0 && p.new_left == 0 {
                        pos = None;
                    }
                    rows.push(row);
                    continue;
                }
                // Not a body line although the header promised more: the diff is truncated or
                // hand-edited. Leave the hunk and classify the line from scratch.
                pos = None;
            }
            let row = if line.starts_with("\\ ") {
                Row::NoNewline(line)
            } else if line.starts_with("diff ") {
                syntax = None;
                Row::FileHeader(line)
            } else if let Some(rest) = line.strip_prefix("--- ") {
                if let Some(path) = header_path(rest) {
                    syntax = self.syntax_for(path);
                }
                Row::FileHeader(line)
            } else if let Some(rest) = line.strip_prefix("+++ ") {
                // `+++ /dev/null` (a deleted file) keeps the syntax from the `---` line.
                if let Some(path) = header_path(rest) {
                    syntax = self.syntax_for(path);
                }
                Row::FileHeader(line)
            } else if let Some((old, old_left, new, new_left)) = parse_hunk_header(line) {
                if old_left > 0 || new_left > 0 {
                    pos = Some(HunkPos {
                        old,
                        new,
                        old_left,
                        new_left,
                    });
                }
                Row::Hunk(line, syntax)
            } else if is_meta(line) {
                Row::Meta(line)
            } else {
                Row::Plain(line)
            };
            rows.push(row);
        }
        rows
    }

    /// Syntax for a file path: by whole file name (`Makefile`), then by extension; `None` for
    /// plain text, which needs no highlighting at all.
    fn syntax_for(&self, path: &str) -> Option<&SyntaxReference> {
        let p = Path::new(path);
        let by = |s: Option<&std::ffi::OsStr>| {
            s.and_then(|s| s.to_str())
                .filter(|s| !s.is_empty())
                .and_then(|s| self.syntaxes.find_syntax_by_extension(s))
        };
        by(p.file_name())
            .or_else(|| by(p.extension()))
            .filter(|s| s.name != "Plain Text")
    }
}

impl Palette {
    fn new(theme: &Theme, syntax: Option<&SyntaxTheme>) -> Self {
        let fg = |c: Color| {
            if theme.monochrome {
                Style::default()
            } else {
                Style::default().fg(c)
            }
        };
        let bold = Modifier::BOLD;
        let mut p = Palette {
            gutter: fg(theme.muted),
            file_header: fg(theme.title).add_modifier(bold),
            meta: fg(theme.muted),
            hunk: fg(theme.diff_hunk),
            plain: fg(theme.foreground),
            no_newline: fg(theme.muted).add_modifier(Modifier::ITALIC),
            context_marker: fg(theme.muted),
            added_marker: fg(theme.diff_added).add_modifier(bold),
            removed_marker: fg(theme.diff_removed).add_modifier(bold),
            context_code: fg(theme.foreground),
            added_code: fg(theme.diff_added).add_modifier(bold),
            removed_code: fg(theme.diff_removed),
            syntax_on_changes: false,
        };
        match syntax {
            None => {
                // No syntax colours: modifiers carry the meaning (and colours too, unless
                // monochrome).
                p.removed_code = p.removed_code.add_modifier(Modifier::DIM);
                p.hunk = p.hunk.add_modifier(Modifier::UNDERLINED);
                if theme.monochrome {
                    p.gutter = p.gutter.add_modifier(Modifier::DIM);
                    p.meta = p.meta.add_modifier(Modifier::DIM);
                }
            }
            Some(st) => {
                let base_bg = rgb(theme.background).or_else(|| {
                    st.settings
                        .background
                        .map(|c| (c.r, c.g, c.b))
                        .filter(|_| theme.background == Color::Reset)
                });
                let tint = |c: Color| {
                    let (fr, fg_, fb) = rgb(c)?;
                    let (br, bg, bb) = base_bg?;
                    let mix = |f: u8, b: u8| {
                        (f32::from(f) * TINT_ALPHA + f32::from(b) * (1.0 - TINT_ALPHA)).round()
                            as u8
                    };
                    Some(Color::Rgb(mix(fr, br), mix(fg_, bg), mix(fb, bb)))
                };
                if let (Some(add_bg), Some(rem_bg)) =
                    (tint(theme.diff_added), tint(theme.diff_removed))
                {
                    // Syntax colours on a tinted background, like a code review tool.
                    p.added_code = Style::default().fg(theme.foreground).bg(add_bg);
                    p.removed_code = Style::default().fg(theme.foreground).bg(rem_bg);
                    p.added_marker = p.added_marker.bg(add_bg);
                    p.removed_marker = p.removed_marker.bg(rem_bg);
                    p.syntax_on_changes = true;
                }
                // Otherwise (named or indexed diff colours, which cannot be blended) changed
                // lines are drawn in their diff colour and only context gets syntax colours.
            }
        }
        p
    }
}

/// One body line, if `line` is one and the hunk still has room for it; advances the position.
fn body_row<'a, 's>(p: &mut HunkPos, line: &'a str) -> Option<Row<'a, 's>> {
    if line.starts_with("\\ ") {
        return Some(Row::NoNewline(line));
    }
    let (kind, code) = match line.chars().next() {
        // Some tools strip the single space of an empty context line.
        None => (Kind::Context, ""),
        Some(' ') => (Kind::Context, &line[1..]),
        Some('+') => (Kind::Added, &line[1..]),
        Some('-') => (Kind::Removed, &line[1..]),
        Some(_) => return None,
    };
    let (old, new) = match kind {
        Kind::Context if p.old_left > 0 && p.new_left > 0 => {
            let r = (Some(p.old), Some(p.new));
            p.old = p.old.saturating_add(1);
            p.new = p.new.saturating_add(1);
            p.old_left -= 1;
            p.new_left -= 1;
            r
        }
        Kind::Added if p.new_left > 0 => {
            let r = (None, Some(p.new));
            p.new = p.new.saturating_add(1);
            p.new_left -= 1;
            r
        }
        Kind::Removed if p.old_left > 0 => {
            let r = (Some(p.old), None);
            p.old = p.old.saturating_add(1);
            p.old_left -= 1;
            r
        }
        _ => return None,
    };
    Some(Row::Body {
        kind,
        old,
        new,
        code,
    })
}

/// `@@ -a[,b] +c[,d] @@[ section]` → (a, b, c, d); a missing count means 1, as in GNU diff.
fn parse_hunk_header(line: &str) -> Option<(u64, u64, u64, u64)> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, _section) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |s: &str| -> Option<(u64, u64)> {
        match s.split_once(',') {
            Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
            None => Some((s.parse().ok()?, 1)),
        }
    };
    let (a, b) = range(old)?;
    let (c, d) = range(new)?;
    Some((a, b, c, d))
}

/// The path in a `--- a/path` / `+++ b/path` header, without the `a/`/`b/` prefix, quotes or a
/// trailing tab-separated timestamp; `None` for `/dev/null`.
fn header_path(rest: &str) -> Option<&str> {
    let p = rest.split_once('\t').map_or(rest, |(p, _)| p).trim();
    let p = p.trim_matches('"');
    if p.is_empty() || p == "/dev/null" {
        return None;
    }
    Some(
        p.strip_prefix("a/")
            .or_else(|| p.strip_prefix("b/"))
            .unwrap_or(p),
    )
}

/// Git extended header lines, shown muted between the `diff --git` line and the first hunk.
fn is_meta(line: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "index ",
        "new file mode",
        "deleted file mode",
        "old mode",
        "new mode",
        "similarity index",
        "dissimilarity index",
        "rename from",
        "rename to",
        "copy from",
        "copy to",
        "Binary files",
    ];
    PREFIXES.iter().any(|p| line.starts_with(p))
}

/// Run `code` through the syntect state(s) of its side. Context lines feed both sides so each
/// stays in sync with its own file; the new side's result is shown. On any syntect error, or a
/// line too long to highlight cheaply, the rest of the hunk falls back to plain text (`None`).
fn highlight_code(
    hl: &mut Option<HunkHighlight<'_>>,
    syntaxes: &SyntaxSet,
    kind: Kind,
    code: &str,
) -> Option<Vec<(syntect::highlighting::Style, String)>> {
    let h = hl.as_mut()?;
    if code.len() > MAX_HIGHLIGHT_LEN {
        *hl = None;
        return None;
    }
    let text = format!("{code}\n");
    let own = |v: Vec<(syntect::highlighting::Style, &str)>| {
        v.into_iter()
            .map(|(st, s)| (st, s.trim_end_matches('\n').to_string()))
            .collect::<Vec<_>>()
    };
    let result = match kind {
        Kind::Context => h
            .old
            .highlight_line(&text, syntaxes)
            .and_then(|_| h.new.highlight_line(&text, syntaxes))
            .map(own),
        Kind::Added => h.new.highlight_line(&text, syntaxes).map(own),
        Kind::Removed => h.old.highlight_line(&text, syntaxes).map(own),
    };
    match result {
        Ok(v) => Some(v),
        Err(_) => {
            *hl = None;
            None
        }
    }
}

/// syntect colour and font style → ratatui style (foreground and modifiers only: the pane keeps
/// the cockpit's own background).
fn syntax_style(st: syntect::highlighting::Style) -> Style {
    let mut s = Style::default();
    let c = st.foreground;
    if c.a > 0 {
        s = s.fg(Color::Rgb(c.r, c.g, c.b));
    }
    if st.font_style.contains(FontStyle::BOLD) {
        s = s.add_modifier(Modifier::BOLD);
    }
    if st.font_style.contains(FontStyle::ITALIC) {
        s = s.add_modifier(Modifier::ITALIC);
    }
    if st.font_style.contains(FontStyle::UNDERLINE) {
        s = s.add_modifier(Modifier::UNDERLINED);
    }
    s
}

fn rgb(c: Color) -> Option<(u8, u8, u8)> {
    match c {
        Color::Rgb(r, g, b) => Some((r, g, b)),
        _ => None,
    }
}

/// Expand tabs to the next multiple of [`TAB_WIDTH`] (`col` carries the column across the spans
/// of one line) and make control characters visible so they cannot drive the terminal.
fn expand(text: &str, col: &mut usize) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\t' => {
                let n = TAB_WIDTH - *col % TAB_WIDTH;
                for _ in 0..n {
                    out.push(' ');
                }
                *col += n;
            }
            c if c.is_control() => {
                out.push(control_picture(c));
                *col += 1;
            }
            c => {
                out.push(c);
                *col += 1;
            }
        }
    }
    out
}

/// A whole header/plain line, with tabs expanded and control characters made visible.
fn clean(text: &str) -> String {
    expand(text, &mut 0)
}

/// U+2400.. "control pictures" for C0 controls and DEL; U+FFFD for the rest.
fn control_picture(c: char) -> char {
    let u = u32::from(c);
    match u {
        0..=0x1f => char::from_u32(0x2400 + u).unwrap_or('\u{fffd}'),
        0x7f => '\u{2421}',
        _ => '\u{fffd}',
    }
}

fn num(n: Option<u64>, width: usize) -> String {
    match n {
        Some(n) => format!("{n:>width$}"),
        None => " ".repeat(width),
    }
}

fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    const PY_DIFF: &str =
        "diff --git a/payments/payment_processor.py b/payments/payment_processor.py
--- a/payments/payment_processor.py
+++ b/payments/payment_processor.py
@@ -42,5 +42,8 @@ def process_payment(request):
         return PaymentResult(status=\"declined\", reason=str(exc))
 
     logger.info(\"order %s charged as %s\", request.order_id, charge.id)
-    send_receipt(user.email.strip().lower(), charge.id)
+    if user.email is not None:
+        send_receipt(user.email.strip().lower(), charge.id)
+    else:
+        logger.warning(\"user.email is None; skipped send_receipt() (ccp null_check)\")
     return PaymentResult(status=\"charged\", charge_id=charge.id)
";

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    /// (old, new) numbers parsed back out of a body line's gutter.
    fn gutter(line: &Line<'_>) -> (Option<u64>, Option<u64>) {
        let g = line.spans[0].content.as_ref();
        let g = g.trim_end_matches('│');
        let w = (g.len() - 1) / 2;
        let parse = |s: &str| s.trim().parse().ok();
        (parse(&g[..w]), parse(&g[w + 1..2 * w + 1]))
    }

    fn body(lines: &[Line<'_>]) -> Vec<usize> {
        (0..lines.len())
            .filter(|&i| lines[i].spans.len() >= 2 && lines[i].spans[0].content.ends_with('│'))
            .collect()
    }

    #[test]
    fn gutter_numbers_follow_hunk_header() {
        let h = Highlighter::new();
        let lines = h.diff_lines(PY_DIFF, &Theme::default_dark());
        assert_eq!(lines.len(), PY_DIFF.lines().count());
        let b = body(&lines);
        assert_eq!(b.len(), 9);
        // First context line of `@@ -42,5 +42,8 @@`.
        assert_eq!(gutter(&lines[b[0]]), (Some(42), Some(42)));
        assert_eq!(gutter(&lines[b[2]]), (Some(44), Some(44)));
        // Removed: old number only; added: new number only.
        assert_eq!(gutter(&lines[b[3]]), (Some(45), None));
        assert_eq!(gutter(&lines[b[4]]), (None, Some(45)));
        assert_eq!(gutter(&lines[b[7]]), (None, Some(48)));
        assert_eq!(gutter(&lines[b[8]]), (Some(46), Some(49)));
        // Width fits the largest number (49): two digits.
        assert_eq!(lines[b[0]].spans[0].content, "42 42 │");
        assert_eq!(lines[b[4]].spans[0].content, "   45 │");
    }

    #[test]
    fn gutter_width_grows_with_numbers() {
        let h = Highlighter::new();
        let diff = "@@ -998,2 +998,3 @@\n a\n+b\n c\n";
        let lines = h.diff_lines(diff, &Theme::monochrome());
        assert_eq!(lines[1].spans[0].content, " 998  998 │");
        assert_eq!(lines[2].spans[0].content, "      999 │");
        assert_eq!(lines[3].spans[0].content, " 999 1000 │");
    }

    #[test]
    fn markers_and_code_follow_the_gutter() {
        let h = Highlighter::new();
        let lines = h.diff_lines(PY_DIFF, &Theme::default_dark());
        let b = body(&lines);
        let markers: Vec<&str> = b
            .iter()
            .map(|&i| lines[i].spans[1].content.as_ref())
            .collect();
        assert_eq!(markers, [" ", " ", " ", "-", "+", "+", "+", "+", " "]);
        assert!(text(&lines[b[4]]).ends_with("│+    if user.email is not None:"));
        // Headers are shown verbatim, the `+++` one in the title colour, bold.
        assert_eq!(text(&lines[2]), "+++ b/payments/payment_processor.py");
        let dark = Theme::default_dark();
        assert_eq!(lines[2].spans[0].style.fg, Some(dark.title));
        assert!(lines[2].spans[0]
            .style
            .add_modifier
            .contains(Modifier::BOLD));
        assert_eq!(lines[3].spans[0].style.fg, Some(dark.diff_hunk));
        assert_eq!(lines[b[4]].spans[1].style.fg, Some(dark.diff_added));
        assert_eq!(lines[b[3]].spans[1].style.fg, Some(dark.diff_removed));
    }

    #[test]
    fn python_code_gets_several_colours_under_dark_theme() {
        let h = Highlighter::new();
        let lines = h.diff_lines(PY_DIFF, &Theme::default_dark());
        let b = body(&lines);
        for &i in &[b[2], b[4]] {
            let mut colours: Vec<(u8, u8, u8)> = lines[i].spans[2..]
                .iter()
                .filter_map(|s| s.style.fg.and_then(rgb))
                .collect();
            colours.sort_unstable();
            colours.dedup();
            assert!(colours.len() > 1, "{}: {colours:?}", text(&lines[i]));
        }
        // Added lines sit on a tinted background.
        assert!(matches!(
            lines[b[4]].spans[2].style.bg,
            Some(Color::Rgb(..))
        ));
        assert_eq!(lines[b[0]].spans[2].style.bg, None);
    }

    #[test]
    fn unknown_syntax_theme_falls_back() {
        let h = Highlighter::new();
        let mut theme = Theme::default_dark();
        theme.syntax_theme = Some("no-such-theme".into());
        let lines = h.diff_lines(PY_DIFF, &theme);
        let b = body(&lines);
        let rgb = lines[b[2]].spans[2..]
            .iter()
            .filter(|s| matches!(s.style.fg, Some(Color::Rgb(..))))
            .count();
        assert!(rgb > 1);
    }

    #[test]
    fn every_builtin_theme_renders() {
        let h = Highlighter::new();
        for name in crate::theme::builtin_names() {
            let theme = Theme::builtin(name).expect("builtin");
            let lines = h.diff_lines(PY_DIFF, &theme);
            assert_eq!(lines.len(), PY_DIFF.lines().count(), "{name}");
            let b = body(&lines);
            // Named diff colours (high-contrast) cannot be blended: the line takes the colour.
            let added = &lines[b[4]];
            assert!(
                added.spans[2].style.bg.is_some()
                    || added.spans[2].style.fg == Some(theme.diff_added),
                "{name}"
            );
        }
    }

    #[test]
    fn monochrome_has_no_colours_and_bold_added_lines() {
        let h = Highlighter::new();
        let lines = h.diff_lines(PY_DIFF, &Theme::monochrome());
        for l in &lines {
            for s in &l.spans {
                assert!(!matches!(s.style.fg, Some(Color::Rgb(..))), "{:?}", s);
                assert!(!matches!(s.style.bg, Some(Color::Rgb(..))), "{:?}", s);
            }
        }
        let b = body(&lines);
        for &i in &b[4..8] {
            assert!(lines[i].spans[1..]
                .iter()
                .all(|s| s.style.add_modifier.contains(Modifier::BOLD)));
        }
        assert!(lines[b[3]].spans[2]
            .style
            .add_modifier
            .contains(Modifier::DIM));
        assert!(lines[3].spans[0]
            .style
            .add_modifier
            .contains(Modifier::UNDERLINED));
        assert!(lines[2].spans[0]
            .style
            .add_modifier
            .contains(Modifier::BOLD));
    }

    #[test]
    fn no_syntax_theme_uses_diff_colours_and_modifiers() {
        let h = Highlighter::new();
        let mut theme = Theme::default_dark();
        theme.syntax_theme = None;
        let lines = h.diff_lines(PY_DIFF, &theme);
        let b = body(&lines);
        let added = &lines[b[5]].spans[2];
        assert_eq!(added.style.fg, Some(theme.diff_added));
        assert!(added.style.add_modifier.contains(Modifier::BOLD));
        assert_eq!(lines[b[2]].spans.len(), 3, "context is one plain span");
    }

    #[test]
    fn removed_string_opener_does_not_colour_new_side() {
        let h = Highlighter::new();
        let theme = Theme::default_dark();
        let with = "+++ b/x.py\n@@ -1,2 +1,2 @@\n-s = \"\"\"\n+s = 1\n def f(): pass\n";
        let without = "+++ b/x.py\n@@ -1,1 +1,2 @@\n+s = 1\n def f(): pass\n";
        let a = h.diff_lines(with, &theme);
        let b = h.diff_lines(without, &theme);
        let code = |l: &Line<'_>| {
            l.spans[2..]
                .iter()
                .map(|s| (s.content.to_string(), s.style))
                .collect::<Vec<_>>()
        };
        assert_eq!(code(&a[4]), code(&b[3]));
        // And the new side does keep state: a context line inside a string opened by an added
        // line is string-coloured, unlike the same line outside it.
        let open = "+++ b/x.py\n@@ -1,1 +1,2 @@\n+s = \"\"\"\n def f(): pass\n";
        let c = h.diff_lines(open, &theme);
        assert_ne!(code(&c[3]), code(&b[3]));
    }

    #[test]
    fn tabs_expand_to_four_column_stops() {
        let h = Highlighter::new();
        let diff = "+++ b/notes\n@@ -1 +1 @@\n-\tx\n+ab\tc\n";
        let lines = h.diff_lines(diff, &Theme::monochrome());
        assert_eq!(text(&lines[2]).split('│').nth(1), Some("-    x"));
        assert_eq!(text(&lines[3]).split('│').nth(1), Some("+ab  c"));
    }

    #[test]
    fn unknown_extension_is_plain_text() {
        let h = Highlighter::new();
        let theme = Theme::default_dark();
        let diff = "+++ b/data.zzqx\n@@ -1 +1 @@\n keep = \"x\"\n";
        let lines = h.diff_lines(diff, &theme);
        assert_eq!(lines[2].spans.len(), 3);
        assert_eq!(lines[2].spans[2].content, "keep = \"x\"");
    }

    #[test]
    fn malformed_input_does_not_panic() {
        let h = Highlighter::new();
        let inputs = [
            "",
            "\n\n",
            "garbage\nmore garbage",
            "@@ -x +y @@\n+a\n",
            "@@ -1,2 +1,2 @@\n+only one\n",
            "@@ -1,1 +1,1 @@\n x\n y\n z\n",
            "@@ -18446744073709551615,3 +18446744073709551615,3 @@\n a\n b\n c\n",
            "@@ -1,99999999999999999999 +1 @@\n a\n",
            "@@ -0,0 +0,0 @@\n+x\n",
            "+++ \n--- \n+++ b/\n@@ -1 +1 @@\n-\n+\n",
            "+++ \"b/we ird.rs\"\t2024-01-01\n@@ -1 +1 @@\n-fn main() {\n+fn main() { \"\u{1b}[31m\t\u{7}\n\\ No newline at end of file\n",
            "diff --git a/x b/x\nBinary files a/x and b/x differ\n",
            "@@@ -1,1 -1,1 +1,1 @@@\n  x\n",
            "\u{0}\u{1}\u{fffd}é中\r\n+++ b/x.py\r\n@@ -1 +1 @@\r\n-\"\"\"\r\n+'''\r\n",
        ];
        for theme in [Theme::default_dark(), Theme::monochrome()] {
            for input in inputs {
                let lines = h.diff_lines(input, &theme);
                assert_eq!(lines.len(), input.lines().count(), "{input:?}");
                for l in &lines {
                    assert!(!text(l).chars().any(char::is_control), "{input:?}");
                }
            }
        }
        let long = format!("+++ b/x.py\n@@ -1 +1 @@\n+{}\n", "x = 1; ".repeat(2000));
        let lines = h.diff_lines(&long, &Theme::default_dark());
        assert_eq!(lines.len(), 3);
    }
}
