//! A small hand-written SVG chart: delta-sync time against the number of records stored,
//! next to the time of a full re-download, on a logarithmic time axis.

use std::fmt::Write;

const W: f64 = 560.0;
const H: f64 = 320.0;
const LEFT: f64 = 70.0;
const BOTTOM: f64 = 60.0;
const TOP: f64 = 40.0;

/// The chart; `delta` is (records stored, median seconds), `full` the re-download's
/// (records, median seconds).
pub fn chart(delta: &[(u64, f64)], full: Option<(u64, f64)>) -> String {
    let mut bars: Vec<(String, f64, &str)> = delta
        .iter()
        .map(|(n, s)| (format!("delta, {} stored", count(*n)), *s, "#2b7bb9"))
        .collect();
    if let Some((n, s)) = full {
        bars.push((format!("full re-download, {}", count(n)), s, "#d95f02"));
    }
    let values: Vec<f64> = bars.iter().map(|b| b.1.max(1e-4)).collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min).log10().floor();
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max).log10().ceil().max(lo + 1.0);
    let plot_h = H - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h * (1.0 - (v.max(1e-4).log10() - lo) / (hi - lo));

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(out, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{}" y="20" text-anchor="middle" font-size="13">Delta sync (100 changes) vs full re-download, seconds (log scale)</text>"#,
        W / 2.0
    );
    let mut decade = lo;
    while decade <= hi {
        let v = 10f64.powf(decade);
        let yy = y(v);
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - 10.0,
            LEFT - 6.0,
            yy + 4.0,
            seconds(v)
        );
        decade += 1.0;
    }
    let slot = (W - LEFT - 10.0) / bars.len().max(1) as f64;
    for (i, (label, v, colour)) in bars.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.2;
        let top = y(*v);
        let _ = writeln!(
            out,
            r#"<rect x="{x:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{colour}"/>"#,
            slot * 0.6,
            (H - BOTTOM - top).max(0.0)
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x + slot * 0.3,
            top - 4.0,
            seconds(*v)
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x + slot * 0.3,
            H - BOTTOM + 16.0,
            escape(label)
        );
    }
    let _ = writeln!(
        out,
        r##"<line x1="{LEFT}" y1="{0}" x2="{1}" y2="{0}" stroke="#333"/>"##,
        H - BOTTOM,
        W - 10.0
    );
    out.push_str("</svg>\n");
    out
}

fn count(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn seconds(v: f64) -> String {
    if v >= 1.0 { format!("{v:.2} s") } else { format!("{:.1} ms", v * 1000.0) }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bar_per_size_and_one_for_the_re_download() {
        let svg = chart(&[(1_000, 0.02), (10_000, 0.025)], Some((10_000, 3.5)));
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<rect x=").count(), 3);
        assert!(svg.contains("full re-download, 10k"));
    }
}
