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

pub use report::LaneStatus;
pub use sync::{Synced, sync};
pub use url::StoreUrl;

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
    Journal(#[from] crate::journal::JournalError),
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
            _ => Manager::from_config(config, tls()?, manager_config),
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
                deadpool_postgres::PoolError::Backend(e) => e.to_string(),
                other => other.to_string(),
            },
        })
    }
}

/// TLS with the web's root certificates, as a hosted PostgreSQL presents.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Url(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}
