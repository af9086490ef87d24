//! The handles a caller works through: [`WriteTx`] inside [`crate::Store::write`] and
//! [`Reader`] inside [`crate::Store::read`] (or [`WriteTx::read`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Transaction};
use serde_json::Value;

use crate::cursor::{self, SyncCursor};
use crate::history::{self, EventRecord, SyncEvent, SyncKind, SyncOutcome};
use crate::objects::ObjectCatalog;
use crate::pending::{
    self, ChangeOp, ChangeState, EditOutcome, PendingChange, PendingFilter, Resolution,
};
use crate::records::{self, IdRangeChecksum, Record, RecordFlags, RemoveOutcome, UpsertOutcome};
use crate::schedule::{self, ScheduleEntry};
use crate::upsert;
use crate::{StoreError, kv, links, membership};

/// Read access to a consistent state of the store.
#[derive(Debug)]
pub struct Reader<'a> {
    conn: &'a Connection,
    catalog: &'a ObjectCatalog,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(conn: &'a Connection, catalog: &'a ObjectCatalog) -> Reader<'a> {
        Reader { conn, catalog }
    }

    /// The registered objects.
    pub fn catalog(&self) -> &'a ObjectCatalog {
        self.catalog
    }

    /// The record as the user sees it (local edits applied); `None` if absent or deleted locally.
    pub fn get_record(&self, object: &str, id: &str) -> Result<Option<Record>, StoreError> {
        records::get_record(self.conn, self.catalog, object, id)
    }

    /// The bookkeeping flags of a stored row, deleted or not.
    pub fn record_flags(&self, object: &str, id: &str) -> Result<Option<RecordFlags>, StoreError> {
        records::record_flags(self.conn, self.catalog, object, id)
    }

    /// Every stored id of the object (including rows deleted locally), in id order.
    pub fn record_ids(&self, object: &str) -> Result<Vec<String>, StoreError> {
        records::record_ids(self.conn, self.catalog, object)
    }

    /// The distinct ids lookup `field` holds over the visible records of `object` that
    /// have a server id, in one query (records created on this device are left out).
    pub fn lookup_values(
        &self,
        object: &str,
        field: &str,
    ) -> Result<std::collections::BTreeSet<String>, StoreError> {
        links::lookup_values(self.conn, self.catalog, object, field)
    }

    /// For each of `ids` stored and visible, the values of `fields` that are ids, keyed by
    /// the field names as given; a few queries for the whole batch.
    pub fn lookups_of(
        &self,
        object: &str,
        ids: &[&str],
        fields: &[String],
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>, StoreError> {
        links::lookups_of(self.conn, self.catalog, object, ids, fields)
    }

    /// The number of records the user sees.
    pub fn count(&self, object: &str) -> Result<u64, StoreError> {
        records::count(self.conn, self.catalog, object)
    }

    /// Count and hash of the server ids stored in `from_id..=to_id` (both inclusive);
    /// compare with [`records::id_checksum`] over the server's ids in the same range.
    pub fn id_range_checksum(
        &self,
        object: &str,
        from_id: &str,
        to_id: &str,
    ) -> Result<IdRangeChecksum, StoreError> {
        records::id_range_checksum(self.conn, self.catalog, object, from_id, to_id)
    }

    /// The server ids stored in `from_id..=to_id`, in id order (what
    /// [`Reader::id_range_checksum`] summarizes), for narrowing down a range that differs.
    pub fn server_ids_in_range(
        &self,
        object: &str,
        from_id: &str,
        to_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        records::server_ids_in_range(self.conn, self.catalog, object, from_id, to_id)
    }

    /// Which of `ids` the store holds a row for (rows deleted locally included), in
    /// 18-character form: a membership check that costs what `ids` costs.
    pub fn stored_among(
        &self,
        object: &str,
        ids: &[String],
    ) -> Result<std::collections::BTreeSet<String>, StoreError> {
        membership::stored_among(self.conn, self.catalog, object, ids)
    }

    /// Which of `values` the reference `field` of some server record of `object` holds
    /// (records created or deleted on this device left out).
    pub fn values_among(
        &self,
        object: &str,
        field: &str,
        values: &[String],
    ) -> Result<std::collections::BTreeSet<String>, StoreError> {
        membership::values_among(self.conn, self.catalog, object, field, values)
    }

    /// The ids of the server records of `object` (not created or deleted on this device)
    /// whose reference `field` holds one of `values`.
    pub fn ids_referencing(
        &self,
        object: &str,
        field: &str,
        values: &[String],
    ) -> Result<std::collections::BTreeSet<String>, StoreError> {
        membership::ids_referencing(self.conn, self.catalog, object, field, values)
    }

    /// Every server record of `object` (not created or deleted on this device) with a
    /// value in its reference `field`, as `(id, value)` pairs.
    pub fn references(
        &self,
        object: &str,
        field: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        membership::references(self.conn, self.catalog, object, field)
    }

    /// For each of `ids` held and visible, the text of its `field` (`None` when empty).
    pub fn field_of(
        &self,
        object: &str,
        field: &str,
        ids: &[String],
    ) -> Result<BTreeMap<String, Option<String>>, StoreError> {
        membership::field_of(self.conn, self.catalog, object, field, ids)
    }

    /// The pending change with this sequence number.
    pub fn pending_change(&self, seq: i64) -> Result<PendingChange, StoreError> {
        pending::get(self.conn, seq)
    }

    /// The change queued for a record, if any.
    pub fn pending_for_record(
        &self,
        object: &str,
        id: &str,
    ) -> Result<Option<PendingChange>, StoreError> {
        let table = &self.catalog.require(object)?.name;
        pending::for_record(self.conn, table, &records::norm_id(id))
    }

    /// Pending changes in upload order.
    pub fn pending_changes(
        &self,
        filter: &PendingFilter,
    ) -> Result<Vec<PendingChange>, StoreError> {
        pending::list(self.conn, filter)
    }

    /// How many changes are pending in each state (states without changes are left out).
    pub fn pending_counts(&self) -> Result<Vec<(ChangeState, u64)>, StoreError> {
        pending::counts(self.conn)
    }

    /// The object's sync cursor.
    pub fn cursor(&self, object: &str) -> Result<Option<SyncCursor>, StoreError> {
        cursor::get(self.conn, object)
    }

    /// Every sync cursor.
    pub fn cursors(&self) -> Result<Vec<SyncCursor>, StoreError> {
        cursor::all(self.conn)
    }

    /// A stored setting or session value.
    pub fn kv_get(&self, key: &str) -> Result<Option<Value>, StoreError> {
        kv::get(self.conn, key)
    }

    /// Runs a SOQL query over the stored records (`now` resolves `TODAY` and friends);
    /// returns its first page, shaped like the REST answer: `{"totalSize", "done",
    /// "nextRecordsUrl" (while more follow), "records"}`, at most
    /// [`crate::DEFAULT_BATCH_SIZE`] records. [`Reader::query_more`] reads the next.
    pub fn query(&self, soql: &str, now: DateTime<Utc>) -> Result<Value, StoreError> {
        self.query_batched(soql, now, crate::DEFAULT_BATCH_SIZE)
    }

    /// [`Reader::query`] with pages of `batch_size` records (brought within
    /// [`crate::BATCH_SIZES`]), as `Sforce-Query-Options: batchSize` asks the REST resource.
    pub fn query_batched(
        &self,
        soql: &str,
        now: DateTime<Utc>,
        batch_size: u32,
    ) -> Result<Value, StoreError> {
        crate::query::query(self.conn, self.catalog, soql, now, batch_size)
    }

    /// The next page of a query: `locator` is the `nextRecordsUrl` of the page before (or
    /// its last segment). Pages are keyset reads, so each costs what it returns; nothing
    /// stays open between them. [`StoreError::BadLocator`] when it is not one this store made.
    pub fn query_more(&self, locator: &str) -> Result<Value, StoreError> {
        crate::query::query_more(self.conn, self.catalog, locator)
    }

    /// How SQLite runs a SOQL query over the stored records: one `EXPLAIN QUERY PLAN`
    /// detail line per step of the main statement (`SEARCH ... USING INDEX ...`, `SCAN ...`).
    pub fn query_plan(&self, soql: &str, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        crate::query::plan(self.conn, self.catalog, soql, now)
    }

    /// Sync events, newest first: at most `limit`, older than `before_id` if given.
    pub fn sync_events(
        &self,
        limit: usize,
        before_id: Option<i64>,
    ) -> Result<Vec<SyncEvent>, StoreError> {
        history::list(self.conn, limit, before_id)
    }

    /// One sync event.
    pub fn sync_event(&self, event_id: i64) -> Result<Option<SyncEvent>, StoreError> {
        history::get(self.conn, event_id)
    }

    /// The stored detail rows of a sync event, in the order reported.
    pub fn sync_event_records(&self, event_id: i64) -> Result<Vec<EventRecord>, StoreError> {
        history::records(self.conn, event_id)
    }

    /// Every object's schedule, the next due first.
    pub fn schedule(&self) -> Result<Vec<ScheduleEntry>, StoreError> {
        schedule::all(self.conn)
    }

    /// One object's schedule.
    pub fn schedule_for(&self, object: &str) -> Result<Option<ScheduleEntry>, StoreError> {
        schedule::get(self.conn, object)
    }

    /// Objects due to sync at `now`, the most overdue first.
    pub fn due_objects(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        schedule::due(self.conn, now)
    }
}

/// One write transaction. Dropped without commit (the closure returned an error), it rolls back.
#[derive(Debug)]
pub struct WriteTx<'c> {
    tx: Transaction<'c>,
    catalog: Arc<ObjectCatalog>,
}

impl<'c> WriteTx<'c> {
    pub(crate) fn new(tx: Transaction<'c>, catalog: Arc<ObjectCatalog>) -> WriteTx<'c> {
        WriteTx { tx, catalog }
    }

    pub(crate) fn commit(self) -> Result<(), StoreError> {
        self.tx.commit()?;
        Ok(())
    }

    /// Reads inside this transaction (seeing its uncommitted writes).
    pub fn read(&self) -> Reader<'_> {
        Reader::new(&self.tx, &self.catalog)
    }

    /// Writes downloaded records. A record with a pending change keeps its pending fields'
    /// local values; the outcome lists which fields were kept.
    pub fn upsert_records(
        &mut self,
        object: &str,
        records: &[Record],
    ) -> Result<UpsertOutcome, StoreError> {
        upsert::upsert_records(&self.tx, &self.catalog, object, records)
    }

    /// Removes records the server no longer has (or that left the sync scope). Records with
    /// pending changes are kept and flagged instead; the outcome lists them.
    pub fn delete_records(
        &mut self,
        object: &str,
        ids: &[&str],
    ) -> Result<RemoveOutcome, StoreError> {
        records::delete_records(&self.tx, &self.catalog, object, ids)
    }

    /// Sets the engine's scope bits on a stored row.
    pub fn set_scope_flags(
        &mut self,
        object: &str,
        id: &str,
        flags: i64,
    ) -> Result<(), StoreError> {
        let table = &self.catalog.require(object)?.name;
        self.tx.execute(
            &format!("UPDATE \"{table}\" SET _scope_flags = ?2 WHERE \"Id\" = ?1"),
            rusqlite::params![records::norm_id(id), flags],
        )?;
        Ok(())
    }

    /// A local edit: changes the row and queues the change for upload, coalescing with the
    /// record's queued change. For `Create`, `record_id` may be `None` to get a new local id.
    pub fn record_edit(
        &mut self,
        object: &str,
        record_id: Option<&str>,
        op: ChangeOp,
        fields: &Record,
        now: DateTime<Utc>,
    ) -> Result<EditOutcome, StoreError> {
        pending::record_edit(&self.tx, &self.catalog, object, record_id, op, fields, now)
    }

    /// Gives a record created offline its server id everywhere it appears.
    pub fn remap_id(
        &mut self,
        local_id: &str,
        server_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        pending::remap_id(&self.tx, &self.catalog, local_id, server_id, now)
    }

    /// Marks a waiting change as being uploaded and returns it.
    pub fn mark_uploading(
        &mut self,
        seq: i64,
        now: DateTime<Utc>,
    ) -> Result<PendingChange, StoreError> {
        pending::mark_uploading(&self.tx, seq, &[], now)
    }

    /// Marks a waiting change as being uploaded without the fields in `held_back`, and
    /// returns it (its `sent_values` are what to send). Completing the upload leaves the
    /// held-back fields queued as an update.
    pub fn mark_uploading_without(
        &mut self,
        seq: i64,
        held_back: &[String],
        now: DateTime<Utc>,
    ) -> Result<PendingChange, StoreError> {
        pending::mark_uploading(&self.tx, seq, held_back, now)
    }

    /// Puts an uploading change back to waiting after a transient failure.
    pub fn mark_waiting(&mut self, seq: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        pending::mark_waiting(&self.tx, seq, now)
    }

    /// Parks an uploading change as failed with the server's error.
    pub fn mark_failed(
        &mut self,
        seq: i64,
        error: Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        pending::mark_failed(&self.tx, seq, error, now)
    }

    /// Parks an uploading change as a conflict with the server's current values.
    pub fn mark_conflict(
        &mut self,
        seq: i64,
        server_values: &Record,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        pending::mark_conflict(&self.tx, &self.catalog, seq, server_values, now)
    }

    /// Settles a conflict; returns the change's seq if something is left to upload.
    pub fn resolve(
        &mut self,
        seq: i64,
        choices: &BTreeMap<String, Resolution>,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        pending::resolve(&self.tx, &self.catalog, seq, choices, now)
    }

    /// Drops a change and undoes it locally.
    pub fn discard(&mut self, seq: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        pending::discard(&self.tx, &self.catalog, seq, now)
    }

    /// Re-creates a record the server deleted while it was edited locally: its change (a
    /// conflict) becomes a create of `values` on a new local id, which every local
    /// reference takes. Returns the new local id.
    pub fn recreate(
        &mut self,
        seq: i64,
        values: &Record,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        pending::recreate(&self.tx, &self.catalog, seq, values, now)
    }

    /// Puts a failed or blocked change back in the queue.
    pub fn retry(&mut self, seq: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        pending::retry(&self.tx, seq, now)
    }

    /// Records the server's acceptance of an uploading change.
    pub fn complete(&mut self, seq: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        pending::complete(&self.tx, &self.catalog, seq, now)
    }

    /// Sets the value a create is upserted by.
    pub fn set_external_id_value(&mut self, seq: i64, value: &str) -> Result<(), StoreError> {
        pending::set_external_id_value(&self.tx, seq, value)
    }

    /// Saves the object's sync cursor, committing with the rows written in this transaction.
    pub fn set_cursor(&mut self, cursor: &SyncCursor) -> Result<(), StoreError> {
        cursor::set(&self.tx, cursor)
    }

    /// Forgets the object's cursor (the next sync downloads it in full).
    pub fn clear_cursor(&mut self, object: &str) -> Result<(), StoreError> {
        cursor::clear(&self.tx, object)
    }

    /// Stores a setting or session value.
    pub fn kv_set(&mut self, key: &str, value: &Value) -> Result<(), StoreError> {
        kv::set(&self.tx, key, value)
    }

    /// Deletes a setting; returns whether it existed.
    pub fn kv_delete(&mut self, key: &str) -> Result<bool, StoreError> {
        kv::delete(&self.tx, key)
    }

    /// Starts a sync event; returns its id.
    pub fn begin_sync_event(
        &mut self,
        kind: SyncKind,
        started_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        history::begin(&self.tx, kind, started_at)
    }

    /// Adds per-record detail to an event, up to [`history::MAX_EVENT_RECORDS`] rows;
    /// returns how many were stored (the rest only count, and mark the event truncated).
    pub fn add_sync_event_records(
        &mut self,
        event_id: i64,
        records: &[EventRecord],
    ) -> Result<usize, StoreError> {
        history::add_records(&self.tx, event_id, records)
    }

    /// Ends an event with its outcome and counts, then prunes old history.
    #[allow(clippy::too_many_arguments)]
    pub fn finish_sync_event(
        &mut self,
        event_id: i64,
        ended_at: DateTime<Utc>,
        outcome: SyncOutcome,
        reason: Option<&str>,
        counts: &Value,
        upload_counts: &Value,
    ) -> Result<(), StoreError> {
        history::finish(&self.tx, event_id, ended_at, outcome, reason, counts, upload_counts)
    }

    /// Applies history retention at `now`; returns how many events were deleted.
    pub fn prune_history(&mut self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        history::prune(&self.tx, now)
    }

    /// Sets how often an object syncs.
    pub fn set_sync_interval(
        &mut self,
        object: &str,
        interval_secs: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        schedule::set_interval(&self.tx, object, interval_secs, now)
    }

    /// Records that an object synced at `at` (no effect if it has no schedule).
    pub fn record_scheduled_sync(
        &mut self,
        object: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        schedule::record_sync(&self.tx, object, at)
    }

    /// Records that a sync of an object failed at `at`: it is next due after
    /// `retry_secs` (or its interval, if shorter); its last successful sync is kept.
    pub fn record_failed_sync(
        &mut self,
        object: &str,
        at: DateTime<Utc>,
        retry_secs: u64,
    ) -> Result<(), StoreError> {
        schedule::record_failure(&self.tx, object, at, retry_secs)
    }

    /// Removes an object's schedule.
    pub fn remove_schedule(&mut self, object: &str) -> Result<(), StoreError> {
        schedule::remove(&self.tx, object)
    }
}
