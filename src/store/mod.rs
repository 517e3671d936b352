//! The store: every lane's journal rows and audit lines in one PostgreSQL database, for
//! the questions that span lanes (today's takings, where a receipt was paid, which lane
//! has unresolved rows). A lane never waits for it: its SQLite journal stays the
//! write-ahead record, and an outbox there is copied here when the store can be reached.

mod report;
mod schema;
mod sync;
mod url;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::config::SslMode;

use crate::journal::JournalError;
pub use sync::sync;
pub(crate) use sync::sync_showing;
pub use url::{StoreUrl, UrlText};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store_url: {0}")]
    Url(String),
    #[error("the store at {url} cannot be reached: {why}")]
    Unreachable { url: String, why: String },
    #[error("the store answered with an error: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error(
        "the store's schema is version {found}, newer than this till knows ({known}): upgrade till"
    )]
    Newer { found: i32, known: i32 },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("a row could not be copied: {0}")]
    Row(String),
}

/// A pool of connections to the store, its schema migrated.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    shown: String,
}

/// How long a connection to the store may take: a lane never waits on it for long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Store {
    /// Connects (TLS when the URL asks for it with `sslmode=require`) and brings the
    /// store's schema up to date.
    pub async fn open(url: &StoreUrl) -> Result<Store, StoreError> {
        let mut config = url.config().clone();
        config.connect_timeout(CONNECT_TIMEOUT);
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match config.get_ssl_mode() {
            SslMode::Disable | SslMode::Prefer => {
                Manager::from_config(config, tokio_postgres::NoTls, manager_config)
            }
            _ => Manager::from_config(config, tls(url.root_cert())?, manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(4)
            .build()
            .map_err(|e| StoreError::Url(e.to_string()))?;
        let store = Store {
            pool,
            shown: url.shown_text(),
        };
        let mut client = store.client().await?;
        schema::migrate(&mut client).await?;
        Ok(store)
    }

    /// A connection from the pool, or why the store cannot be reached.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| StoreError::Unreachable {
            url: self.shown.clone(),
            why: match e {
                deadpool_postgres::PoolError::Backend(e) => with_causes(&e),
                other => other.to_string(),
            },
        })
    }
}

/// An error and what caused it ("error performing TLS handshake: invalid peer
/// certificate: UnknownIssuer"): the first alone rarely says what to fix.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

/// TLS that verifies the server's certificate and name: against the web's root
/// certificates, as a hosted PostgreSQL presents, or only the CA the URL names.
fn tls(
    root_cert: Option<&std::path::Path>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let roots = match root_cert {
        None => rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let bad = |e: &dyn std::fmt::Display| {
                StoreError::Url(format!("sslrootcert {}: {e}", path.display()))
            };
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
                roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            }
            if roots.is_empty() {
                return Err(bad(&"no certificate in the file"));
            }
            roots
        }
    };
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Url(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}
