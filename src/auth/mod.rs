//! Authentication: signed access tokens (JWT).

mod jwt;

pub use jwt::{AUDIENCE, AuthError, Claims, JwtKeys, Role};
