//! Peak resident set size of the current process, from `VmHWM` in `/proc/self/status`.

/// `VmHWM` in KiB; `None` where `/proc` is not there (non-Linux).
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}
