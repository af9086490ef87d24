//! Seeds a field-service org into a data folder and reports what it wrote and how long it
//! took: `cargo run -p devorg --example seed -- DIR [RECORDS] [SEED]`.

use std::time::Instant;

use devorg::{Config, DevOrg, SeedOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: seed DIR [RECORDS] [SEED]")?;
    let records: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(10_000);
    let seed: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1);
    let started = Instant::now();
    let config = Config {
        data_dir: Some(dir.into()),
        seed: Some(SeedOptions { records, seed, now: None }),
        ..Config::default()
    };
    let org = DevOrg::start(config).await?;
    println!(
        "seeded {records} records in {:.1} s; serving at {}",
        started.elapsed().as_secs_f64(),
        org.url()
    );
    org.shutdown().await;
    Ok(())
}
