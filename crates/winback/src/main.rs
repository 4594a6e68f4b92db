//! The `winback` binary: parses the command line and hands over to the library.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = winback::cli::Cli::parse();
    winback::telemetry::init();
    match winback::run(cli) {
        Ok(code) => code,
        Err(error) => {
            // `{:#}` prints the whole chain: "while importing orders.csv: cannot open ...".
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
