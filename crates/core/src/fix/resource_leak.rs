//! The resource-leak template: make the file, socket or connection opened at the culprit line
//! close on every path.
//!
//! Python gets `with`, Java try-with-resources, Go `defer x.Close()` after the error check,
//! JavaScript/TypeScript `try { … } finally { close }`. Rust is refused: RAII already closes
//! the value when it goes out of scope, so a leak there is a lifetime problem for a human.
//! The template refuses when no known opener is on the line and when the resource escapes the
//! function (returned or stored), because closing it then would break its user.

use super::code::{find_word, indented, Code};
use super::stmt::{classify, StmtKind};
use super::template::{unsupported, FixInput, FixTemplate, Language, Patch, Refusal, SignalKind};

/// Template name recorded in [`Patch::template`].
pub const NAME: &str = "resource_leak";

/// The resource-leak template.
pub struct ResourceLeak;

impl FixTemplate for ResourceLeak {
    fn name(&self) -> &'static str {
        NAME
    }

    fn signal_fit(&self, signal: SignalKind) -> (f64, &'static str) {
        match signal {
            SignalKind::Saturation => (
                1.0,
                "leaked handles exhaust file descriptors and pools: a saturation signal",
            ),
            SignalKind::Errors => (
                0.6,
                "a leak surfaces as errors once the pool or descriptor limit is hit",
            ),
            SignalKind::Latency => (
                0.4,
                "callers queue for a pool drained by leaks, which looks like latency",
            ),
        }
    }

    fn propose(&self, input: &FixInput<'_>) -> Result<Patch, Refusal> {
        resource_leak(input)
    }
}

const PY_OPENERS: [&str; 17] = [
    "open",
    "io.open",
    "socket.socket",
    "socket.create_connection",
    "sqlite3.connect",
    "psycopg2.connect",
    "pymysql.connect",
    "urlopen",
    "urllib.request.urlopen",
    "request.urlopen",
    "requests.Session",
    "tempfile.NamedTemporaryFile",
    "tempfile.TemporaryFile",
    "zipfile.ZipFile",
    "tarfile.open",
    "gzip.open",
    "bz2.open",
];

const JAVA_NEW: [&str; 16] = [
    "FileInputStream",
    "FileOutputStream",
    "FileReader",
    "FileWriter",
    "BufferedReader",
    "BufferedWriter",
    "InputStreamReader",
    "OutputStreamWriter",
    "Scanner",
    "Socket",
    "ServerSocket",
    "RandomAccessFile",
    "ZipFile",
    "PrintWriter",
    "ObjectInputStream",
    "ObjectOutputStream",
];

const JAVA_METHODS: [&str; 12] = [
    "newBufferedReader",
    "newBufferedWriter",
    "newInputStream",
    "newOutputStream",
    "lines",
    "list",
    "walk",
    "getConnection",
    "prepareStatement",
    "createStatement",
    "executeQuery",
    "openStream",
];

/// Close the resource opened at the culprit line on every path.
pub fn resource_leak(input: &FixInput<'_>) -> Result<Patch, Refusal> {
    if input.language == Language::Rust {
        return Err(unsupported(
            NAME,
            input.language,
            "RAII already closes files, sockets and connections when their owner goes out of scope; a Rust leak is a lifetime (or mem::forget/Rc cycle) problem that needs a human",
        ));
    }
    let mut code = Code::parse(input.source, input.language);
    let idx = code.culprit(input.line)?;
    let first = super::code::first_word(code.code(idx));
    if first == "with" || code.code(idx).starts_with("try (") {
        return Err(Refusal::AlreadyApplied {
            why: "the resource is already opened in a `with` / try-with-resources header".into(),
        });
    }
    code.require_single_statement_line(input, idx)?;
    let StmtKind::Declaration {
        names,
        target,
        value,
    } = classify(&code, idx)
    else {
        return Err(Refusal::NoResourceOpened {
            why: "the line does not assign an opened resource to a variable".into(),
        });
    };
    let name = names.first().cloned().unwrap_or_default();
    let how = match input.language {
        Language::Python => python(&mut code, idx, &name, &value)?,
        Language::Java => java(&mut code, idx, &name, &target, &value)?,
        Language::Go => go(&mut code, idx, &name, names.len() > 1, &value)?,
        _ => js(&mut code, idx, &name, &value)?,
    };
    let text = input.evidence_text();
    let leak_words = [
        "too many open files",
        "emfile",
        "resourcewarning",
        "unclosed",
        "leak",
        "pool exhausted",
        "connection pool",
        "waiting for connection",
        "remaining connection slots",
        "pool is full",
    ];
    let evidence = if leak_words.iter().any(|w| text.contains(w)) {
        0.85
    } else {
        0.45
    };
    let rationale = format!(
        "`{name}` is opened at {}:{} and was not closed on every path; {how}.",
        input.file, input.line
    );
    Ok(Patch::new(NAME, input, code.render(), rationale, evidence))
}

/// Callee at the start of an initialiser (`open` in `open(path, "rb")`, after `await`/`new`).
fn leading_callee(value: &str) -> &str {
    let v = value
        .trim_start_matches("await ")
        .trim_start_matches("new ")
        .trim_start();
    let end = v.find('(').unwrap_or(v.len());
    &v[..end]
}

/// The rest of the block after `idx`, and refusal when the resource escapes.
fn rest_of_block(code: &Code, idx: usize, name: &str) -> Result<(usize, usize), Refusal> {
    let end = code.block_end(idx);
    for i in idx + 1..end {
        let l = code.code(i);
        let escapes = matches!(super::code::first_word(l), "return" | "yield")
            && hands_out(l, name)
            || l.trim_end_matches(';').ends_with(&format!("= {name}"));
        if escapes {
            return Err(Refusal::ResourceEscapes {
                name: name.to_string(),
                why: format!("line {} hands it out: `{}`", i + 1, code.lines[i].trim()),
            });
        }
    }
    let fn_end = code
        .function_header(idx)
        .map_or(code.lines.len(), |h| code.body_end(h));
    if code.lang == Language::Python
        && (end..fn_end).any(|i| find_word(&code.masked[i], name).is_some())
    {
        return Err(Refusal::ResourceEscapes {
            name: name.to_string(),
            why: "it is used after the block it is opened in".into(),
        });
    }
    Ok((idx + 1, end))
}

/// Whether `name` appears as a value of its own (not `name.method()` / `name[i]`): returning
/// or yielding the resource itself hands it to the caller; returning something read from it
/// does not.
fn hands_out(line: &str, name: &str) -> bool {
    let mut from = 0;
    while let Some(p) = line.get(from..).and_then(|l| find_word(l, name)) {
        let at = from + p;
        let next = line[at + name.len()..].trim_start().chars().next();
        if !matches!(next, Some('.' | '[' | '(')) {
            return true;
        }
        from = at + name.len();
    }
    false
}

/// Lines of the block without the explicit closes the new construct makes redundant.
fn without_closes(code: &Code, from: usize, to: usize, closes: &[String]) -> Vec<String> {
    let width = code.width(from.saturating_sub(1));
    (from..to)
        .filter(|i| !(code.width(*i) == width && closes.iter().any(|c| code.code(*i) == c)))
        .map(|i| {
            code.lines[i]
                .strip_prefix(code.indent(from - 1))
                .unwrap_or(&code.lines[i])
                .to_string()
        })
        .collect()
}

fn python(code: &mut Code, idx: usize, name: &str, value: &str) -> Result<String, Refusal> {
    let callee = leading_callee(value);
    if !PY_OPENERS.contains(&callee) {
        return Err(Refusal::NoResourceOpened {
            why: format!("`{callee}(…)` is not a call the template knows to open a file, socket or connection"),
        });
    }
    let (from, to) = rest_of_block(code, idx, name)?;
    let mut body = without_closes(code, from, to, &[format!("{name}.close()")]);
    while body.last().is_some_and(|l| l.trim().is_empty()) {
        body.pop();
    }
    let (indent, unit) = (code.indent(idx).to_string(), code.unit());
    if body.iter().all(|l| l.trim().is_empty()) {
        body = vec!["pass".to_string()];
    }
    let mut new = vec![format!("{indent}with {value} as {name}:")];
    new.extend(indented(&body, &format!("{indent}{unit}")));
    let keep_blank: Vec<String> = (from..to)
        .rev()
        .take_while(|i| code.lines[*i].trim().is_empty())
        .map(|_| String::new())
        .collect();
    new.extend(keep_blank);
    code.splice(idx..to, new);
    Ok(format!("it is now opened in `with {callee}(…) as {name}:`, which closes it when the block ends, even on an exception"))
}

fn java(
    code: &mut Code,
    idx: usize,
    name: &str,
    target: &str,
    value: &str,
) -> Result<String, Refusal> {
    let v = value.trim();
    let is_new = v
        .strip_prefix("new ")
        .is_some_and(|rest| JAVA_NEW.iter().any(|t| leading_callee(rest).trim() == *t));
    let method = leading_callee(v).rsplit('.').next().unwrap_or("");
    if !is_new && !JAVA_METHODS.contains(&method) {
        return Err(Refusal::NoResourceOpened {
            why: format!("`{}` does not create a stream, reader, socket, connection, statement or result set the template knows", leading_callee(v)),
        });
    }
    let (from, to) = rest_of_block(code, idx, name)?;
    let body = without_closes(code, from, to, &[format!("{name}.close();")]);
    let (indent, unit) = (code.indent(idx).to_string(), code.unit());
    let mut new = vec![format!("{indent}try ({target} = {v}) {{")];
    new.extend(indented(&body, &format!("{indent}{unit}")));
    new.push(format!("{indent}}}"));
    code.splice(idx..to, new);
    Ok(format!("it is now declared in a try-with-resources header, so `{name}.close()` runs when the block ends, even on an exception"))
}

fn go(
    code: &mut Code,
    idx: usize,
    name: &str,
    has_err: bool,
    value: &str,
) -> Result<String, Refusal> {
    let callee = leading_callee(value);
    let method = callee.rsplit('.').next().unwrap_or("");
    let closer = match callee {
        "os.Open" | "os.Create" | "os.OpenFile" | "net.Dial" | "net.DialTimeout" | "sql.Open" | "net.Listen" => format!("{name}.Close()"),
        "http.Get" | "http.Post" | "http.Head" | "http.PostForm" => format!("{name}.Body.Close()"),
        _ if method == "Do" => format!("{name}.Body.Close()"),
        _ if matches!(method, "Query" | "QueryContext" | "Conn" | "Begin") => format!("{name}.Close()"),
        _ => {
            return Err(Refusal::NoResourceOpened {
                why: format!("`{callee}(…)` is not a call the template knows to open a file, connection, response body or rows"),
            })
        }
    };
    let header = code.function_header(idx).unwrap_or(0);
    let fn_end = code.body_end(header);
    if (header..fn_end.min(code.lines.len())).any(|i| code.code(i) == format!("defer {closer}")) {
        return Err(Refusal::AlreadyApplied {
            why: format!("the function already has `defer {closer}`"),
        });
    }
    let (from, to) = rest_of_block(code, idx, name)?;
    let indent = code.indent(idx).to_string();
    let next = (from..to).find(|i| !code.is_blank(*i));
    let insert_after = match next {
        Some(n) if code.code(n).starts_with("if err != nil") && code.code(n).ends_with('{') => {
            (n + 1..to).find(|i| code.width(*i) == code.width(n) && code.code(*i) == "}").unwrap_or(idx)
        }
        _ if has_err => {
            return Err(Refusal::UnsafeStatement {
                why: format!("no `if err != nil {{ … }}` follows the open; deferring `{closer}` before the error check would dereference a nil value when the open fails"),
            })
        }
        _ => idx,
    };
    let explicit: Vec<usize> = (insert_after + 1..to)
        .filter(|i| code.width(*i) == code.width(idx) && code.code(*i) == closer)
        .collect();
    for i in explicit.iter().rev() {
        code.splice(*i..*i + 1, Vec::new());
    }
    code.insert(insert_after + 1, vec![format!("{indent}defer {closer}")]);
    Ok(format!(
        "`defer {closer}` now follows the error check, so it is closed on every return path"
    ))
}

fn js(code: &mut Code, idx: usize, name: &str, value: &str) -> Result<String, Refusal> {
    let callee = leading_callee(value);
    let method = callee.rsplit('.').next().unwrap_or("");
    let awaited = value.trim_start().starts_with("await ");
    let closer = match callee {
        "fs.openSync" => format!("fs.closeSync({name});"),
        "fs.createReadStream" | "fs.createWriteStream" | "net.createConnection" | "net.connect" | "tls.connect" => format!("{name}.destroy();"),
        _ if awaited && method == "open" => format!("await {name}.close();"),
        _ if awaited && matches!(method, "connect" | "getConnection") => format!("{name}.release();"),
        "WebSocket" => format!("{name}.close();"),
        _ => {
            return Err(Refusal::NoResourceOpened {
                why: format!("`{callee}(…)` is not a call the template knows to open a file, stream, socket or pooled connection"),
            })
        }
    };
    let (from, to) = rest_of_block(code, idx, name)?;
    if (from..to).any(|i| code.code(i) == closer)
        && (from..to).any(|i| code.code(i).starts_with("} finally"))
    {
        return Err(Refusal::AlreadyApplied {
            why: format!("`{closer}` already runs in a `finally`"),
        });
    }
    let mut body = without_closes(code, from, to, std::slice::from_ref(&closer));
    while body.last().is_some_and(|l| l.trim().is_empty()) {
        body.pop();
    }
    let (indent, unit) = (code.indent(idx).to_string(), code.unit());
    let mut new = vec![code.lines[idx].clone(), format!("{indent}try {{")];
    new.extend(indented(&body, &format!("{indent}{unit}")));
    new.push(format!("{indent}}} finally {{"));
    new.push(format!("{indent}{unit}{closer}"));
    new.push(format!("{indent}}}"));
    code.splice(idx..to, new);
    Ok(format!("the code using it now runs in `try {{ … }} finally {{ {closer} }}`, so it is closed even when that code throws"))
}
