//! `gavel serve`, `gavel token`, `gavel openapi`.

use secrecy::ExposeSecret;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::auth::{AccountRole, JwtKeys};
use crate::config::ServerSettings;
use crate::startup::{Application, StartupError, shutdown_signal};

fn settings(config: Option<&Path>) -> Result<ServerSettings, ExitCode> {
    ServerSettings::load(config, |k| std::env::var(k).ok()).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

pub(crate) fn serve(config: Option<&Path>) -> ExitCode {
    let settings = match settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    crate::telemetry::init(settings.log_format);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let app = match Application::build(&settings).await {
            Ok(app) => app,
            Err(e) => {
                tracing::error!("{e}");
                eprintln!("error: {e}");
                return ExitCode::from(match e {
                    StartupError::Policy(_) => 2,
                    _ => 1,
                });
            }
        };
        match app.run_until(shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

pub(crate) fn token(
    sub: &str,
    role: AccountRole,
    ttl: Duration,
    config: Option<&Path>,
) -> ExitCode {
    let settings = match settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if settings.jwt_secret.generated {
        eprintln!(
            "error: no JWT secret configured (GAVEL_JWT_SECRET or jwt_secret in --config): a token \
             signed with a throwaway secret would be useless"
        );
        return ExitCode::from(2);
    }
    let keys = JwtKeys::new(settings.jwt_secret.value.as_bytes());
    println!("{}", keys.mint(sub, role, ttl));
    ExitCode::SUCCESS
}

pub(crate) fn openapi(out: &Path) -> ExitCode {
    let document = crate::api::document();
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("error: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    match std::fs::write(out, document + "\n") {
        Ok(()) => {
            println!("wrote {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn contract(root: &Path) -> ExitCode {
    match crate::contract::write(root) {
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "error: writing the contract's files under {}: {e}",
                root.display()
            );
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn migrate(config: Option<&Path>) -> ExitCode {
    let settings = match settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(crate::db::connect(settings.database_url.expose_secret())) {
        Ok(_) => {
            println!(
                "{}: schema up to date",
                redact(settings.database_url.expose_secret())
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "error: {}: {e}",
                redact(settings.database_url.expose_secret())
            );
            ExitCode::FAILURE
        }
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
