//! Prometheus text exposition, written by hand (a handful of families, no registry needed).

/// A small writer for the Prometheus text exposition format, shared by everything `ccp serve`
/// exports: its own pipeline counters and the CI/CD recovery desk's.
#[derive(Default)]
pub struct Exposition(pub String);

impl Exposition {
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        use std::fmt::Write;
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    pub fn row(&mut self, name: &str, labels: &str, v: impl std::fmt::Display) {
        use std::fmt::Write;
        let _ = writeln!(self.0, "{name}{labels} {v}");
    }

    pub fn single(&mut self, name: &str, kind: &str, help: &str, v: impl std::fmt::Display) {
        self.family(name, kind, help);
        self.row(name, "", v);
    }

    pub fn summary(&mut self, name: &str, help: &str, (sum, count): (f64, u64)) {
        self.family(name, "summary", help);
        self.row(&format!("{name}_sum"), "", sum);
        self.row(&format!("{name}_count"), "", count);
    }
}
