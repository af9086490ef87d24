//! The benchmark command end to end at a tiny scale: it runs every scenario, prints the
//! table and writes valid JSON and SVG. No timing is asserted.

use std::process::Command;

#[test]
fn the_benchmark_runs_end_to_end_and_writes_json_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("figures.json");
    let svg_path = dir.path().join("chart.svg");
    let output = Command::new(env!("CARGO_BIN_EXE_deltasync-bench"))
        .args(["--records", "300", "--runs", "1", "--clients", "4", "--json"])
        .arg(&json_path)
        .arg("--svg")
        .arg(&svg_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "benchmark failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = [
        "priming 300 records",
        "changes, 300 stored",
        "delta in the running app",
        "delta, nothing changed",
        "full re-download",
        "updates",
        "creates",
        "offline query, indexed filter",
        "offline query, parent-path join",
        "devorg alone",
    ];
    for row in rows {
        assert!(stdout.contains(row), "no '{row}' row in:\n{stdout}");
    }

    let figures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(figures["records"], 300);
    let rows = figures["rows"].as_array().unwrap();
    assert!(rows.len() >= 10, "{rows:?}");
    for row in rows {
        assert!(row["summary"]["median"].is_number(), "{row}");
    }
    assert_eq!(figures["delta_by_size"].as_array().unwrap().len(), 1);

    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<rect x=").count(), 2, "one delta bar and one re-download bar");
}

#[test]
fn an_unknown_scenario_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_deltasync-bench"))
        .args(["--records", "300", "--scenarios", "prime,warp"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown scenario 'warp'"));
}
