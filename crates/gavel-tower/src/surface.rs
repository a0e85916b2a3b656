//! Which surface a request arrives on, read the way Gavel's own gate reads it.

use http::header::{ACCESS_CONTROL_REQUEST_METHOD, CONNECTION, UPGRADE};
use http::{HeaderMap, Method, Request};

use gavel_policy::Surface;

/// Where Socket.IO (Engine.IO) is served: the path itself and everything below it.
#[derive(Clone, Debug)]
pub(crate) struct SocketIoPath(String);

impl SocketIoPath {
    /// `path` with or without its trailing `/` (`/socket.io` and `/socket.io/` are the same).
    pub(crate) fn new(path: &str) -> Self {
        Self(path.trim_end_matches('/').to_owned())
    }

    pub(crate) fn contains(&self, path: &str) -> bool {
        path.strip_prefix(self.0.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

/// A websocket upgrade: `Upgrade: websocket` and `Connection: upgrade`, as tokens of
/// comma-separated lists.
fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    let has = |name, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    has(UPGRADE, "websocket") && has(CONNECTION, "upgrade")
}

/// The surface of a request; `socket_io` says whether its path is under the Socket.IO path.
/// A preflight is a preflight wherever it is sent.
pub(crate) fn surface_of<B>(req: &Request<B>, socket_io: bool) -> Surface {
    if req.method() == Method::OPTIONS && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD)
    {
        Surface::Preflight
    } else if !socket_io {
        Surface::Http
    } else if is_websocket_upgrade(req.headers()) {
        Surface::Websocket
    } else if req.method() == Method::POST {
        Surface::PollingPost
    } else {
        Surface::PollingGet
    }
}

/// The Engine.IO session id of a request (`?sid=…`); a handshake has none.
pub(crate) fn engine_sid<B>(req: &Request<B>) -> Option<&str> {
    req.uri()
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("sid="))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, uri: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn the_socket_io_path_covers_itself_and_what_is_below_it() {
        for configured in ["/socket.io", "/socket.io/"] {
            let path = SocketIoPath::new(configured);
            assert!(path.contains("/socket.io"));
            assert!(path.contains("/socket.io/"));
            assert!(path.contains("/socket.io/x"));
            assert!(!path.contains("/socket.iox"));
            assert!(!path.contains("/api/socket.io/"));
        }
    }

    #[test]
    fn surfaces_are_read_like_gavels_gate() {
        let get = request(Method::GET, "/socket.io/?EIO=4&transport=polling", &[]);
        assert_eq!(surface_of(&get, true), Surface::PollingGet);
        assert_eq!(surface_of(&get, false), Surface::Http);
        let post = request(Method::POST, "/socket.io/?EIO=4&sid=abc", &[]);
        assert_eq!(surface_of(&post, true), Surface::PollingPost);
        assert_eq!(engine_sid(&post), Some("abc"));
        assert_eq!(engine_sid(&get), None);
        let ws = request(
            Method::GET,
            "/socket.io/?EIO=4&transport=websocket",
            &[
                ("upgrade", "WebSocket"),
                ("connection", "keep-alive, Upgrade"),
            ],
        );
        assert_eq!(surface_of(&ws, true), Surface::Websocket);
        let preflight = request(
            Method::OPTIONS,
            "/socket.io/",
            &[("access-control-request-method", "POST")],
        );
        assert_eq!(surface_of(&preflight, true), Surface::Preflight);
        let options = request(Method::OPTIONS, "/api/x", &[]);
        assert_eq!(surface_of(&options, false), Surface::Http);
    }
}
