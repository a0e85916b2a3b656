//! Origin tables (the format `gavel policy test` runs, `docs/policy.md`) read back into HTTP
//! requests and sent through the layer: its answer must be the one `Policy::decide`'s verdict
//! calls for.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gavel_policy::{
    ConnScheme, DEFAULT_PEER, Decision, PolicyStore, Reason, RequestFacts, Surface, header,
    run_table,
};
use gavel_tower::{GateBody, OriginGateLayer};
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, VARY};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde::Deserialize;
use tower::{Layer, ServiceExt, service_fn};

/// What a case or a table's `[defaults]` says about its request.
#[derive(Deserialize, Default)]
struct Described {
    origin: Option<String>,
    surface: Option<String>,
    peer: Option<String>,
    host: Option<String>,
    scheme: Option<String>,
    headers: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct Case {
    #[serde(flatten)]
    request: Described,
    expect: String,
}

#[derive(Deserialize)]
struct Table {
    policy: String,
    #[serde(default)]
    defaults: Described,
    #[serde(default)]
    case: Vec<Case>,
}

/// The project's tables (`crates/gavel-policy/tests/tables/`, the engine's copy of the shared
/// table among them): every TOML file there with a `policy` and cases.
pub fn project_tables(repo: &Path) -> Vec<PathBuf> {
    let dir = repo.join("crates/gavel-policy/tests/tables");
    let mut tables: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            toml::from_str::<Table>(&text).is_ok_and(|t| !t.case.is_empty())
        })
        .collect();
    tables.sort();
    assert!(
        !tables.is_empty(),
        "no origin tables under {}",
        dir.display()
    );
    tables
}

/// One case as an HTTP request, with what the gate reads besides its headers.
struct Sent {
    request: Request<String>,
    surface: Surface,
    scheme: ConnScheme,
    peer: IpAddr,
}

fn pick<'a>(case: &'a Option<String>, default: &'a Option<String>) -> Option<&'a str> {
    case.as_deref().or(default.as_deref())
}

/// The request a case describes, sent where its surface is: `/api/hello`, or the Socket.IO
/// path of the example app.
fn request(defaults: &Described, case: &Described) -> Sent {
    let surface: Surface =
        pick(&case.surface, &defaults.surface).map_or(Surface::Http, |s| s.parse().unwrap());
    let scheme: ConnScheme =
        pick(&case.scheme, &defaults.scheme).map_or(ConnScheme::Http, |s| s.parse().unwrap());
    let peer: IpAddr = pick(&case.peer, &defaults.peer)
        .unwrap_or(DEFAULT_PEER)
        .parse()
        .unwrap();
    let (method, uri) = match surface {
        Surface::Preflight => (Method::OPTIONS, "/api/hello"),
        Surface::Http => (Method::GET, "/api/hello"),
        Surface::PollingGet => (Method::GET, "/socket.io/?EIO=4&transport=polling"),
        Surface::PollingPost => (Method::POST, "/socket.io/?EIO=4&transport=polling&sid=x"),
        Surface::Websocket => (Method::GET, "/socket.io/?EIO=4&transport=websocket"),
    };
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(String::new())
        .unwrap();
    let headers = request.headers_mut();
    let mut add = |name: &str, value: &str| {
        let (name, value) = header(name, value).unwrap();
        headers.append(name, value);
    };
    // In the order the engine builds a case's headers: Origin, Host, the defaults', the case's.
    if let Some(origin) = &case.origin {
        add("origin", origin);
    }
    if let Some(host) = pick(&case.host, &defaults.host) {
        add("host", host);
    }
    for extra in [&defaults.headers, &case.headers].into_iter().flatten() {
        for (name, value) in extra {
            add(name, value);
        }
    }
    // What makes the surface what it is on the wire (the decision reads none of it).
    match surface {
        Surface::Preflight => add("access-control-request-method", "POST"),
        Surface::Websocket => {
            add("upgrade", "websocket");
            add("connection", "Upgrade");
        }
        _ => {}
    }
    request
        .extensions_mut()
        .insert(SocketAddr::new(peer, 40000));
    Sent {
        request,
        surface,
        scheme,
        peer,
    }
}

/// Sends every case of the table at `path` through the layer; how many there were.
pub async fn run_through_layer(path: &Path) -> usize {
    let table: Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let report = run_table(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(report.cases.len(), table.case.len(), "{}", path.display());
    assert_eq!(report.policy, path.parent().unwrap().join(&table.policy));
    let store = Arc::new(PolicyStore::open(&report.policy).unwrap());
    for (case, outcome) in table.case.iter().zip(&report.cases) {
        let label = format!("{}:{} {}", path.display(), outcome.line, outcome.label);
        let sent = request(&table.defaults, &case.request);
        let decision = store.current().decide(&RequestFacts {
            headers: sent.request.headers(),
            peer: sent.peer,
            scheme: sent.scheme,
            surface: sent.surface,
            path: sent.request.uri().path(),
        });
        // The request read back from the table is the one the engine decided.
        assert_eq!(sent.surface, outcome.surface, "{label}");
        assert_eq!(decision.verdict(), outcome.got, "{label}");
        assert_eq!(decision.verdict().as_str(), case.expect, "{label}");

        let inner = service_fn(|_req: Request<String>| async {
            Ok::<_, Infallible>(Response::new(String::from("inner")))
        });
        let gate = OriginGateLayer::new(store.clone()).scheme(sent.scheme);
        let answer = gate.layer(inner).oneshot(sent.request).await.unwrap();
        agrees(&decision, sent.surface, answer, &label).await;
    }
    table.case.len()
}

/// Whether the layer's answer is what the decision calls for.
async fn agrees(
    decision: &Decision,
    surface: Surface,
    answer: Response<GateBody<String>>,
    label: &str,
) {
    let status = answer.status();
    let headers = answer.headers().clone();
    let body = answer.into_body().collect().await.unwrap().to_bytes();
    assert!(
        headers
            .get_all(VARY)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("Origin")),
        "{label}: {headers:?}"
    );
    if decision.is_allowed() {
        if surface == Surface::Preflight {
            assert_eq!(status, StatusCode::NO_CONTENT, "{label}");
        } else {
            assert_eq!(
                (status, &body[..]),
                (StatusCode::OK, &b"inner"[..]),
                "{label}"
            );
        }
        allowed_origin_is_echoed(decision, &headers, label);
        return;
    }
    assert_eq!(status.as_u16(), decision.denial_status(), "{label}");
    let json: serde_json::Value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{label}: {e}: {}", String::from_utf8_lossy(&body)));
    let socket_io = matches!(
        surface,
        Surface::PollingGet | Surface::PollingPost | Surface::Websocket
    );
    if socket_io {
        let code = if status == StatusCode::BAD_REQUEST {
            3
        } else {
            4
        };
        assert_eq!(json["code"], code, "{label}: {json}");
    } else {
        let kind = if decision.reason() == Reason::MalformedOrigin {
            "/problems/malformed_origin"
        } else {
            "/problems/origin_denied"
        };
        assert_eq!(json["type"], kind, "{label}: {json}");
        assert_eq!(json["status"], status.as_u16(), "{label}: {json}");
        assert_eq!(
            json["reason"],
            decision.reason().as_str(),
            "{label}: {json}"
        );
    }
    assert!(
        !headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN),
        "{label}"
    );
}

/// An allowed origin is echoed as the browser sent it (trimmed); nothing is allowed for a
/// request without one.
fn allowed_origin_is_echoed(decision: &Decision, headers: &HeaderMap, label: &str) {
    let echoed = headers
        .get(ACCESS_CONTROL_ALLOW_ORIGIN)
        .map(|v| v.to_str().unwrap());
    match (decision.raw_origin(), decision.reason()) {
        (None, _) | (_, Reason::MissingOrigin) => assert_eq!(echoed, None, "{label}"),
        (Some(_), Reason::NullOrigin) => assert_eq!(echoed, Some("null"), "{label}"),
        (Some(raw), _) => assert_eq!(echoed, Some(raw.trim()), "{label}"),
    }
}
