//! Open query cursors behind `nextRecordsUrl` locators.

/// The open cursors of a running org.
#[derive(Debug, Default)]
pub struct CursorStore {}
