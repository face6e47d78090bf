//! The condition language of decision trees. Deliberately small — comparisons joined by
//! and/or/not — so a tree stays readable by whoever is on call, and so every expression is
//! parsed and checked when the tree is loaded, not when a production failure reaches it.
//!
//! ```text
//! expr   := or
//! or     := and (("||" | "or") and)*
//! and    := not (("&&" | "and") not)*
//! not    := ("!" | "not") not | cmp
//! cmp    := value (op value)?        op: == != < <= > >= in contains
//! value  := field | "string" | 'string' | number | true | false | [value, ...] | ( expr )
//! ```
//!
//! Fields: `category`, `severity`, `confidence`, `environment`, `provider`, `kind`, `project`,
//! `status`, `failed_stage`, `failed_jobs`, `replicas`, `healthy_replicas`, and `metadata.<key>`
//! for any fact of the case (missing → null, which equals nothing). `severity` compares by rank
//! (`severity >= "high"`); strings compared with `severity` or `category` must be valid names,
//! checked at load. Text that looks like a number compares as one (`metadata.exit_code == 137`).

use super::category::{Category, Severity};
use std::collections::BTreeMap;
use std::fmt;

/// The fields a condition may name (besides `metadata.<key>`).
pub const FIELDS: &[&str] = &[
    "category",
    "severity",
    "confidence",
    "environment",
    "provider",
    "kind",
    "project",
    "status",
    "failed_stage",
    "failed_jobs",
    "replicas",
    "healthy_replicas",
];

/// A value while evaluating.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Missing field.
    Null,
    /// Text.
    Str(String),
    /// Number.
    Num(f64),
    /// Boolean.
    Bool(bool),
    /// A severity, compared by rank.
    Sev(Severity),
    /// A list literal.
    List(Vec<Value>),
}

/// What an expression is evaluated against: field name → value.
pub type Facts = BTreeMap<String, Value>;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in` (left is an element of the right list)
    In,
    /// `contains` (substring, or list element)
    Contains,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A field reference.
    Field(String),
    /// A literal.
    Lit(Value),
    /// A list literal.
    List(Vec<Expr>),
    /// `!e`
    Not(Box<Expr>),
    /// `a && b`
    And(Box<Expr>, Box<Expr>),
    /// `a || b`
    Or(Box<Expr>, Box<Expr>),
    /// `a op b`
    Cmp(Box<Expr>, Op, Box<Expr>),
}

/// Why an expression was refused; `at` is a 1-based character offset in the expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {at} of `{text}`)")]
pub struct ExprError {
    /// The expression.
    pub text: String,
    /// 1-based character offset.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Op(&'static str),
    End,
}

struct Lexer {
    toks: Vec<(Tok, usize)>,
}

/// Most tokens one expression may have. A `when:` is a line or two; the limit bounds the parser's
/// recursion and the depth of the tree that checking and evaluating walk, so a hostile tree file
/// gets a positioned error instead of overflowing the stack.
pub const MAX_TOKENS: usize = 512;

fn lex(text: &str) -> Result<Lexer, (usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if toks.len() == MAX_TOKENS {
            return Err((
                i + 1,
                format!("expression too long: more than {MAX_TOKENS} tokens"),
            ));
        }
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_.-".contains(chars[i]))
            {
                i += 1;
            }
            toks.push((Tok::Ident(chars[start..i].iter().collect()), at));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            let n = s.parse().map_err(|_| (at, format!("bad number `{s}`")))?;
            toks.push((Tok::Num(n), at));
        } else if c == '"' || c == '\'' {
            let end = chars[i + 1..]
                .iter()
                .position(|&d| d == c)
                .ok_or((at, "unterminated string".to_string()))?;
            toks.push((Tok::Str(chars[i + 1..i + 1 + end].iter().collect()), at));
            i += end + 2;
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = ["==", "!=", "<=", ">=", "&&", "||"]
                .into_iter()
                .find(|o| *o == two)
                .or_else(|| {
                    ["<", ">", "!", "(", ")", "[", "]", ","]
                        .into_iter()
                        .find(|o| o.starts_with(c))
                })
                .ok_or((at, format!("unexpected `{c}`")))?;
            i += op.len();
            toks.push((Tok::Op(op), at));
        }
    }
    toks.push((Tok::End, chars.len() + 1));
    Ok(Lexer { toks })
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].0
    }

    fn at(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].1
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn is(&self, op: &str) -> bool {
        match self.peek() {
            Tok::Op(o) => *o == op,
            Tok::Ident(w) => w == op,
            _ => false,
        }
    }

    fn or(&mut self) -> Result<Expr, (usize, String)> {
        let mut left = self.and()?;
        while self.is("||") || self.is("or") {
            self.bump();
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, (usize, String)> {
        let mut left = self.not()?;
        while self.is("&&") || self.is("and") {
            self.bump();
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, (usize, String)> {
        if self.is("!") || self.is("not") {
            self.bump();
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, (usize, String)> {
        let left = self.value()?;
        let op = match self.peek() {
            Tok::Op("==") => Op::Eq,
            Tok::Op("!=") => Op::Ne,
            Tok::Op("<") => Op::Lt,
            Tok::Op("<=") => Op::Le,
            Tok::Op(">") => Op::Gt,
            Tok::Op(">=") => Op::Ge,
            Tok::Ident(w) if w == "in" => Op::In,
            Tok::Ident(w) if w == "contains" => Op::Contains,
            _ => return Ok(left),
        };
        self.bump();
        let right = self.value()?;
        Ok(Expr::Cmp(Box::new(left), op, Box::new(right)))
    }

    fn value(&mut self) -> Result<Expr, (usize, String)> {
        let at = self.at();
        match self.bump() {
            Tok::Str(s) => Ok(Expr::Lit(Value::Str(s))),
            Tok::Num(n) => Ok(Expr::Lit(Value::Num(n))),
            Tok::Ident(w) if w == "true" => Ok(Expr::Lit(Value::Bool(true))),
            Tok::Ident(w) if w == "false" => Ok(Expr::Lit(Value::Bool(false))),
            Tok::Ident(w) if ["and", "or", "not", "in", "contains"].contains(&w.as_str()) => {
                Err((at, format!("expected a value, found `{w}`")))
            }
            Tok::Ident(w) => Ok(Expr::Field(w)),
            Tok::Op("(") => {
                let e = self.or()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                if !self.is("]") {
                    loop {
                        items.push(self.value()?);
                        if self.is(",") {
                            self.bump();
                        } else {
                            break;
                        }
                    }
                }
                self.expect("]")?;
                Ok(Expr::List(items))
            }
            Tok::Op(o) => Err((at, format!("expected a value, found `{o}`"))),
            Tok::End => Err((at, "expected a value, found the end".to_string())),
        }
    }

    fn expect(&mut self, op: &str) -> Result<(), (usize, String)> {
        if self.is(op) {
            self.bump();
            Ok(())
        } else {
            Err((self.at(), format!("expected `{op}`")))
        }
    }
}

/// The expression as an error quotes it: whole when short, else its start.
fn shown(text: &str) -> String {
    const SHOWN: usize = 80;
    if text.chars().count() <= SHOWN {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(SHOWN).collect::<String>())
    }
}

/// Parse `text` and check its field names and literals.
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let err = |(at, message): (usize, String)| ExprError {
        text: shown(text),
        at,
        message,
    };
    let lexer = lex(text).map_err(err)?;
    let mut p = Parser {
        toks: lexer.toks,
        pos: 0,
    };
    let e = p.or().map_err(err)?;
    if *p.peek() != Tok::End {
        return Err(err((p.at(), "unexpected text after the expression".into())));
    }
    check(&e).map_err(|m| err((1, m)))?;
    Ok(e)
}

/// Unknown fields, and severity/category literals that name nothing, are load-time errors.
fn check(e: &Expr) -> Result<(), String> {
    match e {
        Expr::Field(f) => {
            if FIELDS.contains(&f.as_str())
                || f.strip_prefix("metadata.").is_some_and(|k| !k.is_empty())
            {
                Ok(())
            } else {
                Err(format!(
                    "unknown field `{f}`; known: {}, metadata.<key>",
                    FIELDS.join(", ")
                ))
            }
        }
        Expr::Lit(_) => Ok(()),
        Expr::List(items) => items.iter().try_for_each(check),
        Expr::Not(a) => check(a),
        Expr::And(a, b) | Expr::Or(a, b) => check(a).and_then(|_| check(b)),
        Expr::Cmp(a, op, b) => {
            check(a)?;
            check(b)?;
            // `contains` takes fragments; every other comparison must name real values.
            if *op == Op::Contains {
                return Ok(());
            }
            for (field, other) in [(a, b), (b, a)] {
                if let Expr::Field(f) = field.as_ref() {
                    names_valid(f, other)?;
                }
            }
            Ok(())
        }
    }
}

fn names_valid(field: &str, other: &Expr) -> Result<(), String> {
    let literals: Vec<&str> = match other {
        Expr::Lit(Value::Str(s)) => vec![s.as_str()],
        Expr::List(items) => items
            .iter()
            .filter_map(|i| match i {
                Expr::Lit(Value::Str(s)) => Some(s.as_str()),
                _ => None,
            })
            .collect(),
        _ => return Ok(()),
    };
    for lit in literals {
        let ok = match field {
            "severity" => Severity::parse(lit).is_some(),
            "category" => Category::parse(lit).is_some(),
            _ => true,
        };
        if !ok {
            let names: Vec<&str> = if field == "severity" {
                Severity::ALL.iter().map(|s| s.as_str()).collect()
            } else {
                Category::ALL.iter().map(|c| c.as_str()).collect()
            };
            return Err(format!(
                "`{lit}` is not a {field}; use one of {}",
                names.join(", ")
            ));
        }
    }
    Ok(())
}

impl Expr {
    /// Evaluate to a boolean against `facts` (a non-boolean result is truthy when it is a
    /// non-empty string, a non-zero number or a non-empty list).
    pub fn eval(&self, facts: &Facts) -> bool {
        truthy(&self.value(facts))
    }

    fn value(&self, facts: &Facts) -> Value {
        match self {
            Expr::Field(f) => facts.get(f).cloned().unwrap_or(Value::Null),
            Expr::Lit(v) => v.clone(),
            Expr::List(items) => Value::List(items.iter().map(|i| i.value(facts)).collect()),
            Expr::Not(a) => Value::Bool(!a.eval(facts)),
            Expr::And(a, b) => Value::Bool(a.eval(facts) && b.eval(facts)),
            Expr::Or(a, b) => Value::Bool(a.eval(facts) || b.eval(facts)),
            Expr::Cmp(a, op, b) => Value::Bool(compare(&a.value(facts), *op, &b.value(facts))),
        }
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Str(s) => !s.is_empty(),
        Value::Num(n) => *n != 0.0,
        Value::Sev(_) => true,
        Value::List(l) => !l.is_empty(),
    }
}

/// Bring two values to a comparable pair: severity names become severities next to a
/// severity, numeric text becomes a number next to a number.
fn coerce(a: &Value, b: &Value) -> (Value, Value) {
    let conv = |x: &Value, other: &Value| match (x, other) {
        (Value::Str(s), Value::Sev(_)) => Severity::parse(s).map_or(x.clone(), Value::Sev),
        (Value::Str(s), Value::Num(_)) => s.trim().parse().map_or(x.clone(), Value::Num),
        _ => x.clone(),
    };
    (conv(a, b), conv(b, a))
}

fn equal(a: &Value, b: &Value) -> bool {
    let (a, b) = coerce(a, b);
    match (&a, &b) {
        (Value::Null, _) | (_, Value::Null) => false,
        _ => a == b,
    }
}

fn compare(a: &Value, op: Op, b: &Value) -> bool {
    match op {
        Op::Eq => equal(a, b),
        Op::Ne => !equal(a, b),
        Op::In => match b {
            Value::List(items) => items.iter().any(|i| equal(a, i)),
            _ => false,
        },
        Op::Contains => match (a, b) {
            (Value::Str(s), Value::Str(t)) => s.contains(t.as_str()),
            (Value::List(items), x) => items.iter().any(|i| equal(i, x)),
            _ => false,
        },
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let (a, b) = coerce(a, b);
            let ord = match (&a, &b) {
                (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
                (Value::Sev(x), Value::Sev(y)) => Some(x.cmp(y)),
                _ => None,
            };
            match ord {
                None => false,
                Some(o) => match op {
                    Op::Lt => o.is_lt(),
                    Op::Le => o.is_le(),
                    Op::Gt => o.is_gt(),
                    _ => o.is_ge(),
                },
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Num(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Sev(s) => write!(f, "{s}"),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", parts.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        let mut f = Facts::new();
        f.insert("category".into(), Value::Str("network".into()));
        f.insert("severity".into(), Value::Sev(Severity::High));
        f.insert("confidence".into(), Value::Num(0.8));
        f.insert("metadata.exit_code".into(), Value::Str("137".into()));
        f
    }

    fn eval(s: &str) -> bool {
        parse(s).unwrap().eval(&facts())
    }

    #[test]
    fn comparisons_and_logic() {
        assert!(eval(r#"category == "network" && severity >= "high""#));
        assert!(!eval(r#"severity > 'high'"#));
        assert!(eval(
            r#"category in ["timing", "network"] and confidence >= 0.5"#
        ));
        assert!(eval("metadata.exit_code == 137"));
        assert!(eval("!(metadata.missing == 1) && metadata.missing != 1"));
        assert!(eval(r#"category contains "net" || false"#));
        assert!(!eval("metadata.missing"));
    }

    #[test]
    fn errors_are_found_at_load_with_a_position() {
        assert_eq!(
            parse(r#"severity >= "hihg""#).unwrap_err().to_string(),
            "`hihg` is not a severity; use one of info, low, medium, high, critical (at character 1 of `severity >= \"hihg\"`)"
        );
        assert!(parse("categry == 'x'")
            .unwrap_err()
            .message
            .starts_with("unknown field `categry`"));
        let e = parse("severity >= ").unwrap_err();
        assert_eq!(
            (e.at, e.message.as_str()),
            (13, "expected a value, found the end")
        );
        assert_eq!(parse("a == 'x").unwrap_err().message, "unterminated string");
        assert_eq!(parse("(severity").unwrap_err().message, "expected `)`");
    }

    #[test]
    fn hostile_nesting_and_length_are_refused_with_a_position_not_a_stack_overflow() {
        for text in [
            format!("{}true{}", "(".repeat(9_000), ")".repeat(9_000)),
            vec!["severity == 'high'"; 23_500].join(" && "),
            format!("{}true", "!".repeat(37_000)),
            format!("category in [{}]", vec!["'network'"; 2_000].join(", ")),
        ] {
            let e = parse(&text).expect_err("refused");
            assert!(e.message.contains("too long"), "{e}");
            assert!(e.at > 1 && e.at <= text.chars().count(), "{}", e.at);
            assert!(e.to_string().len() < 300, "the error quotes the start only");
        }
        // The longest accepted expression still parses, checks and evaluates.
        let ok = vec!["severity == 'high'"; 100].join(" || ");
        assert!(parse(&ok).expect("fits").eval(&facts()));
    }
}
