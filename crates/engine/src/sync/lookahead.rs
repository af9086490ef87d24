//! Query pages read ahead: tasks fetch and decode the next pages while the caller stores
//! the current one, so the network, the org and the store work side by side.
//!
//! A list of queries is read with up to `parallel` of them in flight at once (the pages
//! of one query follow each other, as each page names the next). Pages reach the caller
//! in query order, then page order.
//!
//! Bounded: each channel holds one page, so at most `2 × parallel + 3` pages are in memory
//! at once (per running query one in its channel and one fetched or waiting to go in;
//! one in transit, one waiting for the caller and the one being stored), whatever the
//! scope's size. A failed fetch arrives in
//! its place and ends the feed: every page before it is delivered, nothing after it.
//! Dropping the feed (a run cancelled or killed) stops every task.

use std::collections::VecDeque;

use salesforce::client::{Client, Error};
use salesforce::wire::Record;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::SyncError;

/// What a fetching task sends.
enum Fetched {
    /// One page's records.
    Page(Vec<Record>),
    /// A fetch failed; nothing follows.
    Failed(Error),
    /// Everything asked of this task is read.
    End,
}

/// A spawned task, aborted when its handle is dropped.
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One query being read by its own task.
struct Running {
    pages: mpsc::Receiver<Fetched>,
    _task: Task,
}

/// Starts reading every page of `soql`.
fn read_query(client: &Client, soql: String, page_size: u32) -> Running {
    let (sender, pages) = mpsc::channel(1);
    let client = client.clone();
    let task = tokio::spawn(async move {
        let mut pager = client.query_pages(&soql, page_size);
        loop {
            let (fetched, last) = match pager.next_page().await {
                Ok(Some(page)) => (Fetched::Page(page.records), false),
                Ok(None) => (Fetched::End, true),
                Err(e) => (Fetched::Failed(e), true),
            };
            // A closed channel means the reader is gone: nothing left to do.
            if sender.send(fetched).await.is_err() || last {
                return;
            }
        }
    });
    Running { pages, _task: Task(task) }
}

/// The pages of a list of queries, in order, fetched ahead of the reader.
pub(crate) struct PageFeed {
    pages: mpsc::Receiver<Fetched>,
    _task: Task,
}

impl PageFeed {
    /// Starts reading `queries`, up to `parallel` at once (at least one), asking
    /// `page_size` records a page.
    pub(crate) fn start(
        client: &Client,
        queries: Vec<String>,
        page_size: u32,
        parallel: usize,
    ) -> PageFeed {
        let (sender, pages) = mpsc::channel(1);
        let client = client.clone();
        let task = tokio::spawn(async move {
            let mut queries = queries.into_iter();
            let mut running: VecDeque<Running> = VecDeque::new();
            loop {
                while running.len() < parallel.max(1)
                    && let Some(soql) = queries.next()
                {
                    running.push_back(read_query(&client, soql, page_size));
                }
                let Some(oldest) = running.front_mut() else { break };
                let fetched = match oldest.pages.recv().await {
                    Some(Fetched::End) => {
                        running.pop_front();
                        continue;
                    }
                    Some(fetched) => fetched,
                    // The query's task stopped without a word: the reader learns it
                    // from the channel closing before `End`.
                    None => return,
                };
                let failed = matches!(fetched, Fetched::Failed(_));
                if sender.send(fetched).await.is_err() || failed {
                    return;
                }
            }
            let _ = sender.send(Fetched::End).await;
        });
        PageFeed { pages, _task: Task(task) }
    }

    /// The next page's records, or `None` once every query is read.
    pub(crate) async fn next(&mut self) -> Result<Option<Vec<Record>>, SyncError> {
        match self.pages.recv().await {
            Some(Fetched::Page(records)) => Ok(Some(records)),
            Some(Fetched::Failed(e)) => Err(e.into()),
            Some(Fetched::End) => Ok(None),
            // A task ended without saying it was done: never take that for the end.
            None => Err(SyncError::PageReaderStopped),
        }
    }
}
