//! The binary itself: `serve` on a fresh machine, `migrate`, `staff add`, `version`,
//! and configuration errors that name the variable.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::helpers::TestClient;

const BIN: &str = env!("CARGO_BIN_EXE_patronage");

fn temp_sqlite_url() -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join("patronage-tests").join(uuid::Uuid::new_v4().simple().to_string());
    // The nested directory does not exist: the binary must create it.
    let path = dir.join("data").join("patronage.db");
    (format!("sqlite://{}?mode=rwc", path.display()), dir)
}

fn patronage(database_url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

#[test]
fn version_prints_the_crate_version() {
    let out = Command::new(BIN).arg("version").output().expect("the binary runs");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("patronage {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_wrong_setting_names_the_variable_and_fails() {
    let (url, dir) = temp_sqlite_url();
    let out = patronage(&url, &["migrate"]).env("PUBLIC_URL", "ftp://news.example").output().expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PUBLIC_URL"), "{err}");
    let out = patronage(&url, &["migrate"]).env("BIND_ADDR", "not-an-address").output().expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("BIND_ADDR"));
    assert!(!dir.exists(), "nothing was created for an invalid configuration");
}

#[test]
fn migrate_then_staff_add_prints_a_set_password_link() {
    let (url, dir) = temp_sqlite_url();
    let out = patronage(&url, &["migrate"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        patronage(&url, &["staff", "add", "--email", "Chief@News.test", "--role", "admin"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("chief@news.test") && stdout.contains("/admin/password?token="), "{stdout}");
    let out = patronage(&url, &["staff", "add", "--email", "x@news.test", "--role", "owner"]).output().expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn serve_starts_on_a_fresh_machine_prints_the_setup_link_and_stops_on_sigterm() {
    let (url, dir) = temp_sqlite_url();
    let mut child = patronage(&url, &[])
        .env("BIND_ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    // Read the start-up banner until the set-up link (lines arrive as the server
    // starts), then keep draining stdout so the server never writes to a closed pipe.
    let (tx, rx) = tokio::sync::oneshot::channel::<Vec<String>>();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(sender) = tx.take() {
                let done = line.contains("/admin/setup?token=");
                seen.push(line);
                if done {
                    let _ = sender.send(std::mem::take(&mut seen));
                } else {
                    tx = Some(sender);
                }
            }
        }
    });
    let lines = rx.await.expect("the banner includes the set-up link");
    let banner = lines.join("\n");
    let base = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:") && !w.contains("/admin"))
        .expect("the banner prints the URL")
        .to_string();
    assert!(banner.contains("/admin/setup?token="), "{banner}");
    let client = TestClient::new(&base);
    client.get("/healthz").send().await.assert_status(200);
    // What the container image's HEALTHCHECK runs.
    let bind = base.trim_start_matches("http://");
    let check = patronage(&url, &["healthcheck"]).env("BIND_ADDR", bind).output().expect("runs");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    client.get("/").send().await.assert_status(200).assert_contains("Support independent journalism");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait()).await.expect("waiter").expect("exit status");
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
    let check = patronage(&url, &["healthcheck"]).env("BIND_ADDR", bind).output().expect("runs");
    assert!(!check.status.success(), "nothing listens any more: the health check fails");
    assert!(String::from_utf8_lossy(&check.stderr).contains("/readyz"));
    let _ = std::fs::remove_dir_all(dir);
}
