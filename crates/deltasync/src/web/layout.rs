//! The page shell every screen shares: a header with the connection state, the screen's
//! content in `<main>`, and the bottom tab bar.

use maud::{DOCTYPE, Markup, html};

use crate::app::AppStatus;

/// The tabs of the bottom bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Home,
    Records,
    Pending,
    History,
    Schedule,
}

const TABS: &[(Tab, &str, &str, &str)] = &[
    (Tab::Home, "/", "Home", "⌂"),
    (Tab::Records, "/records", "Records", "☰"),
    (Tab::Pending, "/pending", "Pending", "⇅"),
    (Tab::History, "/history", "History", "◷"),
    (Tab::Schedule, "/schedule", "Schedule", "▦"),
];

/// What a page is: its title, its tab, and whether live events should refresh it.
#[derive(Debug)]
pub struct Page<'a> {
    pub title: &'a str,
    pub tab: Tab,
    /// Re-render `<main>` when a sync finishes or the pending count changes (not on forms).
    pub live: bool,
    pub status: &'a AppStatus,
}

/// Wraps a screen's content in the shell.
pub fn shell(p: Page<'_>, content: Markup) -> Markup {
    let status = p.status;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light";
                title { (p.title) " · deltasync" }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body data-live=(if p.live { "1" } else { "0" }) data-syncing=(if p.status.syncing.is_some() { "1" } else { "0" }) {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    div.brand {
                        span.logo aria-hidden="true" { "◆" }
                        span { "Field" }
                    }
                    div.who title=(status.identity.username) { (status.identity.username) }
                    (connection_pill(status))
                }
                main #main tabindex="-1" {
                    (content)
                }
                nav.tabbar aria-label="Main" {
                    @for (tab, href, label, icon) in TABS {
                        a href=(href) aria-current=[(*tab == p.tab).then_some("page")] {
                            span.icon aria-hidden="true" { (icon) }
                            span.label { (label) }
                            @if *tab == Tab::Pending {
                                span #pending-badge .badge hidden[status.pending == 0] { (status.pending) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The online/offline pill the script keeps current.
pub fn connection_pill(status: &AppStatus) -> Markup {
    let (class, text) =
        if status.online { ("pill online", "Online") } else { ("pill offline", "Offline") };
    html! { span #conn class=(class) role="status" { (text) } }
}

/// A hidden CSRF field for forms.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}
