use clap::Parser;

fn main() -> std::process::ExitCode {
    tune_malloc();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("patronage: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let cli = patronage::cli::Cli::parse();
        match patronage::cli::run(cli).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("patronage: {e:#}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}

/// glibc's allocator, set before the runtime starts any other thread. An
/// operator's own `MALLOC_ARENA_MAX` or `MALLOC_TRIM_THRESHOLD_` wins.
///
/// - Two arenas for the process: glibc gives each thread that allocates an
///   arena of its own, up to eight per core, and every arena keeps what it once
///   held. With sqlx's thread for each SQLite connection that was about 2 MB of
///   peak RSS under the benchmark's mixed load; the vote replay was no slower
///   (three runs each: 5,083 against 5,025 votes/s).
/// - Free memory at the top of an arena is given back to the system only past
///   512 KiB. glibc's own threshold let the compressor's buffers for every gzipped
///   page be given back and faulted in again, request after request, with
///   TLB flushes on every core: the mixed load served a quarter more (landing
///   page 11,800–13,200 against 9,000–10,700 req/s, dashboard 4,900–5,900
///   against 3,400–4,300) for 0.3 MB more peak RSS.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets parameters of the allocator, and this runs
        // before the runtime starts any other thread.
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
        }
        if std::env::var_os("MALLOC_TRIM_THRESHOLD_").is_none() {
            unsafe {
                libc::mallopt(libc::M_TRIM_THRESHOLD, 512 * 1024);
            }
        }
    }
}
