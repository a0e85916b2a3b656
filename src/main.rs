use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = gavel::cli::Cli::parse();
    gavel::cli::run(cli)
}
