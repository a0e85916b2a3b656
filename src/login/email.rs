//! An email address as login needs it: trimmed, lower-cased, one `@` with a non-empty local
//! part and a dotted domain. It is the user's identity (the JWT `sub`), so it is compared in
//! this one form.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// ```
    /// use gavel::login::Email;
    /// assert_eq!(Email::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
    /// assert!(Email::parse("ann@localhost").is_err());
    /// assert!(Email::parse("a b@example.com").is_err());
    /// ```
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        if s.len() > 254 {
            return Err("an email address has at most 254 characters".into());
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err("an email address has an `@`".into());
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && local
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[],;:\"\\".contains(c));
        if !local_ok || !domain_ok {
            return Err(format!("`{}` is not an email address", raw.trim()));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
