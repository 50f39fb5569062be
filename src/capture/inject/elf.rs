//! Function addresses inside a running process, from `/proc/PID/maps` and the ELF symbol
//! tables (`.dynsym`, then `.symtab`) of the files it has mapped. Reads only; never trusts
//! the file: every field is bounds-checked, so a strange binary gives "not found".

/// One file-backed mapping of the target.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// First address of the mapping.
    pub start: u64,
    /// Offset in the file of that address.
    pub offset: u64,
    /// The file's path as the target sees it.
    pub path: String,
}

/// The file-backed mappings of process `pid`.
pub fn mappings(pid: i32) -> Result<Vec<Mapping>, String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .map_err(|e| format!("cannot read /proc/{pid}/maps: {e}"))?;
    Ok(text.lines().filter_map(parse_line).collect())
}

/// `start-end perms offset dev inode path` → a mapping, when it names a file.
fn parse_line(line: &str) -> Option<Mapping> {
    let mut f = line.split_whitespace();
    let range = f.next()?;
    let _perms = f.next()?;
    let offset = u64::from_str_radix(f.next()?, 16).ok()?;
    let _dev = f.next()?;
    let _inode = f.next()?;
    let path: Vec<&str> = f.collect();
    let path = path.join(" ");
    if !path.starts_with('/') || path.ends_with(" (deleted)") {
        return None;
    }
    let start = u64::from_str_radix(range.split('-').next()?, 16).ok()?;
    Some(Mapping {
        start,
        offset,
        path,
    })
}

/// The distinct mapped files, in the order first mapped.
pub fn files(maps: &[Mapping]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in maps {
        if !out.contains(&m.path) {
            out.push(m.path.clone());
        }
    }
    out
}

/// Runtime addresses of `names` defined as functions in `path` as mapped by `pid` (`None`
/// for each name not found there).
pub fn lookup(pid: i32, maps: &[Mapping], path: &str, names: &[&str]) -> Vec<Option<u64>> {
    // the target's own view of its files (it may run in another mount namespace); read, not
    // mapped, so a file truncated meanwhile cannot fault leakhunt
    let image = std::fs::read(format!("/proc/{pid}/root{path}"))
        .or_else(|_| std::fs::read(path))
        .unwrap_or_default();
    addresses(&image, maps, path, names)
}

/// Runtime addresses of the functions named in `image`, the bytes of the file mapped at
/// `path` in `maps`; `None` for each one absent, for all when the bytes are not 64-bit ELF.
pub fn addresses(image: &[u8], maps: &[Mapping], path: &str, names: &[&str]) -> Vec<Option<u64>> {
    let Some(elf) = Elf::parse(image) else {
        return vec![None; names.len()];
    };
    let Some(bias) = elf.load_bias(maps, path) else {
        return vec![None; names.len()];
    };
    elf.values(names)
        .into_iter()
        .map(|a| a.and_then(|v| v.checked_add(bias)))
        .collect()
}

const SHT_SYMTAB: u32 = 2;
const SHT_DYNSYM: u32 = 11;
const PT_LOAD: u32 = 1;
const STT_FUNC: u8 = 2;
const PAGE: u64 = 4096;

/// A 64-bit little-endian ELF file, viewed in place.
struct Elf<'a> {
    data: &'a [u8],
    phoff: u64,
    phnum: u64,
    shoff: u64,
    shnum: u64,
}

fn u16_at(b: &[u8], at: u64) -> Option<u16> {
    let at = usize::try_from(at).ok()?;
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: u64) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn u64_at(b: &[u8], at: u64) -> Option<u64> {
    let at = usize::try_from(at).ok()?;
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

impl<'a> Elf<'a> {
    fn parse(data: &'a [u8]) -> Option<Elf<'a>> {
        // magic, 64-bit class, little-endian
        if data.get(..6)? != b"\x7fELF\x02\x01" {
            return None;
        }
        if u16_at(data, 54)? != 56 || u16_at(data, 58)? != 64 {
            return None;
        }
        Some(Elf {
            data,
            phoff: u64_at(data, 32)?,
            phnum: u64::from(u16_at(data, 56)?),
            shoff: u64_at(data, 40)?,
            shnum: u64::from(u16_at(data, 60)?),
        })
    }

    /// What to add to a symbol's value for its address in the process: the first loadable
    /// segment's page sits where the mapping of its file offset starts.
    fn load_bias(&self, maps: &[Mapping], path: &str) -> Option<u64> {
        let (vaddr, offset) = (0..self.phnum)
            .filter_map(|i| {
                let ph = self.phoff.checked_add(i.saturating_mul(56))?;
                (u32_at(self.data, ph)? == PT_LOAD).then(|| {
                    Some((
                        u64_at(self.data, ph.saturating_add(16))?,
                        u64_at(self.data, ph.saturating_add(8))?,
                    ))
                })?
            })
            .min()?;
        let page_off = offset & !(PAGE - 1);
        let m = maps
            .iter()
            .filter(|m| m.path == path && m.offset == page_off)
            .min_by_key(|m| m.start)?;
        m.start.checked_sub(vaddr & !(PAGE - 1))
    }

    /// The symbol values of the functions named, from `.dynsym` then `.symtab`.
    fn values(&self, names: &[&str]) -> Vec<Option<u64>> {
        let mut found = vec![None; names.len()];
        for kind in [SHT_DYNSYM, SHT_SYMTAB] {
            if found.iter().all(Option::is_some) {
                break;
            }
            self.functions(kind, names, &mut found);
        }
        found
    }

    /// Fill `found` with the values of defined functions named in `names`, from the symbol
    /// tables of section type `kind`.
    fn functions(&self, kind: u32, names: &[&str], found: &mut [Option<u64>]) {
        for i in 0..self.shnum {
            let Some(sh) = self.shoff.checked_add(i.saturating_mul(64)) else {
                return;
            };
            if u32_at(self.data, sh.saturating_add(4)) != Some(kind) {
                continue;
            }
            let (Some(off), Some(size), Some(link)) = (
                u64_at(self.data, sh.saturating_add(24)),
                u64_at(self.data, sh.saturating_add(32)),
                u32_at(self.data, sh.saturating_add(40)),
            ) else {
                continue;
            };
            let Some(strtab) = self.shoff.checked_add(u64::from(link).saturating_mul(64)) else {
                continue;
            };
            let (Some(str_off), Some(str_size)) = (
                u64_at(self.data, strtab.saturating_add(24)),
                u64_at(self.data, strtab.saturating_add(32)),
            ) else {
                continue;
            };
            let Some(strings) = slice(self.data, str_off, str_size) else {
                continue;
            };
            let Some(syms) = slice(self.data, off, size) else {
                continue;
            };
            for sym in syms.chunks_exact(24) {
                let (Some(name), Some(value)) = (u32_at(sym, 0), u64_at(sym, 8)) else {
                    continue;
                };
                let defined = u16_at(sym, 6).is_some_and(|s| s != 0);
                if !defined || sym[4] & 0xf != STT_FUNC || value == 0 {
                    continue;
                }
                let Some(text) = c_str(strings, name) else {
                    continue;
                };
                if let Some(k) = names.iter().position(|n| n.as_bytes() == text)
                    && found[k].is_none()
                {
                    found[k] = Some(value);
                }
            }
        }
    }
}

fn slice(b: &[u8], off: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(off).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    b.get(start..end)
}

fn c_str(b: &[u8], at: u32) -> Option<&[u8]> {
    let rest = b.get(usize::try_from(at).ok()?..)?;
    let end = rest.iter().position(|&c| c == 0)?;
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines() {
        let m = parse_line(
            "7f1c2a000000-7f1c2a028000 r--p 00028000 fe:01 1234  /usr/lib/x86_64-linux-gnu/libc.so.6",
        )
        .expect("a file mapping");
        assert_eq!(m.start, 0x7f1c2a000000);
        assert_eq!(m.offset, 0x28000);
        assert_eq!(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
        assert!(parse_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0  [stack]").is_none());
        assert!(parse_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0").is_none());
        assert!(parse_line("garbage").is_none());
    }

    #[test]
    fn strange_files_are_not_elf() {
        assert!(Elf::parse(b"").is_none());
        assert!(Elf::parse(b"\x7fELF\x01\x01").is_none());
        let mut short = b"\x7fELF\x02\x01".to_vec();
        short.resize(63, 0);
        assert!(Elf::parse(&short).is_none());
    }

    /// Found by the fuzzer: section offsets near u64::MAX overflowed when added to.
    #[test]
    fn offsets_at_the_top_of_the_range() {
        let mut image = b"\x7fELF\x02\x01\x01\x00".to_vec();
        image.resize(64, 0);
        image[40..48].copy_from_slice(&u64::MAX.saturating_sub(2).to_le_bytes()); // e_shoff
        image[54..56].copy_from_slice(&56u16.to_le_bytes());
        image[58..60].copy_from_slice(&64u16.to_le_bytes());
        image[60..62].copy_from_slice(&9u16.to_le_bytes()); // e_shnum
        let elf = Elf::parse(&image).expect("a header that parses");
        assert_eq!(elf.values(&["f"]), vec![None]);
    }

    /// The symbols of this very test process resolve to the functions it calls.
    #[test]
    fn finds_libc_functions_in_this_process() {
        let pid = std::process::id() as i32;
        let maps = mappings(pid).expect("own maps");
        let libc_path = files(&maps).into_iter().find(|p| {
            p.rsplit('/')
                .next()
                .is_some_and(|n| n.starts_with("libc.so"))
        });
        let Some(libc_path) = libc_path else {
            eprintln!("SKIP: this test binary has no libc.so mapped (static build)");
            return;
        };
        let got = lookup(pid, &maps, &libc_path, &["getpid", "no_such_function_here"]);
        assert_eq!(got[0], Some(libc::getpid as *const () as u64));
        assert_eq!(got[1], None);
    }
}
