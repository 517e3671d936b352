//! The store's address: a PostgreSQL URL, checked when the config loads and never
//! shown with its password.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use tokio_postgres::config::SslMode;

/// A checked `postgres://` (or `postgresql://`) URL.
#[derive(Clone)]
pub struct StoreUrl {
    text: String,
    config: tokio_postgres::Config,
    root_cert: Option<PathBuf>,
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
        // libpq's `sslrootcert` (a private CA's PEM file) is till's to read: the
        // client library knows no such option.
        let (rest, root_cert) = take_param(text, "sslrootcert");
        let config = tokio_postgres::Config::from_str(&rest)
            .map_err(|e| format!("'{}': {e}", StoreUrl::shown(text)))?;
        if root_cert.is_some() && config.get_ssl_mode() != SslMode::Require {
            return Err(format!(
                "'{}': sslrootcert needs sslmode=require",
                StoreUrl::shown(text)
            ));
        }
        Ok(StoreUrl {
            text: text.to_string(),
            config,
            root_cert: root_cert.map(PathBuf::from),
        })
    }

    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// The CA that signs the server's certificate, when not one the web trusts.
    pub fn root_cert(&self) -> Option<&Path> {
        self.root_cert.as_deref()
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

/// The URL without the query parameter `name`, and its value.
fn take_param(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut value = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some((key, v)) if key == name => {
                value = Some(v.to_string());
                false
            }
            _ => true,
        })
        .collect();
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, value)
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

    #[test]
    fn a_private_ca_is_named_by_sslrootcert_with_sslmode_require() {
        let url = StoreUrl::parse(
            "postgres://till@db:5432/store?sslmode=require&sslrootcert=/etc/till/ca.pem",
        )
        .expect("parses");
        assert_eq!(url.root_cert(), Some(Path::new("/etc/till/ca.pem")));
        assert_eq!(url.config().get_ssl_mode(), SslMode::Require);
        let e = StoreUrl::parse("postgres://till@db/store?sslrootcert=/ca.pem").expect_err("mode");
        assert!(e.contains("sslmode=require"), "{e}");
        let plain = StoreUrl::parse("postgres://till@db/store").expect("parses");
        assert_eq!(plain.root_cert(), None);
    }
}
