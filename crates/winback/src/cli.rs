//! The command line: every option documented once, here (the doc comments are `--help`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "winback",
    version,
    about = "Customer recovery (Kundenrückgewinnung): find lost customers, learn why, win the right ones back"
)]
pub struct Cli {
    /// Database URL: sqlite://PATH (the default, a file that needs no setup) or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DB.
    #[arg(
        long,
        global = true,
        env = "WINBACK_DB",
        default_value = "sqlite://winback.db"
    )]
    pub db: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import CSV or XLSX exports (shop, ERP, CRM). Each file is all-or-nothing.
    Import(ImportArgs),
    /// Print the number of stored rows of each kind.
    Stats(StatsArgs),
    /// Create a demo company as export files, import them, and serve the web UI.
    Demo(DemoArgs),
    /// Serve the web UI and the API (/api/v1, reference at /api/docs/).
    Serve(ServeArgs),
    /// Manage the users who sign in to the web UI.
    #[command(subcommand)]
    User(UserCommand),
    /// Customer-base models (BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma, sBG).
    #[command(subcommand)]
    Model(ModelCommand),
    /// Find lost, sleeping and at-risk customers: fit the model, classify every customer,
    /// raise early-warning alerts, and store the results.
    Analyze(AnalyzeArgs),
    /// Export results (`customers`: id, status, loss kind, loss date, P(alive), expected
    /// transactions, CLV of the latest analysis).
    #[command(subcommand)]
    Export(ExportCommand),
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Analyse exactly as of this day (yyyy-mm-dd): nothing after it is used. Default: today.
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Backtest instead: analyse as of --as-of, then compare with what happened in the
    /// following DAYS (precision/recall per status, calibration of P(alive)).
    #[arg(long, value_name = "DAYS")]
    pub backtest_days: Option<u32>,
    /// Score the result against a demo company's truth file (demo/truth.csv).
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Keep the per-customer statuses of only the latest N runs (this one included); older
    /// runs keep their summary, reports and alerts. Default: keep every run's statuses
    /// (each run adds one row per customer).
    #[arg(long, value_name = "N", env = "WINBACK_KEEP_RUNS", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep_runs: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Per-customer results of the latest analysis.
    Customers(ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// German Excel CSV (`;`, decimal comma), UTF-8 with BOM.
    Csv,
    /// English CSV (`,`, decimal point), UTF-8 with BOM.
    CsvEn,
    Xlsx,
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "WINBACK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Run the analysis (as `winback analyze` does) every HOURS inside the server; 0 turns
    /// the schedule off. The first run starts at once when no analysis exists yet or the
    /// latest is older than HOURS.
    #[arg(
        long,
        value_name = "HOURS",
        env = "WINBACK_ANALYZE_EVERY",
        default_value_t = 24
    )]
    pub analyze_every: u64,
    /// Sign out a browser session unused for MINUTES (at least 1).
    #[arg(
        long,
        value_name = "MINUTES",
        env = "WINBACK_SESSION_IDLE",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub session_idle: u64,
    /// Keep the per-customer statuses of only the latest N analysis runs (scheduled runs
    /// and "analyse now" prune after storing). Default: keep every run's statuses.
    #[arg(long, value_name = "N", env = "WINBACK_KEEP_RUNS", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep_runs: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (or give an existing one a new role and password). The password is
    /// read from standard input (one line, at least 8 characters).
    Add(UserAddArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    #[arg(long)]
    pub email: String,
    /// admin (users, settings), manager (customers, imports, campaigns, reports), sales (own
    /// customers only) or analyst (read-only, API tokens).
    #[arg(long, value_parser = ["admin", "manager", "sales", "analyst"])]
    pub role: String,
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Customers,
    Orders,
    OrderLines,
    Products,
    Complaints,
    Contracts,
    Consents,
    Referrals,
}

impl KindArg {
    pub fn kind(self) -> winback_engine::Kind {
        use winback_engine::Kind;
        match self {
            KindArg::Customers => Kind::Customers,
            KindArg::Orders => Kind::Orders,
            KindArg::OrderLines => Kind::OrderLines,
            KindArg::Products => Kind::Products,
            KindArg::Complaints => Kind::Complaints,
            KindArg::Contracts => Kind::Contracts,
            KindArg::Consents => Kind::Consents,
            KindArg::Referrals => Kind::Referrals,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the files hold.
    #[arg(value_enum)]
    pub kind: KindArg,
    /// CSV or XLSX files; each is imported in its own transaction.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// A TOML mapping file for columns (and format) the importer does not recognise.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Import the good rows and write the rejected ones to a reject file
    /// (FILE.rejected.csv next to the input, or --reject-file).
    #[arg(long)]
    pub skip_invalid: bool,
    /// Where --skip-invalid writes the rejected rows (for a single input file).
    #[arg(long, requires = "skip_invalid")]
    pub reject_file: Option<PathBuf>,
    /// Create customers that orders refer to but that are not known yet, from the
    /// customer columns of the order file (name, e-mail, address).
    #[arg(long)]
    pub create_customers: bool,
    /// Time zone of local times without an offset: Europe/Berlin, UTC or +HH:MM.
    #[arg(long, env = "WINBACK_TIME_ZONE", default_value = "Europe/Berlin")]
    pub time_zone: String,
    /// Print the report as JSON (one object per file) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print the counts as a JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of customers (about ten orders each).
    #[arg(long, default_value_t = 2000)]
    pub customers: u64,
    /// Seed: the same seed gives the same company.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder for the export files and the truth file.
    #[arg(long, default_value = "demo")]
    pub out: PathBuf,
    /// A wholesaler with contracts and account owners instead of an online shop.
    #[arg(long)]
    pub b2b: bool,
    /// Last day of the simulated history (yyyy-mm-dd); today when not given.
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Only write the files; do not import them (implies --no-serve).
    #[arg(long)]
    pub no_import: bool,
    /// Do not start the web server after the import.
    #[arg(long)]
    pub no_serve: bool,
    /// Where the web server listens after the import.
    #[arg(long, env = "WINBACK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Fit a model to a per-customer summary file and score every customer.
    Fit(ModelFitArgs),
    /// Holdout validation: fit on a calibration period of a transaction file, compare with
    /// the holdout period (weekly cumulative tracking, conditional expectations by frequency).
    Validate(ModelValidateArgs),
}

#[derive(Debug, Args)]
pub struct ModelValidateArgs {
    /// bgnbd, pareto-nbd or mbgnbd.
    #[arg(long, default_value = "bgnbd")]
    pub model: String,
    /// Transactions: CSV `id,date` (yyyy-mm-dd or dd.mm.yyyy) or the CDNOW text format
    /// (whitespace separated: master id, customer id, yyyymmdd, ...).
    #[arg(long)]
    pub transactions: PathBuf,
    /// Last day of the calibration period.
    #[arg(long)]
    pub calibration_end: chrono::NaiveDate,
    /// Last day of the holdout period.
    #[arg(long)]
    pub holdout_end: chrono::NaiveDate,
    /// Print the tracking and frequency tables as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ModelFitArgs {
    /// bgnbd, pareto-nbd, mbgnbd, gamma-gamma or sbg.
    #[arg(long)]
    pub model: String,
    /// CSV with `id,frequency,recency,T[,monetary_value]` (time unit as given); for sbg
    /// `period,survivors` with period 0 holding the cohort size.
    #[arg(long)]
    pub summary: PathBuf,
    /// Horizon for the expected number of transactions, in the summary's time unit.
    #[arg(long, default_value_t = 39.0)]
    pub horizon: f64,
    /// Print the result as JSON with every customer's score.
    #[arg(long)]
    pub json: bool,
}
