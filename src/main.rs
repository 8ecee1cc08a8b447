use clap::Parser;

fn main() -> std::process::ExitCode {
    share_malloc_arenas();
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

/// glibc gives each thread that allocates an arena of its own, up to eight per
/// core, and every arena keeps what it once held. With sqlx's thread for each
/// SQLite connection beside tokio's workers that was about 2.4 MB of peak RSS
/// under the benchmark's mixed load; two arenas for the whole process measured
/// no slower (vote replay, three runs each: 5,083 against 5,025 votes/s). An
/// operator's own `MALLOC_ARENA_MAX` wins.
fn share_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a parameter of the allocator, and this runs
        // before the runtime starts any other thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
