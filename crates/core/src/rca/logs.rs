//! Evidence from error logs: which dependency a service's errors name.
//!
//! Metrics cannot tell "the store failed" from "its only caller failed": both predict the same
//! caller curves. The caller's error log can: `could not connect to server "postgres-primary"`,
//! `ECONNREFUSED 10.0.3.7:6379`, `redis.exceptions.ConnectionError`. A line names a dependency
//! in one of three ways, strongest first:
//! 1. a **host name** of the graph (bare, with a port, quoted, in a URL or a cluster DNS name);
//! 2. a **port** of a well-known server (6379 Redis, 5432 PostgreSQL, 27017 MongoDB, …) on any
//!    address, resolved to the logging service's callees of that kind;
//! 3. a **client library** or its exception (`psycopg2`, `pymongo`, `redis.exceptions`, `pika`,
//!    …), resolved the same way.
//!
//! Parsing is bounded: at most [`MAX_SERVICES`] services, [`MAX_ENTRIES`] entries per service,
//! [`MAX_LINES`] lines per entry, [`MAX_LINE_CHARS`] characters per line and [`MAX_TOTAL_CHARS`]
//! over the whole bundle; the rest is skipped, never an error. Entries far from the incident
//! (older than [`MAX_AGE_S`] before its start, or later than [`MAX_AFTER_S`]) say nothing about it.

use super::graph::Graph;
use super::BundleLogLine;
use std::collections::{BTreeMap, HashMap};

/// Services whose logs are read at most.
pub const MAX_SERVICES: usize = 2_000;
/// Entries (lines or stack traces) read per service at most.
pub const MAX_ENTRIES: usize = 100;
/// Lines read per entry at most (a stack trace names its cause in its first and last lines).
pub const MAX_LINES: usize = 60;
/// Characters read per line at most.
pub const MAX_LINE_CHARS: usize = 2_000;
/// Characters read over the whole bundle at most.
pub const MAX_TOTAL_CHARS: usize = 4_000_000;
/// Entries older than this before the incident start (seconds) are not about it.
pub const MAX_AGE_S: i64 = 900;
/// Entries later than this after the incident start (seconds) are not about its cause.
pub const MAX_AFTER_S: i64 = 600;
/// Longest token considered a host name (DNS limit).
const MAX_HOST_CHARS: usize = 253;

/// How a line named the dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum How {
    /// A client library or its exception, resolved to the callee of that kind.
    Library,
    /// A well-known server port, resolved to the callee of that kind.
    Port,
    /// The dependency's host name.
    Host,
}

/// One service's logs naming another.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Graph id of the service that logged.
    pub from: usize,
    /// Graph id of the service named.
    pub to: usize,
    /// The strongest way it was named.
    pub how: How,
    /// Entries that named it.
    pub entries: usize,
    /// The first line that named it (cut to 160 characters), for the evidence.
    pub excerpt: String,
    /// Whether `to` is a direct callee of `from`.
    pub direct: bool,
}

/// Kinds of server a port or a library points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Postgres,
    Mysql,
    Redis,
    Memcached,
    Mongo,
    Amqp,
    Kafka,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Postgres,
        Kind::Mysql,
        Kind::Redis,
        Kind::Memcached,
        Kind::Mongo,
        Kind::Amqp,
        Kind::Kafka,
    ];

    fn of_port(p: u32) -> Option<Kind> {
        Some(match p {
            5432 | 6432 => Kind::Postgres,
            3306 => Kind::Mysql,
            6379 | 26379 => Kind::Redis,
            11211 => Kind::Memcached,
            27017 | 27018 => Kind::Mongo,
            5672 | 5671 => Kind::Amqp,
            9092 => Kind::Kafka,
            _ => return None,
        })
    }

    /// Client libraries, drivers and their exceptions (lowercase substrings).
    fn libraries(self) -> &'static [&'static str] {
        match self {
            Kind::Postgres => &["psycopg", "postgresql", "psqlexception", "pq: ", "asyncpg"],
            Kind::Mysql => &["mysql", "mariadb"],
            // `redis:` also covers the Rust client's RedisError paths (matching is by substring).
            Kind::Redis => &["redis.exceptions", "ioredis", "jedis", "redis:"],
            Kind::Memcached => &["memcache"],
            Kind::Mongo => &[
                "pymongo",
                "mongotimeouterror",
                "mongonetworkerror",
                "mongodb",
            ],
            Kind::Amqp => &["pika.exceptions", "amqp", "rabbitmq"],
            Kind::Kafka => &["kafka"],
        }
    }

    /// Name segments of a node of this kind: specific ones first, then generic ones.
    fn names(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Kind::Postgres => (&["postgres", "pg", "psql"], &["db", "sql", "database"]),
            Kind::Mysql => (&["mysql", "maria"], &["db", "sql", "database"]),
            Kind::Redis => (&["redis"], &["cache"]),
            Kind::Memcached => (&["memcache"], &["cache"]),
            Kind::Mongo => (&["mongo"], &["db", "database"]),
            Kind::Amqp => (&["rabbit", "amqp"], &["queue", "mq"]),
            Kind::Kafka => (&["kafka"], &["queue", "stream"]),
        }
    }
}

/// Name segments: `mongodb-rate` → `mongodb`, `rate`; `db-0` → `db`.
fn segments(name: &str) -> impl Iterator<Item = &str> {
    name.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|s| !s.is_empty())
}

fn segment_matches(seg: &str, key: &str) -> bool {
    if key.len() <= 2 {
        seg == key
    } else {
        seg.starts_with(key)
    }
}

fn node_has(name: &str, keys: &[&str]) -> bool {
    segments(name).any(|s| keys.iter().any(|k| segment_matches(s, k)))
}

/// Callees of `from` of this kind: by a specific name segment, else by a generic one that no
/// other kind claims specifically.
fn resolve_kind(g: &Graph, lower: &[String], from: usize, kind: Kind) -> Vec<usize> {
    let (specific, generic) = kind.names();
    let callees = &g.callees[from];
    let hit: Vec<usize> = callees
        .iter()
        .copied()
        .filter(|&c| node_has(&lower[c], specific))
        .collect();
    if !hit.is_empty() {
        return hit;
    }
    callees
        .iter()
        .copied()
        .filter(|&c| {
            node_has(&lower[c], generic)
                && !Kind::ALL
                    .iter()
                    .filter(|&&k| k != kind)
                    .any(|k| node_has(&lower[c], k.names().0))
        })
        .collect()
}

/// A name that cannot be an ordinary word: it has a separator or a digit.
fn distinctive(name: &str) -> bool {
    name.chars().any(|c| !c.is_ascii_alphabetic())
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

/// What one line names: `(graph id, how)`.
fn scan_line(
    line: &str,
    from: usize,
    g: &Graph,
    lower: &[String],
    index: &HashMap<&str, usize>,
    out: &mut Vec<(usize, How)>,
) {
    let l = line.to_ascii_lowercase();
    let bytes = l.as_bytes();
    // 1. Host names, and ports on any address.
    let mut i = 0;
    while i < bytes.len() {
        if !is_host_char(bytes[i] as char) {
            i += 1;
            continue;
        }
        let begin = i;
        while i < bytes.len() && is_host_char(bytes[i] as char) {
            i += 1;
        }
        let token = l[begin..i].trim_matches('.');
        let before = l[..begin].trim_end_matches(' ');
        let after = &l[i..];
        let port: Option<u32> = after.strip_prefix(':').and_then(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (!digits.is_empty() && digits.len() <= 5)
                .then(|| digits.parse().ok())
                .flatten()
        });
        if token.is_empty() || token.len() > MAX_HOST_CHARS {
            continue;
        }
        let first_label = token.split('.').next().unwrap_or(token);
        let dns = token.contains('.') && token != first_label;
        let found = index
            .get(token)
            .or_else(|| dns.then(|| index.get(first_label)).flatten());
        if let Some(&to) = found {
            let quoted = before.ends_with(['"', '\'', '`', '(', '[', '='])
                || before.ends_with("//")
                || before.ends_with('@');
            let placed = port.is_some() || dns || quoted || before.ends_with("upstream:");
            if to != from && (placed || distinctive(&lower[to])) {
                out.push((to, How::Host));
            }
        } else if let Some(kind) = port.and_then(Kind::of_port) {
            for to in resolve_kind(g, lower, from, kind) {
                out.push((to, How::Port));
            }
        }
    }
    // 2. Client libraries and their exceptions.
    for kind in Kind::ALL {
        if kind.libraries().iter().any(|lib| l.contains(lib)) {
            for to in resolve_kind(g, lower, from, kind) {
                out.push((to, How::Library));
            }
        }
    }
}

/// Cut a line to at most `max` characters on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Every (logging service, named service) pair in the bundle's logs, bounded as the module
/// says. Services not in the graph are skipped: a name must be matched against the graph.
pub fn findings(
    g: &Graph,
    logs: &BTreeMap<String, Vec<BundleLogLine>>,
    start: i64,
) -> Vec<Finding> {
    let lower: Vec<String> = g.names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let index: HashMap<&str, usize> = lower
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut budget = MAX_TOTAL_CHARS;
    let mut out: Vec<Finding> = Vec::new();
    for (service, entries) in logs.iter().take(MAX_SERVICES) {
        let Some(&from) = index.get(service.to_ascii_lowercase().as_str()) else {
            continue;
        };
        let mut by_target: BTreeMap<usize, Finding> = BTreeMap::new();
        for e in entries.iter().take(MAX_ENTRIES) {
            if let Some(at) = e.at {
                if at < start.saturating_sub(MAX_AGE_S) || at > start.saturating_add(MAX_AFTER_S) {
                    continue;
                }
            }
            let mut named: Vec<(usize, How, &str)> = Vec::new();
            for line in e.text.lines().take(MAX_LINES) {
                if budget == 0 {
                    break;
                }
                let line = cut(line, MAX_LINE_CHARS);
                budget = budget.saturating_sub(line.len());
                let mut hits = Vec::new();
                scan_line(line, from, g, &lower, &index, &mut hits);
                named.extend(hits.into_iter().map(|(to, how)| (to, how, line)));
            }
            // One entry counts once per target, at its strongest.
            named.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            named.dedup_by_key(|x| x.0);
            for (to, how, line) in named {
                let f = by_target.entry(to).or_insert_with(|| Finding {
                    from,
                    to,
                    how,
                    entries: 0,
                    excerpt: cut(line.trim(), 160).to_string(),
                    direct: g.callees[from].binary_search(&to).is_ok(),
                });
                f.entries += 1;
                if how > f.how {
                    f.how = how;
                    f.excerpt = cut(line.trim(), 160).to_string();
                }
            }
        }
        out.extend(by_target.into_values());
        if budget == 0 {
            break;
        }
    }
    out
}

/// The readable sentence for a finding about `to`.
pub fn describe_named(g: &Graph, f: &Finding) -> String {
    let how = match f.how {
        How::Host => "by host name",
        How::Port => "by port",
        How::Library => "by client library",
    };
    format!(
        "{}'s error log names it ({how}, {} entr{}): “{}”",
        g.names[f.from],
        f.entries,
        if f.entries == 1 { "y" } else { "ies" },
        f.excerpt
    )
}

/// The readable sentence for a service whose own errors name a dependency.
pub fn describe_names(g: &Graph, f: &Finding) -> String {
    format!(
        "its error log names {} as failing: probably a victim of it",
        g.names[f.to]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph() -> Graph {
        Graph::build(
            [
                "checkout",
                "postgres-primary",
                "redis-cart",
                "mongodb-rate",
                "inventory",
                "rate",
                "user",
            ],
            [
                ("checkout", "postgres-primary"),
                ("checkout", "redis-cart"),
                ("checkout", "inventory"),
                ("rate", "mongodb-rate"),
                ("checkout", "user"),
            ],
        )
    }

    fn one(service: &str, text: &str) -> BTreeMap<String, Vec<BundleLogLine>> {
        BTreeMap::from([(
            service.to_string(),
            vec![BundleLogLine {
                at: Some(1000),
                text: text.into(),
            }],
        )])
    }

    fn named(service: &str, text: &str) -> Vec<(String, How)> {
        let g = graph();
        findings(&g, &one(service, text), 1000)
            .into_iter()
            .map(|f| (g.names[f.to].clone(), f.how))
            .collect()
    }

    #[test]
    fn the_issues_lines_name_their_dependency() {
        assert_eq!(
            named(
                "checkout",
                r#"psycopg2.OperationalError: could not connect to server "postgres-primary""#
            ),
            [("postgres-primary".to_string(), How::Host)]
        );
        assert_eq!(
            named(
                "rate",
                "MongoTimeoutError: Server selection timed out after 30000 ms (mongodb-rate:27017)"
            ),
            [("mongodb-rate".to_string(), How::Host)]
        );
        assert_eq!(
            named("checkout", "Error: connect ECONNREFUSED 10.0.3.7:6379"),
            [("redis-cart".to_string(), How::Port)]
        );
        assert_eq!(
            named(
                "checkout",
                "redis.exceptions.ConnectionError: Connection reset by peer"
            ),
            [("redis-cart".to_string(), How::Library)]
        );
        assert_eq!(
            named(
                "checkout",
                "java.net.SocketTimeoutException: Read timed out GET http://inventory:8080/items"
            ),
            [("inventory".to_string(), How::Host)]
        );
        assert_eq!(
            named(
                "checkout",
                "dial tcp: lookup postgres-primary.default.svc.cluster.local: no such host"
            ),
            [("postgres-primary".to_string(), How::Host)]
        );
    }

    #[test]
    fn ordinary_words_and_unknown_addresses_name_nothing() {
        // "user" and "rate" are services, but here they are words.
        assert!(named("checkout", "user not found; error rate limit exceeded").is_empty());
        assert!(named("checkout", "dial tcp 10.9.1.1:9999: connection refused").is_empty());
        assert!(named("checkout", "KeyError: 'sku'").is_empty());
        // A placed word counts: a quoted host or one with a port.
        assert_eq!(
            named("checkout", "HTTPConnectionPool(host='user', port=8080)"),
            [("user".to_string(), How::Host)]
        );
        // Naming oneself is no evidence.
        assert!(named("rate", "rate:8080 shutting down").is_empty());
        // An entry long before the incident is about something else.
        let g = graph();
        let mut old = one(
            "checkout",
            "could not connect to server \"postgres-primary\"",
        );
        old.values_mut()
            .for_each(|v| v[0].at = Some(1000 - MAX_AGE_S - 1));
        assert!(findings(&g, &old, 1000).is_empty());
    }

    #[test]
    fn hostile_text_is_read_without_panicking() {
        let g = graph();
        for text in [
            "ünïcödé “redis-cart”:6379 ✓ → postgres-primary:5432",
            ":::::::::6379",
            "redis-cart:99999999999999999999",
            "\u{0}\u{1}redis-cart\u{7f}",
            "",
            "..........",
            "é:6379",
        ] {
            let f = findings(&g, &one("checkout", text), 1000);
            assert!(f
                .iter()
                .all(|x| x.to != x.from && x.excerpt.chars().count() <= 160));
        }
        let named: Vec<String> = findings(
            &g,
            &one(
                "checkout",
                "ünïcödé “redis-cart”:6379 ✓ → postgres-primary:5432",
            ),
            1000,
        )
        .into_iter()
        .map(|f| g.names[f.to].clone())
        .collect();
        assert_eq!(named, ["postgres-primary", "redis-cart"]);
    }

    #[test]
    fn parsing_is_bounded() {
        let g = graph();
        let huge = format!("{} redis-cart:6379", "x".repeat(MAX_LINE_CHARS * 3));
        // The name sits past the line cap: not read.
        assert!(findings(&g, &one("checkout", &huge), 1000).is_empty());
        let many: Vec<BundleLogLine> = (0..MAX_ENTRIES * 5)
            .map(|_| BundleLogLine {
                at: None,
                text: "redis-cart:6379 refused".into(),
            })
            .collect();
        let f = findings(&g, &BTreeMap::from([("checkout".to_string(), many)]), 1000);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].entries, MAX_ENTRIES);
        assert_eq!(cut("héllo", 2), "hé");
    }
}
