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
