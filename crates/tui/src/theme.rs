//! Colour themes. A theme is a YAML file in `themes/` that users copy and edit (like k9s skins);
//! the three shipped ones are also compiled in so the cockpit looks right with no files around.
//! `NO_COLOR` replaces every theme with a monochrome one that marks emphasis with bold, reverse
//! and underline only, so nothing the colours say is lost.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::Path;
use std::str::FromStr;

/// Themes compiled into the binary: (name, YAML). `t` cycles through them in this order.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../../themes/dark.yaml")),
    ("light", include_str!("../../../themes/light.yaml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.yaml"),
    ),
];

/// Why a theme could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// The YAML is malformed or has an unknown key; the message carries line and column.
    #[error("{file}:{line}:{col}: {message}")]
    Parse {
        /// Theme file (or builtin name).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// A colour value is not a name, `#rrggbb` or a 0–255 index.
    #[error("{file}: colour {key}: {value:?} is not a colour name, #rrggbb or 0-255")]
    Colour {
        /// Theme file.
        file: String,
        /// Key with the bad value.
        key: String,
        /// The value.
        value: String,
    },
    /// No theme by that name.
    #[error("no theme named {0:?}; known: {1}")]
    Unknown(String, String),
    /// Reading the file failed.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    #[serde(default)]
    syntax_theme: Option<String>,
    colors: ColorsFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColorsFile {
    background: String,
    foreground: String,
    muted: String,
    accent: String,
    border: String,
    border_focused: String,
    title: String,
    ok: String,
    warn: String,
    bad: String,
    info: String,
    selection_bg: String,
    selection_fg: String,
    diff_added: String,
    diff_removed: String,
    diff_hunk: String,
    chart_baseline: String,
    chart_canary: String,
}

/// Resolved colours the drawing code uses. Every pane takes its colours from here and nowhere
/// else, so a theme file really controls the whole screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// Theme name as shown in the status bar.
    pub name: String,
    /// syntect theme used for code in the Diff pane (`None`: no syntax colours, diff colours only).
    pub syntax_theme: Option<String>,
    /// Screen background (`Color::Reset` keeps the terminal's own).
    pub background: Color,
    /// Ordinary text.
    pub foreground: Color,
    /// De-emphasised text: timestamps, hints, unchanged diff context.
    pub muted: Color,
    /// Focus and highlights.
    pub accent: Color,
    /// Pane borders.
    pub border: Color,
    /// Border of the focused pane.
    pub border_focused: Color,
    /// Pane titles.
    pub title: Color,
    /// Healthy, passed, resolved.
    pub ok: Color,
    /// Degraded, paused, waiting for a human.
    pub warn: Color,
    /// Failing, rejected, rolled back.
    pub bad: Color,
    /// Informational accents (locks, traffic %).
    pub info: Color,
    /// Selected row background.
    pub selection_bg: Color,
    /// Selected row text.
    pub selection_fg: Color,
    /// Added diff lines.
    pub diff_added: Color,
    /// Removed diff lines.
    pub diff_removed: Color,
    /// Diff hunk headers.
    pub diff_hunk: Color,
    /// Baseline series in charts.
    pub chart_baseline: Color,
    /// Canary series in charts.
    pub chart_canary: Color,
    /// True for the `NO_COLOR` theme: drawing code adds modifiers where colour would carry meaning.
    pub monochrome: bool,
}

impl Theme {
    /// Parse a theme from YAML text; `file` names it in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<Self, ThemeError> {
        let tf: ThemeFile = serde_yaml::from_str(text).map_err(|e| {
            let (line, col) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((1, 1));
            ThemeError::Parse {
                file: file.to_string(),
                line,
                col,
                message: e.to_string(),
            }
        })?;
        let c = &tf.colors;
        let col = |key: &str, v: &str| {
            parse_color(v).ok_or_else(|| ThemeError::Colour {
                file: file.to_string(),
                key: key.to_string(),
                value: v.to_string(),
            })
        };
        Ok(Theme {
            name: tf.name.clone(),
            syntax_theme: tf.syntax_theme.clone(),
            background: col("background", &c.background)?,
            foreground: col("foreground", &c.foreground)?,
            muted: col("muted", &c.muted)?,
            accent: col("accent", &c.accent)?,
            border: col("border", &c.border)?,
            border_focused: col("border_focused", &c.border_focused)?,
            title: col("title", &c.title)?,
            ok: col("ok", &c.ok)?,
            warn: col("warn", &c.warn)?,
            bad: col("bad", &c.bad)?,
            info: col("info", &c.info)?,
            selection_bg: col("selection_bg", &c.selection_bg)?,
            selection_fg: col("selection_fg", &c.selection_fg)?,
            diff_added: col("diff_added", &c.diff_added)?,
            diff_removed: col("diff_removed", &c.diff_removed)?,
            diff_hunk: col("diff_hunk", &c.diff_hunk)?,
            chart_baseline: col("chart_baseline", &c.chart_baseline)?,
            chart_canary: col("chart_canary", &c.chart_canary)?,
            monochrome: false,
        })
    }

    /// Load a theme file from disk.
    pub fn from_file(path: &Path) -> Result<Self, ThemeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ThemeError::Io(path.display().to_string(), e))?;
        Self::from_yaml(&path.display().to_string(), &text)
    }

    /// A compiled-in theme by name.
    pub fn builtin(name: &str) -> Result<Self, ThemeError> {
        let (n, text) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ThemeError::Unknown(name.to_string(), builtin_names().join(", ")))?;
        Self::from_yaml(&format!("themes/{n}.yaml"), text)
    }

    /// The default dark theme. The builtin files are checked by a unit test, so this cannot fail
    /// in a released binary; the monochrome fallback keeps it total anyway.
    pub fn default_dark() -> Self {
        Self::builtin("dark").unwrap_or_else(|_| Self::monochrome())
    }

    /// The `NO_COLOR` theme: terminal default colours; meaning carried by modifiers.
    pub fn monochrome() -> Self {
        let r = Color::Reset;
        Theme {
            name: "no-color".into(),
            syntax_theme: None,
            background: r,
            foreground: r,
            muted: r,
            accent: r,
            border: r,
            border_focused: r,
            title: r,
            ok: r,
            warn: r,
            bad: r,
            info: r,
            selection_bg: r,
            selection_fg: r,
            diff_added: r,
            diff_removed: r,
            diff_hunk: r,
            chart_baseline: r,
            chart_canary: r,
            monochrome: true,
        }
    }

    /// Base style for text on the screen background.
    pub fn base(&self) -> Style {
        Style::default().fg(self.foreground).bg(self.background)
    }

    /// Style of a selected row: reversed in monochrome, coloured otherwise.
    pub fn selected(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
                .fg(self.selection_fg)
                .bg(self.selection_bg)
                .add_modifier(Modifier::BOLD)
        }
    }

    /// Style for a status colour, with a modifier in monochrome so "bad" still stands out.
    pub fn status(&self, s: Status) -> Style {
        let (c, m) = match s {
            Status::Ok => (self.ok, Modifier::empty()),
            Status::Warn => (self.warn, Modifier::BOLD),
            Status::Bad => (self.bad, Modifier::BOLD | Modifier::UNDERLINED),
            Status::Info => (self.info, Modifier::empty()),
            Status::Muted => (self.muted, Modifier::DIM),
        };
        let st = Style::default().fg(c);
        if self.monochrome {
            st.add_modifier(m)
        } else {
            st
        }
    }
}

/// What a piece of the screen says about health; themes map it to a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Healthy / passed.
    Ok,
    /// Degraded / waiting.
    Warn,
    /// Failing.
    Bad,
    /// Neutral information.
    Info,
    /// Background detail.
    Muted,
}

/// Names of the compiled-in themes, in cycling order.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// Whether `NO_COLOR` asks for no colour (any non-empty value, per no-color.org).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// `"reset"`, a ratatui colour name (`red`, `lightblue`, `darkgray`…), `#rrggbb`, or `0`–`255`.
pub fn parse_color(s: &str) -> Option<Color> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("reset") || t.eq_ignore_ascii_case("default") {
        return Some(Color::Reset);
    }
    if let Ok(i) = t.parse::<u8>() {
        return Some(Color::Indexed(i));
    }
    Color::from_str(t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses_and_differs() {
        let themes: Vec<Theme> = builtin_names()
            .into_iter()
            .map(|n| Theme::builtin(n).expect("builtin theme parses"))
            .collect();
        assert_eq!(themes.len(), 3);
        assert_ne!(themes[0].background, themes[1].background);
        assert_eq!(themes[2].name, "high-contrast");
    }

    #[test]
    fn colour_forms() {
        assert_eq!(parse_color("#ff0000"), Some(Color::Rgb(255, 0, 0)));
        assert_eq!(parse_color("red"), Some(Color::Red));
        assert_eq!(parse_color("42"), Some(Color::Indexed(42)));
        assert_eq!(parse_color("reset"), Some(Color::Reset));
        assert_eq!(parse_color("nope"), None);
    }

    #[test]
    fn bad_theme_names_line_and_column() {
        let text = "name: x\ncolors:\n  backgrond: red\n";
        let e = Theme::from_yaml("themes/x.yaml", text)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("themes/x.yaml:3:"), "{e}");
        assert!(e.contains("backgrond"), "{e}");
    }

    #[test]
    fn bad_colour_is_named() {
        let text = Theme::builtin("dark")
            .map(|_| BUILTIN[0].1.replace("accent: ", "accent: \"mauve\" #"))
            .expect("dark");
        let e = Theme::from_yaml("t.yaml", &text).unwrap_err().to_string();
        assert!(e.contains("accent") && e.contains("mauve"), "{e}");
    }
}
