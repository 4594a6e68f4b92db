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
pub(crate) struct OverviewCache(Mutex<Entries>);

impl OverviewCache {
    /// The figures for `owner` (a sales user's own customers, or all with `None`), computed
    /// again only when the data changed since they were kept.
    pub async fn get(&self, db: &Db, owner: Option<&str>) -> Result<Arc<OverviewData>> {
        let version = db.data_version().await?;
        let key = owner.map(str::to_owned);
        if let Some((kept, data)) = self.entries().get(&key)
            && *kept == version
        {
            return Ok(Arc::clone(data));
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

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
