//! The `gavel` command line.

mod health;
mod policy;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// `gavel --version`: the crate version and the git revision it was built from (build.rs;
/// "unknown" for a build outside a git checkout), so an operator can tell what a node runs.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("GAVEL_GIT_REVISION"),
    ")"
);
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("GAVEL_GIT_REVISION"),
    ")\nlicense: ",
    env!("CARGO_PKG_LICENSE")
);

#[derive(Parser, Debug)]
#[command(
    name = "gavel",
    version = VERSION,
    long_version = LONG_VERSION,
    about = "Live auction rooms behind one explainable origin policy"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: CliCommand,
}

#[derive(Subcommand, Debug)]
pub enum CliCommand {
    /// Check, explain and test origin policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run the server. With no configuration: 127.0.0.1:8000, policies/development.toml.
    Serve {
        /// A TOML config file; GAVEL_* environment variables override it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Mint an access token with the configured secret (GAVEL_JWT_SECRET or --config).
    Token {
        #[arg(long)]
        sub: String,
        #[arg(long, value_enum, default_value = "user")]
        role: crate::auth::AccountRole,
        /// Lifetime, e.g. `15m`, `1h`, `7d`.
        #[arg(long, default_value = "1h")]
        ttl: humantime::Duration,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Bring the database schema up to date (GAVEL_DATABASE_URL or --config; `serve` does this too).
    Migrate {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Write the OpenAPI document (default: openapi/openapi.json).
    Openapi {
        #[arg(long, default_value = "openapi/openapi.json")]
        out: PathBuf,
    },
    /// Print shell completions for the `gavel` command (e.g. `gavel completions bash >
    /// /usr/share/bash-completion/completions/gavel`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Probe a running server: exit 0 when the URL answers 2xx, 1 otherwise (the container
    /// image's HEALTHCHECK, which has no curl).
    Health {
        #[arg(long, default_value = "http://127.0.0.1:8000/healthz")]
        url: String,
    },
    /// Write the Socket.IO contract's generated files: openapi/client/events.ts (TypeScript)
    /// and openapi/asyncapi.json (AsyncAPI 3.0), under --root (default: here).
    Contract {
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Validate a policy file (like `nginx -t`): exit 0 when valid (warnings on stderr), 2 with
    /// file:line:col errors otherwise.
    Check {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the decision a policy gives one request. Exit 0 whatever the verdict.
    Explain(ExplainArgs),
    /// Run policy tables; exit 0 when every case passes, 1 when any fails, 2 when a table or
    /// its policy cannot be read.
    Test {
        #[arg(required = true)]
        tables: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    pub file: PathBuf,
    /// The Origin header; without it the request has no Origin.
    #[arg(long)]
    pub origin: Option<String>,
    /// preflight, http, polling-get, polling-post or websocket.
    #[arg(long, default_value = "http")]
    pub surface: String,
    /// The connection's peer address.
    #[arg(long, default_value = gavel_policy::DEFAULT_PEER)]
    pub peer: String,
    /// The Host header.
    #[arg(long)]
    pub host: Option<String>,
    /// The connection's own scheme.
    #[arg(long, default_value = "http")]
    pub scheme: String,
    /// An extra header, `Name: value` (repeatable), e.g. `X-Forwarded-Proto: https`.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        CliCommand::Policy(PolicyCommand::Check { file, format }) => policy::check(&file, format),
        CliCommand::Policy(PolicyCommand::Explain(args)) => policy::explain(&args),
        CliCommand::Policy(PolicyCommand::Test { tables, format }) => policy::test(&tables, format),
        CliCommand::Serve { config } => serve::serve(config.as_deref()),
        CliCommand::Token {
            sub,
            role,
            ttl,
            config,
        } => serve::token(&sub, role, ttl.into(), config.as_deref()),
        CliCommand::Openapi { out } => serve::openapi(&out),
        CliCommand::Contract { root } => serve::contract(&root),
        CliCommand::Migrate { config } => serve::migrate(config.as_deref()),
        CliCommand::Completions { shell } => completions(shell),
        CliCommand::Health { url } => health::probe(&url),
    }
}

/// Writes the completion script for `shell` to stdout, generated from this very parser so it
/// never drifts from the commands.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    use clap::CommandFactory;
    clap_complete::generate(shell, &mut Cli::command(), "gavel", &mut std::io::stdout());
    ExitCode::SUCCESS
}
