//! The profile's `max_records`: which downloaded records an object has room for.

use std::collections::BTreeSet;

/// Which of `ids` (in order) the object can store under its cap of `cap` records, and
/// its stored count before the write: every record it holds already (so one with pending
/// local changes is never dropped), and new ones while the stored count stays at most
/// `cap`. When `estimate` (the count this run's writes leave) has room for all of `ids`,
/// they all fit; otherwise the count is read inside the write, so it is the one the
/// write lands on. A record created locally while the run goes on is missing from the
/// estimate until then; local creates may take an object past its cap anyway.
pub(crate) fn within_cap(
    tx: &store::WriteTx<'_>,
    object: &str,
    ids: &[String],
    cap: u64,
    estimate: Option<u64>,
) -> Result<(Vec<bool>, u64), store::StoreError> {
    if let Some(stored) = estimate
        && stored.saturating_add(ids.len() as u64) <= cap
    {
        return Ok((vec![true; ids.len()], stored));
    }
    let reader = tx.read();
    let held = reader.stored_among(object, ids)?;
    let stored = reader.count(object)?;
    let mut room = cap.saturating_sub(stored);
    let mut seen = BTreeSet::new();
    let keep = ids
        .iter()
        .map(|id| {
            if held.contains(id) || seen.contains(id) {
                return true;
            }
            if room == 0 {
                return false;
            }
            room -= 1;
            seen.insert(id.clone());
            true
        })
        .collect();
    Ok((keep, stored))
}
