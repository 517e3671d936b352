//! `till store`: copy this lane's changes to the store, and ask it across lanes.

use serde_json::json;

use super::open_journal;
use super::output::row_json;
use super::tools::{period_offset, range_output, utc_offset_on};
use crate::cli::StoreCmd;
use crate::config::Config;
use crate::exit::{Exit, Failure, Report};
use crate::progress::Progress;
use crate::store;
use crate::store::{Store, StoreError, StoreUrl};

fn failure(e: StoreError) -> Failure {
    Failure::new(Exit::Unreachable, e.to_string())
}

/// The configured store, connected and migrated.
async fn open(config: &Config) -> Result<Store, Failure> {
    let Some(text) = &config.store_url.value else {
        return Err(Failure::new(
            Exit::Unreachable,
            "no store configured: set store_url in config.toml, TILL_STORE_URL or --store-url (postgres://user@host/db)",
        ));
    };
    let url = StoreUrl::parse(text).map_err(|e| Failure::new(Exit::Usage, e))?;
    Store::open(&url).await.map_err(failure)
}

// Long on purpose: one arm per `till store` command.
pub(super) async fn run(config: &Config, action: StoreCmd) -> Result<Report, Failure> {
    let store = open(config).await?;
    match action {
        StoreCmd::Sync => {
            let mut journal = open_journal(config)?;
            let progress = Progress::stderr();
            let synced = store::sync_showing(&store, &mut journal, &config.lane.value, &progress)
                .await
                .map_err(failure)?;
            Ok(Report {
                exit: Exit::Ok,
                human: format!(
                    "copied {} rows and {} audit lines to the store; {} changes left",
                    synced.rows, synced.audit, synced.left
                ),
                json: json!({"rows": synced.rows, "audit": synced.audit, "left": synced.left}),
            })
        }
        StoreCmd::Report { from, to, csv } => {
            let r = store
                .report(from, to, period_offset(from, to)?)
                .await
                .map_err(failure)?;
            Ok(range_output(&r, config, csv))
        }
        StoreCmd::Find { text, limit } => {
            let rows = store
                .find(
                    &text,
                    config.exponent(),
                    utc_offset_on(None),
                    usize::try_from(limit).unwrap_or(usize::MAX),
                )
                .await
                .map_err(|e| match e {
                    StoreError::Row(why) => Failure::new(Exit::Usage, why),
                    other => failure(other),
                })?;
            let mut human = String::new();
            for r in &rows {
                human.push_str(&format!(
                    "{:<8} {:<19} {:<21} {:<17} {:<9} {:>12} {}\n",
                    r.lane,
                    r.created_at.chars().take(19).collect::<String>(),
                    r.order_no,
                    r.kind.name(),
                    r.state.name(),
                    r.amount.to_string(),
                    r.reply.card.as_deref().unwrap_or("-"),
                ));
            }
            if rows.is_empty() {
                human.push_str("no lane has a row that matches\n");
            }
            Ok(Report {
                exit: Exit::Ok,
                human,
                json: json!({"rows": rows.iter().map(|r| row_json(r, config)).collect::<Vec<_>>()}),
            })
        }
        StoreCmd::Status => {
            let lanes = store.status().await.map_err(failure)?;
            let mut human = String::new();
            for l in &lanes {
                human.push_str(&format!(
                    "{:<8} journal {}  last sync {}  outbox {}  unresolved {}\n",
                    l.lane,
                    l.journal,
                    l.last_sync.format("%Y-%m-%d %H:%M:%S UTC"),
                    l.outbox,
                    l.unresolved
                ));
            }
            if lanes.is_empty() {
                human.push_str("no lane has synced to this store yet\n");
            }
            let json = json!({"lanes": lanes.iter().map(|l| json!({
                "lane": l.lane, "journal": l.journal, "last_sync": l.last_sync.to_rfc3339(),
                "outbox": l.outbox, "unresolved": l.unresolved,
            })).collect::<Vec<_>>()});
            Ok(Report {
                exit: Exit::Ok,
                human,
                json,
            })
        }
    }
}
