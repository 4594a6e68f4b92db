//! The overview's figures, kept until the data changes.
//!
//! At a million customers the overview's aggregates (revenue by month over every order, the
//! latest run's statuses, revenue at risk, losses by month) take seconds to compute, and the
//! overview is the first page everybody sees. They change only with an import, an analysis
//! run (its statuses, then its quality reports) or an alert's feedback, each of which adds a
//! row to a table ([`Db::data_version`]), so the figures are kept per owner filter until that
//! version moves (also when another process, such as `winback import`, wrote to the
//! database).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use winback_store::customers::Overview;
use winback_store::results::{LostMonth, RunSummary};
use winback_store::{DataVersion, Db};

use crate::error::Result;

/// What the overview page and the overview API read from the store.
pub(crate) struct OverviewData {
    pub overview: Overview,
    pub summary: Option<RunSummary>,
    /// The latest reports as (run id, JSON).
    pub validation: Option<(i64, String)>,
    pub backtest: Option<(i64, String)>,
    pub lost: Vec<LostMonth>,
}

type Entries = HashMap<Option<String>, (DataVersion, Arc<OverviewData>)>;

#[derive(Default)]
pub(crate) struct OverviewCache {
    entries: Mutex<Entries>,
    /// One computation at a time: requests that arrive while the figures are computed wait
    /// for them instead of computing them again.
    computing: tokio::sync::Mutex<()>,
}

impl OverviewCache {
    /// The figures for `owner` (a sales user's own customers, or all with `None`), computed
    /// again only when the data changed since they were kept.
    pub async fn get(&self, db: &Db, owner: Option<&str>) -> Result<Arc<OverviewData>> {
        let key = owner.map(str::to_owned);
        if let (_, Some(data)) = self.kept(db, &key).await? {
            return Ok(data);
        }
        let _computing = self.computing.lock().await;
        // Another request may have computed them while this one waited.
        let (version, kept) = self.kept(db, &key).await?;
        if let Some(data) = kept {
            return Ok(data);
        }
        // Computed from the version read above: a change during the computation leaves a
        // newer version behind, so the next request computes again.
        let data = Arc::new(OverviewData {
            overview: db.overview(owner).await?,
            summary: db.run_summary(owner).await?,
            validation: db.latest_report("validation").await?,
            backtest: db.latest_report("backtest").await?,
            lost: db.lost_by_month(owner).await?,
        });
        self.entries().insert(key, (version, Arc::clone(&data)));
        Ok(data)
    }

    /// The data's current version, and the kept figures for `key` if it has not changed
    /// since they were computed.
    async fn kept(
        &self,
        db: &Db,
        key: &Option<String>,
    ) -> Result<(DataVersion, Option<Arc<OverviewData>>)> {
        let version = db.data_version().await?;
        let data = self
            .entries()
            .get(key)
            .filter(|(kept, _)| *kept == version)
            .map(|(_, data)| Arc::clone(data));
        Ok((version, data))
    }

    /// Keeps the company-wide figures current in the background: every `every`, if the data
    /// changed, they are computed before anybody asks (the first overview after an import
    /// or a run at a million customers takes seconds). Runs until the server stops.
    pub async fn keep_current(self: Arc<Self>, db: Db, every: std::time::Duration) {
        loop {
            if let Err(error) = self.get(&db, None).await {
                tracing::warn!(%error, "could not compute the overview's figures in advance");
            }
            tokio::time::sleep(every).await;
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
