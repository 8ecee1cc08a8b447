//! A PostgreSQL cluster of a test's own, on a free loopback port, that the test
//! may stop and start again (the shared server stays untouched). Runs as the
//! `postgres` user when the tests run as root (PostgreSQL refuses root), with trust
//! authentication and fsync off; `Drop` stops it and removes its directory.
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct TempPostgres {
    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub url: String,
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    running: bool,
}

impl TempPostgres {
    /// Creates and starts a cluster. Without PostgreSQL's server binaries it says why
    /// and returns `None`; under CI=true it fails instead.
    pub async fn start() -> Option<TempPostgres> {
        let Some(bin) = server_binaries() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but PostgreSQL's initdb was not found (/usr/lib/postgresql/*/bin or PATH)"
            );
            eprintln!("skipping: PostgreSQL's initdb was not found; install postgresql to run this");
            return None;
        };
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("patronage-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("the temp directory is writable");
        if as_root() {
            run(Command::new("chown").args(["postgres:postgres", &path_str(&dir)]), "chown the cluster directory");
        }
        let mut pg = TempPostgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            bin,
            dir,
            port,
            running: false,
        };
        let data = path_str(&pg.data());
        pg.blocking(&["initdb", "-D", &data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
            .await;
        pg.start_again().await;
        Some(pg)
    }

    /// The URL of database `name` on this cluster (the app creates it when missing).
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Starts the stopped cluster on the same port; returns once it accepts connections.
    pub async fn start_again(&mut self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c full_page_writes=off -c synchronous_commit=off",
            self.port,
            path_str(&self.dir)
        );
        let (data, log) = (path_str(&self.data()), path_str(&self.dir.join("server.log")));
        self.blocking(&["pg_ctl", "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start"]).await;
        self.running = true;
    }

    /// Stops the cluster as a restart does (`-m fast`: every session is ended).
    pub async fn stop(&mut self) {
        let data = path_str(&self.data());
        self.blocking(&["pg_ctl", "-D", &data, "-m", "fast", "-w", "-t", "60", "stop"]).await;
        self.running = false;
    }

    /// Runs one of the server's programs (as `postgres` when root) to completion.
    async fn blocking(&self, args: &[&str]) {
        let command = command(&self.bin, args);
        let what = args.join(" ");
        let log = self.dir.join("server.log");
        tokio::task::spawn_blocking(move || {
            let mut command = command;
            let output = command.output().unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
            if !output.status.success() {
                let server_log = std::fs::read_to_string(&log).unwrap_or_default();
                panic!(
                    "{what} failed ({}):\n{}{}\nserver log:\n{server_log}",
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        })
        .await
        .expect("the command's thread did not panic");
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        if self.running {
            let data = path_str(&self.data());
            let _ = command(&self.bin, &["pg_ctl", "-D", &data, "-m", "immediate", "-w", "stop"]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `<bin>/<program> args…`, as the `postgres` user when the tests run as root.
fn command(bin: &Path, args: &[&str]) -> Command {
    let program = path_str(&bin.join(args[0]));
    let mut command = if as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", &program]);
        c
    } else {
        Command::new(program)
    };
    command.args(&args[1..]).env("LC_ALL", "C");
    command
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb`, or the directory of
/// an `initdb` on PATH.
fn server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|dir| dir.join("initdb").is_file())
}

fn as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("a local address").port()
}

fn run(command: &mut Command, what: &str) {
    let status = command.status().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(status.success(), "{what}: {status}");
}

fn path_str(path: &Path) -> String {
    path.to_str().expect("temp paths are UTF-8").to_string()
}
