//! `wasmload run`: load the component, start the run, show it live, stop it
//! on signals, print and write its results.

use std::sync::Arc;

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::cli::{OutputArgs, RunArgs};
use crate::engine::UserComponent;
use crate::limits;
use crate::report;
use crate::report::thresholds::Verdict;
use crate::run::{self, BadInput, Finished, RunLog, RunSetting};
use crate::stats::Summary;

/// Runs the load test `args` describes and writes its reports.
pub async fn run(args: RunArgs) -> Result<()> {
    // Listen first, so a signal during loading stops the run, not the process.
    let (stop, kill) = (CancellationToken::new(), CancellationToken::new());
    tokio::spawn(signals::stop_on_signals(stop.clone(), kill.clone(), args.spec.stop_timeout));
    let path = args.component.clone().ok_or_else(|| {
        BadInput(anyhow::anyhow!(
            "no component to run: give its .wasm path, or `component = \"PATH\"` in wasmload.toml"
        ))
    })?;
    let spec = args.spec;
    let asked = run::asked_users(&spec);
    limits::check_map_count(asked, limits::MAPS_PER_USER)
        .map_err(|error| BadInput(error.into()))?;
    if let Some(warning) = limits::raise_open_files(asked) {
        eprintln!("{warning}");
    }
    if spec.guest.insecure {
        eprintln!("wasmload: --insecure: TLS certificates are not verified for any protocol");
    }
    let component = UserComponent::load_file(
        &path,
        // Whether the component has a shape is not known before it loads.
        run::capacity(&spec, true),
        spec.guest.max_memory,
        args.local.compile_cache().as_deref(),
    )
    .map_err(BadInput)?;
    let setting = RunSetting {
        name: path.display().to_string(),
        log: RunLog::stderr(),
        ca_files: args.local.ca_cert.clone(),
        trust_host_addresses: true,
    };
    let prepared = run::prepare(Arc::new(component), spec, setting).await?;
    let handle = prepared.start();
    let watch = handle.watch();
    signals::forward(stop, kill, watch.clone());
    let live_done = CancellationToken::new();
    let live = tokio::spawn(report::live::show(watch.subscribe(), live_done.clone()));
    let metrics = match args.metrics_addr {
        Some(addr) => {
            let served = report::prometheus::serve(addr, watch.clone(), live_done.clone());
            match served.await {
                Ok(served) => Some(served),
                Err(error) => {
                    watch.kill();
                    let _ = handle.finish().await;
                    live_done.cancel();
                    return Err(BadInput(error).into());
                }
            }
        }
        None => None,
    };
    let finished = handle.finish().await;
    live_done.cancel();
    let _ = live.await;
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    report_finished(&finished?, &args.outputs)
}

/// Prints the table and the thresholds and writes the requested files:
/// what `run` and `submit` show when a run ends.
pub fn report_finished(finished: &Finished, outputs: &OutputArgs) -> Result<()> {
    write_outputs(&finished.summary, outputs)?;
    print_thresholds(&finished.verdicts);
    finished.check_thresholds()
}

/// Prints the summary's table and writes the files `outputs` ask for.
pub fn write_outputs(summary: &Summary, outputs: &OutputArgs) -> Result<()> {
    print!("{}", report::table::render(summary));
    if let Some(path) = &outputs.json {
        report::json::write(summary, path)?;
    }
    if let Some(prefix) = &outputs.csv {
        report::csv::write(summary, prefix)?;
    }
    if let Some(path) = &outputs.html {
        report::html::write(summary, path)?;
    }
    Ok(())
}

/// How each threshold fared, after the table.
pub fn print_thresholds(verdicts: &[Verdict]) {
    if verdicts.is_empty() {
        return;
    }
    println!("\nThresholds");
    for verdict in verdicts {
        println!("  {} {}", if verdict.held { "held  " } else { "FAILED" }, verdict.line);
    }
}

mod signals {
    use tokio_util::sync::CancellationToken;

    use crate::run::RunWatch;

    /// Passes the signal handler's stop and kill on to the run.
    pub fn forward(stop: CancellationToken, kill: CancellationToken, watch: RunWatch) {
        tokio::spawn(async move {
            stop.cancelled().await;
            watch.stop();
            kill.cancelled().await;
            watch.kill();
        });
    }

    /// The first Ctrl-C or SIGTERM stops the run gracefully (`stop`); a
    /// second one stops it at once (`kill`). Either way the results are
    /// written.
    pub async fn stop_on_signals(
        stop: CancellationToken,
        kill: CancellationToken,
        grace: std::time::Duration,
    ) {
        for (first, token) in [(true, &stop), (false, &kill)] {
            tokio::select! {
                _ = next_signal() => {}
                _ = token.cancelled() => {}
            }
            if token.is_cancelled() {
                continue;
            }
            if first {
                let grace = humantime::format_duration(grace);
                eprintln!("wasmload: stopping; running tasks have {grace} to finish (interrupt again to stop now)");
            } else {
                eprintln!("wasmload: stopping now; writing what was gathered");
            }
            token.cancel();
        }
    }

    /// Waits for the next Ctrl-C or SIGTERM.
    async fn next_signal() {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                _ => std::future::pending().await,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
