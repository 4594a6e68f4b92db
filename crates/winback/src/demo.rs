//! `winback demo`: a demo company written as the export files a user would import
//! (German Excel CSV: `;`, decimal comma, `dd.mm.yyyy`, Windows-1252), plus a truth file of
//! what the simulation planted, then imported through the same pipeline as `winback import`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use winback_engine::demo::{Demo, DemoConfig, DemoCustomer, Truth};
use winback_engine::{Kind, Record};
use winback_formats::{GermanCsvWriter, LocalZone};
use winback_store::{DbUrl, ImportOptions, StaffUser};

use crate::cli::DemoArgs;
use crate::import::{Settings, import_with_progress};

/// The order in which the files are imported: what a row refers to comes first.
pub const IMPORT_ORDER: [Kind; 8] = [
    Kind::Products,
    Kind::Customers,
    Kind::Orders,
    Kind::OrderLines,
    Kind::Complaints,
    Kind::Contracts,
    Kind::Consents,
    Kind::Referrals,
];

pub fn file_name(kind: Kind) -> String {
    format!("{}.csv", kind.as_str().replace('-', "_"))
}

struct Writers {
    by_kind: Vec<(Kind, GermanCsvWriter<BufWriter<File>>)>,
    truth: BufWriter<File>,
}

impl Writers {
    fn create(dir: &Path) -> anyhow::Result<Writers> {
        let mut by_kind = Vec::new();
        for kind in Kind::ALL {
            let path = dir.join(file_name(kind));
            let file = File::create(&path)
                .with_context(|| format!("while creating {}", path.display()))?;
            by_kind.push((
                kind,
                GermanCsvWriter::new(BufWriter::with_capacity(1 << 20, file), kind)?,
            ));
        }
        let path = dir.join("truth.csv");
        let mut truth = BufWriter::new(
            File::create(&path).with_context(|| format!("while creating {}", path.display()))?,
        );
        writeln!(truth, "{}", Truth::CSV_HEADER)?;
        Ok(Writers { by_kind, truth })
    }

    fn writer(&mut self, kind: Kind) -> &mut GermanCsvWriter<BufWriter<File>> {
        &mut self
            .by_kind
            .iter_mut()
            .find(|(k, _)| *k == kind)
            .expect("a writer per kind")
            .1
    }

    fn write_customer(&mut self, c: DemoCustomer) -> anyhow::Result<()> {
        self.writer(Kind::Customers)
            .write(&Record::Customer(c.customer))?;
        let w = self.writer(Kind::Orders);
        for o in c.orders {
            w.write(&Record::Order(o))?;
        }
        let w = self.writer(Kind::OrderLines);
        for l in c.lines {
            w.write(&Record::OrderLine(l))?;
        }
        let w = self.writer(Kind::Complaints);
        for x in c.complaints {
            w.write(&Record::Complaint(x))?;
        }
        let w = self.writer(Kind::Contracts);
        for x in c.contracts {
            w.write(&Record::Contract(x))?;
        }
        let w = self.writer(Kind::Consents);
        for x in c.consents {
            w.write(&Record::Consent(x))?;
        }
        let w = self.writer(Kind::Referrals);
        for x in c.referrals {
            w.write(&Record::Referral(x))?;
        }
        writeln!(self.truth, "{}", c.truth.to_csv_line())?;
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        for (_, w) in self.by_kind {
            w.finish()?.flush()?;
        }
        let mut truth = self.truth;
        truth.flush()?;
        Ok(())
    }
}

/// Writes the demo company's files into `dir`; returns the simulation (for its staff list).
pub fn write_files(config: DemoConfig, dir: &Path, show_progress: bool) -> anyhow::Result<Demo> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("while creating the folder {}", dir.display()))?;
    let demo = Demo::new(config.clone());
    let mut writers = Writers::create(dir)?;
    for product in demo.products() {
        writers
            .writer(Kind::Products)
            .write(&Record::Product(product))?;
    }
    let progress = if show_progress {
        indicatif::ProgressBar::new(config.customers)
    } else {
        indicatif::ProgressBar::hidden()
    };
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "generating {bar:40} {pos}/{len} customers, eta {eta}",
        )
        .expect("the template is valid"),
    );
    // Customers are independent given (seed, idx): a second thread generates the odd
    // chunks while this one writes, so generation and writing overlap on two cores.
    const CHUNK: u64 = 2048;
    let n = config.customers;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<DemoCustomer>>(4);
        let demo_ref = &demo;
        scope.spawn(move || {
            let mut start = 0;
            while start < n {
                let end = (start + CHUNK).min(n);
                let chunk: Vec<DemoCustomer> =
                    (start..end).map(|idx| demo_ref.customer(idx)).collect();
                if sender.send(chunk).is_err() {
                    return;
                }
                start = end;
            }
        });
        for chunk in receiver {
            let len = chunk.len() as u64;
            for customer in chunk {
                writers.write_customer(customer)?;
            }
            progress.inc(len);
        }
        Ok(())
    })?;
    progress.finish_and_clear();
    writers.finish()?;
    Ok(demo)
}

/// `winback demo`: write the files, then import them.
pub async fn run(url: &DbUrl, args: &DemoArgs) -> anyhow::Result<bool> {
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let config = DemoConfig::new(args.customers, args.seed, args.b2b, as_of);
    let started = Instant::now();
    let out: PathBuf = args.out.clone();
    let show = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let demo = tokio::task::spawn_blocking(move || write_files(config, &out, show)).await??;
    println!(
        "demo company ({} customers, seed {}, {}) written to {} in {:.1} s; truth in {}",
        args.customers,
        args.seed,
        if args.b2b {
            "wholesaler"
        } else {
            "online shop"
        },
        args.out.display(),
        started.elapsed().as_secs_f64(),
        args.out.join("truth.csv").display()
    );
    if args.no_import {
        return Ok(true);
    }
    let db = crate::open_single(url).await?;
    for member in demo.staff() {
        db.upsert_staff_user(&StaffUser {
            email: member.email.clone(),
            name: Some(member.name.clone()),
            role: member.role,
            capacity_per_week: Some(member.capacity_per_week),
            winback_experience: Some(member.winback_experience.as_str().to_owned()),
        })
        .await
        .context("while creating the demo staff users")?;
    }
    for kind in IMPORT_ORDER {
        let path = args.out.join(file_name(kind));
        let settings = Settings {
            zone: LocalZone::EuropeBerlin,
            options: ImportOptions {
                sole_writer: true,
                ..ImportOptions::default()
            },
            ..Settings::new(kind)
        };
        let report = import_with_progress(&db, &path, &settings, show)
            .await
            .with_context(|| format!("while importing {}", path.display()))?;
        if !report.committed {
            for error in &report.rejected {
                eprintln!("{error}");
            }
            anyhow::bail!(
                "the demo file {} did not import: this is a bug in winback, please report it",
                path.display()
            );
        }
        println!(
            "imported {:<12} {:>10} rows in {:.1} s ({:.0} rows/s)",
            kind.as_str(),
            report.rows_read,
            report.seconds,
            report.rows_read as f64 / report.seconds.max(1e-9)
        );
    }
    // The analysis runs on the usual pool of several connections, as `winback analyze` does.
    db.close().await;
    let db = crate::open(url).await?;
    // Analyse as of the demo's last day, so the pages show statuses and alerts at once.
    let spinner = crate::analyze::spinner();
    let step = |step| spinner.set_message(crate::analyze::step_text(step));
    let run = crate::analyze::analyze_and_store(&db, as_of, None, &step).await;
    spinner.finish_and_clear();
    let run = run.context("while analysing the demo company")?;
    let [active, at_risk, sleeping, lost] = run.analysis.status_counts();
    println!(
        "analysed as of {as_of}: {active} active, {at_risk} at risk, {sleeping} sleeping, {lost} lost, {} alerts ({:.1} s)",
        run.analysis.alerts.len(),
        run.loaded_secs + run.analysed_secs
    );
    db.close().await;
    Ok(true)
}
