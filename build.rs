// The page in web/dist is compiled into the binary (src/startup/page.rs): rebuild when it changes,
// including when a file is added or removed.
//
// `gavel --version` names the git revision it was built from (GAVEL_GIT_REVISION), so an
// operator can tell which commit a node runs. A build from a tarball, or without git, says
// "unknown" rather than failing.
use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=web/dist");
    println!("cargo:rustc-env=GAVEL_GIT_REVISION={}", git_revision());
}

/// GAVEL_GIT_REVISION from the build's environment (a container build without .git passes
/// it as a build argument), else the short commit hash, else "unknown".
fn git_revision() -> String {
    println!("cargo:rerun-if-env-changed=GAVEL_GIT_REVISION");
    if let Ok(given) = std::env::var("GAVEL_GIT_REVISION")
        && !given.trim().is_empty()
    {
        return given.trim().to_owned();
    }
    watch_head();
    git(&["rev-parse", "--short=7", "HEAD"]).unwrap_or_else(|| "unknown".to_owned())
}

/// Rebuild when HEAD moves (a commit, a checkout), so the revision is never stale: HEAD itself,
/// the branch it points at and packed-refs (`--git-path` finds them in a worktree too).
fn watch_head() {
    let mut files = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    files.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for file in files {
        if let Some(path) = git(&["rev-parse", "--git-path", &file])
            && Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// A git command's trimmed stdout, or None when git is missing or fails (no repository).
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_owned())
}
