//! The store's address: a PostgreSQL URL, checked when the config loads and never
//! shown with its password.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use tokio_postgres::config::SslMode;

/// A store URL as given (file, environment or flag), before it is checked: `Debug`
/// shows it without its password, so no log line, panic or error that prints a config
/// can show it.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct UrlText(String);

impl UrlText {
    pub(crate) fn new(text: impl Into<String>) -> UrlText {
        UrlText(text.into())
    }
}

impl std::ops::Deref for UrlText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for UrlText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", StoreUrl::shown(&self.0))
    }
}

impl std::str::FromStr for UrlText {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<UrlText, Self::Err> {
        Ok(UrlText::new(text))
    }
}

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

    pub(crate) fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// The CA that signs the server's certificate, when not one the web trusts.
    pub(crate) fn root_cert(&self) -> Option<&Path> {
        self.root_cert.as_deref()
    }

    /// The URL as it may be shown and logged: the password replaced by `***`.
    pub(crate) fn shown_text(&self) -> String {
        StoreUrl::shown(&self.text)
    }

    /// Any store URL text with every password replaced by `***`: the one between
    /// `user:` and `@`, and the value of any parameter whose name holds "password"
    /// (`?password=`, `sslpassword=`, percent-encoded or in any case). Text that is not
    /// a URL is not shown at all when it names a password. A text too broken to tell
    /// shows less, never more.
    pub(crate) fn shown(text: &str) -> String {
        // libpq's `key = value` form may space its pairs any way: not picked apart.
        if !text.contains("://") && decoded(text).to_lowercase().contains("password") {
            return "(not shown: it holds a password)".into();
        }
        let text = hide_user_password(text);
        // Parameters, in a URL's query or libpq's space-separated form.
        let mut out = String::with_capacity(text.len());
        let mut pair = String::new();
        for c in text.chars() {
            if matches!(c, '?' | '&' | ' ') {
                out.push_str(&hide_password_pair(&pair));
                out.push(c);
                pair.clear();
            } else {
                pair.push(c);
            }
        }
        out.push_str(&hide_password_pair(&pair));
        out
    }
}

/// `scheme://user:password@host…` with the password replaced by `***`. The credentials
/// end at the last `@` before the path, or, with none there, the last `@` of all: a
/// password may hold `/`, `?`, `#` or `@` unencoded, and showing too little is safe.
fn hide_user_password(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let path_at = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..path_at].rfind('@').or_else(|| rest.rfind('@')) else {
        return text.to_string();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => text.to_string(),
    }
}

/// `key=value` with the value replaced by `***` when the key names a password.
fn hide_password_pair(pair: &str) -> String {
    match pair.split_once('=') {
        Some((key, _)) if decoded(key).to_lowercase().contains("password") => {
            format!("{key}=***")
        }
        _ => pair.to_string(),
    }
}

/// A URL's percent-encoding undone, as far as it reads.
fn decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
    fn every_spelling_of_a_password_is_hidden() {
        for (url, shown) in [
            (
                "postgres://till:s3cret@db:5432/store?sslmode=require",
                "postgres://till:***@db:5432/store?sslmode=require",
            ),
            (
                "postgres://till@db/store?password=s3cret",
                "postgres://till@db/store?password=***",
            ),
            (
                "postgresql://db/store?sslmode=disable&PASSWORD=s3cret&application_name=x",
                "postgresql://db/store?sslmode=disable&PASSWORD=***&application_name=x",
            ),
            (
                "postgres://db/store?p%61ssword=s3cret",
                "postgres://db/store?p%61ssword=***",
            ),
            (
                "postgres://till:s3c?r@t@db/store?sslpassword=s3cret",
                "postgres://till:***@db/store?sslpassword=***",
            ),
            (
                "host=db user=till password = s3cret",
                "(not shown: it holds a password)",
            ),
            ("host=db user=till", "host=db user=till"),
            ("postgres://db/store", "postgres://db/store"),
            (
                "postgres://till:a/b@db/store",
                "postgres://till:***@db/store",
            ),
            (
                "postgres://db/store?application_name=a@b&password=s3cret",
                "postgres://db/store?application_name=a@b&password=***",
            ),
        ] {
            assert_eq!(StoreUrl::shown(url), shown, "{url}");
        }
        let parsed =
            StoreUrl::parse("postgres://till@127.0.0.1/store?password=s3cret").expect("parses");
        assert!(!format!("{parsed:?}").contains("s3cret"));
        let e = StoreUrl::parse("host=db password=s3cret").expect_err("not a URL");
        assert!(!e.contains("s3cret"), "{e}");
        let e = StoreUrl::parse("postgres://db/store?password=s3cret&port=x").expect_err("port");
        assert!(!e.contains("s3cret"), "{e}");
        let given = UrlText::new("postgres://till:s3cret@db/store?password=s3cret");
        assert!(!format!("{given:?}").contains("s3cret"), "{given:?}");
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
