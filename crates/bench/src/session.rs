//! A client that keeps running between delta syncs, as the app does: one child process
//! with its store open, told over standard input when to sync, answering one JSON
//! [`ChildResult`] line per sync. Its page cache stays warm from sync to sync, where a
//! `deltasync sync` run ([`ChildOp::Delta`]) starts cold each time.

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::child::{ChildOp, ChildResult, ChildSpec};

/// A running [`ChildOp::DeltaSession`] child.
pub struct Session {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Session {
    /// Starts the child on the primed store `spec` names; `spec.op` is
    /// [`ChildOp::DeltaSession`].
    pub fn start(spec: &ChildSpec) -> Result<Session> {
        debug_assert_eq!(spec.op, ChildOp::DeltaSession);
        let exe = std::env::current_exe().context("the benchmark's own path")?;
        let mut child = Command::new(exe)
            .arg("child")
            .arg(serde_json::to_string(spec)?)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take().context("the session's input")?;
        let stdout = child.stdout.take().context("the session's output")?;
        Ok(Session { child, stdin, stdout: BufReader::new(stdout).lines() })
    }

    /// One delta sync, with devorg's clock `clock_offset_ms` ahead of the wall clock.
    pub async fn sync(&mut self, clock_offset_ms: i64) -> Result<ChildResult> {
        self.stdin.write_all(format!("{clock_offset_ms}\n").as_bytes()).await?;
        self.stdin.flush().await?;
        let Some(line) = self.stdout.next_line().await? else {
            let status = self.child.wait().await?;
            bail!("the delta session ended ({status})");
        };
        serde_json::from_str(&line).with_context(|| format!("session result: {line}"))
    }

    /// Closes the session's input and waits for it to end.
    pub async fn finish(self) -> Result<()> {
        let Session { mut child, stdin, .. } = self;
        drop(stdin);
        let status = child.wait().await?;
        if !status.success() {
            bail!("the delta session failed ({status})");
        }
        Ok(())
    }
}
