//! Semi-NCA dominators against petgraph's `simple_fast` (the oracle) on 1,500 random graphs
//! with several roots, weak edges, cycles and unreachable parts, plus chains and diamonds.

use leakhunt::analysis::dominators::{Csr, SUPER_ROOT, dominators};
use leakhunt::graph::{NONE, kind};
use petgraph::algo::dominators::simple_fast;
use petgraph::graph::{DiGraph, NodeIndex};

struct Case {
    n: usize,
    edges: Vec<(u32, u32, bool)>, // (from, to, weak)
    roots: Vec<u32>,
}

fn check(c: &Case) {
    // CSR, edges in source order.
    let mut sorted = c.edges.clone();
    sorted.sort_by_key(|e| e.0);
    let mut offsets = vec![0u64; c.n + 1];
    for e in &sorted {
        offsets[e.0 as usize + 1] += 1;
    }
    for i in 0..c.n {
        offsets[i + 1] += offsets[i];
    }
    let targets: Vec<u32> = sorted.iter().map(|e| e.1).collect();
    let kinds: Vec<u8> = sorted
        .iter()
        .map(|e| if e.2 { kind::WEAK } else { kind::ATTRIBUTE })
        .collect();
    let g = Csr {
        offsets: &offsets,
        targets: &targets,
        kinds: Some(&kinds),
    };
    let d = dominators(&g, &c.roots);
    // The oracle: the same graph plus an explicit super-root node n.
    let mut pg: DiGraph<(), ()> = DiGraph::new();
    for _ in 0..=c.n {
        pg.add_node(());
    }
    for e in c.edges.iter().filter(|e| !e.2) {
        pg.add_edge(
            NodeIndex::new(e.0 as usize),
            NodeIndex::new(e.1 as usize),
            (),
        );
    }
    for &r in &c.roots {
        pg.add_edge(NodeIndex::new(c.n), NodeIndex::new(r as usize), ());
    }
    let oracle = simple_fast(&pg, NodeIndex::new(c.n));
    for v in 0..c.n {
        let want = match oracle.immediate_dominator(NodeIndex::new(v)) {
            None => NONE,
            Some(x) if x.index() == c.n => SUPER_ROOT,
            Some(x) => x.index() as u32,
        };
        assert_eq!(
            d.idom[v], want,
            "node {v} of {}: edges {:?} roots {:?}",
            c.n, c.edges, c.roots
        );
    }
    // Preorder lists exactly the reachable objects, each dominator before what it dominates.
    let mut seen = vec![false; c.n];
    for &v in d.preorder() {
        let i = d.idom[v as usize];
        assert!(
            i == SUPER_ROOT || seen[i as usize],
            "dominator after dominated"
        );
        seen[v as usize] = true;
    }
    assert_eq!(
        d.preorder().len(),
        d.idom.iter().filter(|&&i| i != NONE).count()
    );
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_graphs_match_simple_fast() {
    let mut rng = Rng(0x5DEE_CE66_D1CE_B00C);
    for round in 0..1500 {
        let n = 1 + rng.below(if round < 1000 { 12 } else { 200 }) as usize;
        let m = rng.below(3 * n as u64 + 1) as usize;
        let edges = (0..m)
            .map(|_| {
                (
                    rng.below(n as u64) as u32,
                    rng.below(n as u64) as u32,
                    rng.below(6) == 0,
                )
            })
            .collect();
        let roots = (0..1 + rng.below(3))
            .map(|_| rng.below(n as u64) as u32)
            .collect();
        check(&Case { n, edges, roots });
    }
}

#[test]
fn chains_cycles_diamonds_and_unreachable_parts() {
    // A long chain (no recursion, no quadratic blow-up).
    let n = 50_000;
    let edges = (0..n as u32 - 1).map(|i| (i, i + 1, false)).collect();
    check(&Case {
        n,
        edges,
        roots: vec![0],
    });
    // A cycle entered at one point.
    check(&Case {
        n: 5,
        edges: vec![
            (0, 1, false),
            (1, 2, false),
            (2, 3, false),
            (3, 1, false),
            (3, 4, false),
        ],
        roots: vec![0],
    });
    // A diamond: 3 is dominated by 0, not by 1 or 2.
    check(&Case {
        n: 4,
        edges: vec![(0, 1, false), (0, 2, false), (1, 3, false), (2, 3, false)],
        roots: vec![0],
    });
    // Unreachable component and a weak-only edge into it.
    check(&Case {
        n: 6,
        edges: vec![
            (0, 1, false),
            (1, 2, true),
            (3, 4, false),
            (4, 3, false),
            (5, 5, false),
        ],
        roots: vec![0],
    });
    // Two roots sharing a child: its dominator is the super-root.
    check(&Case {
        n: 3,
        edges: vec![(0, 2, false), (1, 2, false)],
        roots: vec![0, 1],
    });
}

#[test]
fn retained_sizes_sum_what_each_object_dominates() {
    // 0 -> 1 -> {2, 3}; 0 -> 4 -> 3 (3 shared: dominated by 0); 5 unreachable.
    let offsets = [0u64, 2, 4, 4, 4, 5, 5];
    let targets = [1u32, 4, 2, 3, 3];
    let g = Csr {
        offsets: &offsets,
        targets: &targets,
        kinds: None,
    };
    let d = dominators(&g, &[0]);
    let r = d.retained(&[1, 10, 100, 1000, 10000, 7]);
    assert_eq!(r, vec![11111, 110, 100, 1000, 10000, 0]);
}

#[test]
fn large_graph_takes_the_two_thread_passes_and_stays_exact() {
    // Above a million objects compaction and retained sizes split over two threads. A chain
    // of diamonds with a fan-out row (more than two targets: the overflow array) and a weak
    // shortcut per block: 0 -> a; a -> {b1, b2, c}; b1 -> c; b2 -> c; c -> next a;
    // a -weak-> next-next a. Then an unreachable tail.
    let blocks = 300_000u32;
    let n = 1 + 4 * blocks as usize + 1000;
    let a = |k: u32| 1 + 4 * k;
    let mut rows: Vec<Vec<(u32, u8)>> = vec![Vec::new(); n];
    rows[0].push((a(0), kind::ATTRIBUTE));
    for k in 0..blocks {
        let (x, b1, b2, c) = (a(k), a(k) + 1, a(k) + 2, a(k) + 3);
        rows[x as usize].extend([(b1, kind::INDEX), (b2, kind::INDEX), (c, kind::INDEX)]);
        if k + 2 < blocks {
            rows[x as usize].push((a(k + 2), kind::WEAK));
        }
        rows[b1 as usize].push((c, kind::ATTRIBUTE));
        rows[b2 as usize].push((c, kind::ATTRIBUTE));
        if k + 1 < blocks {
            rows[c as usize].push((a(k + 1), kind::ATTRIBUTE));
        }
    }
    let tail = 1 + 4 * blocks;
    for t in tail..n as u32 - 1 {
        rows[t as usize].push((t + 1, kind::ATTRIBUTE));
    }
    let mut offsets = vec![0u64];
    let (mut targets, mut kinds) = (Vec::new(), Vec::new());
    for r in &rows {
        targets.extend(r.iter().map(|e| e.0));
        kinds.extend(r.iter().map(|e| e.1));
        offsets.push(targets.len() as u64);
    }
    let g = Csr {
        offsets: &offsets,
        targets: &targets,
        kinds: Some(&kinds),
    };
    let d = dominators(&g, &[0]);
    assert_eq!(d.idom[0], SUPER_ROOT);
    for k in 0..blocks {
        let (x, c) = (a(k), a(k) + 3);
        let want = if k == 0 { 0 } else { a(k - 1) + 3 };
        assert_eq!(d.idom[x as usize], want, "block {k}");
        for y in [x + 1, x + 2, c] {
            assert_eq!(d.idom[y as usize], x, "block {k}");
        }
    }
    assert!((tail..n as u32).all(|t| d.idom[t as usize] == NONE));
    assert_eq!(d.preorder().len(), 1 + 4 * blocks as usize);
    // Every object weighs 1: a block's first object retains itself and every later block.
    let r = d.retained(&vec![1; n]);
    assert_eq!(r[0], 1 + 4 * blocks as u64);
    for k in (0..blocks).step_by(997) {
        assert_eq!(r[a(k) as usize], 4 * (blocks - k) as u64, "block {k}");
        assert_eq!(r[a(k) as usize + 1], 1);
    }
    assert!((tail..n as u32).all(|t| r[t as usize] == 0));
}
