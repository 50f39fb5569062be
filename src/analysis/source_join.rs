//! Heap findings joined with the source: find the files a finding names (at their recorded
//! path, or under `--source` directories by their path's tail), the code around the
//! allocation site, and where the retainer is defined (`class Tracker` … `self.history =`,
//! or a module global `_cache = {}`).

use std::path::{Path, PathBuf};

/// A place in the source with the lines around it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CodeRef {
    /// `file:line`.
    pub site: String,
    /// The lines around it, numbered, the line itself marked.
    pub code: String,
}

/// The local file for a recorded path: the path itself when it exists, else the file under
/// one of `dirs` that ends with the longest tail of the recorded path.
pub fn resolve(recorded: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let p = Path::new(recorded);
    if p.is_file() {
        return Some(p.to_path_buf());
    }
    let parts: Vec<&str> = recorded
        .split(['/', '\\'])
        .filter(|s| !s.is_empty())
        .collect();
    for start in 0..parts.len() {
        let tail: PathBuf = parts[start..].iter().collect();
        for d in dirs {
            let candidate = d.join(&tail);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// The lines around line `line` (1-based) of `text`: two before, two after.
pub fn excerpt(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    if line == 0 || line > lines.len() {
        return None;
    }
    let lo = line.saturating_sub(3);
    let hi = (line + 2).min(lines.len());
    Some(
        (lo..hi)
            .map(|i| {
                let mark = if i + 1 == line { "  # <-- here" } else { "" };
                format!("{:>5} | {}{}", i + 1, lines[i], mark)
                    .trim_end()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The code around `file:line`, the file found with [`resolve`].
pub fn code_at(site: &str, dirs: &[PathBuf]) -> Option<(PathBuf, usize, CodeRef)> {
    let (file, line) = site.rsplit_once(':')?;
    let line: usize = line.parse().ok()?;
    let path = resolve(file, dirs)?;
    let text = std::fs::read_to_string(&path).ok()?;
    let code = excerpt(&text, line)?;
    let site = format!("{}:{line}", path.display());
    Some((path, line, CodeRef { site, code }))
}

/// The steps of a chain's text: (label, type) pairs after the root.
fn steps(chain_text: &str) -> Vec<(&str, &str)> {
    chain_text
        .split(" -> ")
        .skip(1)
        .filter_map(|s| {
            let (label, ty) = s.rsplit_once(" (")?;
            Some((label, ty.strip_suffix(')')?))
        })
        .collect()
}

/// The module a chain starts from (`module app.cache -> ...` gives `app.cache`).
pub fn root_module(chain_text: &str) -> Option<&str> {
    chain_text.split(" -> ").next()?.strip_prefix("module ")
}

/// The name of the attribute or global that holds a chain's growth (`history`, `_cache`).
pub fn retainer_name(chain_text: &str) -> Option<&str> {
    let st = steps(chain_text);
    st.iter()
        .rev()
        .find(|(l, _)| !l.starts_with('[') && !l.starts_with('<') && !l.starts_with('('))
        .map(|(l, _)| *l)
}

/// The line (1-based) where the retainer of `chain_text` is defined in `text`, the module
/// the chain starts from: the assignment of the attribute that holds the growth inside its
/// class, or the module global.
pub fn retainer_line(text: &str, chain_text: &str) -> Option<usize> {
    let st = steps(chain_text);
    // The last named step before the leaking objects (`[*]`): the container's name.
    let (i, label) = st
        .iter()
        .enumerate()
        .rev()
        .find(|(_, (l, _))| !l.starts_with('[') && !l.starts_with('<') && !l.starts_with('('))
        .map(|(i, (l, _))| (i, *l))?;
    let lines: Vec<&str> = text.lines().collect();
    // The owner's class: the type of the step before, or that step itself when it is a
    // class (`PriceService (type) -> price (...)`).
    let owner_class = i.checked_sub(1).and_then(|j| st.get(j)).map(|(l, ty)| {
        if *ty == "type" {
            *l
        } else {
            ty.rsplit('.').next().unwrap_or(ty)
        }
    });
    if let Some(class) = owner_class.filter(|c| c.chars().next().is_some_and(char::is_uppercase)) {
        let start = lines.iter().position(|l| {
            let t = l.trim_start();
            t.strip_prefix("class ")
                .is_some_and(|r| r.starts_with(class) && r[class.len()..].starts_with(['(', ':']))
        })?;
        let attr = format!("self.{label}");
        let method = format!("def {label}(");
        let hit = lines[start..].iter().position(|l| {
            let t = l.trim_start();
            t.starts_with(&attr) && t[attr.len()..].trim_start().starts_with(['=', ':'])
        });
        // A method holding the growth (an lru_cache wrapper): its first decorator.
        let def = || {
            let d = start
                + lines[start..]
                    .iter()
                    .position(|l| l.trim_start().starts_with(&method))?;
            let decorators = lines[start..d]
                .iter()
                .rev()
                .take_while(|l| l.trim_start().starts_with('@'))
                .count();
            Some(d - decorators)
        };
        return Some(hit.map(|h| start + h).or_else(def).unwrap_or(start) + 1);
    }
    lines
        .iter()
        .position(|l| {
            l.strip_prefix(label)
                .is_some_and(|r| r.trim_start().starts_with(['=', ':']))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_retainer_definitions() {
        let src = "import x\n\nclass Tracker:\n    def __init__(self):\n        self.history = []\n\n    @functools.lru_cache(maxsize=None)\n    def price(self, item):\n        return item\n\n_cache = {}\n";
        assert_eq!(
            retainer_line(
                src,
                "module __main__ -> T (__main__.Tracker) -> history (list) -> [*] (dict)"
            ),
            Some(5)
        );
        assert_eq!(
            retainer_line(src, "module app -> _cache (dict) -> [*] (list)"),
            Some(11)
        );
        assert_eq!(
            retainer_line(
                src,
                "module m -> Tracker (type) -> price (functools._lru_cache_wrapper) -> [*] (tuple)"
            ),
            Some(7)
        );
        assert_eq!(
            root_module("module app.cache -> _c (dict)"),
            Some("app.cache")
        );
        assert!(
            excerpt(src, 5)
                .is_some_and(|c| c.contains("    5 |         self.history = []  # <-- here"))
        );
        assert_eq!(excerpt(src, 99), None);
    }
}
