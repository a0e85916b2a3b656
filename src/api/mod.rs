//! The HTTP API (poem-openapi): handlers are thin and call services.

mod admin;
mod auctions;
pub mod engine_io_error;
mod failure;
mod login;
mod members;
mod players;
pub mod problem;
mod security;

pub use admin::AdminApi;
pub use auctions::AuctionApi;
pub use login::LoginApi;
pub use members::MemberApi;
pub use problem::Problem;

use poem_openapi::{OpenApiService, Tags};

#[derive(Tags)]
pub enum ApiTags {
    /// Operating the origin policy (role `admin`).
    Admin,
    /// Running auctions: the commissioner, the teams' managers and spectators.
    Auctions,
    /// Magic-link login, tokens, the caller.
    Login,
}

/// Every API of the server, as one OpenAPI service.
pub type Apis = (AdminApi, AuctionApi, MemberApi, LoginApi);

/// Where the API is mounted.
pub const BASE_PATH: &str = "/api";

pub fn service(apis: Apis) -> OpenApiService<Apis, ()> {
    OpenApiService::new(apis, "Gavel", env!("CARGO_PKG_VERSION"))
        .description("Live auction rooms behind one explainable origin policy.")
        .server(BASE_PATH)
}

/// The admin API alone, for the operators' listener.
pub fn admin_service(admin: AdminApi) -> OpenApiService<AdminApi, ()> {
    OpenApiService::new(admin, "Gavel admin", env!("CARGO_PKG_VERSION")).server(BASE_PATH)
}

/// The OpenAPI document, as committed in `openapi/openapi.json`.
pub fn document() -> String {
    service((
        AdminApi::for_document(),
        AuctionApi::for_document(),
        MemberApi::for_document(),
        LoginApi::for_document(),
    ))
    .spec()
}

/// Any error that reaches the API's edge as `application/problem+json`.
pub fn problem_response(err: poem::Error) -> poem::Response {
    if err.is_from_response() {
        // An answer a handler chose (its own problem+json): keep it.
        return err.into_response();
    }
    let status = err.status();
    let kind = match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        415 => "unsupported_media_type",
        _ if status.is_server_error() => "internal",
        _ => "error",
    };
    problem::Problem::new(status, kind, err.to_string()).into_response()
}
