//! Integration tests: the real `winback` binary on real files, against SQLite and PostgreSQL.

mod analyze_cli;
mod cli_import;
mod helpers;
mod kill;
mod model_cli;
