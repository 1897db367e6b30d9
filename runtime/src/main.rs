//! `wasmload`: load testing where every virtual user is a WebAssembly
//! component. The command line; the runtime is the `wasmload` library.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;
use std::process::ExitCode;

use clap::error::ErrorKind;
use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};
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
static ALLOCATOR: Mimalloc = Mimalloc;

/// mimalloc, asked for an alignment only when a layout needs more than every
/// block has. The `mimalloc` crate passes each layout to `mi_malloc_aligned`,
/// and mimalloc 3 serves such a request over 1 KiB whose size is not a power
/// of two by allocating more and aligning inside it: 7.5 of an HTTP request's
/// 22 allocations, 206 instructions each (callgrind).
struct Mimalloc;

/// The alignment of every mimalloc block of at least this size (smaller
/// ones are aligned to their size, rounded up to a word), as with glibc's
/// malloc, which std's `System` allocator relies on the same way.
const BLOCK_ALIGN: usize = 16;

/// Whether a block of `size` bytes from the plain calls is aligned enough.
fn plain(align: usize, size: usize) -> bool {
    align <= BLOCK_ALIGN && align <= size
}

/// A new block for `layout`: from `unaligned` where its own alignment
/// suffices, else from `aligned`.
///
/// # Safety
/// As `GlobalAlloc::alloc`.
unsafe fn new_block(
    layout: Layout,
    unaligned: unsafe extern "C" fn(usize) -> *mut c_void,
    aligned: unsafe extern "C" fn(usize, usize) -> *mut c_void,
) -> *mut u8 {
    let (size, align) = (layout.size(), layout.align());
    // SAFETY: mimalloc's allocation functions take any size.
    unsafe {
        if plain(align, size) {
            unaligned(size).cast()
        } else {
            aligned(size, align).cast()
        }
    }
}

// SAFETY: each call passes the layout's size and alignment on to mimalloc,
// which meets them: the plain calls only where `plain` holds.
unsafe impl GlobalAlloc for Mimalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller's.
        unsafe { new_block(layout, mi_malloc, mi_malloc_aligned) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller's.
        unsafe { new_block(layout, mi_zalloc, mi_zalloc_aligned) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { mi_free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let align = layout.align();
        // SAFETY: `ptr` came from this allocator; mimalloc keeps the
        // alignment asked for, and a plain block of `new_size` has it.
        unsafe {
            if plain(align, new_size) {
                mi_realloc(ptr.cast(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast(), new_size, align).cast()
            }
        }
    }
}

/// Exit code for input the user must fix (flags, files, components).
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
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

#[cfg(test)]
mod tests {
    use std::alloc::{alloc, alloc_zeroed, dealloc, realloc, Layout};

    #[test]
    fn every_block_is_aligned_as_its_layout_asks() {
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in (1..=4200).step_by(7).chain([65_536, 100_000]) {
                let layout = Layout::from_size_align(size, align).unwrap();
                let grown = Layout::from_size_align(size * 3, align).unwrap();
                // SAFETY: every block is freed once, with its layout.
                unsafe {
                    let block = alloc(layout);
                    assert!(
                        !block.is_null() && (block as usize).is_multiple_of(align),
                        "{size} B, {align}"
                    );
                    let zeroed = alloc_zeroed(layout);
                    assert!((zeroed as usize).is_multiple_of(align), "zeroed: {size} B, {align}");
                    assert!(std::slice::from_raw_parts(zeroed, size).iter().all(|&b| b == 0));
                    block.write_bytes(7, size);
                    let moved = realloc(block, layout, grown.size());
                    assert!((moved as usize).is_multiple_of(align), "grown: {size} B, {align}");
                    assert!(std::slice::from_raw_parts(moved, size).iter().all(|&b| b == 7));
                    dealloc(moved, grown);
                    dealloc(zeroed, layout);
                }
            }
        }
    }
}
