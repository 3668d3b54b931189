//! Where `vault plan` gets its inventory, through export's own inventory source
//! ([`acquire`]) so a plan reads exactly what the export would: a file (`--inventory`),
//! a finished inventory job's output (`--inventory-job`, downloaded into a temporary
//! directory removed afterwards: GetJobOutput of an inventory is not a billed retrieval),
//! or the inventory an earlier export saved in its state directory. A plan never starts a
//! job and never waits for one.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::error::{Error, Result, Setting};
use crate::glacier::Client;
use crate::vault::InventoryFile;
use crate::vault::inventory::{Acquire, Acquired, InventorySource, acquire};
use crate::vault::journal::{Journal, State};

/// The inventory to plan from; a downloaded one is deleted when this is dropped.
#[derive(Debug)]
pub struct Inventory {
    /// The document.
    pub file: InventoryFile,
    temp: Option<PathBuf>,
}

impl Drop for Inventory {
    fn drop(&mut self) {
        if let Some(dir) = self.temp.take() {
            // Best effort: a leftover temporary directory is harmless.
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Finds the inventory. `state_dir` is where an export to the same destination keeps its
/// journal (if a destination was given); `client` is only called when a job's output is
/// needed, so a plan from a file needs no credentials.
pub fn inventory(
    client: &dyn Fn() -> Result<Client>,
    vault: &str,
    source: &InventorySource,
    state_dir: Option<&Path>,
    note: &mut dyn FnMut(&str),
) -> Result<Inventory> {
    match source {
        InventorySource::File(p) => Ok(Inventory {
            file: InventoryFile::open(p)?,
            temp: None,
        }),
        InventorySource::New => saved(state_dir).map(|file| Inventory { file, temp: None }),
        InventorySource::Job(_) => {
            let temp = std::env::temp_dir().join(format!(
                "glacier-plan-{}-{}",
                std::process::id(),
                crate::vault::now_rfc3339().replace(':', "")
            ));
            // The guard exists before the directory does, so every exit removes it.
            let mut guard = Inventory {
                file: InventoryFile {
                    path: temp.join("inventory.json"),
                    format: crate::inventory::Format::Json,
                },
                temp: Some(temp.clone()),
            };
            let (mut journal, mut state) = Journal::open(&temp)?;
            let saved = temp.join("inventory.json");
            let stop = AtomicBool::new(false);
            let got = acquire(
                &client()?,
                &Acquire {
                    vault,
                    source,
                    saved: &saved,
                    purpose: "glacier vault plan",
                    wait: false,
                    // Not waiting: no pause to take or cut short.
                    poll: Duration::from_secs(1),
                    backoff: (Duration::from_secs(1), Duration::from_secs(1)),
                    stop: &stop,
                },
                &mut journal,
                &mut state,
                note,
            )?;
            match got {
                Acquired::Ready(file) | Acquired::Reused(file) => {
                    guard.file = file;
                    Ok(guard)
                }
                Acquired::NotYet => Err(Error::JobInProgress(format!(
                    "vault '{vault}' has no inventory yet (Glacier takes one about a day after the first upload); plan again later"
                ))),
                Acquired::Waiting(j) => Err(Error::JobInProgress(format!(
                    "inventory job {j} of vault '{vault}' is not finished; plan again when it is (a plan does not wait)"
                ))),
            }
        }
    }
}

/// The inventory an earlier export saved in `state_dir`.
fn saved(state_dir: Option<&Path>) -> Result<InventoryFile> {
    let none = || {
        Error::Usage(format!(
            "a plan needs an inventory: give {} FILE or {} JOB_ID (a plan starts no job)",
            Setting::Inventory,
            Setting::InventoryJob
        ))
    };
    let dir = state_dir.filter(|d| d.is_dir()).ok_or_else(none)?;
    let (_, state): (Journal, State) = Journal::open(dir)?;
    let file = dir.join("inventory.json");
    if !state.inventory_saved || !file.is_file() {
        return Err(none());
    }
    InventoryFile::open(&file)
}
