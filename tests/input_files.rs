//! Input files of `ccp rca` and `ccp judge`: a byte-order mark is not an error, and a file far
//! too large to be a bundle is refused at once with a clear reason.

use std::process::Command;

const BUNDLE: &str = r#"{"incident_start": 1700000000,
 "services": [{"name": "api", "criticality": 0.9}, {"name": "payments", "criticality": 0.9}],
 "edges": [{"from": "api", "to": "payments"}],
 "metrics": {"payments": {"error_rate": [[1699999700, 0.002], [1699999800, 0.002], [1699999900, 0.003], [1700000000, 0.15], [1700000010, 0.16]]}}}"#;

fn rca(path: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ccp"))
        .args(["rca", "--json", "--input"])
        .arg(path)
        .output()
        .expect("ccp runs")
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("plain.json");
    let bom = dir.path().join("bom.json");
    std::fs::write(&plain, BUNDLE).expect("write");
    std::fs::write(&bom, format!("\u{feff}{BUNDLE}")).expect("write");
    let a = rca(&plain);
    let b = rca(&bom);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn a_file_far_too_large_is_refused_before_parsing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.json");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len(17 * 1024 * 1024).expect("grow");
    let o = rca(&big);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("larger than 16 MiB"), "{err}");
}
