//! The delta scenario: [`DELTA_CHANGES`](crate::scenarios::DELTA_CHANGES) server-side
//! changes, then a delta sync, at every store size, the sizes taking turns run by run so
//! that a spell of noise on the machine falls on every size alike. Each size is synced two
//! ways after the same changes: by a fresh process, as `deltasync sync` does (its page
//! cache starts cold), and by a [`Session`] that stays running between syncs, as the app
//! does.

use anyhow::{Result, bail};

use crate::child::{ChildOp, ChildResult};
use crate::report::Report;
use crate::scenarios::{DUE_OBJECTS, Settings, Stage, add_requests, child, summary};
use crate::session::Session;
use crate::stats::Summary;

/// What one way of syncing measured at one size.
#[derive(Default)]
struct Runs {
    secs: Vec<f64>,
    requests: Vec<f64>,
}

impl Runs {
    fn push(&mut self, r: &ChildResult, changes: u64) -> Result<()> {
        if r.records < changes {
            bail!("delta saw {} of {changes} changes", r.records);
        }
        self.secs.push(r.secs);
        self.requests.push(r.requests as f64);
        Ok(())
    }
}

/// Runs the scenario on stages whose stores (`Stage::dir`, and its `app` sibling for the
/// running app) are primed, and adds its figures to `report`.
pub async fn delta_scenario(
    stages: &mut [Stage],
    report: &mut Report,
    settings: &Settings,
) -> Result<()> {
    let mut sessions = Vec::new();
    for stage in stages.iter() {
        sessions.push(Session::start(&stage.spec_in(
            ChildOp::DeltaSession,
            &stage.app_dir(),
            0,
            0,
        ))?);
    }
    let mut cold: Vec<Runs> = stages.iter().map(|_| Runs::default()).collect();
    let mut warm: Vec<Runs> = stages.iter().map(|_| Runs::default()).collect();
    let mut changes = 0;
    for run in 0..=settings.runs {
        for (i, stage) in stages.iter_mut().enumerate() {
            // The replication log covers a change only once some time has passed.
            changes = stage.change(u64::from(run))?;
            stage.advance();
            let r = child(&stage.spec(ChildOp::Delta, 0, run.into())).await?;
            let app = sessions[i].sync(stage.offset_ms).await?;
            // The first run of each is a warm-up.
            if run > 0 {
                cold[i].push(&r, changes)?;
                warm[i].push(&app, changes)?;
            }
        }
    }
    for session in sessions {
        session.finish().await?;
    }

    let mut by_size = Vec::new();
    for (how, runs) in [("", &cold), (" in the running app", &warm)] {
        let mut medians = Vec::new();
        for (stage, runs) in stages.iter().zip(runs) {
            let scenario = format!("delta{how}, {changes} changes, {} stored", stage.n);
            let s = summary(&runs.secs)?;
            report.add(&scenario, "wall time", "s", s);
            // The org counts requests for all its clients, and the running app's syncs
            // alternate with the other client's: only the latter's count is its own.
            if how.is_empty() {
                add_requests(report, &scenario, &runs.requests, DUE_OBJECTS, "1 per due object")?;
            }
            medians.push((stage.n, s));
        }
        add_ratio(report, how, &medians);
        if how.is_empty() {
            by_size = medians;
        }
    }
    report.delta_by_size = by_size;
    Ok(())
}

/// The time at the largest size over the time at the smallest, held against its target.
fn add_ratio(report: &mut Report, how: &str, medians: &[(u64, Summary)]) {
    let [first, .., last] = medians else { return };
    let ratio = last.1.median / first.1.median.max(1e-9);
    let s = Summary { median: ratio, min: ratio, max: ratio };
    report.add_checked(
        &format!("delta{how}, {} vs {} stored", last.0, first.0),
        "time ratio",
        "×",
        s,
        "< 1.2×".into(),
        ratio < 1.2,
    );
}
