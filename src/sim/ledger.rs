//! The simulator's ledger file: one JSON line per movement of money, appended and
//! synced as it happens, so a test can compare what the terminal moved with the journal.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use super::terminal::LedgerEntry;

/// Appends `entries` to the ledger at `path`; a failure is logged, the answer still goes.
pub(super) fn append(path: &Path, entries: &[LedgerEntry]) {
    if entries.is_empty() {
        return;
    }
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        for e in entries {
            writeln!(file, "{}", serde_json::to_string(e).unwrap_or_default())?;
        }
        file.sync_data()
    };
    if let Err(e) = write() {
        tracing::error!("sim ledger {}: {e}", path.display());
    }
}

/// Reads a ledger file written by the simulator.
pub fn read_ledger(path: &Path) -> std::io::Result<Vec<LedgerEntry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })
        .collect()
}

/// Net money moved per merchant_order_no, from a ledger.
pub fn net_by_order(entries: &[LedgerEntry]) -> HashMap<String, i64> {
    let mut net = HashMap::new();
    for e in entries {
        *net.entry(e.merchant_order_no.clone()).or_insert(0) += e.amount_minor;
    }
    net
}
