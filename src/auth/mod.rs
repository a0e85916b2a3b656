//! Authentication: signed access tokens (JWT).

mod jwt;

pub use jwt::{AUDIENCE, AccountRole, AuthError, Claims, JwtKeys};
