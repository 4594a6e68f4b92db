//! Analyses a demo company as of its as-of date and prints the score against the planted
//! truth, and a backtest as of 180 days earlier.
//!
//! Settings can be given as `WINBACK_SETTINGS=key=value,key=value`.
//!
//! `cargo run --release -p winback-engine --example analysis_truth -- [customers] [seed] [b2b]`

use std::time::Instant;

use chrono::{Days, NaiveDate};
use winback_engine::analysis::{
    CustomerHistory, ProductFact, Settings, analyze, backtest, score_against_truth,
};
use winback_engine::demo::{Demo, DemoConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let customers: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let b2b = args.next().is_some_and(|a| a == "b2b");
    let as_of = NaiveDate::from_ymd_opt(2025, 6, 30).expect("a valid date");
    let demo = Demo::new(DemoConfig::new(customers, seed, b2b, as_of));
    let mut histories = Vec::new();
    let mut truth = Vec::new();
    for c in demo.customers() {
        histories.push(CustomerHistory::from_demo(&c));
        truth.push(c.truth);
    }
    let products = ProductFact::from_demo(&demo.products());
    // Settings as `key=value` pairs separated by commas in WINBACK_SETTINGS, for tuning.
    let pairs: Vec<(String, String)> = std::env::var("WINBACK_SETTINGS")
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let settings = Settings::from_pairs(pairs).expect("valid settings");
    let started = Instant::now();
    let analysis = analyze(&histories, &products, as_of, &settings).expect("analysis");
    eprintln!("analysed in {:.2} s", started.elapsed().as_secs_f64());
    println!("{:?}\n", analysis.model);
    println!("{}", score_against_truth(&analysis.customers, &truth));
    let earlier = as_of
        .checked_sub_days(Days::new(180))
        .expect("a valid date");
    let bt = backtest(&histories, &products, earlier, 180, &settings).expect("backtest");
    println!("{bt}");
}
