//! The host-call path: one guest→host call and back (async and sync), and
//! recording one request event.
//!
//! `cargo bench -p wasmload --bench host_call`. A task of the `host-calls`
//! guest makes 1,000 calls, so criterion's throughput is calls per second
//! and 1 / throughput is the cost of one call (the `none` task is the cost
//! of calling into the guest at all, spread the same way).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wasmload::benching::{BenchUser, Recorder, RequestEvent};

const CALLS_PER_TASK: u64 = 1000;

fn host_calls(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let component = wasmload_testkit::guest("host-calls");
    let mut user =
        runtime.block_on(BenchUser::start(&component)).expect("starting the host-calls guest");
    let mut group = c.benchmark_group("host call");
    group.throughput(Throughput::Elements(CALLS_PER_TASK));
    for (task, name) in [(0, "async context.sleep(0)"), (1, "sync context.now"), (2, "none")] {
        group.bench_function(name, |b| {
            b.iter(|| runtime.block_on(user.run_task(task)).expect("the task runs"));
        });
    }
    group.finish();
}

fn record_event(c: &mut Criterion) {
    let recorder = Recorder::new(1000);
    let event = RequestEvent {
        kind: "GET",
        name: "/items/[id]",
        response_time: Duration::from_micros(1234),
        response_length: 512,
        error: None,
    };
    c.bench_function("record one event", |b| b.iter(|| recorder.record(&event)));
    recorder.correct_for_omission();
    let corrected = recorder.for_user();
    corrected.set_lateness(Duration::from_micros(50));
    c.bench_function("record one event (open model, corrected)", |b| {
        b.iter(|| corrected.record(&event))
    });
}

criterion_group!(benches, host_calls, record_event);
criterion_main!(benches);
