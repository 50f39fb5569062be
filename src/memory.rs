//! Process-wide memory settings for reading large snapshots.

/// Make large allocations come straight from `mmap`, so growing a big arena is an `mremap`
/// (no copy, no page faults on the old pages) instead of glibc's default, whose threshold
/// rises after the first large free and then makes every later growth copy.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocation policy; called before any threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Below this many bytes an array is not worth asking huge pages for.
const HUGE_MIN: usize = 4 << 20;

/// Ask the kernel to back `len` bytes at `p` with transparent huge pages (only advice: with
/// THP set to `madvise`, arrays read at random then miss the TLB far less often).
fn advise_huge(p: *const u8, len: usize) {
    #[cfg(target_os = "linux")]
    if len >= HUGE_MIN && std::env::var_os("LEAKHUNT_NO_HUGEPAGES").is_none() {
        let page = 4096;
        let start = (p as usize).div_ceil(page) * page;
        let end = (p as usize + len) / page * page;
        if end > start {
            // SAFETY: madvise only gives advice about pages this process owns (the range lies
            // inside one live allocation); it never changes their contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (p, len);
}

/// An empty vector with room for `n` items, its pages advised to be huge pages.
pub fn huge_with_capacity<T>(n: usize) -> Vec<T> {
    let v = Vec::with_capacity(n);
    advise_huge(v.as_ptr() as *const u8, n * std::mem::size_of::<T>());
    v
}

/// `n` copies of `x` in memory advised to be huge pages (see [`huge_with_capacity`]).
pub fn huge_vec<T: Clone>(n: usize, x: T) -> Vec<T> {
    let mut v = huge_with_capacity(n);
    v.resize(n, x);
    v
}

/// Hint that `p` will be read soon (no effect on correctness; a no-op off x86-64).
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
