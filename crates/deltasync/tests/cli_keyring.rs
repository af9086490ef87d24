//! Where the real binary keeps the store key. With a Secret Service on the session bus (a
//! private `dbus-daemon` and an unlocked GNOME Keyring started by the test, in a home of its
//! own) the key goes to the keyring and no key file is written; the key is read back with
//! `secret-tool`, opens the store, and logout deletes it. Without a session bus the key is
//! kept in a 0600 key file, and a key file made that way keeps serving once a keyring is there.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use devorg::{Config, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg, RunningOrg};
use serde_json::Value;
use tempfile::TempDir;

const TECH1: &str = "tech1@field.example";

/// The programs the keyring tests run, and the Debian package that brings each.
const TOOLS: [(&str, &str); 4] = [
    ("dbus-daemon", "dbus-daemon"),
    ("dbus-send", "dbus-bin"),
    ("gnome-keyring-daemon", "gnome-keyring"),
    ("secret-tool", "libsecret-tools"),
];

/// Fails (never skips) when a program the test needs is not installed.
fn require_tools() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for (tool, package) in TOOLS {
        let found = std::env::split_paths(&path).any(|dir| dir.join(tool).is_file());
        assert!(
            found,
            "`{tool}` is not installed: install the Debian package `{package}` \
             (scripts/install-test-deps installs it)"
        );
    }
}

/// A private session: a home and runtime folder of its own, and, when started with a
/// keyring, a `dbus-daemon` and an unlocked `gnome-keyring-daemon` on it. Both daemons
/// are killed when it drops.
struct Session {
    home: TempDir,
    bus: Option<String>,
    daemons: Vec<Child>,
}

impl Session {
    /// No session bus: `DBUS_SESSION_BUS_ADDRESS` unset and an empty runtime folder.
    fn without_bus() -> Session {
        let session = Session { home: tempfile::tempdir().unwrap(), bus: None, daemons: vec![] };
        std::fs::create_dir(session.runtime_dir()).unwrap();
        session
    }

    /// A session bus with an unlocked Secret Service on it.
    fn with_keyring() -> Session {
        require_tools();
        let mut session = Session::without_bus();
        let socket = session.runtime_dir().join("bus");
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address"])
            .arg(format!("--address=unix:path={}", socket.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap()).read_line(&mut address).unwrap();
        session.daemons.push(bus);
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:path="), "dbus-daemon printed {address:?}");
        session.bus = Some(address);

        let mut keyring = session
            .command("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts");
        // The login keyring's password, read from standard input until it closes.
        keyring.stdin.take().unwrap().write_all(b"keyring-test-password").unwrap();
        session.daemons.push(keyring);
        session.wait_for_secret_service();
        session
    }

    /// Waits (a bounded number of checks) until the keyring owns its bus name, so no
    /// client call starts a second, locked keyring by D-Bus activation.
    fn wait_for_secret_service(&self) {
        for _ in 0..200 {
            let out = self
                .command("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("gnome-keyring-daemon never took the name org.freedesktop.secrets");
    }

    /// Locks the keyring's default collection, as a screen lock or `seahorse` would.
    fn lock_keyring(&self) {
        let out = self
            .command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/aliases/default",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    fn runtime_dir(&self) -> PathBuf {
        self.home.path().join("run")
    }

    /// A command in this session's environment.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env("HOME", self.home.path())
            .env("XDG_RUNTIME_DIR", self.runtime_dir())
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env_remove("RUST_LOG");
        match &self.bus {
            Some(address) => command.env("DBUS_SESSION_BUS_ADDRESS", address),
            None => command.env_remove("DBUS_SESSION_BUS_ADDRESS"),
        };
        command
    }

    /// Runs `deltasync --json --data-dir DIR ARGS`.
    fn deltasync(&self, dir: &Path, args: &[&str]) -> Output {
        self.command(env!("CARGO_BIN_EXE_deltasync"))
            .args(["--json", "--data-dir"])
            .arg(dir)
            .args(args)
            .output()
            .expect("deltasync runs")
    }

    /// Runs deltasync and reads its JSON answer, failing with its standard error.
    fn json(&self, dir: &Path, args: &[&str]) -> Value {
        let out = self.deltasync(dir, args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("JSON")
    }

    fn login(&self, dir: &Path, org: &RunningOrg) -> Value {
        self.json(
            dir,
            &[
                "login",
                "--url",
                org.url(),
                "--username",
                TECH1,
                "--password",
                DEMO_TECH_PASSWORD,
                "--client-secret",
                DEMO_CLIENT_SECRET,
            ],
        )
    }

    /// The key the keyring holds for the data folder, as `secret-tool` prints it.
    fn keyring_secret(&self, dir: &Path) -> Option<String> {
        let canonical = std::fs::canonicalize(dir).unwrap();
        let out = self
            .command("secret-tool")
            .args(["lookup", "service", "deltasync", "data-dir"])
            .arg(&canonical)
            .output()
            .unwrap();
        let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (out.status.success() && !secret.is_empty()).then_some(secret)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // The keyring first, then the bus it is on.
        for daemon in self.daemons.iter_mut().rev() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}

fn org() -> (tokio::runtime::Runtime, RunningOrg) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let org = runtime.block_on(DevOrg::start(Config::default())).expect("devorg starts");
    (runtime, org)
}

#[test]
fn with_a_secret_service_the_key_lives_in_the_keyring_until_logout() {
    let session = Session::with_keyring();
    let (_runtime, org) = org();
    let dir = tempfile::tempdir().unwrap();

    let login = session.login(dir.path(), &org);
    assert_eq!(login["store_key"]["kept_in"], "keyring", "{login}");
    assert!(!dir.path().join("store.key").exists(), "no key file beside the store");
    assert!(dir.path().join("store.db").exists());

    // The keyring's item is the store's key: it opens the store.
    let secret = session.keyring_secret(dir.path()).expect("the keyring holds the key");
    assert!(!login.to_string().contains(&secret), "the output never shows the key");
    let key = store::StoreKey::from_hex(&secret).expect("64 hex digits");
    let store = store::Store::open(&dir.path().join("store.db"), &key).expect("the key opens it");
    drop(store);

    // A second command takes the key from the keyring.
    let status = session.json(dir.path(), &["status"]);
    assert_eq!(status["store_key"]["kept_in"], "keyring", "{status}");
    assert_eq!(status["user"]["username"], TECH1);
    session.json(dir.path(), &["query", "SELECT Id FROM WorkOrder"]);

    let logout = session.json(dir.path(), &["logout"]);
    assert_eq!(logout["logged_out"], true);
    assert_eq!(session.keyring_secret(dir.path()), None, "logout deletes the keyring item");
    assert!(!dir.path().join("store.db").exists());
    assert!(!dir.path().join("store.key").exists());
}

#[test]
fn without_a_session_bus_the_key_lives_in_a_0600_key_file() {
    use std::os::unix::fs::PermissionsExt;

    let session = Session::without_bus();
    let (_runtime, org) = org();
    let dir = tempfile::tempdir().unwrap();

    let login = session.login(dir.path(), &org);
    let key_file = dir.path().join("store.key");
    assert_eq!(login["store_key"]["kept_in"], "file", "{login}");
    assert_eq!(login["store_key"]["path"], key_file.display().to_string());
    let mode = std::fs::metadata(&key_file).expect("a key file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let status = session.json(dir.path(), &["status"]);
    assert_eq!(status["store_key"]["kept_in"], "file", "{status}");

    session.json(dir.path(), &["logout"]);
    assert!(!key_file.exists(), "logout deletes the key file");
}

#[test]
fn a_key_file_keeps_serving_its_store_once_a_keyring_is_there() {
    let (_runtime, org) = org();
    let dir = tempfile::tempdir().unwrap();
    Session::without_bus().login(dir.path(), &org);
    let key_file = dir.path().join("store.key");
    let key = std::fs::read_to_string(&key_file).unwrap();

    let session = Session::with_keyring();
    let status = session.json(dir.path(), &["status"]);
    assert_eq!(status["store_key"]["kept_in"], "file", "{status}");
    // A login again (same user) keeps the file's key rather than making a second one.
    let login = session.login(dir.path(), &org);
    assert_eq!(login["store_key"]["kept_in"], "file", "{login}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key);
    assert_eq!(session.keyring_secret(dir.path()), None, "no second key in the keyring");
}

#[test]
fn a_store_whose_key_is_in_the_keyring_is_never_given_a_second_key() {
    let session = Session::with_keyring();
    let (_runtime, org) = org();
    let dir = tempfile::tempdir().unwrap();
    session.login(dir.path(), &org);
    let secret = session.keyring_secret(dir.path()).expect("the keyring holds the key");

    // Without the bus the key cannot be reached: the error says so, and neither a command
    // nor a login makes a key file that could never open the store.
    let no_bus = Session::without_bus();
    let login = [
        "login",
        "--url",
        org.url(),
        "--username",
        TECH1,
        "--password",
        DEMO_TECH_PASSWORD,
        "--client-secret",
        DEMO_CLIENT_SECRET,
    ];
    for args in [&["status"][..], &login] {
        let out = no_bus.deltasync(dir.path(), args);
        assert!(!out.status.success(), "{args:?} must fail without the keyring's key");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no OS keyring answers on the D-Bus session bus"), "{stderr}");
        assert!(!dir.path().join("store.key").exists(), "{args:?} made a key file");
    }

    // Back in the session, the keyring's key still opens the store.
    assert_eq!(session.keyring_secret(dir.path()).as_deref(), Some(secret.as_str()));
    let status = session.json(dir.path(), &["status"]);
    assert_eq!(status["store_key"]["kept_in"], "keyring", "{status}");
}

#[test]
fn a_locked_keyring_is_named_and_nothing_is_changed() {
    let session = Session::with_keyring();
    let (_runtime, org) = org();
    let dir = tempfile::tempdir().unwrap();
    session.login(dir.path(), &org);
    session.lock_keyring();

    // The unlock prompt cannot be shown here, so it is dismissed: each command says the
    // keyring is locked, and neither makes a key file nor removes the store.
    for args in [&["status"][..], &["logout"]] {
        let out = session.deltasync(dir.path(), args);
        assert!(!out.status.success(), "{args:?} succeeded with the keyring locked");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("the keyring is locked"), "{args:?}: {stderr}");
        assert!(!dir.path().join("store.key").exists());
        assert!(dir.path().join("store.db").exists());
    }

    // A new login in another folder does not fall back to a key file either.
    let other = tempfile::tempdir().unwrap();
    let out = session.deltasync(
        other.path(),
        &[
            "login",
            "--url",
            org.url(),
            "--username",
            TECH1,
            "--password",
            DEMO_TECH_PASSWORD,
            "--client-secret",
            DEMO_CLIENT_SECRET,
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the keyring is locked"), "{stderr}");
    assert!(!other.path().join("store.key").exists());
}
