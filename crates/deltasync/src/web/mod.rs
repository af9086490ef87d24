//! The field web app served by `deltasync app`: server-rendered HTML, a little plain
//! JavaScript for live updates, every asset embedded in the binary.

pub mod guard;
