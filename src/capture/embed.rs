//! The Python dumper carried inside the binary, written out to a private directory for
//! `record`, `attach` and `python-path`.

use crate::error::{Error, Result};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

macro_rules! py {
    ($dest:literal, $src:literal) => {
        (
            $dest,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/python/", $src)),
        )
    };
}

/// Every file of the embedded Python side: (path inside the directory, text).
/// `tests/capture.rs` checks that each `python/leakhunt/*.py` is listed.
pub const FILES: &[(&str, &str)] = &[
    py!("leakhunt/__init__.py", "leakhunt/__init__.py"),
    py!("leakhunt/__main__.py", "leakhunt/__main__.py"),
    py!("leakhunt/addresses.py", "leakhunt/addresses.py"),
    py!("leakhunt/allocsites.py", "leakhunt/allocsites.py"),
    py!("leakhunt/binary.py", "leakhunt/binary.py"),
    py!("leakhunt/capture.py", "leakhunt/capture.py"),
    py!("leakhunt/dumper.py", "leakhunt/dumper.py"),
    py!("leakhunt/forkdump.py", "leakhunt/forkdump.py"),
    py!("leakhunt/metajson.py", "leakhunt/metajson.py"),
    py!("leakhunt/pytest_plugin.py", "leakhunt/pytest_plugin.py"),
    py!("leakhunt/roots.py", "leakhunt/roots.py"),
    py!("leakhunt/snapformat.py", "leakhunt/snapformat.py"),
    py!("leakhunt/strings.py", "leakhunt/strings.py"),
    py!("leakhunt/tracelimit.py", "leakhunt/tracelimit.py"),
    py!("leakhunt/typeplans.py", "leakhunt/typeplans.py"),
    py!("leakhunt/walk.py", "leakhunt/walk.py"),
    py!("leakhunt/writer.py", "leakhunt/writer.py"),
    py!("sitecustomize.py", "boot/sitecustomize.py"),
];

/// Marks a directory whose files are all written.
const COMPLETE: &str = ".complete";

/// The directory holding `leakhunt/` and `sitecustomize.py` for this binary, written on
/// first use: `$TMPDIR/leakhunt-<uid>/py-<version>-<hash>` (the parent is 0700 and must be
/// ours). Several leakhunt processes may race here; the first complete copy wins.
pub fn python_dir() -> Result<PathBuf> {
    let base = std::env::temp_dir().join(format!("leakhunt-{}", uid()));
    private_base(&base)?;
    let dir = base.join(format!("py-{}-{:08x}", env!("CARGO_PKG_VERSION"), digest()));
    if dir.join(COMPLETE).is_file() {
        return Ok(dir);
    }
    let tmp = base.join(format!(".py-tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    write_tree(&tmp)
        .map_err(|e| Error::file(&tmp, format!("cannot write the Python dumper: {e}")))?;
    if fs::rename(&tmp, &dir).is_err() {
        // another leakhunt got there first (or a stale incomplete copy is in the way)
        let _ = fs::remove_dir_all(&tmp);
        if !dir.join(COMPLETE).is_file() {
            let _ = fs::remove_dir_all(&dir);
            write_tree(&tmp)
                .and_then(|_| fs::rename(&tmp, &dir))
                .map_err(|e| Error::file(&dir, format!("cannot write the Python dumper: {e}")))?;
        }
    }
    Ok(dir)
}

/// Let processes of other users read `dir` (from `python_dir`): for `attach` as root to a
/// service running as another user. Nothing becomes writable by anyone else.
pub fn share_with_others(dir: &Path) -> Result<()> {
    let set = |p: &Path, mode: u32| {
        fs::set_permissions(p, fs::Permissions::from_mode(mode))
            .map_err(|e| Error::file(p, format!("cannot make readable for the target: {e}")))
    };
    if let Some(base) = dir.parent() {
        set(base, 0o711)?;
    }
    set(dir, 0o755)?;
    set(&dir.join("leakhunt"), 0o755)?;
    for (rel, _) in FILES {
        set(&dir.join(rel), 0o644)?;
    }
    Ok(())
}

fn uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// Create `base` 0700, or check that the existing one is a real directory of ours that
/// nobody else can write (it is put on PYTHONPATH: planted code would run in the target).
fn private_base(base: &Path) -> Result<()> {
    match fs::symlink_metadata(base) {
        Err(_) => {
            fs::DirBuilder::new()
                .mode(0o700)
                .create(base)
                .or_else(|e| if base.is_dir() { Ok(()) } else { Err(e) })
                .map_err(|e| Error::file(base, format!("cannot create: {e}")))?;
            private_base_checked(base)
        }
        Ok(_) => private_base_checked(base),
    }
}

fn private_base_checked(base: &Path) -> Result<()> {
    let m = fs::symlink_metadata(base).map_err(|e| Error::file(base, e.to_string()))?;
    if !m.file_type().is_dir() || m.uid() != uid() || m.mode() & 0o022 != 0 {
        return Err(Error::file(
            base,
            "refusing to use: not a directory of yours that only you can write (remove it)",
        ));
    }
    Ok(())
}

fn write_tree(dir: &Path) -> std::io::Result<()> {
    fs::DirBuilder::new().mode(0o700).create(dir)?;
    fs::DirBuilder::new()
        .mode(0o700)
        .create(dir.join("leakhunt"))?;
    for (rel, text) in FILES {
        let mut f = fs::File::create(dir.join(rel))?;
        f.write_all(text.as_bytes())?;
    }
    fs::File::create(dir.join(COMPLETE))?;
    Ok(())
}

/// CRC-32 over every path and text, so binaries with different dumpers never share a copy.
fn digest() -> u32 {
    let mut h = crc32fast::Hasher::new();
    for (rel, text) in FILES {
        h.update(rel.as_bytes());
        h.update(&[0]);
        h.update(text.as_bytes());
    }
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::FILES;

    #[test]
    fn every_python_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/python/leakhunt");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".py"))
            .map(|n| format!("leakhunt/{n}"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = FILES
            .iter()
            .map(|(p, _)| p.to_string())
            .filter(|p| p.starts_with("leakhunt/"))
            .collect();
        listed.sort();
        assert_eq!(
            on_disk, listed,
            "add new python/leakhunt files to embed::FILES"
        );
    }
}
