//! The heap as compact arrays: objects by dense `u32` index, edges in CSR order, interned
//! strings; every column borrowed from the memory-mapped `.snap` file.

pub mod petgraph_impl;

use serde_json::Value as Json;

/// "Absent" for u32 ids.
pub const NONE: u32 = u32::MAX;

/// Edge kinds (`formats/snap.md` §4).
pub mod kind {
    /// Any other reference.
    pub const OTHER: u8 = 0;
    /// Attribute, slot or named field.
    pub const ATTRIBUTE: u8 = 1;
    /// Dict to key.
    pub const DICT_KEY: u8 = 2;
    /// Dict to value.
    pub const DICT_VALUE: u8 = 3;
    /// Sequence item by index.
    pub const INDEX: u8 = 4;
    /// Closure tuple to cell.
    pub const CLOSURE: u8 = 5;
    /// Bound method to `__self__`.
    pub const METHOD_SELF: u8 = 6;
    /// Bound method to `__func__`.
    pub const METHOD_FUNC: u8 = 7;
    /// Frame to local.
    pub const FRAME_LOCAL: u8 = 8;
    /// Object to its class.
    pub const CLASS: u8 = 9;
    /// Weak reference to referent (not strong).
    pub const WEAK: u8 = 10;
    /// Cell to contents.
    pub const CELL_CONTENTS: u8 = 11;
    /// Set member.
    pub const SET_ITEM: u8 = 12;
    /// Object to its `__dict__`.
    pub const INSTANCE_DICT: u8 = 13;

    /// Whether a kind's label is a string id.
    pub fn has_str_label(k: u8) -> bool {
        matches!(
            k,
            ATTRIBUTE
                | DICT_KEY
                | DICT_VALUE
                | CLOSURE
                | METHOD_SELF
                | METHOD_FUNC
                | FRAME_LOCAL
                | CELL_CONTENTS
                | INSTANCE_DICT
        )
    }

    /// A kind's name.
    pub fn name(k: u8) -> &'static str {
        match k {
            ATTRIBUTE => "attribute",
            DICT_KEY => "dict_key",
            DICT_VALUE => "dict_value",
            INDEX => "index",
            CLOSURE => "closure",
            METHOD_SELF => "method_self",
            METHOD_FUNC => "method_func",
            FRAME_LOCAL => "frame_local",
            CLASS => "class",
            WEAK => "weak",
            CELL_CONTENTS => "cell_contents",
            SET_ITEM => "set_item",
            INSTANCE_DICT => "instance_dict",
            _ => "other",
        }
    }
}

/// Object flag bits (`formats/snap.md` §3.4).
pub mod flag {
    /// Tracked by the cyclic GC.
    pub const GC_TRACKED: u8 = 1;
    /// A weak reference.
    pub const IS_WEAKREF: u8 = 2;
    /// A module.
    pub const IS_MODULE: u8 = 4;
    /// A frame.
    pub const IS_FRAME: u8 = 8;
    /// A class.
    pub const IS_CLASS: u8 = 16;
    /// Immortal.
    pub const IMMORTAL: u8 = 32;
    /// `getsizeof` under-reports (3.11+ inline values).
    pub const SIZE_UNDERREPORTED: u8 = 64;
}

/// Root kinds (`formats/snap.md` §5).
pub mod root_kind {
    /// A module in `sys.modules`.
    pub const MODULE: u32 = 0;
    /// A frame of a thread's stack.
    pub const THREAD: u32 = 1;
    /// Held by references the snapshot cannot see.
    pub const HELD_FROM_OUTSIDE: u32 = 2;
    /// `sys`, `builtins`, `sys.modules`.
    pub const INTERPRETER: u32 = 3;

    /// A kind's name.
    pub fn name(k: u32) -> &'static str {
        match k {
            MODULE => "module",
            THREAD => "thread",
            HELD_FROM_OUTSIDE => "held_from_outside",
            INTERPRETER => "interpreter",
            _ => "unknown",
        }
    }
}

/// The string table: validated UTF-8, borrowed.
#[derive(Clone, Copy)]
pub struct Strings<'a> {
    pub(crate) offsets: &'a [u64],
    pub(crate) data: &'a str,
}

impl<'a> Strings<'a> {
    /// String `i`, or "" for NONE or an id out of range.
    pub fn get(&self, i: u32) -> &'a str {
        let i = i as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.data.get(a as usize..b as usize).unwrap_or(""),
            _ => "",
        }
    }

    /// The id of the first string equal to `text`, by a scan of the table.
    pub fn find(&self, text: &str) -> Option<u32> {
        (0..self.len() as u32).find(|&i| self.get(i) == text)
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A type record.
#[derive(Debug, Clone, Copy)]
pub struct TypeInfo {
    /// `__qualname__` string id.
    pub qualname: u32,
    /// `__module__` string id.
    pub module: u32,
    /// The type object's index, or NONE.
    pub object: u32,
}

/// A root record.
#[derive(Debug, Clone, Copy)]
pub struct Root {
    /// The rooted object.
    pub object: u32,
    /// Root kind (see [`root_kind`]).
    pub kind: u32,
    /// Name string id.
    pub name: u32,
    /// Per-kind extra (thread depth, unexplained references).
    pub extra: u32,
}

/// Allocation sites recorded while tracemalloc was tracing.
#[derive(Clone, Copy)]
pub struct AllocSites<'a> {
    /// `[filename_str, lineno]` per frame.
    pub frames: &'a [[u32; 2]],
    /// Traceback starts into `tb_frames`.
    pub tb_offsets: &'a [u32],
    /// Frame ids, oldest call first.
    pub tb_frames: &'a [u32],
    /// Traceback id per object, or NONE.
    pub object_tb: &'a [u32],
}

/// A whole heap snapshot, read-only, borrowing the mapped file.
pub struct HeapGraph<'a> {
    /// The META JSON object.
    pub meta: Json,
    /// All strings.
    pub strings: Strings<'a>,
    pub(crate) types: &'a [[u32; 4]],
    /// `id(obj)` per object.
    pub addr: &'a [u64],
    /// Type index per object.
    pub type_of: &'a [u32],
    /// `sys.getsizeof` per object.
    pub size: &'a [u64],
    /// Flag bits per object.
    pub flags: &'a [u8],
    pub(crate) edge_offsets: &'a [u64],
    /// Edge targets in CSR order.
    pub edge_target: &'a [u32],
    /// Edge kinds in CSR order.
    pub edge_kind: &'a [u8],
    /// Edge labels in CSR order.
    pub edge_label: &'a [u32],
    pub(crate) roots: &'a [[u32; 4]],
    /// Allocation sites, when recorded.
    pub alloc: Option<AllocSites<'a>>,
    /// `(object, string)` value previews, when recorded.
    pub values: &'a [[u32; 2]],
}

impl<'a> HeapGraph<'a> {
    /// Number of objects.
    pub fn object_count(&self) -> usize {
        self.addr.len()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edge_target.len()
    }

    /// Number of types.
    pub fn type_count(&self) -> usize {
        self.types.len()
    }

    /// Type record `t`.
    pub fn type_info(&self, t: u32) -> TypeInfo {
        let r = self.types[t as usize]; // ok: type ids are validated on load
        TypeInfo {
            qualname: r[0],
            module: r[1],
            object: r[2],
        }
    }

    /// A type's display name: `module.qualname`, or the bare name for builtins.
    pub fn type_name(&self, t: u32) -> String {
        let info = self.type_info(t);
        let (m, q) = (
            self.strings.get(info.module),
            self.strings.get(info.qualname),
        );
        if m.is_empty() || m == "builtins" {
            q.to_string()
        } else {
            format!("{m}.{q}")
        }
    }

    /// CSR row starts (`object_count() + 1` entries).
    pub fn edge_offsets(&self) -> &'a [u64] {
        self.edge_offsets
    }

    /// The range of edge indices leaving object `i`.
    pub fn edge_range(&self, i: u32) -> std::ops::Range<usize> {
        let i = i as usize;
        self.edge_offsets[i] as usize..self.edge_offsets[i + 1] as usize // ok: validated CSR
    }

    /// Objects referenced by object `i` (all kinds, weak included).
    pub fn targets(&self, i: u32) -> &'a [u32] {
        &self.edge_target[self.edge_range(i)]
    }

    /// Number of roots.
    pub fn root_count(&self) -> usize {
        self.roots.len()
    }

    /// Root record `r`.
    pub fn root(&self, r: usize) -> Root {
        let x = self.roots[r]; // ok: caller iterates 0..root_count
        Root {
            object: x[0],
            kind: x[1],
            name: x[2],
            extra: x[3],
        }
    }

    /// All roots.
    pub fn roots(&self) -> impl Iterator<Item = Root> + '_ {
        (0..self.roots.len()).map(|r| self.root(r))
    }

    /// Sum of `sys.getsizeof` over all objects.
    pub fn total_size(&self) -> u64 {
        self.size.iter().sum()
    }

    /// An edge's label as text (attribute name, key, `[index]`), empty when it has none.
    pub fn edge_label_text(&self, e: usize) -> String {
        let (k, l) = (self.edge_kind[e], self.edge_label[e]);
        if k == kind::INDEX {
            format!("[{l}]")
        } else if kind::has_str_label(k) && l != NONE {
            self.strings.get(l).to_string()
        } else {
            String::new()
        }
    }
}
