//! Name the kind of a heap leak from graph evidence: the types the retainer holds, their
//! attributes, closures, dict keys, cycles and the chain that keeps them; each verdict says
//! which facts decided it.

use super::evidence::Facts;
use crate::leak_kind::{Confidence, LeakKind};
use crate::text::size;

/// A verdict with the evidence lines that decided it.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The kind.
    pub kind: LeakKind,
    /// How sure.
    pub confidence: Confidence,
    /// One line per fact that decided it.
    pub evidence: Vec<String>,
}

fn verdict(kind: LeakKind, confidence: Confidence, evidence: Vec<String>) -> Verdict {
    Verdict {
        kind,
        confidence,
        evidence,
    }
}

/// Whether a type is a matplotlib figure or its manager/canvas.
fn is_figure(t: &str) -> bool {
    t.starts_with("matplotlib.") && t.rsplit('.').next().is_some_and(|q| q.contains("Figure"))
}

/// Whether a type is a numeric array or tensor.
fn is_tensor(t: &str) -> bool {
    matches!(
        t,
        "numpy.ndarray" | "torch.Tensor" | "torch.nn.parameter.Parameter" | "array.array"
    ) || t.starts_with("jaxlib.") && t.ends_with("Array")
        || t.starts_with("tensorflow.") && t.ends_with("Tensor")
}

/// Whether a type is an OS resource that must be closed.
fn is_resource(t: &str) -> bool {
    matches!(
        t,
        "_io.TextIOWrapper"
            | "_io.BufferedReader"
            | "_io.BufferedWriter"
            | "_io.BufferedRandom"
            | "_io.FileIO"
            | "socket.socket"
            | "_socket.socket"
            | "ssl.SSLSocket"
            | "sqlite3.Connection"
            | "sqlite3.Cursor"
            | "select.epoll"
            | "select.poll"
            | "mmap.mmap"
            | "subprocess.Popen"
            | "http.client.HTTPConnection"
            | "http.client.HTTPSConnection"
            | "zipfile.ZipFile"
            | "tarfile.TarFile"
            | "tempfile._TemporaryFileWrapper"
            | "concurrent.futures.thread.ThreadPoolExecutor"
            | "concurrent.futures.process.ProcessPoolExecutor"
            | "multiprocessing.pool.Pool"
    ) || t.starts_with("psycopg") && t.ends_with("connection")
        || t.starts_with("requests.sessions.Session")
        || t.starts_with("urllib3.") && t.ends_with("ConnectionPool")
}

/// Whether a type is a task or future.
fn is_task(t: &str) -> bool {
    matches!(
        t,
        "_asyncio.Task"
            | "_asyncio.Future"
            | "asyncio.tasks.Task"
            | "asyncio.futures.Future"
            | "concurrent.futures._base.Future"
            | "threading.Thread"
            | "threading.Timer"
    )
}

fn chain_has(f: &Facts, pred: impl Fn(&str, &str) -> bool) -> bool {
    f.chain.iter().any(|(t, l)| pred(t, l))
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn pct(part: u64, whole: u64) -> String {
    format!("{:.0}%", 100.0 * share(part, whole))
}

/// Lowercase label words that say "cache" or "collection".
fn name_hint(label: &str) -> Option<LeakKind> {
    let l = label.to_ascii_lowercase();
    if ["cache", "memo", "lru", "cached"]
        .iter()
        .any(|w| l.contains(w))
    {
        return Some(LeakKind::CacheNoEviction);
    }
    if [
        "registry", "history", "log", "events", "queue", "pending", "items", "seen", "records",
    ]
    .iter()
    .any(|w| l.contains(w))
    {
        return Some(LeakKind::UnboundedCollection);
    }
    None
}

/// Classify one suspect group from its facts.
pub fn classify(f: &Facts) -> Verdict {
    use Confidence::*;
    use LeakKind::*;
    let held_n = f.held_total().max(1);
    let top = f.top_held().map(|t| t.name.clone()).unwrap_or_default();
    let holds = format!(
        "`{}` ({}) holds {} new objects directly, {} with what they keep alive ({})",
        f.retainer_label,
        f.retainer_type,
        f.held_total(),
        f.new_objects,
        size(f.new_bytes as i64, false)
    );

    // Matplotlib figures: pyplot's figure registry or any figure object in the growth.
    let fig = f.subtree_bytes(is_figure);
    if fig > 0 || chain_has(f, |t, _| t.starts_with("matplotlib._pylab_helpers")) {
        let n: u64 = f
            .subtree
            .iter()
            .filter(|t| is_figure(&t.name))
            .map(|t| t.count)
            .sum();
        let mut ev = vec![
            holds,
            format!(
                "{n} new matplotlib figure objects (Figure, FigureManager, canvas) are among them"
            ),
        ];
        if chain_has(f, |t, _| t.starts_with("matplotlib._pylab_helpers")) {
            ev.push(
                "the chain runs through matplotlib._pylab_helpers.Gcf: pyplot still tracks every figure it opened"
                    .into(),
            );
        }
        return verdict(FigureAccumulation, High, ev);
    }

    // Threads and tasks, by type or by Thread's own attributes.
    let tasks = f.held_count(is_task) + f.thread_like;
    if tasks * 2 >= held_n {
        let ev = vec![
            holds,
            format!(
                "{tasks} of them are threads or tasks ({top}{}), kept after they were started",
                if f.thread_like > 0 {
                    "; recognised by Thread's _target/_started/_daemonic attributes"
                } else {
                    ""
                }
            ),
        ];
        return verdict(ThreadTask, High, ev);
    }

    // Files, sockets, connections.
    let res_held = f.held_count(is_resource);
    let res_all: u64 = f
        .subtree
        .iter()
        .filter(|t| is_resource(&t.name))
        .map(|t| t.count)
        .sum();
    if res_held * 2 >= held_n || res_all * 2 >= held_n {
        let names: Vec<&str> = f
            .subtree
            .iter()
            .filter(|t| is_resource(&t.name))
            .map(|t| t.name.as_str())
            .take(3)
            .collect();
        let ev = vec![
            holds,
            format!(
                "{res_all} open OS resources among them ({}): never closed, still referenced",
                names.join(", ")
            ),
        ];
        return verdict(
            UnclosedResource,
            if res_held * 2 >= held_n { High } else { Medium },
            ev,
        );
    }

    // Closures whose cells keep large objects alive.
    let capturing = f.closures + f.partials;
    if capturing * 2 >= held_n && f.cell_bytes * 2 >= f.new_bytes && capturing > 0 {
        let per = f.cell_bytes / capturing.max(1);
        if per >= 512 {
            let what = match (f.closures, f.partials) {
                (_, 0) => format!("closures; their cells ({})", f.cell_names.join(", ")),
                (0, _) => "functools.partial objects; their bound arguments".to_string(),
                _ => format!(
                    "closures and partials; their cells ({}) and bound arguments",
                    f.cell_names.join(", ")
                ),
            };
            let ev = vec![
                holds,
                format!(
                    "{} of the held objects are {what} keep {} alive, {} per closure ({} of the growth)",
                    capturing,
                    size(f.cell_bytes as i64, false),
                    size(per as i64, false),
                    pct(f.cell_bytes, f.new_bytes)
                ),
            ];
            return verdict(ClosureCapture, High, ev);
        }
    }

    // Callbacks: bound methods (and small closures or functions) collected in a container,
    // directly or wrapped in records such as `(callback, args)` tuples.
    let is_callable = |t: &str| t == "method" || t == "function" || t == "functools.partial";
    let wrapped: u64 = f
        .subtree
        .iter()
        .filter(|t| t.name == "method" || t.name == "functools.partial")
        .map(|t| t.count)
        .sum();
    let callables = f.held_count(is_callable).max(wrapped.min(held_n));
    if callables * 2 >= held_n && callables > 0 {
        let mut ev = vec![holds];
        if f.methods > 0 || wrapped > 0 {
            ev.push(format!(
                "{} of them are (or wrap) bound methods; through __self__ each keeps its {} alive",
                f.methods.max(wrapped),
                if f.method_self_types.is_empty() {
                    "instance".to_string()
                } else {
                    f.method_self_types.join(", ")
                }
            ));
        } else {
            ev.push(format!(
                "{callables} of them are functions or partials registered as callbacks"
            ));
        }
        let conf = if f.methods * 2 >= held_n {
            High
        } else {
            Medium
        };
        return verdict(EventHandler, conf, ev);
    }

    // Arrays and tensors (and big binary chunks) accumulated in a container.
    let arrays = f.subtree_bytes(is_tensor);
    let chunks: u64 = f
        .held
        .iter()
        .filter(|t| (t.name == "bytes" || t.name == "bytearray") && t.bytes / t.count.max(1) >= 512)
        .map(|t| t.bytes)
        .sum();
    if arrays * 2 >= f.new_bytes && arrays > 0 {
        let ev = vec![
            holds,
            format!(
                "arrays/tensors ({}) are {} of that memory",
                f.subtree
                    .iter()
                    .filter(|t| is_tensor(&t.name))
                    .map(|t| format!("{} x{}", t.name, t.count))
                    .collect::<Vec<_>>()
                    .join(", "),
                pct(arrays, f.new_bytes)
            ),
        ];
        return verdict(ArrayAccumulation, High, ev);
    }
    if chunks * 2 >= f.new_bytes && chunks > 0 {
        let ev = vec![
            holds,
            format!(
                "binary chunks (bytes/bytearray of 512 B or more) are {} of that memory",
                pct(chunks, f.new_bytes)
            ),
        ];
        return verdict(ArrayAccumulation, Medium, ev);
    }

    // A few big strings held where one would expect one value: rebuilt by +=.
    let strs = f.held_count(|t| t == "str");
    if top == "str" && strs <= 2 && f.new_bytes >= 1024 {
        let ev = vec![
            holds,
            format!("the growth is {strs} large str object(s): a string rebuilt by concatenation"),
        ];
        return verdict(StringConcat, Medium, ev);
    }

    // Caches: functools wrappers, logging's logger registry, warnings registries, dicts
    // keyed by fresh atoms whose values do not carry their key.
    if chain_has(f, |t, _| t == "functools._lru_cache_wrapper") {
        let mut ev = vec![
            holds,
            "the chain runs through a functools._lru_cache_wrapper: an lru_cache/cache with no maxsize bound (or a maxsize larger than the working set)".into(),
        ];
        if f.subtree.iter().any(|t| t.name == "tuple") {
            ev.push("cache keys are argument tuples; an lru_cache on a method also keeps every `self` alive".into());
        }
        return verdict(CacheNoEviction, High, ev);
    }
    if chain_has(f, |t, l| t == "logging.Manager" || l == "loggerDict")
        || f.held_count(|t| t == "logging.Logger" || t == "logging.PlaceHolder") * 2 >= held_n
    {
        let ev = vec![
            holds,
            "new logging.Logger objects in logging.Manager.loggerDict: getLogger() called with names that never repeat; loggers are never freed".into(),
        ];
        return verdict(CacheNoEviction, High, ev);
    }
    if chain_has(f, |t, _| t == "weakref.WeakKeyDictionary") {
        let ev = vec![
            holds,
            "the chain runs through a weakref.WeakKeyDictionary that keeps growing: its values refer back to their keys (directly or through what they hold), so no key ever dies and no entry is ever dropped".into(),
        ];
        return verdict(CacheNoEviction, High, ev);
    }
    if chain_has(f, |_, l| l.contains("__warningregistry__")) {
        let ev = vec![
            holds,
            "the chain runs through a module's __warningregistry__: warnings.warn() with a message that varies adds an entry per distinct text".into(),
        ];
        return verdict(CacheNoEviction, High, ev);
    }
    let is_dict_like = matches!(
        f.retainer_type.as_str(),
        "dict" | "collections.OrderedDict" | "collections.defaultdict"
    );
    if f.retainer_type == "collections.defaultdict" && f.empty_values * 2 >= f.new_keys.max(1) {
        let ev = vec![
            holds,
            format!(
                "{} of its {} new entries hold only an empty default value: reading d[key] on a defaultdict inserts the key",
                f.empty_values, f.new_keys
            ),
        ];
        return verdict(UnboundedCollection, High, ev);
    }
    // Names never decide the kind: they only move the confidence.
    let cyclic_values = f.cyclic_held * 2 >= held_n.saturating_sub(f.scalar_keys).max(1);
    if is_dict_like && f.new_keys > 0 && f.scalar_keys * 2 >= f.new_keys && !cyclic_values {
        let hint = name_hint(&f.retainer_label);
        let registry = f.key_in_value * 2 >= f.new_keys;
        if !registry {
            let ev = vec![
                holds,
                format!(
                    "{} new keys ({} atoms: str/int/tuple) map to values that do not refer to their key: a memo keyed by values that never repeat, with no eviction",
                    f.new_keys, f.scalar_keys
                ),
            ];
            let conf = match hint {
                Some(CacheNoEviction) => High,
                Some(_) => Low,
                None => Medium,
            };
            return verdict(CacheNoEviction, conf, ev);
        }
    }

    // Cycles: the growth sits in reference cycles, or points back at its retainer.
    let cyclic = share(f.cyclic_bytes, f.new_bytes) >= 0.5 || (cyclic_values && f.cyclic_held > 0);
    let back = f.back_pointers * 2 >= held_n && f.back_pointers > 0;
    if cyclic || back {
        let mut ev = vec![holds];
        if cyclic {
            ev.push(format!(
                "{} of the held objects sit in reference cycles among the new objects ({} of the new memory)",
                f.cyclic_held,
                pct(f.cyclic_bytes, f.new_bytes)
            ));
        }
        if back {
            ev.push(format!(
                "{} held objects refer back to their retainer or its owner through `{}`: a strong back-pointer",
                f.back_pointers,
                f.back_label.as_deref().unwrap_or("?")
            ));
        }
        return verdict(
            CircularReference,
            if cyclic && back { High } else { Medium },
            ev,
        );
    }

    // Everything else: a container that only grows.
    let container = matches!(
        f.retainer_type.as_str(),
        "list"
            | "dict"
            | "set"
            | "collections.deque"
            | "collections.OrderedDict"
            | "collections.defaultdict"
    );
    let mut ev = vec![holds];
    if is_dict_like && f.key_in_value > 0 {
        ev.push(format!(
            "{} entries are keyed by their own value's id: a registry that is added to and never pruned",
            f.key_in_value
        ));
    } else {
        ev.push(format!(
            "the {} only grows: {} entries added since the first snapshot are all still there",
            f.retainer_type,
            f.held_total()
        ));
    }
    verdict(
        UnboundedCollection,
        if container { High } else { Medium },
        ev,
    )
}
