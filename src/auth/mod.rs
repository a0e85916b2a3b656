//! Authentication: signed access tokens (JWT).

mod jwt;

pub use jwt::{AuthError, Claims, JwtKeys, Role};
