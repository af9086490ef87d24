//! A small disk of its own for a data folder: a tmpfs of a fixed size mounted in a private
//! user and mount namespace (no root needed), where the CLI runs through `nsenter`. Writes
//! past its size fail with ENOSPC, exactly as on a full disk.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A mounted tmpfs, alive as long as the namespace's holder process.
pub struct SmallDisk {
    holder: Child,
    mount: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `kib` KiB on `mount` (an empty folder), or says why it cannot.
    pub fn mount(mount: &Path, kib: u64) -> Result<SmallDisk, String> {
        let script =
            "mount -t tmpfs -o size=\"$1\"k tmpfs \"$0\" && echo mounted && exec sleep 3600";
        let mut holder = Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "--propagation", "private"])
            .args(["sh", "-c", script])
            .arg(mount)
            .arg(kib.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("unshare: {e}"))?;
        let mut line = String::new();
        let stdout = holder.stdout.take().ok_or("no stdout")?;
        let _ = BufReader::new(stdout).read_line(&mut line);
        if line.trim() != "mounted" {
            let _ = holder.kill();
            let out = holder.wait_with_output().map_err(|e| e.to_string())?;
            return Err(format!(
                "cannot mount a tmpfs in a user namespace: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallDisk { holder, mount: mount.to_owned() })
    }

    /// `program` with `args`, run inside the namespace that sees the disk.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg("--target")
            .arg(self.holder.id().to_string())
            .args(["--user", "--mount", "--preserve-credentials", "--"])
            .arg(program);
        cmd
    }

    /// Fills the disk with a file until the file system refuses, leaving about `keep_kib`.
    pub fn fill(&self, keep_kib: u64) {
        let filler = self.mount.join("filler");
        let script = "dd if=/dev/zero of=\"$0\" bs=4k 2>/dev/null; \
                      [ \"$1\" = 0 ] || truncate -s -\"$1\"K \"$0\"";
        let status = self
            .command("sh")
            .args(["-c", script])
            .arg(&filler)
            .arg(keep_kib.to_string())
            .status()
            .expect("filling runs");
        assert!(status.success(), "the disk fills");
    }

    /// Frees the space [`SmallDisk::fill`] took.
    pub fn free(&self) {
        let status =
            self.command("rm").arg("-f").arg(self.mount.join("filler")).status().expect("rm runs");
        assert!(status.success(), "the space is freed");
    }

    /// Free space left, in KiB.
    pub fn available_kib(&self) -> u64 {
        let out = self
            .command("df")
            .args(["-k", "--output=avail"])
            .arg(&self.mount)
            .output()
            .expect("df runs");
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().nth(1).and_then(|l| l.trim().parse().ok()).unwrap_or(0)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
