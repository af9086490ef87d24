//! The benchmark's figures: one row per measured figure, with its target and verdict,
//! printed as a table and written as JSON.

use serde::Serialize;

use crate::stats::Summary;

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: String,
    pub figure: String,
    pub unit: String,
    pub summary: Summary,
    /// The target, in words (`"< 200 MB"`), if the figure has one.
    pub target: Option<String>,
    /// Whether the median met the target.
    pub pass: Option<bool>,
}

/// Where the figures were measured.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory: String,
}

impl Machine {
    /// This machine, from `/proc` (fields stay empty where it is missing).
    pub fn current() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |text: &str, key: &str| {
            text.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: field(&cpuinfo, "model name"),
            memory: field(&meminfo, "MemTotal"),
        }
    }
}

/// Everything one benchmark run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub records: u64,
    pub runs: u32,
    pub rows: Vec<Row>,
    /// Median delta-sync seconds (100 changes) per number of records stored.
    pub delta_by_size: Vec<(u64, Summary)>,
    /// Full re-download seconds at `records`.
    pub full_redownload: Option<Summary>,
}

impl Report {
    /// Adds a figure without a target.
    pub fn add(&mut self, scenario: &str, figure: &str, unit: &str, summary: Summary) {
        self.rows.push(Row {
            scenario: scenario.into(),
            figure: figure.into(),
            unit: unit.into(),
            summary,
            target: None,
            pass: None,
        });
    }

    /// Adds a figure with a target and whether its median met it.
    pub fn add_checked(
        &mut self,
        scenario: &str,
        figure: &str,
        unit: &str,
        summary: Summary,
        target: String,
        pass: bool,
    ) {
        self.rows.push(Row {
            scenario: scenario.into(),
            figure: figure.into(),
            unit: unit.into(),
            summary,
            target: Some(target),
            pass: Some(pass),
        });
    }

    /// The table, one line per figure.
    pub fn table(&self) -> String {
        let header = ["scenario", "figure", "median", "spread (min–max)", "target", "result"];
        let mut lines: Vec<[String; 6]> = vec![header.map(String::from)];
        for r in &self.rows {
            let s = r.summary;
            lines.push([
                r.scenario.clone(),
                r.figure.clone(),
                format!("{} {}", fmt(s.median), r.unit),
                format!("{}–{}", fmt(s.min), fmt(s.max)),
                r.target.clone().unwrap_or_else(|| "—".into()),
                match r.pass {
                    Some(true) => "PASS".into(),
                    Some(false) => "MISS".into(),
                    None => "—".into(),
                },
            ]);
        }
        let widths: Vec<usize> =
            (0..6).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            let cells: Vec<String> = l
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
                .collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
            if i == 0 {
                let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                out.push_str(&format!("| {} |\n", rule.join(" | ")));
            }
        }
        out
    }
}

/// A figure with about four significant digits.
pub fn fmt(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_a_line_per_row_and_verdicts() {
        let mut r = Report {
            machine: Machine { cpus: 2, cpu_model: "x".into(), memory: "1 kB".into() },
            records: 10,
            runs: 1,
            rows: vec![],
            delta_by_size: vec![],
            full_redownload: None,
        };
        let s = Summary { median: 2.0, min: 1.0, max: 3.0 };
        r.add("a", "time", "s", s);
        r.add_checked("b", "rss", "MB", s, "< 1 MB".into(), false);
        let t = r.table();
        assert_eq!(t.lines().count(), 4);
        assert!(t.contains("MISS"));
        assert!(t.contains("| 2 s "));
        assert!(t.contains("1–3"));
    }
}
