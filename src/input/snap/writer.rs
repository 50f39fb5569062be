//! Writing `.snap` files from Rust: synthetic heaps for benchmarks, crafted files for tests.
//! The Python dumper is the real producer; this writer follows the same `formats/snap.md`.

use super::layout::{self, id};
use std::collections::HashMap;

/// Columns of a snapshot to be written.
#[derive(Default)]
pub struct SnapWriter {
    strings: Vec<String>,
    string_ids: HashMap<String, u32>,
    /// `[qualname, module, object, 0]` per type.
    pub types: Vec<[u32; 4]>,
    /// Address per object.
    pub addr: Vec<u64>,
    /// Type per object.
    pub type_of: Vec<u32>,
    /// Size per object.
    pub size: Vec<u64>,
    /// Flags per object.
    pub flags: Vec<u8>,
    /// CSR row starts (`objects + 1` entries once finished).
    pub edge_offsets: Vec<u64>,
    /// Edge targets.
    pub edge_target: Vec<u32>,
    /// Edge kinds.
    pub edge_kind: Vec<u8>,
    /// Edge labels.
    pub edge_label: Vec<u32>,
    /// `[object, kind, name, extra]` per root.
    pub roots: Vec<[u32; 4]>,
    /// Extra META keys.
    pub meta: serde_json::Map<String, serde_json::Value>,
}

impl SnapWriter {
    /// An empty snapshot whose string 0 is "".
    pub fn new() -> Self {
        let mut w = SnapWriter {
            edge_offsets: vec![0],
            ..Default::default()
        };
        w.string("");
        w
    }

    /// The id of a string, adding it once.
    pub fn string(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.string_ids.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_string());
        self.string_ids.insert(s.to_string(), i);
        i
    }

    /// Add a type; returns its id.
    pub fn add_type(&mut self, module: &str, qualname: &str) -> u32 {
        let (q, m) = (self.string(qualname), self.string(module));
        self.types.push([q, m, crate::graph::NONE, 0]);
        (self.types.len() - 1) as u32
    }

    /// Add an object with its outgoing edges `(target, kind, label)`; objects must be added in
    /// index order. Returns its index.
    pub fn add_object(
        &mut self,
        addr: u64,
        type_id: u32,
        size: u64,
        flags: u8,
        edges: &[(u32, u8, u32)],
    ) -> u32 {
        self.addr.push(addr);
        self.type_of.push(type_id);
        self.size.push(size);
        self.flags.push(flags);
        for &(t, k, l) in edges {
            self.edge_target.push(t);
            self.edge_kind.push(k);
            self.edge_label.push(l);
        }
        self.edge_offsets.push(self.edge_target.len() as u64);
        (self.addr.len() - 1) as u32
    }

    /// The whole file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.addr.len() as u64;
        let m = self.edge_target.len() as u64;
        let mut meta = self.meta.clone();
        for (k, v) in [
            ("format", serde_json::json!("leakhunt-snap")),
            ("format_version", serde_json::json!(1)),
            ("dumper_version", serde_json::json!("rust-writer")),
            ("python_version", serde_json::json!("3.11.7")),
            ("implementation", serde_json::json!("cpython")),
            ("pointer_size", serde_json::json!(8)),
            ("pid", serde_json::json!(1)),
            ("time", serde_json::json!(0.0)),
            ("step", serde_json::Value::Null),
            ("label", serde_json::Value::Null),
            ("objects", serde_json::json!(n)),
            ("edges", serde_json::json!(m)),
        ] {
            meta.entry(k.to_string()).or_insert(v);
        }
        let meta = serde_json::to_vec(&meta).unwrap_or_default();
        let mut str_offsets = vec![0u64];
        let mut str_data = Vec::new();
        for s in &self.strings {
            str_data.extend_from_slice(s.as_bytes());
            str_offsets.push(str_data.len() as u64);
        }
        let le64 = |v: &[u64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let le32 = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let flat4 = |v: &[[u32; 4]]| {
            v.iter()
                .flatten()
                .flat_map(|x| x.to_le_bytes())
                .collect::<Vec<u8>>()
        };
        let sections: Vec<(u32, u32, Vec<u8>)> = vec![
            (id::META, 1, meta),
            (id::STR_OFFSETS, 8, le64(&str_offsets)),
            (id::STR_DATA, 1, str_data),
            (id::TYPES, 16, flat4(&self.types)),
            (id::OBJ_ADDR, 8, le64(&self.addr)),
            (id::OBJ_TYPE, 4, le32(&self.type_of)),
            (id::OBJ_SIZE, 8, le64(&self.size)),
            (id::OBJ_FLAGS, 1, self.flags.clone()),
            (id::EDGE_OFFSETS, 8, le64(&self.edge_offsets)),
            (id::EDGE_TARGET, 4, le32(&self.edge_target)),
            (id::EDGE_KIND, 1, self.edge_kind.clone()),
            (id::EDGE_LABEL, 4, le32(&self.edge_label)),
            (id::ROOTS, 16, flat4(&self.roots)),
        ];
        assemble(&sections, n, m)
    }
}

/// Lay out header, directory, 8-aligned payloads and trailer (with its CRC-32).
pub fn assemble(sections: &[(u32, u32, Vec<u8>)], n: u64, m: u64) -> Vec<u8> {
    let dir_end = layout::HEADER_SIZE + layout::DIR_ENTRY_SIZE * sections.len() as u64;
    let mut out = vec![0u8; dir_end as usize];
    let mut dir = Vec::new();
    for (sid, elem, bytes) in sections {
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
        let offset = out.len() as u64;
        out.extend_from_slice(bytes);
        dir.push((
            *sid,
            *elem,
            offset,
            bytes.len() as u64 / (*elem).max(1) as u64,
            bytes.len() as u64,
        ));
    }
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
    let file_size = out.len() as u64 + layout::TRAILER_SIZE;
    out[..8].copy_from_slice(crate::input::SNAP_MAGIC);
    out[8..12].copy_from_slice(&layout::VERSION.to_le_bytes());
    out[12..16].copy_from_slice(&(sections.len() as u32).to_le_bytes());
    out[16..24].copy_from_slice(&file_size.to_le_bytes());
    out[24..28].copy_from_slice(&(layout::HEADER_SIZE as u32).to_le_bytes());
    for (k, (sid, elem, offset, count, len)) in dir.into_iter().enumerate() {
        let at = (layout::HEADER_SIZE + layout::DIR_ENTRY_SIZE * k as u64) as usize;
        out[at..at + 4].copy_from_slice(&sid.to_le_bytes());
        out[at + 4..at + 8].copy_from_slice(&elem.to_le_bytes());
        out[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
        out[at + 16..at + 24].copy_from_slice(&count.to_le_bytes());
        out[at + 24..at + 32].copy_from_slice(&len.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(layout::TRAILER_MAGIC);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&m.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

/// A synthetic heap of `n` objects and about `1.5 n` edges: a module holding lists of
/// instances that hold dicts, strings and each other, like a service's heap in shape.
pub fn synthetic(n: u32, seed: u64) -> SnapWriter {
    use crate::graph::kind;
    let mut w = SnapWriter::new();
    let types = [
        w.add_type("builtins", "module"),
        w.add_type("builtins", "dict"),
        w.add_type("builtins", "list"),
        w.add_type("app.models", "Request"),
        w.add_type("builtins", "str"),
        w.add_type("builtins", "bytes"),
    ];
    let labels: Vec<u32> = ["handlers", "cache", "name", "payload", "parent", "session"]
        .iter()
        .map(|s| w.string(s))
        .collect();
    let name = w.string("app.main");
    let mut state = seed | 1;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut edges = Vec::with_capacity(4);
    for i in 0..n {
        edges.clear();
        // A binary tree gives every object a parent (n - 1 edges) ...
        for c in [2 * i as u64 + 1, 2 * i as u64 + 2] {
            if c < n as u64 {
                let k = if i % 3 == 0 {
                    kind::INDEX
                } else {
                    kind::ATTRIBUTE
                };
                let l = if k == kind::INDEX {
                    (c % 1000) as u32
                } else {
                    labels[(c % 6) as usize]
                };
                edges.push((c as u32, k, l));
            }
        }
        // ... and about half an extra reference each, often back up the tree (cycles).
        if rnd() % 2 == 0 && n > 1 {
            let t = (rnd() % n as u64) as u32;
            edges.push((t, kind::ATTRIBUTE, labels[4]));
        }
        let t = types[(i % 6) as usize];
        w.add_object(
            0x7f00_0000_0000 + 16 * i as u64,
            t,
            32 + (rnd() % 200),
            1,
            &edges,
        );
    }
    if n > 0 {
        w.roots.push([0, crate::graph::root_kind::MODULE, name, 0]);
    }
    w
}
