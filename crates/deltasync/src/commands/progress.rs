//! Sync progress on the terminal: one bar per object when standard error is a terminal,
//! plain lines otherwise, nothing under `--json`.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use engine::SyncEvent;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The label of the upload's bar, beside one bar per object.
const UPLOAD_BAR: &str = "upload";

/// Shows [`SyncEvent`]s as they come.
pub struct ProgressView {
    mode: Mode,
    bars: BTreeMap<String, ProgressBar>,
    multi: MultiProgress,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bars,
    Lines,
    Quiet,
}

impl ProgressView {
    /// Bars on a terminal, lines elsewhere, silent when `json`.
    pub fn new(json: bool) -> ProgressView {
        let mode = if json {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Lines
        };
        let multi = MultiProgress::with_draw_target(match mode {
            Mode::Bars => ProgressDrawTarget::stderr(),
            _ => ProgressDrawTarget::hidden(),
        });
        ProgressView { mode, bars: BTreeMap::new(), multi }
    }

    /// Takes one event.
    pub fn event(&mut self, event: SyncEvent) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Lines => match event {
                SyncEvent::ObjectFinished { object, counts } => eprintln!(
                    "{object}: {} new, {} updated, {} deleted, {} left scope{}",
                    counts.new + counts.entered_scope,
                    counts.updated,
                    counts.deleted,
                    counts.left_scope,
                    super::sync::over_limit_note(&counts)
                ),
                SyncEvent::Uploaded { done, total } if done >= total => {
                    eprintln!("upload: {done} of {total} changes sent");
                }
                _ => {}
            },
            Mode::Bars => self.bar_event(event),
        }
    }

    fn bar_event(&mut self, event: SyncEvent) {
        match event {
            SyncEvent::ObjectStarted { object, total } => {
                let bar = self.multi.add(ProgressBar::new(total.unwrap_or(0)));
                let template = if total.is_some() {
                    "{prefix:>20} [{bar:30}] {pos}/{len}"
                } else {
                    "{prefix:>20} {spinner} {pos} records"
                };
                if let Ok(style) = ProgressStyle::with_template(template) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_prefix(object.clone());
                self.bars.insert(object, bar);
            }
            SyncEvent::Progress { object, done, total } => {
                if let Some(bar) = self.bars.get(&object) {
                    if let Some(total) = total {
                        bar.set_length(total);
                    }
                    bar.set_position(done);
                }
            }
            SyncEvent::ObjectFinished { object, counts } => {
                if let Some(bar) = self.bars.get(&object) {
                    bar.finish_with_message(format!("{} new", counts.new));
                }
            }
            SyncEvent::Uploaded { done, total } => {
                let bar = self.bars.entry(UPLOAD_BAR.to_string()).or_insert_with(|| {
                    let bar = self.multi.add(ProgressBar::new(total));
                    if let Ok(style) =
                        ProgressStyle::with_template("{prefix:>20} [{bar:30}] {pos}/{len}")
                    {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    bar.set_prefix(UPLOAD_BAR);
                    bar
                });
                bar.set_position(done);
                if done >= total {
                    bar.finish();
                }
            }
        }
    }
}
