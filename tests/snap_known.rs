//! Real dumps written by the stdlib dumper on every CPython 3.8–3.13 (testdata/snap, made by
//! testdata/make_snaps.sh from testdata/programs/known_graph.py): the reader finds exactly the
//! labelled edges and roots the program built.

mod common;

use common::*;
use leakhunt::graph::{HeapGraph, NONE, kind, root_kind};
use leakhunt::input::snap;

/// Targets of `obj`'s edges of kind `k` whose label text is `label`.
fn follow(g: &HeapGraph, obj: u32, k: u8, label: &str) -> Vec<u32> {
    g.edge_range(obj)
        .filter(|&e| g.edge_kind[e] == k && g.edge_label_text(e) == label)
        .map(|e| g.edge_target[e])
        .collect()
}

fn one(v: Vec<u32>, what: &str) -> u32 {
    assert_eq!(v.len(), 1, "{what}: {v:?}");
    v[0]
}

/// An attribute, whether stored inline (3.11+) or in the instance `__dict__`.
fn attr(g: &HeapGraph, obj: u32, name: &str) -> u32 {
    let mut found = follow(g, obj, kind::ATTRIBUTE, name);
    for d in follow(g, obj, kind::INSTANCE_DICT, "__dict__") {
        found.extend(follow(g, d, kind::DICT_VALUE, &format!("'{name}'")));
    }
    found.sort();
    found.dedup();
    one(found, &format!("attribute {name} of object {obj}"))
}

fn type_of(g: &HeapGraph, obj: u32) -> String {
    g.type_name(g.type_of[obj as usize])
}

fn check(v: &str) {
    check_file(v, &format!("snap/known-{v}.snap"));
}

fn check_file(v: &str, rel: &str) {
    let path = testdata(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let store = std::sync::OnceLock::new();
    let g = snap::read_any(&bytes, &store).unwrap_or_else(|e| panic!("{v}: {e:?}"));
    assert!(
        g.meta["python_version"].as_str().unwrap().starts_with(v),
        "{v}"
    );
    assert_eq!(g.meta["step"], 1);
    assert_eq!(g.meta["label"], "known graph");

    let main = g
        .roots()
        .find(|r| r.kind == root_kind::MODULE && g.strings.get(r.name) == "__main__")
        .expect("module __main__ is a root")
        .object;
    // (named MainThread when the program imported threading, else thread-<ident>)
    assert!(
        g.roots()
            .any(|r| r.kind == root_kind::THREAD && !g.strings.get(r.name).is_empty()),
        "{v}: the main thread's frames are roots"
    );
    let globals = one(
        follow(&g, main, kind::INSTANCE_DICT, "__dict__"),
        "module dict",
    );
    let global = |name: &str| {
        one(
            follow(&g, globals, kind::DICT_VALUE, &format!("'{name}'")),
            name,
        )
    };

    // root Node with three children whose parent is root: a cycle.
    let root = global("root");
    assert_eq!(type_of(&g, root), "__main__.Node", "{v}");
    let children = attr(&g, root, "children");
    assert_eq!(type_of(&g, children), "list");
    for i in 0..3 {
        let child = one(
            follow(&g, children, kind::INDEX, &format!("[{i}]")),
            "child",
        );
        assert_eq!(type_of(&g, child), "__main__.Node");
        assert_eq!(
            attr(&g, child, "parent"),
            root,
            "{v}: child {i}.parent is root"
        );
        // _REGISTRY['req-i'] is that child.
        let registry = global("_REGISTRY");
        assert_eq!(
            one(
                follow(&g, registry, kind::DICT_VALUE, &format!("'req-{i}'")),
                "registry entry"
            ),
            child
        );
    }
    let nodes = (0..g.object_count() as u32)
        .filter(|&o| type_of(&g, o) == "__main__.Node")
        .count();
    assert_eq!(nodes, 4, "{v}: four Node objects");

    // HANDLERS[0] is a closure over a 4096-byte bytearray named payload.
    let handlers = global("HANDLERS");
    let inner = one(follow(&g, handlers, kind::INDEX, "[0]"), "handler");
    assert_eq!(type_of(&g, inner), "function");
    let closure = one(
        follow(&g, inner, kind::ATTRIBUTE, "__closure__"),
        "__closure__",
    );
    let cell = one(
        follow(&g, closure, kind::CLOSURE, "payload"),
        "cell payload",
    );
    let payload = g
        .edge_range(cell)
        .find(|&e| g.edge_kind[e] == kind::CELL_CONTENTS)
        .map(|e| g.edge_target[e])
        .expect("cell contents");
    assert_eq!(type_of(&g, payload), "bytearray");
    assert!(g.size[payload as usize] >= 4096, "{v}: payload size");

    // CALLBACKS[0] is the bound method root.visit.
    let callbacks = global("CALLBACKS");
    let method = one(follow(&g, callbacks, kind::INDEX, "[0]"), "callback");
    assert_eq!(type_of(&g, method), "method");
    assert_eq!(
        one(follow(&g, method, kind::METHOD_SELF, "__self__"), "self"),
        root
    );
    let func = one(follow(&g, method, kind::METHOD_FUNC, "__func__"), "func");
    assert_eq!(type_of(&g, func), "function");

    // Slots, with the mangled name as stored.
    let slotted = global("SLOTTED");
    assert_eq!(type_of(&g, attr(&g, slotted, "value")), "list");
    assert_eq!(type_of(&g, attr(&g, slotted, "_Slotted__secret")), "str");

    // Every type record and address is sane.
    assert!(g.addr.iter().all(|&a| a != 0));
    assert!(g.type_of.iter().all(|&t| (t as usize) < g.type_count()));
    assert!(
        g.edge_label
            .iter()
            .zip(g.edge_kind)
            .all(|(&l, &k)| !kind::has_str_label(k) || l == NONE || (l as usize) < g.strings.len())
    );
}

#[test]
fn known_graph_on_every_version() {
    for v in VERSIONS {
        check(v);
    }
}

/// Files of format version 1 (object numbers in the file) still read the same.
#[test]
fn known_graph_from_version_one_files() {
    for v in ["3.8", "3.13"] {
        check_file(v, &format!("snap/v1/known-{v}.snap"));
    }
}

#[test]
fn stats_shows_the_known_types() {
    let path = testdata("snap/known-3.12.snap");
    let out = leakhunt([
        "stats".as_ref(),
        path.as_os_str(),
        "--top".as_ref(),
        "0".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let node = doc["types_by_count"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "__main__.Node")
        .cloned();
    assert_eq!(node.expect("Node row")["count"], 4);
    assert!(doc["roots"]["module"].as_u64().unwrap() > 0);
    assert!(doc["roots"]["thread"].as_u64().unwrap() > 0);
}
