//! Retention chains that read like Python: a path of edges collapsed into named steps,
//! `module app.registry -> _REGISTRY (dict) -> ['req-17'] (Request)` (formats/snap.md §4.2).

use super::paths::Hop;
use crate::graph::{HeapGraph, NONE, kind, root_kind};
use serde::Serialize;

/// One step of a chain: how the object was reached and its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The object's type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The reference's name: `handlers`, `['req-17']`, `[3]`, `<closure payload>`, or the
    /// root's description for the first step.
    pub label: String,
    /// The object's own size in bytes (for a last `[*]` step, the new bytes held).
    pub bytes: u64,
}

/// Most steps shown before the middle of a long chain is elided.
pub const MAX_STEPS: usize = 12;

fn root_text(g: &HeapGraph, v: u32, root: Option<u32>) -> String {
    let Some(r) = root else {
        return "root".to_string();
    };
    let r = g.root(r as usize);
    let name = g.strings.get(r.name);
    match r.kind {
        root_kind::MODULE => format!("module {name}"),
        root_kind::THREAD => format!("thread {name} frame"),
        root_kind::INTERPRETER => format!("interpreter {name}"),
        root_kind::HELD_FROM_OUTSIDE => {
            format!("held from outside ({})", g.type_name(g.type_of[v as usize]))
        }
        _ => format!("root {name}"),
    }
}

/// A dict key label without quotes when it is a quoted identifier (`'name'` -> `name`).
fn bare_name(label: &str) -> Option<&str> {
    let inner = label.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut chars = inner.chars();
    let first = chars.next()?;
    ((first.is_alphabetic() || first == '_') && chars.all(|c| c.is_alphanumeric() || c == '_'))
        .then_some(inner)
}

/// Turn a path into steps, collapsing `__dict__` hops, closure cells and method wrappers.
pub fn steps(g: &HeapGraph, hops: &[Hop], root: Option<u32>) -> Vec<Step> {
    steps_with_objects(g, hops, root)
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

/// [`steps`], each with the object it reaches.
fn steps_with_objects(g: &HeapGraph, hops: &[Hop], root: Option<u32>) -> Vec<(Step, u32)> {
    let mut out: Vec<(Step, u32)> = Vec::new();
    let mut i = 0;
    while i < hops.len() {
        let h = hops[i];
        let ty = g.type_name(g.type_of[h.object as usize]);
        let Some(e) = h.edge else {
            out.push((
                Step {
                    type_name: ty,
                    label: root_text(g, h.object, root),
                    bytes: 0,
                },
                h.object,
            ));
            i += 1;
            continue;
        };
        let k = g.edge_kind[e];
        let label = g.edge_label[e];
        let text = |l: u32| {
            if l == NONE {
                String::new()
            } else {
                g.strings.get(l).to_string()
            }
        };
        // obj -> __dict__ -> ['name'] -> value reads as obj.name
        if k == kind::INSTANCE_DICT
            && let Some(next) = hops.get(i + 1)
            && let Some(e2) = next.edge
            && g.edge_kind[e2] == kind::DICT_VALUE
        {
            let key = text(g.edge_label[e2]);
            let l = bare_name(&key)
                .map(str::to_string)
                .unwrap_or(format!("__dict__[{key}]"));
            out.push((
                Step {
                    type_name: g.type_name(g.type_of[next.object as usize]),
                    label: l,
                    bytes: 0,
                },
                next.object,
            ));
            i += 2;
            continue;
        }
        // function -> __closure__ -> (var) cell -> contents reads as <closure var>
        if k == kind::CLOSURE
            && let Some(next) = hops.get(i + 1)
            && let Some(e2) = next.edge
            && g.edge_kind[e2] == kind::CELL_CONTENTS
        {
            let type_name = g.type_name(g.type_of[next.object as usize]);
            out.push((
                Step {
                    type_name,
                    label: format!("<closure {}>", text(label)),
                    bytes: 0,
                },
                next.object,
            ));
            i += 2;
            continue;
        }
        if k == kind::ATTRIBUTE && text(label) == "__closure__" && i + 1 < hops.len() {
            i += 1; // the closure tuple itself says nothing
            continue;
        }
        let l = match k {
            kind::INDEX => format!("[{label}]"),
            kind::DICT_VALUE => format!("[{}]", text(label)),
            kind::DICT_KEY => format!("key {}", text(label)),
            kind::FRAME_LOCAL => format!("local {}", text(label)),
            kind::SET_ITEM => "{item}".to_string(),
            kind::CLASS => "__class__".to_string(),
            kind::CELL_CONTENTS => format!("<cell {}>", text(label)),
            kind::INSTANCE_DICT => "__dict__".to_string(),
            kind::OTHER => "(ref)".to_string(),
            _ => {
                let t = text(label);
                if t.is_empty() {
                    "(attr)".to_string()
                } else {
                    t
                }
            }
        };
        out.push((
            Step {
                type_name: ty,
                label: l,
                bytes: 0,
            },
            h.object,
        ));
        i += 1;
    }
    for (s, v) in &mut out {
        s.bytes = g.size[*v as usize];
    }
    out
}

/// The label of a [`dominator_steps`] step standing for objects skipped between two
/// dominators (it has no type).
pub const SKIPPED: &str = "...";

/// The dominator path to a path's last object: the steps of its shortest chain whose
/// objects dominate that object (every path from a root passes through them, the shortest
/// in this order), the root first and the object last, with a [`SKIPPED`] step wherever
/// objects that are not dominators were left out. `None` when none were: then the shortest
/// chain is the dominator path.
pub fn dominator_steps(
    g: &HeapGraph,
    hops: &[Hop],
    root: Option<u32>,
    dominates: impl Fn(u32) -> bool,
) -> Option<Vec<Step>> {
    let all = steps_with_objects(g, hops, root);
    let last = all.len().checked_sub(1)?;
    let keep = |i: usize, v: u32| i == 0 || i == last || dominates(v);
    if all.iter().enumerate().all(|(i, &(_, v))| keep(i, v)) {
        return None;
    }
    let mut out: Vec<Step> = Vec::new();
    for (i, (step, v)) in all.into_iter().enumerate() {
        if keep(i, v) {
            out.push(step);
        } else if out
            .last()
            .is_none_or(|s| s.label != SKIPPED || !s.type_name.is_empty())
        {
            out.push(Step {
                type_name: String::new(),
                label: SKIPPED.to_string(),
                bytes: 0,
            });
        }
    }
    Some(out)
}

/// The one-line text of a chain; long chains keep their first and last steps.
pub fn text(steps: &[Step]) -> String {
    let show = |s: &Step, first: bool| {
        if first || s.type_name.is_empty() {
            s.label.clone()
        } else {
            format!("{} ({})", s.label, s.type_name)
        }
    };
    let parts: Vec<String> = if steps.len() <= MAX_STEPS {
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| show(s, i == 0))
            .collect()
    } else {
        let head = MAX_STEPS / 2;
        let tail = MAX_STEPS - head;
        let mut p: Vec<String> = steps[..head]
            .iter()
            .enumerate()
            .map(|(i, s)| show(s, i == 0))
            .collect();
        p.push(format!("... {} more ...", steps.len() - MAX_STEPS));
        p.extend(steps[steps.len() - tail..].iter().map(|s| show(s, false)));
        p
    };
    parts.join(" -> ")
}

/// The chain's shape for grouping: types and labels with indices and keys collapsed.
pub fn shape(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| {
            let l = if s.label.starts_with('[') {
                "[*]"
            } else {
                s.label.as_str()
            };
            format!("{l}:{}", s.type_name)
        })
        .collect::<Vec<_>>()
        .join("/")
}
