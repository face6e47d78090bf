//! A deliberately small Python lexer: enough structure to patch a file safely without a parser.
//!
//! It knows strings (all quote styles, prefixes, escapes, triple quotes), comments, bracket depth
//! and backslash continuations. From that it derives logical statements (a call spread over three
//! lines is one statement) and a *masked* copy of the source in which string and comment bytes are
//! blanked, so searches for `.attr` or `=` never match inside text.

/// One logical statement: the 0-based physical lines it spans, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stmt {
    pub first: usize,
    pub last: usize,
}

/// The lexed file. Byte offsets in `masked` equal those in `text`.
pub(crate) struct PySource<'a> {
    pub text: &'a str,
    pub masked: Vec<u8>,
    /// Byte offset where each physical line starts.
    pub line_starts: Vec<usize>,
    /// Whether each physical line starts inside a (triple-quoted) string: such lines must never
    /// be re-indented, or the string's value would change.
    pub starts_in_string: Vec<bool>,
    pub statements: Vec<Stmt>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    Str { quote: u8, triple: bool },
}

/// Mutable lexer state, kept in one place so the per-byte steps stay small.
struct Lexer<'a> {
    bytes: &'a [u8],
    masked: Vec<u8>,
    i: usize,
    line: usize,
    depth: i32,
    state: State,
    continued: bool,
    open_stmt: Option<usize>,
    line_starts: Vec<usize>,
    starts_in_string: Vec<bool>,
    statements: Vec<Stmt>,
}

impl<'a> PySource<'a> {
    /// Lex `text`. Never fails: unterminated strings or brackets just extend to the end of file.
    pub fn parse(text: &'a str) -> Self {
        let mut lexer = Lexer::new(text.as_bytes());
        lexer.run();
        PySource {
            text,
            masked: lexer.masked,
            line_starts: lexer.line_starts,
            starts_in_string: lexer.starts_in_string,
            statements: lexer.statements,
        }
    }

    /// Number of physical lines (a final line without newline counts).
    pub fn line_count(&self) -> usize {
        let trailing_empty = self.text.is_empty() || self.text.ends_with('\n');
        self.line_starts.len() - usize::from(trailing_empty)
    }

    /// Byte range of a physical line, newline included.
    pub fn line_range(&self, line: usize) -> (usize, usize) {
        let start = self.line_starts[line];
        let end = self
            .line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        (start, end)
    }

    /// Original text of a physical line, newline included.
    pub fn line_text(&self, line: usize) -> &'a str {
        let (start, end) = self.line_range(line);
        &self.text[start..end]
    }

    /// Masked bytes of the lines `first..=last`.
    pub fn masked_lines(&self, first: usize, last: usize) -> &[u8] {
        let (start, _) = self.line_range(first);
        let (_, end) = self.line_range(last);
        &self.masked[start..end]
    }

    /// Leading whitespace of a physical line.
    pub fn indent_of(&self, line: usize) -> &'a str {
        let text = self.line_text(line);
        &text[..text.len() - text.trim_start_matches([' ', '\t']).len()]
    }

    /// Visual indentation width (tabs to the next multiple of 8, as CPython does).
    pub fn indent_cols(&self, line: usize) -> usize {
        self.indent_of(line).chars().fold(0, |col, c| {
            if c == '\t' {
                (col / 8 + 1) * 8
            } else {
                col + 1
            }
        })
    }

    /// Index into `statements` of the statement covering `line`, if any (blank and comment-only
    /// lines belong to none).
    pub fn statement_at(&self, line: usize) -> Option<usize> {
        self.statements
            .iter()
            .position(|s| s.first <= line && line <= s.last)
    }

    /// The first word of a statement (`return`, `if`, `send_receipt`…), from masked text.
    pub fn first_word(&self, stmt: Stmt) -> String {
        let masked = self.masked_lines(stmt.first, stmt.first);
        let trimmed = trim_start_bytes(masked);
        trimmed
            .iter()
            .take_while(|b| is_ident_byte(**b))
            .map(|b| *b as char)
            .collect()
    }
}

impl<'a> Lexer<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Lexer {
            bytes,
            masked: bytes.to_vec(),
            i: 0,
            line: 0,
            depth: 0,
            state: State::Code,
            continued: false,
            open_stmt: None,
            line_starts: vec![0],
            starts_in_string: vec![false],
            statements: Vec::new(),
        }
    }

    fn run(&mut self) {
        while self.i < self.bytes.len() {
            match self.state {
                State::Code => self.code_byte(),
                State::Str { quote, triple } => self.string_byte(quote, triple),
            }
        }
        if let Some(first) = self.open_stmt.take() {
            let last = self.line.min(self.line_starts.len() - 1);
            self.statements.push(Stmt { first, last });
        }
    }

    fn mark_statement(&mut self) {
        self.open_stmt.get_or_insert(self.line);
    }

    fn newline(&mut self, in_string: bool) {
        self.line += 1;
        self.line_starts.push(self.i + 1);
        self.starts_in_string.push(in_string);
    }

    fn code_byte(&mut self) {
        let b = self.bytes[self.i];
        match b {
            b'\n' => self.end_of_code_line(),
            b'#' => return self.comment(),
            b'\'' | b'"' => return self.open_string(b),
            b'\\' => {
                let rest = &self.bytes[self.i + 1..];
                self.continued = rest.starts_with(b"\n") || rest.starts_with(b"\r\n");
            }
            b'(' | b'[' | b'{' => {
                self.depth += 1;
                self.mark_statement();
            }
            b')' | b']' | b'}' => {
                self.depth = (self.depth - 1).max(0);
                self.mark_statement();
            }
            b' ' | b'\t' | b'\r' | 0x0c => {}
            _ => self.mark_statement(),
        }
        self.i += 1;
    }

    fn end_of_code_line(&mut self) {
        if self.depth == 0 && !self.continued {
            if let Some(first) = self.open_stmt.take() {
                self.statements.push(Stmt {
                    first,
                    last: self.line,
                });
            }
        }
        self.continued = false;
        self.newline(false);
    }

    fn comment(&mut self) {
        while self.i < self.bytes.len() && self.bytes[self.i] != b'\n' {
            self.masked[self.i] = b' ';
            self.i += 1;
        }
    }

    fn open_string(&mut self, quote: u8) {
        self.mark_statement();
        let triple = self.bytes[self.i..].starts_with(&[quote, quote, quote]);
        let width = if triple { 3 } else { 1 };
        self.blank(width);
        self.state = State::Str { quote, triple };
    }

    fn blank(&mut self, width: usize) {
        for _ in 0..width {
            if self.i < self.bytes.len() && self.bytes[self.i] != b'\n' {
                self.masked[self.i] = b' ';
            }
            self.i += 1;
        }
    }

    fn string_byte(&mut self, quote: u8, triple: bool) {
        let b = self.bytes[self.i];
        if b == b'\\' {
            self.blank(1);
            self.escaped_byte();
        } else if b == b'\n' {
            if !triple {
                // Unterminated single-quoted string: recover at the line end like CPython would
                // report, rather than swallowing the rest of the file.
                self.state = State::Code;
                return self.end_of_code_line_at_newline();
            }
            self.newline(true);
            self.i += 1;
        } else if b == quote && (!triple || self.bytes[self.i..].starts_with(&[quote; 3])) {
            self.blank(if triple { 3 } else { 1 });
            self.state = State::Code;
        } else {
            self.blank(1);
        }
    }

    /// The byte after a backslash inside a string never closes it; an escaped newline still
    /// starts a new physical line (inside the string).
    fn escaped_byte(&mut self) {
        match self.bytes.get(self.i) {
            Some(b'\n') => {
                self.newline(true);
                self.i += 1;
            }
            Some(_) => self.blank(1),
            None => {}
        }
    }

    fn end_of_code_line_at_newline(&mut self) {
        self.end_of_code_line();
        self.i += 1;
    }
}

/// Identifier bytes; non-ASCII bytes count, since Python identifiers may be Unicode.
pub(crate) fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

pub(crate) fn trim_start_bytes(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_statements_follow_brackets_strings_and_backslashes() {
        let src = "x = f(1,\n      2)  # c(\ns = \"\"\"doc\n  (still doc\n\"\"\"\ny = 1 + \\\n    2\n\n# only comment\nz = ')'\n";
        let py = PySource::parse(src);
        let spans: Vec<(usize, usize)> = py.statements.iter().map(|s| (s.first, s.last)).collect();
        assert_eq!(spans, vec![(0, 1), (2, 4), (5, 6), (9, 9)]);
        assert_eq!(
            py.starts_in_string,
            vec![false, false, false, true, true, false, false, false, false, false, false]
        );
        assert_eq!(py.line_count(), 10);
        assert_eq!(py.statement_at(8), None);
        let masked = String::from_utf8_lossy(py.masked_lines(9, 9)).to_string();
        assert_eq!(masked, "z =    \n");
    }

    #[test]
    fn indent_helpers() {
        let py = PySource::parse("def f():\n\tif x:\n\t    return 1\n");
        assert_eq!(py.indent_of(1), "\t");
        assert_eq!(py.indent_cols(2), 12);
        assert_eq!(py.first_word(py.statements[2]), "return");
    }
}
