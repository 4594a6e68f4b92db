//! The `winback` binary: parses the command line and hands over to the library.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: an analysis or import of a million customers makes
/// tens of millions of small allocations, which mimalloc serves faster and in less memory
/// (BENCHMARKS.md, "Analysis speed" and "Import").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = winback::cli::Cli::parse();
    winback::telemetry::init();
    match winback::run(cli) {
        Ok(code) => code,
        // The reader went away (`winback export customers | head`): stop quietly with the
        // status a process killed by SIGPIPE has, as other command-line tools do.
        Err(error) if is_broken_pipe(&error) => ExitCode::from(141),
        Err(error) => {
            // `{:#}` prints the whole chain: "while importing orders.csv: cannot open ...".
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether writing to standard output failed because the reader closed the pipe.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    error.chain().any(|e| {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io.kind() == BrokenPipe;
        }
        if let Some(winback_formats::export::ExportError::Io(io)) = e.downcast_ref() {
            return io.kind() == BrokenPipe;
        }
        e.downcast_ref::<serde_json::Error>()
            .and_then(serde_json::Error::io_error_kind)
            == Some(BrokenPipe)
    })
}
