//! `deltasync devorg`: run the Salesforce-compatible development org until Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use devorg::{Config, DevOrg};
use serde_json::json;

use super::Ctx;
use super::output::print_json;
use crate::cli::DevorgArgs;

/// `90s`, `15m`, `2h`, `1d` (or a sum like `1h30m`) as a duration.
fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let mut total = 0u64;
    let mut number = String::new();
    for ch in text.trim().chars() {
        if ch.is_ascii_digit() {
            number.push(ch);
            continue;
        }
        let unit = match ch {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => bail!("'{text}': unknown unit '{ch}' (use s, m, h or d)"),
        };
        let n: u64 = number
            .parse()
            .with_context(|| format!("'{text}': a number must come before '{ch}'"))?;
        total = total.saturating_add(n.saturating_mul(unit));
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        bail!("'{text}' is not a duration such as 90s, 15m or 2h");
    }
    Ok(Duration::from_secs(total))
}

pub async fn run(ctx: &Ctx, args: DevorgArgs) -> anyhow::Result<ExitCode> {
    let seed = match args.seed.as_deref() {
        None => None,
        Some("field-service") => Some(devorg::seed::SeedOptions {
            records: usize::try_from(args.records).unwrap_or(usize::MAX),
            seed: args.seed_value,
            now: None,
        }),
        Some(other) => bail!("--seed '{other}': the only data set is 'field-service'"),
    };
    let addr: SocketAddr =
        args.addr.parse().with_context(|| format!("--addr '{}' is not host:port", args.addr))?;
    let token_ttl = parse_duration(&args.token_ttl).context("--token-ttl")?;
    let config = Config {
        addr,
        data_dir: args.data.clone(),
        token_ttl,
        tls: args.tls,
        seed,
        ..Config::default()
    };
    let org = DevOrg::start(config).await.context("devorg cannot start")?;
    if ctx.json {
        print_json(&json!({
            "url": org.url(),
            "org_id": org.org_id(),
            "client_id": devorg::DEMO_CLIENT_ID,
            "client_secret": devorg::DEMO_CLIENT_SECRET,
            "users": [
                {"username": "admin@devorg.example", "password": devorg::DEMO_ADMIN_PASSWORD},
                {"username": "tech1@field.example", "password": devorg::DEMO_TECH_PASSWORD},
                {"username": "tech2@field.example", "password": devorg::DEMO_TECH_PASSWORD},
                {"username": "tech3@field.example", "password": devorg::DEMO_TECH_PASSWORD},
            ],
        }));
    } else {
        say!("devorg listening at {}", org.url());
        say!("  connected app: {} / {}", devorg::DEMO_CLIENT_ID, devorg::DEMO_CLIENT_SECRET);
        say!("  admin@devorg.example / {}", devorg::DEMO_ADMIN_PASSWORD);
        say!(
            "  tech1@field.example, tech2@field.example, tech3@field.example / {}",
            devorg::DEMO_TECH_PASSWORD
        );
        say!(
            "log in with: deltasync login --url {} --username tech1@field.example --password {} --client-secret {}",
            org.url(),
            devorg::DEMO_TECH_PASSWORD,
            devorg::DEMO_CLIENT_SECRET
        );
        say!("Ctrl-C stops it.");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    org.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_read_with_units() {
        assert_eq!(parse_duration("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5_400);
        assert!(parse_duration("15").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
    }
}
