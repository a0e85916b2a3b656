//! The auction page at `/`. The build in `web/dist` is committed and compiled into the binary,
//! so a bare clone serves it with no Node toolchain; the test command fails when that build is
//! stale (`scripts/test`). `GAVEL_WEB_ROOT` serves a directory instead, for frontend work.

use std::path::Path;

use poem::EndpointExt;
use poem::endpoint::{BoxEndpoint, EmbeddedFilesEndpoint, StaticFilesEndpoint};

/// `web/dist` as it was when the binary was built.
#[derive(rust_embed::RustEmbed)]
#[folder = "web/dist"]
struct BuiltPage;

/// The page: from `web_root` when it holds a built page, else the one built into the binary.
pub(super) fn endpoint(web_root: Option<&Path>) -> BoxEndpoint<'static> {
    match web_root {
        Some(dir) if dir.join("index.html").is_file() => {
            tracing::info!(web_root = %dir.display(), "serving the page from disk");
            StaticFilesEndpoint::new(dir)
                .index_file("index.html")
                .boxed()
        }
        Some(dir) => {
            tracing::warn!(
                web_root = %dir.display(),
                "the web root holds no index.html: serving the page built into the binary"
            );
            EmbeddedFilesEndpoint::<BuiltPage>::new().boxed()
        }
        None => EmbeddedFilesEndpoint::<BuiltPage>::new().boxed(),
    }
}
