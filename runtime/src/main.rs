//! `wasmload`: load testing where every virtual user is a WebAssembly
//! component. The command line; the runtime is the `wasmload` library.

use std::process::ExitCode;

use clap::error::ErrorKind;
use wasmload::cli::submit::{self, SubmitFailed};
use wasmload::cli::{collect, config, inspect, new, run as run_command, saved, Command};
use wasmload::client::Refused;
use wasmload::one_line;
use wasmload::report::compare::Regressed;
use wasmload::run::{self, EXIT_THRESHOLDS_FAILED};
use wasmload::serve::ServeConfig;

/// mimalloc rather than glibc's malloc: with thousands of users the heap's
/// free lists grow long and glibc spent 14% of a loaded run searching and
/// consolidating them (perf, 12,000 idle keep-alive users).
#[global_allocator]
static ALLOCATOR: wasmload::allocator::Mimalloc = wasmload::allocator::Mimalloc;

/// Exit code for input the user must fix (flags, files, components).
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    wasmload::allocator::use_small_pages();
    let cli = match config::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(error)
            if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) =>
        {
            error.exit()
        }
        Err(error) => {
            eprintln!("wasmload: {}", one_line(&error.render().to_string()));
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("wasmload: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        Command::Run(args) => runtime.block_on(run_command::run(*args)),
        Command::Inspect(args) => runtime.block_on(inspect::inspect(*args)),
        Command::Report(args) => saved::report(args),
        Command::Merge(args) => saved::merge(args),
        Command::Compare(args) => saved::compare(args),
        Command::New(args) => new::new(args).map_err(|error| run::BadInput(error).into()),
        Command::Submit(args) => runtime.block_on(submit::submit(*args)),
        Command::Collect(args) => runtime.block_on(collect::collect(*args)),
        Command::Serve(args) => runtime.block_on(wasmload::serve::serve(ServeConfig {
            listen: args.listen,
            data: args.data,
            max_users: args.max_users,
            max_memory: args.max_memory,
            admin_token: std::env::var("WASMLOAD_ADMIN_TOKEN").ok(),
        })),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wasmload: {}", one_line(&format!("{error:#}")));
            if let Some(failed) = error.downcast_ref::<SubmitFailed>() {
                ExitCode::from(failed.code)
            } else if let Some(refused) = error.downcast_ref::<Refused>() {
                ExitCode::from(refused.exit_code())
            } else if error.is::<run::BadInput>() {
                ExitCode::from(EXIT_BAD_INPUT)
            } else if error.is::<run::ThresholdsFailed>() || error.is::<Regressed>() {
                ExitCode::from(EXIT_THRESHOLDS_FAILED)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
