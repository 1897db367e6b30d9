//! The global allocator of the `wasmload` binary: mimalloc, with thousands
//! of users' heaps in one process.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};

/// mimalloc, asked for an alignment only when a layout needs more than every
/// block has. The `mimalloc` crate passes each layout to `mi_malloc_aligned`,
/// and mimalloc 3 serves such a request over 1 KiB whose size is not a power
/// of two by allocating more and aligning inside it: 7.5 of an HTTP request's
/// 22 allocations, 206 instructions each (callgrind).
pub struct Mimalloc;

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

/// Asks the kernel to give this process no transparent huge pages, as
/// `MIMALLOC_ALLOW_THP=0` would; its worker processes inherit it. mimalloc
/// asks for them for its arenas, and each is faulted in and zeroed whole,
/// 2 MiB at a time, however little of it a thread's pages use: at 100,000
/// users in nine processes, 4 KiB more resident a user, with no faster start
/// (docs/BENCHMARKS.md, Scale, "No transparent huge pages").
pub fn use_small_pages() {
    // SAFETY: the call only sets a flag of this process. A kernel without it
    // refuses, and the heap keeps huge pages: nothing else changes.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout};

    use super::Mimalloc;

    /// Every block from `Mimalloc` (not the test binary's allocator) is
    /// aligned as its layout asks, whether new, zeroed, grown or shrunk.
    #[test]
    fn every_block_is_aligned_as_its_layout_asks() {
        let sizes = (1..=4200).step_by(7).chain([65_536, 100_000, 1 << 20]);
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in sizes.clone() {
                let layout = Layout::from_size_align(size, align).unwrap();
                let aligned = |block: *mut u8, what: &str| {
                    assert!(!block.is_null(), "{what}: {size} B, {align}: null");
                    assert!((block as usize).is_multiple_of(align), "{what}: {size} B, {align}");
                };
                // SAFETY: every block is freed once, with its layout.
                unsafe {
                    let block = Mimalloc.alloc(layout);
                    aligned(block, "new");
                    let zeroed = Mimalloc.alloc_zeroed(layout);
                    aligned(zeroed, "zeroed");
                    assert!(std::slice::from_raw_parts(zeroed, size).iter().all(|&b| b == 0));
                    block.write_bytes(7, size);
                    let grown = Mimalloc.realloc(block, layout, size * 3);
                    aligned(grown, "grown");
                    assert!(std::slice::from_raw_parts(grown, size).iter().all(|&b| b == 7));
                    let kept = size.div_ceil(3);
                    let shrunk = Mimalloc.realloc(grown, layout, kept);
                    aligned(shrunk, "shrunk");
                    assert!(std::slice::from_raw_parts(shrunk, kept).iter().all(|&b| b == 7));
                    Mimalloc.dealloc(shrunk, Layout::from_size_align(kept, align).unwrap());
                    Mimalloc.dealloc(zeroed, layout);
                }
            }
        }
    }
}
