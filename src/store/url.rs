//! The store's address: a PostgreSQL URL, checked when the config loads and never
//! shown with its password.

use std::str::FromStr;

/// A checked `postgres://` (or `postgresql://`) URL.
#[derive(Clone)]
pub struct StoreUrl {
    text: String,
    config: tokio_postgres::Config,
}

/// Shows the URL without its password.
impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown_text())
    }
}

impl StoreUrl {
    pub fn parse(text: &str) -> Result<StoreUrl, String> {
        let text = text.trim();
        if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Err(format!(
                "'{}' is not a PostgreSQL URL: use postgres://user@host:5432/dbname (add ?sslmode=require for TLS)",
                StoreUrl::shown(text)
            ));
        }
        let config = tokio_postgres::Config::from_str(text)
            .map_err(|e| format!("'{}': {e}", StoreUrl::shown(text)))?;
        Ok(StoreUrl {
            text: text.to_string(),
            config,
        })
    }

    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// The URL as it may be shown and logged: the password replaced by `***`.
    pub fn shown_text(&self) -> String {
        StoreUrl::shown(&self.text)
    }

    /// Any URL text with the password (between `user:` and `@`) replaced by `***`.
    pub fn shown(text: &str) -> String {
        let Some((scheme, rest)) = text.split_once("://") else {
            return text.to_string();
        };
        match rest.rsplit_once('@') {
            Some((credentials, host)) => match credentials.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => text.to_string(),
            },
            None => text.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_url_is_checked_and_never_shows_its_password() {
        let url = StoreUrl::parse("postgres://till:s3cret@127.0.0.1:5432/store").expect("parses");
        assert_eq!(url.shown_text(), "postgres://till:***@127.0.0.1:5432/store");
        assert!(!format!("{url:?}").contains("s3cret"));
        for bad in [
            "mysql://x@y/z",
            "127.0.0.1:5432",
            "postgres://till@host:notaport/db",
        ] {
            let e = StoreUrl::parse(bad).expect_err(bad);
            assert!(!e.is_empty(), "{bad}");
        }
        let e = StoreUrl::parse("http://till:s3cret@host/db").expect_err("scheme");
        assert!(!e.contains("s3cret"), "{e}");
    }
}
