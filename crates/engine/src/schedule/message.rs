//! The one-line "what comes next" a technician reads: `next sync: WorkOrder at 14:30`.

use chrono::{DateTime, TimeZone, Utc};

use super::NextDue;

/// Objects named before the rest are summed up as "and N more".
const NAMED_OBJECTS: usize = 3;

/// Says when the next sync runs, in `tz`'s wall time: `next sync: WorkOrder at 14:30`,
/// `... now` when it is due, `... tomorrow at 08:00` or `... on 2026-05-06 at 08:00`
/// when it is not today, `no sync scheduled` when nothing is.
pub fn next_sync_message<Tz: TimeZone>(
    next: Option<&NextDue>,
    now: DateTime<Utc>,
    tz: &Tz,
) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let Some(next) = next else {
        return "no sync scheduled".to_string();
    };
    let objects = object_list(&next.objects);
    if next.at <= now {
        return format!("next sync: {objects} now");
    }
    let at = next.at.with_timezone(tz);
    let today = now.with_timezone(tz).date_naive();
    let day = at.date_naive();
    let time = at.format("%H:%M");
    if day == today {
        format!("next sync: {objects} at {time}")
    } else if today.succ_opt() == Some(day) {
        format!("next sync: {objects} tomorrow at {time}")
    } else {
        format!("next sync: {objects} on {} at {time}", day.format("%Y-%m-%d"))
    }
}

/// `A`, `A and B`, `A, B and C`, `A, B, C and 2 more`.
fn object_list(objects: &[String]) -> String {
    match objects {
        [] => "all objects".to_string(),
        [one] => one.clone(),
        _ if objects.len() > NAMED_OBJECTS => {
            format!(
                "{} and {} more",
                objects[..NAMED_OBJECTS].join(", "),
                objects.len() - NAMED_OBJECTS
            )
        }
        [head @ .., last] => format!("{} and {last}", head.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn t(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, d, h, m, 0).unwrap()
    }

    fn next(objects: &[&str], at: DateTime<Utc>) -> NextDue {
        NextDue { objects: objects.iter().map(|o| o.to_string()).collect(), at }
    }

    #[test]
    fn says_which_objects_and_when() {
        let now = t(4, 14, 10);
        let m = |n: &NextDue| next_sync_message(Some(n), now, &Utc);
        assert_eq!(m(&next(&["WorkOrder"], t(4, 14, 30))), "next sync: WorkOrder at 14:30");
        assert_eq!(
            m(&next(&["ServiceAppointment", "WorkOrder"], t(4, 14, 30))),
            "next sync: ServiceAppointment and WorkOrder at 14:30"
        );
        assert_eq!(
            m(&next(&["A", "B", "C", "D", "E"], t(4, 14, 30))),
            "next sync: A, B, C and 2 more at 14:30"
        );
        assert_eq!(m(&next(&["Product2"], t(5, 8, 0))), "next sync: Product2 tomorrow at 08:00");
        assert_eq!(
            m(&next(&["Product2"], t(7, 8, 0))),
            "next sync: Product2 on 2026-05-07 at 08:00"
        );
        assert_eq!(m(&next(&["WorkOrder"], t(4, 14, 0))), "next sync: WorkOrder now");
        assert_eq!(next_sync_message(None, now, &Utc), "no sync scheduled");
    }

    #[test]
    fn uses_the_given_time_zone() {
        let paris = FixedOffset::east_opt(2 * 3600).unwrap();
        let n = next(&["WorkOrder"], t(4, 14, 30));
        assert_eq!(
            next_sync_message(Some(&n), t(4, 14, 10), &paris),
            "next sync: WorkOrder at 16:30"
        );
    }
}
