//! SOQL queries: first pages, following pages, paging with a batch size, and counts.

use super::http::Call;
use super::{Client, Error};
use crate::wire::QueryResult;

/// The page size range `Sforce-Query-Options: batchSize=N` accepts.
const BATCH_SIZE_RANGE: std::ops::RangeInclusive<u32> = 200..=2000;

impl Client {
    /// Runs a query and returns its first page.
    pub async fn query(&self, soql: &str) -> Result<QueryResult, Error> {
        self.call_json(Call::get(self.data_path(&["query"])).query("q", soql)).await
    }

    /// Runs a query that also returns soft-deleted rows (`IsDeleted = true`); first page.
    pub async fn query_all(&self, soql: &str) -> Result<QueryResult, Error> {
        self.call_json(Call::get(self.data_path(&["queryAll"])).query("q", soql)).await
    }

    /// Fetches the page a previous page's `nextRecordsUrl` points to. Accepts the URL as
    /// given, a full `https://...` URL, or only its last segment (the locator).
    pub async fn query_more(&self, next_records_url: &str) -> Result<QueryResult, Error> {
        self.call_json(Call::get(self.next_page_path(next_records_url)?)).await
    }

    /// Pages through a query asking for `batch_size` records a page (clamped to
    /// 200..=2000; the server may still choose another size).
    pub fn query_pages(&self, soql: &str, batch_size: u32) -> QueryPager {
        QueryPager::new(self.clone(), soql, batch_size, false)
    }

    /// Pages through a query whose first page arrived already (from
    /// [`Client::composite_reads`]): yields `first`, then follows its `nextRecordsUrl`
    /// asking for `batch_size` records a page.
    pub fn pages_from(&self, first: QueryResult, batch_size: u32) -> QueryPager {
        let mut pager = QueryPager::new(self.clone(), "", batch_size, false);
        pager.state = PagerState::First(Box::new(first));
        pager
    }

    /// Like [`Client::query_pages`], including soft-deleted rows.
    pub fn query_all_pages(&self, soql: &str, batch_size: u32) -> QueryPager {
        QueryPager::new(self.clone(), soql, batch_size, true)
    }

    /// The row count of a `SELECT COUNT() FROM ...` query.
    pub async fn count(&self, soql: &str) -> Result<u64, Error> {
        Ok(self.query(soql).await?.total_size)
    }

    fn next_page_path(&self, next: &str) -> Result<String, Error> {
        let next = next.trim();
        if next.starts_with("http://") || next.starts_with("https://") {
            let url = url::Url::parse(next)
                .map_err(|e| Error::Config(format!("next records URL is not a URL: {e}")))?;
            return Ok(match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            });
        }
        if next.starts_with('/') {
            return Ok(next.to_owned());
        }
        if next.is_empty() || next.contains(['/', '?', '#']) {
            return Err(Error::Config(format!(
                "'{next}' is neither a next records URL nor a locator"
            )));
        }
        Ok(self.data_path(&["query", next]))
    }
}

/// `batch_size` within what `Sforce-Query-Options: batchSize=N` accepts.
pub(super) fn clamp_batch_size(batch_size: u32) -> u32 {
    batch_size.clamp(*BATCH_SIZE_RANGE.start(), *BATCH_SIZE_RANGE.end())
}

/// Pages through one query. Each [`QueryPager::next_page`] fetches one page; after a
/// failed fetch the same page is fetched again on the next call.
#[derive(Debug)]
pub struct QueryPager {
    client: Client,
    soql: String,
    include_deleted: bool,
    batch_size: u32,
    state: PagerState,
    total_size: Option<u64>,
}

#[derive(Debug)]
enum PagerState {
    Start,
    /// A first page fetched elsewhere, not yet handed out.
    First(Box<QueryResult>),
    Next(String),
    Done,
}

impl QueryPager {
    fn new(client: Client, soql: &str, batch_size: u32, include_deleted: bool) -> QueryPager {
        QueryPager {
            client,
            soql: soql.to_owned(),
            include_deleted,
            batch_size: clamp_batch_size(batch_size),
            state: PagerState::Start,
            total_size: None,
        }
    }

    /// The next page, or `None` when the query is exhausted.
    pub async fn next_page(&mut self) -> Result<Option<QueryResult>, Error> {
        let call = match &self.state {
            PagerState::Done => return Ok(None),
            PagerState::First(_) => {
                let PagerState::First(page) = std::mem::replace(&mut self.state, PagerState::Done)
                else {
                    return Ok(None);
                };
                return Ok(Some(self.take_page(*page)));
            }
            PagerState::Start => {
                let resource = if self.include_deleted { "queryAll" } else { "query" };
                Call::get(self.client.data_path(&[resource])).query("q", self.soql.clone())
            }
            PagerState::Next(next) => Call::get(self.client.next_page_path(next)?),
        };
        let call = call.header("Sforce-Query-Options", format!("batchSize={}", self.batch_size));
        let page: QueryResult = self.client.call_json(call).await?;
        Ok(Some(self.take_page(page)))
    }

    /// Notes where `page` leaves the query and hands it out.
    fn take_page(&mut self, page: QueryResult) -> QueryResult {
        self.total_size = Some(page.total_size);
        self.state = match (&page.next_records_url, page.done) {
            (Some(next), false) => PagerState::Next(next.clone()),
            (None, false) => {
                tracing::debug!("query page says not done but has no next records URL; stopping");
                PagerState::Done
            }
            (_, true) => PagerState::Done,
        };
        tracing::trace!(records = page.records.len(), done = page.done, "query page");
        page
    }

    /// The query's total row count, once the first page has arrived.
    pub fn total_size(&self) -> Option<u64> {
        self.total_size
    }

    /// The page size asked for.
    pub fn batch_size(&self) -> u32 {
        self.batch_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientConfig, Session};

    #[test]
    fn next_page_forms() {
        let client = Client::new(
            Session::from_access_token("http://127.0.0.1:9", "t"),
            ClientConfig::default(),
        )
        .unwrap();
        let path = "/services/data/v62.0/query/01gD0000002HU6KIAW-2000";
        assert_eq!(client.next_page_path(path).unwrap(), path);
        assert_eq!(
            client.next_page_path(&format!("https://x.my.salesforce.com{path}")).unwrap(),
            path
        );
        assert_eq!(client.next_page_path("01gD0000002HU6KIAW-2000").unwrap(), path);
        assert!(client.next_page_path("").is_err());
        assert!(client.next_page_path("a?b").is_err());
        let pager = client.query_pages("SELECT Id FROM Account", 50);
        assert_eq!(pager.batch_size(), 200);
        assert_eq!(client.query_pages("SELECT Id FROM Account", 5000).batch_size(), 2000);
    }
}
