//! Schedule: how often each object syncs, when it last did and when it is next due.

use axum::extract::State;
use maud::{Markup, html};

use super::layout::{Page, Tab, shell};
use super::objects::object_label;
use super::timefmt::when;
use super::{WebError, WebState, current_status};

/// `1h`, `15 min`, `1 d`.
fn interval(secs: u64) -> String {
    match secs {
        s if s % 86_400 == 0 && s > 0 => format!("every {} d", s / 86_400),
        s if s % 3600 == 0 && s > 0 => format!("every {} h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("every {} min", s / 60),
        s => format!("every {s} s"),
    }
}

/// `GET /schedule`
pub async fn page(State(state): State<WebState>) -> Result<Markup, WebError> {
    let handle = &state.handle;
    let status = current_status(handle);
    let now = handle.clock().now();
    let entries = handle.store().read(|r| r.schedule())?;
    let profile = handle.engine().profile();
    let content = html! {
        h1 { "Schedule" }
        p.muted { "Each object refreshes on its own interval while the app runs. Sync Now refreshes everything." }
        ul.list.card.schedule {
            @for o in &profile.objects {
                @let entry = entries.iter().find(|e| e.object.eq_ignore_ascii_case(&o.name));
                @let secs = entry.map_or(o.interval_secs, |e| e.interval_secs);
                li.sched-row data-object=(o.name) {
                    div.main {
                        div.title { (object_label(&o.name)) }
                        div.muted { (interval(secs)) }
                    }
                    dl.times {
                        div { dt { "Last" } dd { @match entry.and_then(|e| e.last_sync_at) { Some(t) => (when(t, now)), None => "Never" } } }
                        div { dt { "Next" } dd.next { @match entry.and_then(|e| e.next_due_at) { Some(t) => (when(t, now)), None => "—" } } }
                    }
                }
            }
        }
    };
    Ok(shell(Page { title: "Schedule", tab: Tab::Schedule, live: true, status: &status }, content))
}

#[cfg(test)]
mod tests {
    #[test]
    fn intervals_read_in_their_unit() {
        assert_eq!(super::interval(900), "every 15 min");
        assert_eq!(super::interval(3600), "every 1 h");
        assert_eq!(super::interval(86_400), "every 1 d");
        assert_eq!(super::interval(45), "every 45 s");
    }
}
