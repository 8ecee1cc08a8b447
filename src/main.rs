use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = patronage::cli::Cli::parse();
    match patronage::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("patronage: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
