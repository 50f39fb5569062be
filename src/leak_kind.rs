//! The ten kinds of Python memory leak, shared by the heap report and the source scan.

use serde::Serialize;
use std::fmt;

/// One of the ten kinds of leak leakhunt names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeakKind {
    /// A list, dict, set or deque that is only ever grown.
    UnboundedCollection,
    /// A memo or cache (dict, `lru_cache(maxsize=None)`) that never evicts.
    CacheNoEviction,
    /// Reference cycles that the program keeps, or that wait for a collection that never comes.
    CircularReference,
    /// Callbacks or listeners registered and never removed.
    EventHandler,
    /// A closure or lambda that outlives its call and keeps a large object in a cell.
    ClosureCapture,
    /// Threads, tasks or futures kept after they finished.
    ThreadTask,
    /// Files, sockets, connections or pools never closed.
    UnclosedResource,
    /// Arrays or tensors (and their autograd graphs) accumulated in a container.
    ArrayAccumulation,
    /// A string rebuilt by `+=` that keeps growing.
    StringConcat,
    /// Matplotlib figures created and never closed.
    FigureAccumulation,
}

impl LeakKind {
    /// Every kind, in the order of the reference document.
    pub const ALL: [LeakKind; 10] = [
        LeakKind::UnboundedCollection,
        LeakKind::CacheNoEviction,
        LeakKind::CircularReference,
        LeakKind::EventHandler,
        LeakKind::ClosureCapture,
        LeakKind::ThreadTask,
        LeakKind::UnclosedResource,
        LeakKind::ArrayAccumulation,
        LeakKind::StringConcat,
        LeakKind::FigureAccumulation,
    ];

    /// The stable snake_case name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LeakKind::UnboundedCollection => "unbounded_collection",
            LeakKind::CacheNoEviction => "cache_no_eviction",
            LeakKind::CircularReference => "circular_reference",
            LeakKind::EventHandler => "event_handler",
            LeakKind::ClosureCapture => "closure_capture",
            LeakKind::ThreadTask => "thread_task",
            LeakKind::UnclosedResource => "unclosed_resource",
            LeakKind::ArrayAccumulation => "array_accumulation",
            LeakKind::StringConcat => "string_concat",
            LeakKind::FigureAccumulation => "figure_accumulation",
        }
    }

    /// The kind named by `name` (its snake_case name), if any.
    pub fn parse(name: &str) -> Option<LeakKind> {
        let name = name.trim();
        LeakKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// A human title, as a report heading shows it.
    pub fn title(self) -> &'static str {
        match self {
            LeakKind::UnboundedCollection => "Unbounded collection",
            LeakKind::CacheNoEviction => "Cache without eviction",
            LeakKind::CircularReference => "Circular reference",
            LeakKind::EventHandler => "Event handler / callback",
            LeakKind::ClosureCapture => "Closure capturing a large object",
            LeakKind::ThreadTask => "Thread / task reference",
            LeakKind::UnclosedResource => "File or connection not closed",
            LeakKind::ArrayAccumulation => "Tensor / array accumulation",
            LeakKind::StringConcat => "String concatenation",
            LeakKind::FigureAccumulation => "Matplotlib figure",
        }
    }

    /// One sentence saying how to fix a leak of this kind.
    pub fn fix(self) -> &'static str {
        match self {
            LeakKind::UnboundedCollection => {
                "Bound the collection: collections.deque(maxlen=N), or trim/clear it when entries are done with."
            }
            LeakKind::CacheNoEviction => {
                "Give the cache a bound: functools.lru_cache(maxsize=N), an OrderedDict trimmed with popitem(last=False), or a TTL; key it by values that repeat."
            }
            LeakKind::CircularReference => {
                "Break the cycle: hold the back-pointer as weakref.ref(parent), or clear the links when the objects are done with."
            }
            LeakKind::EventHandler => {
                "Unsubscribe when the listener is done (close()/__exit__), or register weakref.WeakMethod(self.handler) instead of the bound method."
            }
            LeakKind::ClosureCapture => {
                "Capture only what the closure needs (a length, an id), not the large object, or drop the closure when it is done."
            }
            LeakKind::ThreadTask => {
                "Drop finished threads/tasks: prune with is_alive()/done(), use add_done_callback to remove them, or keep a bounded pool."
            }
            LeakKind::UnclosedResource => {
                "Close it deterministically: use `with open(...)`/contextlib.closing, or call close() in a finally block."
            }
            LeakKind::ArrayAccumulation => {
                "Store plain numbers or detached CPU copies (loss.item(), t.detach().cpu()), and bound what is kept."
            }
            LeakKind::StringConcat => {
                "Collect the parts in a list and ''.join() them once, or write to io.StringIO; bound what is kept."
            }
            LeakKind::FigureAccumulation => {
                "Close every figure when done: plt.close(fig) (or plt.close('all')), or use matplotlib.figure.Figure without pyplot."
            }
        }
    }

    /// A short leak-free Python example for this kind, as a report's Fix block shows it.
    pub fn fix_example(self) -> &'static str {
        match self {
            LeakKind::UnboundedCollection => {
                "from collections import deque\nself.history = deque(maxlen=10_000)   # old entries fall off\nself.history.append(event)"
            }
            LeakKind::CacheNoEviction => {
                "from functools import lru_cache\n\n@lru_cache(maxsize=1024)          # bounded: least recently used entries are evicted\ndef get_expensive(key):\n    return compute(key)"
            }
            LeakKind::CircularReference => {
                "import weakref\n\nclass Node:\n    def __init__(self, parent=None):\n        self._parent = weakref.ref(parent) if parent else None   # no strong back-pointer\n        self.children = []"
            }
            LeakKind::EventHandler => {
                "import weakref\n\nbus.subscribe('click', weakref.WeakMethod(self.on_click))   # or:\n\ndef close(self):\n    bus.unsubscribe('click', self.on_click)"
            }
            LeakKind::ClosureCapture => {
                "def process(large_data):\n    count = len(large_data)          # capture the small value\n    return lambda: print(f\"processed {count} items\")"
            }
            LeakKind::ThreadTask => {
                "self.tasks = [t for t in self.tasks if t.is_alive()]   # prune finished ones first\nt = threading.Thread(target=fn)\nself.tasks.append(t)\nt.start()"
            }
            LeakKind::UnclosedResource => {
                "with open(path) as f:                # closed on every path out\n    return f.read()"
            }
            LeakKind::ArrayAccumulation => {
                "losses.append(loss.detach().cpu().item())   # a float, not the graph"
            }
            LeakKind::StringConcat => {
                "parts = []\nfor item in items:\n    parts.append(str(item))\nresult = ''.join(parts)"
            }
            LeakKind::FigureAccumulation => {
                "fig, ax = plt.subplots()\nax.plot(data)\nfig.savefig(out)\nplt.close(fig)                        # release pyplot's reference"
            }
        }
    }
}

impl fmt::Display for LeakKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Weak evidence: worth a look.
    Low,
    /// Several signs agree.
    Medium,
    /// The evidence leaves little doubt.
    High,
}

impl Confidence {
    /// The lowercase name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// One step more sure (agreement between heap and source raises it).
    pub fn raised(self) -> Confidence {
        match self {
            Confidence::Low => Confidence::Medium,
            _ => Confidence::High,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in LeakKind::ALL {
            assert_eq!(LeakKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).ok(),
                Some(format!("\"{}\"", k.as_str()))
            );
        }
        assert_eq!(LeakKind::parse("nope"), None);
    }
}
