//! A line-oriented view of a source file shared by the multi-language templates.
//!
//! Why lines and not a parser: the templates only ever rewrite the culprit statement and insert
//! a few lines (an import, a helper), and must keep the file's own layout byte for byte
//! elsewhere. A masked copy, with string and comment contents blanked, lets them search for
//! `.get(` or `= null` without matching inside text, for every language with one small lexer.

use super::pysource::PySource;
use super::template::{FixInput, Language, Refusal};

/// A file split into lines (without line endings) plus the masked twin of each line.
pub(crate) struct Code {
    /// Language the file is written in.
    pub lang: Language,
    /// Original lines, line endings removed.
    pub lines: Vec<String>,
    /// Same lines with string/comment contents blanked and non-ASCII bytes replaced by `_`, so
    /// byte offsets match `lines` and all searches are ASCII.
    pub masked: Vec<String>,
    /// `"\r\n"` when the file uses it, else `"\n"`.
    pub eol: &'static str,
    /// Whether the file ended with a line ending.
    pub trailing_newline: bool,
}

impl Code {
    /// Split and mask `source`. Never fails: odd input just masks less precisely.
    pub fn parse(source: &str, lang: Language) -> Code {
        let masked_bytes = match lang {
            Language::Python => PySource::parse(source).masked,
            _ => mask_c_like(source.as_bytes(), lang),
        };
        let masked_text: String = masked_bytes
            .iter()
            .map(|b| if b.is_ascii() { *b as char } else { '_' })
            .collect();
        let eol = if source.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        let trailing_newline = source.ends_with('\n');
        let body = |t: &str| -> Vec<String> {
            let t = t.strip_suffix('\n').unwrap_or(t);
            if t.is_empty() && source.is_empty() {
                return Vec::new();
            }
            t.split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
                .collect()
        };
        Code {
            lang,
            lines: body(source),
            masked: body(&masked_text),
            eol,
            trailing_newline,
        }
    }

    /// The file text again, with its own line endings.
    pub fn render(&self) -> String {
        let mut out = self.lines.join(self.eol);
        if self.trailing_newline {
            out.push_str(self.eol);
        }
        out
    }

    /// 0-based index of the 1-based `line`, refusing lines out of range, blank or comment-only.
    pub fn culprit(&self, line: u32) -> Result<usize, Refusal> {
        let idx = usize::try_from(line)
            .ok()
            .filter(|l| *l >= 1 && *l <= self.lines.len())
            .map(|l| l - 1)
            .ok_or(Refusal::LineOutOfRange {
                line,
                lines: self.lines.len(),
            })?;
        if self.is_blank(idx) {
            return Err(Refusal::NotCode { line });
        }
        Ok(idx)
    }

    /// Whether a line has no code (blank, or only comment/string-continuation whitespace).
    pub fn is_blank(&self, idx: usize) -> bool {
        self.masked[idx].trim().is_empty()
    }

    /// Leading whitespace of a line.
    pub fn indent(&self, idx: usize) -> &str {
        let l = &self.lines[idx];
        &l[..l.len() - l.trim_start_matches([' ', '\t']).len()]
    }

    /// Visual indentation width (tab = 8, so mixed files compare sensibly).
    pub fn width(&self, idx: usize) -> usize {
        self.indent(idx)
            .chars()
            .fold(0, |c, ch| if ch == '\t' { (c / 8 + 1) * 8 } else { c + 1 })
    }

    /// One indentation level in the file's style: a tab for Go and tab-indented files, else the
    /// smallest non-zero space indentation found (4 when none).
    pub fn unit(&self) -> String {
        if self.lang == Language::Go || self.lines.iter().any(|l| l.starts_with('\t')) {
            return "\t".to_string();
        }
        let smallest = (0..self.lines.len())
            .filter(|i| !self.is_blank(*i))
            .map(|i| self.indent(i).len())
            .filter(|n| *n > 0)
            .min()
            .unwrap_or(4);
        " ".repeat(smallest)
    }

    /// Masked text of a line, trimmed.
    pub fn code(&self, idx: usize) -> &str {
        self.masked[idx].trim()
    }

    /// The nearest earlier code line indented less than `idx`: the header of its block.
    pub fn enclosing_header(&self, idx: usize) -> Option<usize> {
        let w = self.width(idx);
        (0..idx)
            .rev()
            .find(|i| !self.is_blank(*i) && self.width(*i) < w)
    }

    /// Index of the line that ends the block `idx` sits in: the first later code line indented
    /// less than `idx` (the closing brace, or the next statement for Python); `lines.len()` at EOF.
    pub fn block_end(&self, idx: usize) -> usize {
        let w = self.width(idx);
        (idx + 1..self.lines.len())
            .find(|i| !self.is_blank(*i) && self.width(*i) < w)
            .unwrap_or(self.lines.len())
    }

    /// Index of the first code line after header `h` that is not indented deeper than `h`: the
    /// end of the header's body (its closing brace, or the next top-level statement).
    pub fn body_end(&self, h: usize) -> usize {
        let w = self.width(h);
        (h + 1..self.lines.len())
            .find(|i| !self.is_blank(*i) && self.width(*i) <= w)
            .unwrap_or(self.lines.len())
    }

    /// Header line of the function around `idx`, walking outwards through enclosing headers.
    pub fn function_header(&self, idx: usize) -> Option<usize> {
        let mut at = idx;
        while let Some(h) = self.enclosing_header(at) {
            if self.is_function_header(h) {
                return Some(h);
            }
            at = h;
        }
        None
    }

    fn is_function_header(&self, idx: usize) -> bool {
        let code = self.code(idx);
        let first = first_word(code);
        match self.lang {
            Language::Python => first == "def" || code.starts_with("async def "),
            Language::Go => first == "func",
            Language::Rust => {
                has_word(code, "fn") && !code.contains("=>") && !code.trim_end().ends_with(';')
            }
            Language::Java => {
                // `=` or `new` before the parameters means a field or an anonymous class.
                let before_params = code.split('(').next().unwrap_or(code);
                code.ends_with('{')
                    && code.contains('(')
                    && !CONTROL_WORDS.contains(&first)
                    && !has_word(before_params, "new")
                    && !before_params.contains('=')
                    && !code.contains("->")
            }
            Language::JavaScript | Language::TypeScript => {
                code.ends_with('{')
                    && (has_word(code, "function")
                        || code.contains("=>")
                        || (code.contains('(') && !CONTROL_WORDS.contains(&first)))
            }
        }
    }

    /// Refuse when the statement at `idx` is not complete on its line: brackets must balance and
    /// the previous line must not leave an expression open.
    pub fn require_one_line(&self, idx: usize, line: u32) -> Result<(), Refusal> {
        let spans = Err(Refusal::StatementSpansLines { line });
        if self.lang == Language::Python {
            return Ok(()); // the Python templates check statements with PySource instead
        }
        if depth_delta(&self.masked[idx]) != 0 {
            return spans;
        }
        if let Some(prev) = (0..idx).rev().find(|i| !self.is_blank(*i)) {
            let p = self.code(prev);
            let open = [
                "(", "[", ",", ".", "=", "+", "-", "&&", "||", "?", ":", "->",
            ];
            if open.iter().any(|o| p.ends_with(o)) && !p.ends_with("{") {
                return spans;
            }
        }
        let cur = self.code(idx);
        if cur.starts_with('.') || cur.starts_with("&&") || cur.starts_with("||") {
            return spans;
        }
        Ok(())
    }

    /// The file of `input` parsed and the culprit's line index, refused when the statement
    /// there spans lines: what every one-line template starts from.
    pub fn at_culprit(input: &FixInput<'_>) -> Result<(Code, usize), Refusal> {
        let code = Code::parse(input.source, input.language);
        let idx = code.culprit(input.line)?;
        code.require_single_statement_line(input, idx)?;
        Ok((code, idx))
    }

    /// Refuse when the statement at `idx` spans lines, by the language's own rules.
    pub fn require_single_statement_line(
        &self,
        input: &FixInput<'_>,
        idx: usize,
    ) -> Result<(), Refusal> {
        if input.language == Language::Python {
            self.require_one_line_python(input.source, idx, input.line)
        } else {
            self.require_one_line(idx, input.line)
        }
    }

    /// Python: refuse multi-line statements (the new templates rewrite one line).
    pub fn require_one_line_python(
        &self,
        source: &str,
        idx: usize,
        line: u32,
    ) -> Result<(), Refusal> {
        let py = PySource::parse(source);
        match py.statement_at(idx).map(|s| py.statements[s]) {
            Some(s) if s.first == idx && s.last == idx => Ok(()),
            _ => Err(Refusal::StatementSpansLines { line }),
        }
    }

    /// Whether any line of the file (masked) contains `needle`.
    pub fn file_contains(&self, needle: &str) -> bool {
        self.masked.iter().any(|l| l.contains(needle))
    }

    /// Whether any original line (strings included) contains `needle`, e.g. an import path.
    pub fn text_contains(&self, needle: &str) -> bool {
        self.lines.iter().any(|l| l.contains(needle))
    }

    /// Replace lines `range` with `new` lines.
    pub fn splice(&mut self, range: std::ops::Range<usize>, new: Vec<String>) {
        let masked: Vec<String> = new.to_vec();
        self.lines.splice(range.clone(), new);
        self.masked.splice(range, masked);
    }

    /// Insert lines before index `at`.
    pub fn insert(&mut self, at: usize, new: Vec<String>) {
        self.splice(at..at, new);
    }

    /// Make sure the file imports `what` (a Python module, Java class, Go package path or Rust
    /// path), adding the import next to the others when missing. Returns whether it added one.
    pub fn ensure_import(&mut self, what: &str) -> bool {
        match self.lang {
            Language::Python => self.ensure_python_import(what),
            Language::Java => {
                self.ensure_line_import(&format!("import {what};"), "import ", "package ")
            }
            Language::Rust => self.ensure_line_import(&format!("use {what};"), "use ", "//!"),
            Language::Go => self.ensure_go_import(what),
            Language::JavaScript | Language::TypeScript => false,
        }
    }

    fn ensure_python_import(&mut self, module: &str) -> bool {
        let stmt = format!("import {module}");
        // Only a plain `import time` (or `import os, time`) binds the name `time`;
        // `from time import sleep` and `import time as t` do not.
        if self.lines.iter().any(|l| {
            l.strip_prefix("import ")
                .is_some_and(|names| names.split(',').any(|n| n.trim() == module))
        }) {
            return false;
        }
        let last_import = (0..self.lines.len()).rev().find(|i| {
            let l = &self.masked[*i];
            (l.starts_with("import ") || l.starts_with("from ")) && depth_delta(l) == 0
        });
        let at = match last_import {
            Some(i) => i + 1,
            None => self.python_header_end(),
        };
        self.insert(at, vec![stmt]);
        true
    }

    /// Past a shebang, encoding line, comments and a module docstring.
    fn python_header_end(&self) -> usize {
        let mut i = 0;
        while i < self.lines.len()
            && (self.is_blank(i) && !self.lines[i].trim().is_empty()
                || self.lines[i].trim().is_empty())
        {
            i += 1;
        }
        let l = self.lines.get(i).map(|l| l.trim_start()).unwrap_or("");
        if l.starts_with("\"\"\"") || l.starts_with("'''") {
            let q = &l[..3];
            if l.len() >= 6 && l[3..].contains(q) {
                return i + 1;
            }
            if let Some(end) = (i + 1..self.lines.len()).find(|j| self.lines[*j].contains(q)) {
                return end + 1;
            }
        }
        i
    }

    fn ensure_line_import(&mut self, stmt: &str, prefix: &str, header: &str) -> bool {
        if self.lines.iter().any(|l| l.trim() == stmt) {
            return false;
        }
        let last = (0..self.lines.len())
            .rev()
            .find(|i| self.lines[*i].starts_with(prefix));
        match last {
            Some(i) => self.insert(i + 1, vec![stmt.to_string()]),
            None => {
                let head = (0..self.lines.len())
                    .take_while(|i| {
                        self.lines[*i].starts_with(header)
                            || self.lines[*i].starts_with("#!")
                            || self.lines[*i].trim().is_empty()
                    })
                    .last();
                match head {
                    Some(h) => self.insert(h + 1, vec![String::new(), stmt.to_string()]),
                    None => self.insert(0, vec![stmt.to_string(), String::new()]),
                }
            }
        }
        true
    }

    fn ensure_go_import(&mut self, path: &str) -> bool {
        let quoted = format!("\"{path}\"");
        let imported = |l: &str| {
            let t = l.trim();
            t == quoted || t == format!("import {quoted}") || t.ends_with(&format!(" {quoted}"))
        };
        if self.lines.iter().any(|l| imported(l)) {
            return false;
        }
        if let Some(open) = self.lines.iter().position(|l| l.trim() == "import (") {
            let close = (open + 1..self.lines.len())
                .find(|i| self.lines[*i].trim() == ")")
                .unwrap_or(self.lines.len());
            let at = (open + 1..close)
                .find(|i| {
                    let t = self.lines[*i].trim();
                    t.starts_with('"') && t > quoted.as_str()
                })
                .unwrap_or(close);
            self.insert(at, vec![format!("\t{quoted}")]);
            return true;
        }
        if let Some(single) = self.lines.iter().rposition(|l| l.starts_with("import ")) {
            self.insert(single + 1, vec![format!("import {quoted}")]);
            return true;
        }
        let package = self
            .lines
            .iter()
            .position(|l| l.starts_with("package "))
            .map_or(0, |p| p + 1);
        self.insert(package, vec![String::new(), format!("import {quoted}")]);
        true
    }

    /// Index just after the imports (and the blank line after them): where module-level
    /// helpers go in Python and JavaScript, before any code that could call them.
    pub fn after_imports(&self) -> usize {
        let is_import = |i: usize| {
            let l = &self.masked[i];
            match self.lang {
                Language::Python => {
                    (l.starts_with("import ") || l.starts_with("from ")) && depth_delta(l) == 0
                }
                _ => {
                    l.starts_with("import ")
                        || ((l.starts_with("const ")
                            || l.starts_with("let ")
                            || l.starts_with("var "))
                            && l.contains("require("))
                }
            }
        };
        match (0..self.lines.len()).rev().find(|i| is_import(*i)) {
            Some(i) => i + 1,
            None if self.lang == Language::Python => self.python_header_end(),
            None => 0,
        }
    }

    /// The logger variable the file already uses (`logger`, `log`, `LOG`, `LOGGER`), if any:
    /// inserted code logs through it so messages land where the team looks.
    pub fn logger(&self) -> Option<&'static str> {
        ["logger", "log", "LOGGER", "LOG"].into_iter().find(|name| {
            self.masked.iter().any(|l| {
                find_word(l, name).is_some_and(|p| {
                    let rest = l[p + name.len()..].trim_start();
                    rest.starts_with('=') && !rest.starts_with("==") || rest.starts_with(';')
                })
            })
        })
    }
}

const CONTROL_WORDS: [&str; 14] = [
    "if",
    "for",
    "while",
    "switch",
    "catch",
    "try",
    "else",
    "do",
    "synchronized",
    "return",
    "finally",
    "}",
    "case",
    "static",
];

/// Blank string and comment contents of C-family source (Java, Go, JavaScript, Rust), keeping
/// quotes, newlines and byte offsets.
fn mask_c_like(b: &[u8], lang: Language) -> Vec<u8> {
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, k: usize| {
        if b[k] != b'\n' {
            out[k] = b' ';
        }
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'/' && next == Some(b'/') {
            while i < b.len() && b[i] != b'\n' {
                blank(&mut out, i);
                i += 1;
            }
        } else if c == b'/' && next == Some(b'*') {
            let mut k = i;
            while k < b.len() && !(k >= i + 2 && b[k - 1] == b'/' && b[k - 2] == b'*') {
                blank(&mut out, k);
                k += 1;
            }
            i = k;
        } else if c == b'"' || c == b'`' || (c == b'\'' && is_char_literal(lang, b, i)) {
            let raw = c == b'`' && lang == Language::Go;
            let multiline = c == b'`';
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == b'\n' && !multiline {
                    break;
                }
                if b[i] == b'\\' && !raw && i + 1 < b.len() {
                    blank(&mut out, i);
                    i += 1;
                }
                blank(&mut out, i);
                i += 1;
            }
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Rust uses `'` for lifetimes too: only `'x'`, `'\n'` and short multi-byte chars are literals.
fn is_char_literal(lang: Language, b: &[u8], i: usize) -> bool {
    if lang != Language::Rust {
        return true;
    }
    match b.get(i + 1) {
        Some(b'\\') => true,
        Some(c) if c.is_ascii() => b.get(i + 2) == Some(&b'\''),
        Some(_) => (i + 2..(i + 6).min(b.len())).any(|k| b[k] == b'\''),
        None => false,
    }
}

/// Opening minus closing brackets on a masked line.
pub(crate) fn depth_delta(masked: &str) -> i32 {
    masked.bytes().fold(0, |d, b| match b {
        b'(' | b'[' | b'{' => d + 1,
        b')' | b']' | b'}' => d - 1,
        _ => d,
    })
}

/// First identifier-ish word of a trimmed line (`}` counts as a word so `} else {` is caught).
pub(crate) fn first_word(code: &str) -> &str {
    if code.starts_with('}') {
        return "}";
    }
    let end = code
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(code.len());
    &code[..end]
}

/// Whether `b` can be part of an identifier (`$` included for JavaScript).
pub(crate) fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// Byte offset of `word` in `hay` as a whole word.
pub(crate) fn find_word(hay: &str, word: &str) -> Option<usize> {
    find_word_from(hay, word, 0)
}

/// Byte offset of `word` in `hay` at or after `from`, as a whole word.
pub(crate) fn find_word_from(hay: &str, word: &str, from: usize) -> Option<usize> {
    let bytes = hay.as_bytes();
    let mut start = from;
    while let Some(p) = hay.get(start..).and_then(|h| h.find(word)) {
        let at = start + p;
        let before_ok = at == 0 || !is_ident(bytes[at - 1]);
        let after_ok = bytes.get(at + word.len()).is_none_or(|b| !is_ident(*b));
        let word_edge_ok = !word.starts_with(|c: char| c.is_ascii_alphanumeric()) || before_ok;
        if word_edge_ok && (after_ok || !word.ends_with(|c: char| c.is_ascii_alphanumeric())) {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

/// Whether `hay` contains `word` as a whole word.
pub(crate) fn has_word(hay: &str, word: &str) -> bool {
    find_word(hay, word).is_some()
}

/// Index of the bracket closing the one at `open`, on the same masked line.
pub(crate) fn matching_close(masked: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, b) in masked.bytes().enumerate().skip(open) {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Start of the expression ending just before `end`: names, dots, `?.`, `::`, `->` and bracket
/// groups, walking left (`a.b(c).d` from the end of `d`).
pub(crate) fn expr_start(masked: &str, end: usize) -> usize {
    let b = masked.as_bytes();
    let mut pos = end;
    while pos > 0 {
        let c = b[pos - 1];
        if is_ident(c) || c == b'.' || c == b'?' && b.get(pos) == Some(&b'.') {
            pos -= 1;
        } else if c == b':' && pos >= 2 && b[pos - 2] == b':' {
            pos -= 2;
        } else if c == b')' || c == b']' {
            match matching_open(masked, pos - 1) {
                Some(o) => pos = o,
                None => break,
            }
        } else {
            break;
        }
    }
    pos
}

fn matching_open(masked: &str, close: usize) -> Option<usize> {
    super::null_check::matching_open(masked.as_bytes(), 0, close)
}

/// A call found on a line: the callee text and byte spans of the whole call and its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Call {
    /// Callee as written, e.g. `requests.get` or `client.send`.
    pub callee: String,
    /// Byte offset where the callee starts.
    pub start: usize,
    /// Byte offset of `(`.
    pub open: usize,
    /// Byte offset of the matching `)`.
    pub close: usize,
}

impl Call {
    /// The last segment of the callee: `get` for `requests.get`.
    pub fn method(&self) -> &str {
        self.callee
            .rsplit(['.', ':'])
            .next()
            .unwrap_or(&self.callee)
    }

    /// The receiver part of the callee: `requests` for `requests.get`, empty for `fetch`.
    pub fn receiver(&self) -> &str {
        self.callee
            .rfind('.')
            .map_or("", |p| self.callee[..p].trim_end_matches('?'))
    }

    /// The call's text on `line` (callee through `)`).
    pub fn text<'a>(&self, line: &'a str) -> &'a str {
        &line[self.start..=self.close]
    }

    /// The argument text between the parentheses.
    pub fn args<'a>(&self, line: &'a str) -> &'a str {
        &line[self.open + 1..self.close]
    }
}

/// Every call on a masked line whose brackets close on the line, outermost-left first. The
/// callee is the dotted name just before `(` (its receiver may itself contain calls).
pub(crate) fn calls(masked: &str) -> Vec<Call> {
    let b = masked.as_bytes();
    let mut out = Vec::new();
    for (open, c) in b.iter().enumerate() {
        if *c != b'(' || open == 0 {
            continue;
        }
        let mut s = open;
        while s > 0
            && (is_ident(b[s - 1]) || b[s - 1] == b'.' || b[s - 1] == b':' || b[s - 1] == b'?')
        {
            s -= 1;
        }
        while s < open && !is_ident(b[s]) {
            s += 1;
        }
        if s == open {
            continue;
        }
        let Some(close) = matching_close(masked, open) else {
            continue;
        };
        let callee = masked[s..open].to_string();
        if CONTROL_WORDS.contains(&callee.as_str()) || callee == "function" {
            continue;
        }
        out.push(Call {
            callee,
            start: s,
            open,
            close,
        });
    }
    out
}

/// Indent every non-blank line of `lines` by `unit`.
pub(crate) fn indented(lines: &[String], unit: &str) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                l.clone()
            } else {
                format!("{unit}{l}")
            }
        })
        .collect()
}

/// Helper text (one `&str` with `\n`) as lines indented by `indent`, `{I}` replaced by one unit.
pub(crate) fn helper_lines(text: &str, indent: &str, unit: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{indent}{}", l.replace("{I}", unit))
            }
        })
        .collect()
}

/// Escape text for a double-quoted string literal in any of the languages.
pub(crate) fn quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The file's base name without extension: a readable name for breakers and errors.
pub(crate) fn file_stem(path: &str) -> &str {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    base.split('.').next().unwrap_or(base)
}
