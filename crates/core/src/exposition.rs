//! The Prometheus text exposition format (version 0.0.4), written directly: ccp exports a
//! handful of families whose values are computed from state at scrape time, so a registry of
//! live metric objects (what `prometheus-client` offers) would be one more copy of that state to
//! keep in step. It would also change the wire format to OpenMetrics (`# EOF`, its own content
//! type), which the promtool checks and the fleet's Prometheus read differently. One writer, with
//! label values escaped, serves `ccp serve`, the CI/CD recovery desk and the simulated fleet.

use std::fmt::{Display, Write};

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (names end in `_total`).
    Counter,
    /// Goes up and down.
    Gauge,
    /// `_sum` and `_count` of observations.
    Summary,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Summary => "summary",
        }
    }
}

/// Text being written, one family after another.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// Start a family: its help and type lines.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", help.replace('\n', " "));
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample of the current family, its label values escaped as the format requires.
    pub fn row(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A family with one unlabelled sample.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: impl Display) {
        self.family(name, kind, help);
        self.row(name, &[], value);
    }

    /// A summary without quantiles: `_sum` and `_count`.
    pub fn summary(&mut self, name: &str, help: &str, (sum, count): (f64, u64)) {
        self.family(name, Kind::Summary, help);
        self.row(&format!("{name}_sum"), &[], sum);
        self.row(&format!("{name}_count"), &[], count);
    }

    /// The text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A label value as the text format writes it: backslash, quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_rows_and_escaped_labels() {
        let mut w = Exposition::default();
        w.family("ccp_x_total", Kind::Counter, "Things.\nCounted.");
        w.row("ccp_x_total", &[("gate", "a\"b\\c\nd"), ("k", "v")], 3);
        w.summary("ccp_wait_seconds", "Waits.", (1.5, 2));
        assert_eq!(
            w.finish(),
            "# HELP ccp_x_total Things. Counted.\n# TYPE ccp_x_total counter\n\
             ccp_x_total{gate=\"a\\\"b\\\\c\\nd\",k=\"v\"} 3\n\
             # HELP ccp_wait_seconds Waits.\n# TYPE ccp_wait_seconds summary\n\
             ccp_wait_seconds_sum 1.5\nccp_wait_seconds_count 2\n"
        );
    }
}
