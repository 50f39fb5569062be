"""The heap walk: every object once, its references as labelled edges (formats/snap.md §4, §8).

The walker lists every object it found once (`order`, whose positions are the object
numbers) and the edges in flat arrays whose targets are addresses (`id()`): the reader maps
them to object numbers (formats/snap.md §12), so the walk never looks a GC-tracked object up.
Objects are processed a chunk at a time, grouped by type, so the frequent types (lists,
tuples, dicts, instances of one class) are labelled by C-level bulk operations.

Untracked objects (str, int, atomic dicts and tuples...) are found through edges: one whose
refcount shows a single reference in the heap is new by construction, one with two is decided
from its refcount and one look at `seen` (`rc_marks`); the others are looked up in `seen`.
Addresses are copied from the walker's lists in one go (`addresses`). The walker's own
containers are created after `gc.get_objects()` and are referenced only from the dumper's
frames, which are never walked, so they stay out of the graph. No user code runs: see `typeplans` and `strings` for how names are read."""

import gc
import sys
from array import array
from itertools import chain, compress, count, filterfalse, islice, repeat
from operator import add, attrgetter, eq, is_, itemgetter, mul, or_, truth

from _weakref import getweakrefcount as _getweakrefcount

from . import addresses
from . import snapformat as F
from . import typeplans as P
from .strings import key_text

CHUNK = 4096         # objects processed between two discovery passes
SPILL = 1 << 16      # edges in the current columns before they are put aside
# the per-object and per-edge columns of the file, kept as pieces (see `Walker._spill`)
COLUMNS = ("addrs", "obj_type", "counts", "sizes", "tracked", "edge_addr", "kinds", "labels")

# The key of a closure tuple or cell in the walker's name tables: `object.__hash__` is the
# object's address rotated right by 4 bits (a bijection on aligned addresses, so unique among
# live objects), computed in C without calling the object's own __hash__.
KEY = object.__hash__

_FLIP = bytes.maketrans(b"\x00\x01", b"\x01\x00")
_KV = bytes((F.DICT_KEY, F.DICT_VALUE))
# `Walker.rc_marks` marks, and translation tables (byte value -> 1 for the value named,
# else 0; `_TWO_REF_MARKS` keeps only the two-reference marks)
_FIRST_OF_TWO, _SECOND_OF_TWO, _BOTH_OF_TWO, _SINGLE = 1, 2, 3, 4
_IS_SINGLE = bytes(int(k == _SINGLE) for k in range(256))
_TWO_REF_MARKS = bytes(k if k in (_FIRST_OF_TWO, _SECOND_OF_TWO, _BOTH_OF_TWO) else 0
                       for k in range(256))
_IS_UNMARKED = bytes(int(k == 0) for k in range(256))
_IS_FIRST = bytes(int(k == _FIRST_OF_TWO) for k in range(256))
_IS_SECOND = bytes(int(k == _SECOND_OF_TWO) for k in range(256))
_IS_BOTH = bytes(int(k == _BOTH_OF_TWO) for k in range(256))
_IS_KEY = bytes(int(k == F.DICT_KEY) for k in range(256))
_NONE1 = array("I", [F.NONE])
_flatten = chain.from_iterable
_last = itemgetter(-1)
_getrefcount = sys.getrefcount
_is_tracked = gc.is_tracked
_C_METHOD = type(object.__dict__["__sizeof__"])
try:
    from operator import call as _call       # 3.11+
except ImportError:
    def _call(f, o):
        return f(o)

_ref_call = P.ReferenceType.__call__
_func_closure = P.FunctionType.__dict__["__closure__"].__get__
_func_code = P.FunctionType.__dict__["__code__"].__get__
_FUNC_ATTRS = ("__code__", "__globals__", "__defaults__", "__kwdefaults__", "__closure__",
               "__module__", "__name__", "__qualname__", "__doc__")
_CLASS_ATTRS = ("__mro__", "__bases__", "__base__")


def _kind_run(kind, k):
    return bytes((kind,)) * k


def _none_run(k):
    return _NONE1 * k


def _untracked(edges, untracked, marks):
    """The objects of `edges` selected by `untracked` and the mark of each: `marks` maps a
    refcount, measured while `edges` and the returned list hold the object, to a mark
    (else 0). The refcounts are calibrated through this function by `_calibrate`."""
    found = list(compress(edges, untracked))
    return found, bytes(map(marks.get, map(_getrefcount, found), repeat(0)))


def _and_not(a, b):
    """a[i] & ~b[i] for two equally long byte strings of 0/1."""
    return (int.from_bytes(a, "little") & ~int.from_bytes(b, "little")).to_bytes(len(a), "little")


def _plain_marks(twice, objs):
    """`twice` with the marks cleared of strs (a str may be a key of dicts that share one
    key table, met more often than its references: see `Walker._discover`) and of weakly
    referenced objects (their weakrefs meet them too)."""
    marked = list(compress(objs, twice))
    odd = bytes(map(or_, map(is_, map(type, marked), repeat(str)),
                    map(truth, map(_getweakrefcount, marked))))
    if 1 not in odd:
        return twice
    # the same over every object, to clear the marks without an int per position (each
    # an allocation, slow while tracemalloc traces)
    odd = bytes(map(or_, map(is_, map(type, objs), repeat(str)),
                    map(truth, map(_getweakrefcount, objs))))
    return bytes(map(mul, twice, odd.translate(_FLIP)))


def _no_weakrefs(o, single):
    return single and not _getweakrefcount(o)


def _calibrate():
    """The refcount `_untracked` reports for an object referenced once from the heap."""
    probe = object()
    holder = [probe]
    edges = list(holder)
    del probe
    for unique in range(1, 16):
        if _untracked(edges, b"\x01", {unique: 1})[1] == b"\x01":
            return unique
    return 0



def _module_dict(m):
    """[the module's __dict__] read without calling into the module (no __getattr__), or []."""
    try:
        d = object.__getattribute__(m, "__dict__")
    except Exception:
        return []
    return [d] if type(d) is dict else []

class Walker:
    """Walks the heap from a seed list; results are left in attributes (see `finish`)."""

    def __init__(self, strings, in_fork_child):
        self.strings = strings
        self.in_fork_child = in_fork_child
        self.order = []           # every object found; position = object number
        self.addrs = array("Q")        # OBJ_ADDR
        self.obj_type = array("I")     # type number per object (OBJ_TYPE)
        self.counts = array("I")       # edges per object (EDGE_COUNTS)
        self.sizes = array("Q")        # OBJ_SIZE
        self.tracked = bytearray()     # 1 per GC-tracked object (from the seed)
        self.queue = []           # the seed: gc.get_objects(), processed in order
        self.queue_types = []     # type() of each, taken once
        self.pending = []         # untracked containers found, to process next
        self.pos = 0
        self.seen = set()         # id() of the untracked objects with >1 reference met
        self.complete = True      # gc.get_objects() lists every tracked object
        self.unlisted = []        # tracked edge targets it may not list
        self.rc_unique = _calibrate()
        # refcount (as `_untracked` reports it) -> its mark: `rc_unique` is one reference
        # in the heap (new by construction, `_SINGLE`); the rest are `_fresh`'s
        # two-reference marks. Above `rc_unique` it counts one per reference in the heap
        # beyond the first, one when the object is recorded already (`order` or `pending`
        # holds it; a root is held twice, see `root`) and two per further meeting in this
        # chunk (`edges` and `found` hold it). +1 is the first meeting of two; +2 the second of two when the
        # object is in `seen`, else the first of three; +3 both meetings of two when it
        # occurs twice in the chunk, else one of four or the second of three.
        u = self.rc_unique
        self.rc_marks = {u: _SINGLE, u + 1: _FIRST_OF_TWO, u + 2: _SECOND_OF_TWO,
                         u + 3: _BOTH_OF_TWO}
        if P.PY313:
            # 3.13 keeps an instance's values inline when its dict is made, and both
            # report them: a value is met more often than its references
            self.rc_marks = {u: _SINGLE}
        self.root_objs = []       # untracked roots, held once more than records
        self.seed_dicts = None    # see `_listed_dicts`
        self.edges = []           # edge targets (objects) of the current chunk
        self.edge_addr = array("Q")    # EDGE_TARGET_ADDR
        self.kinds = bytearray()
        self.labels = array("I")
        self.spilled = {name: [] for name in COLUMNS}
        # types by number, in order of first appearance among the objects (= TYPES)
        self.type_number = {}     # id(type) -> type number
        # type -> type number: hashing a class runs its metaclass's __hash__, so this is
        # used only while no metaclass defines __hash__ or __eq__ in Python
        self.by_type = {} if P.classes_hash_by_identity() else None
        self.types = []           # type objects (dropped by `take_types`)
        self.type_plans = []      # plan number per type number
        self.type_walked = []     # whether objects of that type have referents to walk
        self.class_infos = []     # ClassInfo (INSTANCE plan) or None, per type number
        self.sizers = []          # per type number: (C __sizeof__, header bytes) or None
        self.atom_sizers = []     # per type number: the function that sizes one object
        self.fixed_sizes = []     # per type number: the size all its objects have, or None
        self.key_sids = {}        # id(dict key) -> string id of its key label
        self.new_keys = []        # keys of this chunk not met as keys before
        self.name_sids = {}       # id(str) -> string id of that text (attribute names)
        self.attr_texts = {}      # string id -> candidate attribute name (3.11+ in-process)
        self.closure_names = {}   # KEY(closure tuple) -> string ids of co_freevars
        self.cell_names = {}      # KEY(cell) -> string id of its free variable
        intern = strings.intern
        self.func_attrs = [(P.FunctionType.__dict__[a].__get__, intern(a)) for a in _FUNC_ATTRS]
        self.class_attrs = [(type.__dict__[a].__get__, intern(a)) for a in _CLASS_ATTRS]
        self.frame_attrs = [(P.FrameType.__dict__[a].__get__, intern(a))
                            for a in ("f_code", "f_globals", "f_builtins")]
        self.code_attrs = [(P.CodeType.__dict__[a].__get__, intern(a)) for a in P.CODE_FIELDS]
        self.sid_f_locals = intern("f_locals")
        self.sid_f_back = intern("f_back")
        self.sid_dict = intern("__dict__")
        self.sid_self = intern("__self__")
        self.sid_func = intern("__func__")

    # -- seeding -------------------------------------------------------------------------

    def seed(self, objs):
        """Start from `objs` (the list from gc.get_objects(); it becomes the queue).

        After `gc.freeze()` the frozen objects are GC-tracked but not listed: then every
        listed object is entered in `seen` and tracked edge targets are looked up too."""
        self.queue = objs
        self.queue_types = list(map(type, objs))
        self._closures(objs, self.queue_types)
        try:
            self.complete = gc.get_freeze_count() == 0
        except Exception:
            self.complete = True
        if not self.complete:
            self.seen = set(map(id, objs))

    def _closures(self, objs, types):
        """Free-variable names of every closure tuple and cell, from the functions."""
        ftype = P.FunctionType
        for f in compress(objs, map(is_, types, repeat(ftype))):
            closure = _func_closure(f)
            if not closure:
                continue
            free = _func_code(f).co_freevars
            if len(free) != len(closure):
                continue
            sids = tuple(map(self.name_sid, free))
            self.closure_names[KEY(closure)] = sids
            for cell, sid in zip(closure, sids):
                self.cell_names.setdefault(KEY(cell), sid)

    def root(self, obj):
        """The address of a root object, making sure it is an object of the snapshot (a
        GC-tracked one is in the seed; others are added like objects found by an edge)."""
        if not _is_tracked(obj):
            self._found(self._fresh([obj], [id(obj)]))
            self.root_objs.append(obj)
        return id(obj)

    def _type_numbers(self, objs, types=None):
        """Type numbers of `objs` (of `types` when given), registering the types not met
        before (in order)."""
        if types is None:
            types = list(map(type, objs))
        by_type = self.by_type
        if by_type is not None:
            nums = list(map(by_type.get, types))
            if None not in nums:
                return nums
        nums = list(map(self.type_number.get, map(id, types)))
        if None in nums:
            tids = list(map(id, types))
            samples = dict(zip(tids, objs))
            for tid, t in dict(zip(tids, types)).items():
                if tid not in self.type_number:
                    self._register_type(tid, t, samples[tid])
            nums = list(map(self.type_number.__getitem__, tids))
        return nums

    def _register_type(self, tid, t, sample):
        p = P.plan_for(t)
        if self.by_type is not None:
            self.by_type[t] = len(self.types)
        self.type_number[tid] = len(self.types)
        self.types.append(t)
        self.type_plans.append(p)
        self.type_walked.append(p != P.ATOM)
        self.class_infos.append(P.ClassInfo(t, self.in_fork_child) if p == P.INSTANCE else None)
        sizer = _sizer(t, p, sample)
        self.sizers.append(sizer)
        self.atom_sizers.append(sizer[0] if sizer is not None and sizer[1] == 0
                                else _size_or_zero)
        self.fixed_sizes.append(_fixed_size(t, sizer, sample))

    # -- the walk ------------------------------------------------------------------------

    def walk(self):
        """Process the seed a chunk at a time; the containers a chunk's edges find are
        processed next (while the objects they share with it are still in the cache).

        While tracemalloc traces, every allocation of the walk records the line of each
        frame on the stack, which CPython finds by scanning the frame's line table up to
        the current instruction: so the frames that stay on the stack for the whole walk
        (this loop, `_step`, `_chunk`) make their calls near the start of small code."""
        step = self._step
        while step():
            pass

    def _step(self):
        """One chunk: its edges, then the objects they find. False when none is left."""
        return self._chunk(*self._next_chunk()) and self._after_chunk()

    def _after_chunk(self):
        self._discover()
        if len(self.edge_addr) > SPILL:
            self._spill()
        return True

    def _next_chunk(self):
        """(chunk, tracked, types) of the next chunk: the containers found first, then
        the seed; (None, None, None) at the end."""
        if self.pending:
            chunk = self.pending[-CHUNK:]
            del self.pending[-CHUNK:]
            return chunk, None, None
        pos = self.pos
        if pos < len(self.queue):
            chunk = self.queue[pos:pos + CHUNK]
            self.pos = pos + len(chunk)
            return chunk, 1, self.queue_types[pos:pos + CHUNK]
        return None, None, None

    def _spill(self):
        """Move the columns filled so far to `spilled` and start empty ones: a column
        that grows by reallocation is copied again and again once it is large."""
        for name in COLUMNS:
            column = getattr(self, name)
            self.spilled[name].append(column)
            setattr(self, name, bytearray() if type(column) is bytearray
                    else array(column.typecode))

    def columns(self):
        """{column name: its pieces in order} (the writer writes them one after another)."""
        return {name: self.spilled[name] + [getattr(self, name)] for name in COLUMNS}

    def edge_count(self):
        """Edges written so far."""
        return sum(map(len, self.spilled["edge_addr"])) + len(self.edge_addr)

    def _chunk(self, chunk, tracked, types):
        """Edges of `chunk` (whose types are `types`, when known), type by type; its objects
        become the next records. False (nothing done) when `chunk` is None."""
        if chunk is None:
            return False
        self._groups_edges(self._groups(chunk, types), tracked)
        return True

    def _groups(self, chunk, types):
        """{type number: the objects of `chunk` of that type}, in order of first appearance."""
        groups = {}
        get = groups.get
        for o, j in zip(chunk, self._type_numbers(chunk, types)):
            g = get(j)
            if g is None:
                groups[j] = [o]
            else:
                g.append(o)
        return groups

    def _groups_edges(self, groups, tracked):
        plans = self.type_plans
        for j, group in groups.items():
            self._records(group, j, self._group_edges(group, j, plans[j]), tracked)

    def _group_edges(self, group, j, p):
        """The edges of `group` (objects of type number `j`, plan `p`); their counts."""
        if p == P.SEQ:
            return self._sequences(group, j)
        if p == P.DICT:
            return self._dicts(group)
        if p == P.INSTANCE:
            return self._instances(group, j)
        if p == P.PLAIN:
            return self._plain(group)
        return self._one_by_one(group, j, p)

    def _records(self, group, j, counts, tracked):
        """Append `group` (objects of type number `j`) as records."""
        k = len(group)
        self.order.extend(group)
        addresses.extend(self.addrs, group)
        self.obj_type.extend(array("I", (j,)) * k)
        self.counts.fromlist(counts)
        if tracked is None:
            self.tracked.extend(bytes(map(_is_tracked, group)))
        else:
            self.tracked.extend(b"\x01" * k if tracked else bytes(k))
        self.sizes.extend(self._group_sizes(group, j))

    def _group_sizes(self, group, j):
        """sys.getsizeof of objects of type number `j`: the type's C `__sizeof__` plus the
        header bytes `sys.getsizeof` adds for that type."""
        fixed = self.fixed_sizes[j]
        if fixed is not None:
            return array("Q", (fixed,)) * len(group)
        sizer = self.sizers[j]
        if sizer is not None:
            f, header = sizer
            try:
                if header:
                    return array("Q", map(add, map(f, group), repeat(header)))
                return array("Q", map(f, group))
            except Exception:
                pass
        try:
            return array("Q", map(sys.getsizeof, group))
        except Exception:
            return array("Q", map(_size_or_zero, group))

    def _sequences(self, group, j):
        """Exact list, tuple, deque: items in index order, one C-level copy per object
        (a thread cannot resize it midway)."""
        t = self.types[j]
        snaps = group if t is tuple else list(map(tuple, group))
        counts = list(map(len, snaps))
        at = len(self.kinds)
        self.edges.extend(chain.from_iterable(snaps))
        total = sum(counts)
        self.kinds.extend(bytes((F.INDEX,)) * total)
        self.labels.extend(_NONE1 * total)      # the reader numbers them (formats/snap.md §12)
        if t is tuple and self.closure_names:
            self._closure_tuples(group, counts, at)
        return counts

    def _closure_tuples(self, group, counts, at):
        """Relabel the items of closure tuples as CLOSURE edges named by co_freevars."""
        hits = list(map(self.closure_names.get, map(KEY, group)))
        if hits.count(None) == len(hits):
            return
        kinds, labels = self.kinds, self.labels
        for sids, k in zip(hits, counts):
            if sids is not None and len(sids) == k:
                kinds[at:at + k] = bytes((F.CLOSURE,)) * k
                labels[at:at + k] = array("I", sids)
            at += k

    def _dicts(self, group):
        """Exact dicts: key then value of each item, both labelled by the key. Each dict is
        read in one C-level pass (a thread cannot change it midway)."""
        flats = list(map(tuple, map(_flatten, map(dict.items, group))))
        counts = list(map(len, flats))
        kv = list(chain.from_iterable(flats))
        del flats
        self.edges.extend(kv)
        self.kinds.extend(_KV * (len(kv) // 2))
        keys = kv[::2]
        del kv
        sids = list(map(self.key_sids.get, map(id, keys)))
        if None in sids:
            sids = self._key_labels(keys, sids)
        both = sids * 2
        both[::2] = sids
        both[1::2] = sids
        self.labels.fromlist(both)
        return counts

    def _plain(self, group):
        """C types without labelled references: gc.get_referents, kind OTHER."""
        refs = list(map(gc.get_referents, group))
        counts = list(map(len, refs))
        total = sum(counts)
        self.edges.extend(chain.from_iterable(refs))
        self.kinds.extend(bytes(total))
        self.labels.extend(_NONE1 * total)
        return counts

    def _instances(self, group, j):
        """Instances of one Python class: all at once when they share the labelling of the
        last instance met (`ClassInfo.layout`), else one by one."""
        t = self.types[j]
        info = self.class_infos[j]
        refs = list(map(gc.get_referents, group))
        if info.layout is None:
            counts = [self._instance_one(group[0], t, info, refs[0])]
            group, refs = group[1:], refs[1:]
        else:
            counts = []
        if not group:
            return counts
        flat = self._layout_fits(group, refs, t, info.layout)
        if flat is not None:
            _, n, _, kinds, labels = info.layout
            self.edges.extend(flat)
            del flat
            self.kinds.extend(kinds * len(group))
            self.labels.extend(labels * len(group))
            counts.extend(repeat(n, len(group)))
            return counts
        one = self._instance_one
        counts.extend(map(one, group, repeat(t), repeat(info), refs))
        return counts

    @staticmethod
    def _layout_fits(group, refs, t, layout):
        """The referents of `group` in one list when every instance fits `layout` (the
        same number of referents, ending with the class; on 3.11+ in-process each one the
        value the cached attribute names give, the class last), else None."""
        if layout is None:
            return None
        check, n = layout[0], layout[1]
        if check is _FORK_CHECK or set(map(len, refs)) != {n}:
            return None
        if check is None:
            if not all(map(is_, map(_last, refs), repeat(t))):
                return None
            return list(chain.from_iterable(refs))
        try:
            values = list(map(check, group))
        except Exception:
            return None
        flat = list(chain.from_iterable(refs))
        if all(map(is_, chain.from_iterable(values), flat)):
            return flat
        return None

    def _instance_one(self, o, t, info, refs):
        """One instance (the labelling of the last one when it fits); returns its edges."""
        before = len(self.edges)
        layout = info.layout
        fits = False
        if layout is not None and len(refs) == layout[1] and refs and refs[-1] is t:
            check = layout[0]
            if check is None:
                fits = True
            elif check is _FORK_CHECK:
                fits = self._same_layout(o, info, refs, layout)
            else:
                try:
                    fits = all(map(is_, check(o), refs))
                except Exception:
                    fits = False
        if fits:
            self.edges.extend(refs)
            self.kinds.extend(layout[3])
            self.labels.extend(layout[4])
        else:
            self._instance_slow_path(o, t, info, refs)
        return len(self.edges) - before

    def _one_by_one(self, group, j, p):
        t = self.types[j]
        edges = self.edges
        special = self._special
        counts = []
        for o in group:
            before = len(edges)
            special(o, t, p)
            counts.append(len(edges) - before)
        return counts

    def _discover(self):
        """Turn the chunk's edge targets into addresses and add the untracked objects met
        for the first time as records (containers are queued, atoms recorded at once)."""
        edges = self.edges
        if not edges:
            return
        addresses.extend(self.edge_addr, edges)
        untracked = bytes(map(_is_tracked, edges)).translate(_FLIP)
        if not self.complete:
            self.unlisted.extend(compress(edges, untracked.translate(_FLIP)))
        if self.unlisted:
            unlisted, self.unlisted = self.unlisted, []
            self._found(self._fresh(unlisted, list(map(id, unlisted))), True)
            del unlisted
        # Dict keys never take the refcount shortcuts: the dicts that share one key table
        # (instance dicts) all report its keys, which count one reference for all of them.
        # A key met as a key before is known (`key_sids`); the others (`new_keys`) are
        # looked up. They are collected first, so a meeting still adds two to the refcount.
        keyed = None
        kinds = self.kinds[-len(edges):]
        if F.DICT_KEY in kinds:
            untracked = _and_not(untracked, kinds.translate(_IS_KEY))
        del kinds
        if self.new_keys:
            new_keys, self.new_keys = self.new_keys, []
            keyed = list(compress(new_keys, bytes(map(_is_tracked, new_keys)).translate(_FLIP)))
            del new_keys
        found, marks = _untracked(edges, untracked, self.rc_marks)
        edges.clear()
        if keyed is not None:
            found.extend(keyed)
            marks += bytes(len(keyed))
            del keyed
        if not found:
            return
        single = marks.translate(_IS_SINGLE)
        if 1 in single and any(map(_getweakrefcount, compress(found, single))):
            # weakly referenced objects are also met through their weakrefs' WEAK edges,
            # which their refcount does not show: they take the looked-up path
            single = bytes(map(_no_weakrefs, found, single))
        if 0 in single:
            new = list(compress(found, single))
            shared = single.translate(_FLIP)
            # objects with two references in the heap are met twice: once both
            # meetings are over they stay out of `seen`, which so stays small enough to
            # be cached (see `rc_marks`)
            objs = list(compress(found, shared))
            twice = bytes(compress(marks, shared)).translate(_TWO_REF_MARKS)
            if twice.count(0) != len(twice):
                twice = _plain_marks(twice, objs)
            del found
            new.extend(self._fresh(objs, addresses.ids(objs), twice))
            del objs
        else:
            new = found
            del found
        self._found(new)

    def _fresh(self, objs, ids, twice=None):
        """Those of `objs` (addresses `ids`) not met before, each once. `twice` marks the
        objects with two references in the heap (`rc_marks`; no str, no weakrefs): those
        are decided from the mark and, for the second meeting, one look at `seen`, and
        stay out of `seen` once both meetings are over. The others are looked up."""
        if twice is None or twice.count(0) == len(twice):
            return self._looked_up(objs, ids)
        seen = self.seen
        new = []
        # the first of two meetings: new by construction, entered for the second
        sel = twice.translate(_IS_FIRST)
        if 1 in sel:
            new.extend(compress(objs, sel))
            seen.update(compress(ids, sel))
        # the second of two (in `seen`: it leaves) or the first of three (new)
        sel = twice.translate(_IS_SECOND)
        if 1 in sel:
            met = list(compress(ids, sel))
            first = bytes(map(seen.__contains__, met)).translate(_FLIP)
            seen.difference_update(met)
            if 1 in first:
                new.extend(compress(compress(objs, sel), first))
                seen.update(compress(met, first))
        # both meetings of two, here: new once, never entered; the others are looked up
        rest = twice.translate(_IS_UNMARKED)
        sel = twice.translate(_IS_BOTH)
        if 1 in sel:
            met = list(compress(ids, sel))
            ordered = sorted(met)
            both = set(compress(ordered, map(eq, ordered, islice(ordered, 1, None))))
            pair = bytes(map(both.__contains__, met))
            if 1 in pair:
                new.extend(dict(zip(compress(met, pair),
                                    compress(compress(objs, sel), pair))).values())
            if 0 in pair:
                rest = bytearray(rest)
                for i in compress(compress(count(), sel), pair.translate(_FLIP)):
                    rest[i] = 1
        if 1 in rest:
            new.extend(self._looked_up(list(compress(objs, rest)), list(compress(ids, rest))))
        return new

    def _looked_up(self, objs, ids):
        """Those of `objs` (addresses `ids`) not in `seen`, each once, entered in `seen`.
        The batch is deduplicated in a small table first, so only its distinct addresses
        are looked up in the big one."""
        batch = dict(zip(ids, objs))
        seen = self.seen
        fresh = list(filterfalse(seen.__contains__, batch))
        seen.update(fresh)
        return list(map(batch.__getitem__, fresh))

    def _found(self, new, tracked=False):
        """Record new objects found through edges (untracked ones, or `tracked` ones
        gc.get_objects() did not list): atoms now, containers when processed."""
        if not new:
            return
        nums = self._type_numbers(new)
        walked = list(map(self.type_walked.__getitem__, nums))
        if True in walked:
            self.pending.extend(compress(new, walked))
            if False not in walked:
                return
            keep = bytes(walked).translate(_FLIP)
            new = list(compress(new, keep))
            nums = list(compress(nums, keep))
        addresses.extend(self.addrs, new)
        k = len(new)
        self.order.extend(new)
        self.obj_type.fromlist(nums)
        self.counts.frombytes(bytes(4 * k))
        self.tracked.extend(b"\x01" * k if tracked else bytes(k))
        sizers = list(map(self.atom_sizers.__getitem__, nums))
        try:
            self.sizes.fromlist(list(map(_call, sizers, new)))
        except Exception:
            self.sizes.fromlist(list(map(_size_with, sizers, new)))

    def _key_labels(self, keys, labs):
        """Fill the missing key label ids of `labs` (cache misses)."""
        intern = self.strings.intern
        key_sids = self.key_sids
        for j, sid in enumerate(labs):
            if sid is None:
                k = keys[j]
                sid = key_sids.get(id(k))
                if sid is None:
                    sid = key_sids[id(k)] = intern(key_text(k))
                    self.new_keys.append(k)
                labs[j] = sid
        return labs

    def name_sid(self, name):
        """String id of an attribute/variable name (cached by the str object's id)."""
        sid = self.name_sids.get(id(name))
        if sid is None:
            text = name if type(name) is str else key_text(name)
            sid = self.name_sids[id(name)] = self.strings.intern(text)
        return sid

    def _emit(self, targets, kinds, labels):
        """Append edges given as parallel lists (targets are objects)."""
        if targets:
            self.edges.extend(targets)
            self.kinds.extend(kinds)
            self.labels.extend(labels)

    # -- the less frequent types -----------------------------------------------------------

    def _special(self, o, t, p):
        if p == P.FUNCTION:
            self._function(o)
        elif p == P.METHOD:
            refs = gc.get_referents(o)
            f, s = o.__func__, o.__self__
            kinds, labels = [], []
            for r in refs:
                if r is f:
                    kinds.append(F.METHOD_FUNC)
                    labels.append(self.sid_func)
                elif r is s:
                    kinds.append(F.METHOD_SELF)
                    labels.append(self.sid_self)
                else:
                    kinds.append(F.OTHER)
                    labels.append(F.NONE)
            self._emit(refs, kinds, labels)
        elif p == P.CELL:
            refs = gc.get_referents(o)
            sid = self.cell_names.get(KEY(o), F.NONE)
            self._emit(refs, [F.CELL_CONTENTS] * len(refs), [sid] * len(refs))
        elif p == P.SET:
            refs = gc.get_referents(o)
            k = len(refs)
            self._emit(refs, _kind_run(F.SET_ITEM, k), _none_run(k))
        elif p == P.CLASSOBJ:
            self._class(o, t)
        elif p == P.CODE:
            fields = [get(o) for get, _ in self.code_attrs]
            self._emit(fields, [F.ATTRIBUTE] * len(fields), [sid for _, sid in self.code_attrs])
        elif p == P.MODULE:
            # Only the module's dict: an extension module's own traverse also walks its C
            # state, and _asyncio's (3.12, 3.13) can loop forever over its future-iterator
            # free list, growing the referents list until the process runs out of memory.
            refs = _module_dict(o)
            self._emit_with_dict(refs, [], [], refs, F.OTHER)
        elif p == P.FRAME:
            self._frame(o)
        elif p == P.WEAKREF:
            refs = gc.get_referents(o)
            self._emit(refs, [F.OTHER] * len(refs), [F.NONE] * len(refs))
            self._weak_edge(o)
        elif p == P.DICTSUB:
            self._dict_subclass(o, gc.get_referents(o), [], [], [])
        else:
            refs = gc.get_referents(o)
            self._emit(refs, [F.OTHER] * len(refs), [F.NONE] * len(refs))

    def _emit_with_dict(self, refs, kinds, labels, tail, other_kind):
        """Emit `refs`; the first exact dict in `tail` is the INSTANCE_DICT."""
        found = False
        for r in tail:
            if not found and type(r) is dict:
                kinds.append(F.INSTANCE_DICT)
                labels.append(self.sid_dict)
                found = True
            else:
                kinds.append(other_kind)
                labels.append(F.NONE)
        self._emit(refs, kinds, labels)

    def _weak_edge(self, o):
        try:
            referent = _ref_call(o)
        except Exception:
            return
        if referent is not None:
            self._emit([referent], [F.WEAK], [F.NONE])

    def _function(self, o):
        refs = gc.get_referents(o)
        named = {}
        for get, sid in self.func_attrs:
            v = get(o)
            if v is not None:
                named.setdefault(id(v), sid)
        kinds, labels = [], []
        for r in refs:
            sid = named.get(id(r))
            kinds.append(F.OTHER if sid is None else F.ATTRIBUTE)
            labels.append(F.NONE if sid is None else sid)
        self._emit(refs, kinds, labels)

    def _class(self, o, t):
        refs = gc.get_referents(o)
        ready = P.is_ready(o)
        if not refs and ready:
            # a static (C) type reports no referents: add what it owns ourselves (never of
            # one PyType_Ready has not run on: its tp_bases is NULL, and reading __bases__
            # then crashes 3.9, as _socket's types do until `socket` is imported)
            try:
                refs = gc.get_referents(P.class_namespace(o))
                refs += [get(o) for get, _ in self.class_attrs]
            except Exception:
                refs = []
            refs = [r for r in refs if r is not None]
            # 3.12: the tuples of static types are GC-tracked but in no generation, so
            # gc.get_objects() never lists them (they are immortal)
            self.unlisted.extend(r for r in refs if _is_tracked(r)
                                 and _getrefcount(r) >= F.IMMORTAL_REFCOUNT)
        named = {}
        for get, sid in (self.class_attrs if ready else ()):
            try:
                v = get(o)
            except Exception:
                continue
            if v is not None:
                named.setdefault(id(v), sid)
        ns = P.class_namespace(o)
        kinds, labels = [], []
        for r in refs:
            sid = named.get(id(r))
            if sid is not None:
                kinds.append(F.ATTRIBUTE)
                labels.append(sid)
            elif r is t:
                kinds.append(F.CLASS)
                labels.append(F.NONE)
            elif type(r) is dict and _same_keys(r, ns):
                kinds.append(F.INSTANCE_DICT)
                labels.append(self.sid_dict)
            else:
                kinds.append(F.OTHER)
                labels.append(F.NONE)
        self._emit(refs, kinds, labels)

    def _dict_subclass(self, o, refs, head, head_kinds, head_labels):
        """Edges of a dict subclass: `head` edges, then keys and values (like a dict), then
        the referents not accounted for by the items as OTHER."""
        items = list(dict.items(o))
        ks = [k for k, _ in items]
        vs = [v for _, v in items]
        budget = {}
        for x in ks + vs + head:
            budget[id(x)] = budget.get(id(x), 0) + 1
        extra = []
        for r in refs:
            n = budget.get(id(r), 0)
            if n:
                budget[id(r)] = n - 1
            else:
                extra.append(r)
        labs = [self._key_sid(k) for k in ks]
        self._emit(head + ks + vs + extra,
                   head_kinds + [F.DICT_KEY] * len(ks) + [F.DICT_VALUE] * len(vs)
                   + [F.OTHER] * len(extra),
                   head_labels + labs + labs + [F.NONE] * len(extra))

    def _key_sid(self, k):
        sid = self.key_sids.get(id(k))
        if sid is None:
            sid = self.key_sids[id(k)] = self.strings.intern(key_text(k))
            self.new_keys.append(k)
        return sid

    def _instance_slow_path(self, o, t, info, refs):
        """An instance of a Python class: slots, attributes (dict or inline values), its
        class, then what the C base type holds (formats/snap.md §8.2, §8.3).

        Classes whose instances hold only attributes and their class cache the labelling
        of the last instance (`ClassInfo.layout`); `walk` reuses it for the next instance
        when its attribute values are the same objects in the same order, and calls this
        otherwise. The layout is (check, edge count, fork keys, kinds, labels) with check
        None (≤3.10: nothing to check), a function returning the tuple of the attribute
        values (3.11+ in-process) or _FORK_CHECK (fork child: compare the dict's keys, see
        `_same_layout`)."""
        ids = list(map(id, refs))
        if info.simple and refs and refs[-1] is t:
            split = len(refs) - 1
        else:
            try:
                split = ids.index(id(t))
            except ValueError:
                split = len(refs)
        start = len(self.kinds)
        self._instance_slow(o, t, info, refs, ids, split)
        if info.simple and split == len(refs) - 1:
            self._remember_layout(o, info, refs, split, start)

    def _same_layout(self, o, info, refs, layout):
        """Fork child: the instance dict has the same keys and its values are the head."""
        fork_keys = layout[2]
        try:
            d = info.dict_getter(o)
        except Exception:
            return False
        return (type(d) is dict and tuple(map(id, d)) == fork_keys
                and list(map(id, dict.values(d))) == list(map(id, refs[:-1])))

    def _remember_layout(self, o, info, refs, split, start):
        kinds = bytes(self.kinds[start:])
        labels = self.labels[start:]
        info.layout = None
        if len(kinds) != len(refs):
            return
        check = None
        fork_keys = None
        if info.inline:
            if any(k != F.ATTRIBUTE for k in kinds[:split]):
                return
            if info.dict_getter is not None:
                try:
                    d = info.dict_getter(o)
                except Exception:
                    return
                if type(d) is not dict or list(map(id, dict.values(d))) != list(map(id, refs[:split])):
                    return
                fork_keys = tuple(map(id, d))
                check = _FORK_CHECK
            else:
                texts = [self.attr_texts.get(x) for x in labels[:split]]
                if (info.getattr_mode != P.ClassInfo.FAST or None in texts or not texts
                        or not info.plain_class_attr):
                    return
                # the values of those attributes and the class, read in one C call (the
                # generic lookup only: FAST mode, and `__class__` is object's); raises
                # AttributeError when one is missing
                check = attrgetter(*texts, "__class__")
        info.layout = (check, len(refs), fork_keys, kinds, labels)

    def _instance_slow(self, o, t, info, refs, ids, split):
        head = refs[:split]
        names = {}  # id(value) -> [name sids]
        for name, md in info.slots:
            try:
                v = md.__get__(o, t)
            except Exception:
                continue
            names.setdefault(id(v), []).append(self.name_sid(name))
        own_dict = None
        if info.inline:
            own_dict = self._inline_names(o, t, info, names)
        kinds, labels = [], []
        for r in head:
            lst = names.get(id(r))
            if lst:
                kinds.append(F.ATTRIBUTE)
                labels.append(lst.pop(0) if len(lst) > 1 else lst[0])
            elif info.has_dict and type(r) is dict and (own_dict is None or r is own_dict):
                kinds.append(F.INSTANCE_DICT)
                labels.append(self.sid_dict)
            elif info.inline:
                kinds.append(F.ATTRIBUTE)
                labels.append(F.NONE)
            else:
                kinds.append(F.OTHER)
                labels.append(F.NONE)
        if (own_dict is not None and P.PY313 and _is_tracked(own_dict)
                and id(own_dict) in (self._listed_dicts() if self.complete else self.seen)
                and not any(r is own_dict for r in head)):
            head.append(own_dict)
            kinds.append(F.INSTANCE_DICT)
            labels.append(self.sid_dict)
        if split < len(refs):
            head.append(t)
            kinds.append(F.CLASS)
            labels.append(F.NONE)
        tail = refs[split + 1:]
        base = info.base_kind
        if base == P.DICT:
            self._dict_subclass(o, tail, head, kinds, labels)
            return
        if base == P.SEQ:
            # list and tuple traversal visits items last to first; deque first to last
            kinds.extend([F.INDEX] * len(tail))
            n = len(tail)
            labels.extend(range(n) if info.forward_items else range(n - 1, -1, -1))
            self._emit(head + tail, kinds, labels)
        elif base == P.SET:
            kinds.extend([F.SET_ITEM] * len(tail))
            labels.extend([F.NONE] * len(tail))
            self._emit(head + tail, kinds, labels)
        elif base == P.MODULE:
            self._emit_with_dict(head + tail, kinds, labels, tail, F.OTHER)
        else:
            kinds.extend([F.OTHER] * len(tail))
            labels.extend([F.NONE] * len(tail))
            self._emit(head + tail, kinds, labels)
        if info.is_weakref:
            self._weak_edge(o)

    def _listed_dicts(self):
        """3.13: the addresses of the exact dicts in the seed. Traversal does not report
        the instance dict while the values are inline, so the walk adds that edge itself,
        but only to a dict that existed before the walk (not one made to read names)."""
        if self.seed_dicts is None:
            listed = compress(self.queue, map(is_, self.queue_types, repeat(dict)))
            self.seed_dicts = set(map(id, listed))
        return self.seed_dicts

    def _inline_names(self, o, t, info, names):
        """3.11+: names of inline attribute values, into `names`. Returns the instance dict
        when it was read (fork child), else None."""
        if info.dict_getter is not None:
            try:
                d = info.dict_getter(o)
            except Exception:
                return None
            if type(d) is not dict:
                return None
            for k, v in list(dict.items(d)):
                names.setdefault(id(v), []).append(self.name_sid(k))
            return d
        cand = info.names
        if not cand:
            return None
        if info.getattr_mode == P.ClassInfo.FAST:
            missing = _MISSING
            vals = [getattr(o, n, missing) for n in cand]
        else:
            vals = []
            gattr = object.__getattribute__
            for n in cand:
                try:
                    vals.append(gattr(o, n))
                except Exception:
                    vals.append(_MISSING)
        for n, v in zip(cand, vals):
            if v is not _MISSING:
                sid = self.name_sid(n)
                self.attr_texts[sid] = n
                names.setdefault(id(v), []).append(sid)
        return None

    def _frame(self, f):
        """A frame: named fields by identity, locals as FRAME_LOCAL (formats/snap.md §8.4)."""
        glob = f.f_globals
        loc = None
        if self.in_fork_child or P.PY313:
            # in-process on 3.8-3.12, reading f_locals stores a snapshot dict on the frame
            # that keeps the locals alive after the application deletes them
            try:
                loc = f.f_locals
            except Exception:
                loc = None
        if loc is glob:
            loc = None
        local_items = []
        if loc is not None:
            try:
                local_items = list(dict.items(loc) if type(loc) is dict else loc.items())
            except Exception:
                local_items = []
        refs = gc.get_referents(f)
        named = {}
        for get, sid in self.frame_attrs:
            named.setdefault(id(get(f)), sid)
        if type(loc) is dict:
            named.setdefault(id(loc), self.sid_f_locals)
        if not P.PY311 and not self.in_fork_child:
            back = f.f_back
            if back is not None:
                named.setdefault(id(back), self.sid_f_back)
        local_names = {}
        for name, v in local_items:
            local_names.setdefault(id(v), []).append(self.name_sid(name))
        kinds, labels = [], []
        for r in refs:
            sid = named.get(id(r))
            lst = local_names.get(id(r))
            if sid is not None:
                kinds.append(F.ATTRIBUTE)
                labels.append(sid)
            elif lst:
                kinds.append(F.FRAME_LOCAL)
                labels.append(lst.pop(0) if len(lst) > 1 else lst[0])
            else:
                kinds.append(F.OTHER)
                labels.append(F.NONE)
        if P.PY311:
            # running frames report no referents: add what the frame holds ourselves
            extra = [get(f) for get, _ in self.frame_attrs[:2]]
            extra_kinds = [F.ATTRIBUTE, F.ATTRIBUTE]
            extra_labels = [sid for _, sid in self.frame_attrs[:2]]
            if type(loc) is dict:
                extra.append(loc)
                extra_kinds.append(F.ATTRIBUTE)
                extra_labels.append(self.sid_f_locals)
            for name, v in local_items:
                extra.append(v)
                extra_kinds.append(F.FRAME_LOCAL)
                extra_labels.append(self.name_sid(name))
            refs = refs + extra
            kinds += extra_kinds
            labels += extra_labels
        self._emit(refs, kinds, labels)

    # -- after the walk --------------------------------------------------------------------

    def finish(self):
        """Drop every cache that holds application objects (after this `order` and `types`
        are the only references the walker holds to them)."""
        self.queue = []
        self.queue_types = []
        self.pending = []
        self.root_objs = []
        self.new_keys = []
        self.seen = set()
        self.seed_dicts = None
        self.unlisted = []
        self.closure_names = {}
        self.cell_names = {}
        self.attr_texts = {}
        self.class_infos = []
        self.type_walked = []
        self.type_plans = []
        self.sizers = []
        self.atom_sizers = []
        self.fixed_sizes = []
        self.by_type = None

    def take_types(self):
        """The type objects by type number and the address of each; the walker drops its
        own references to them."""
        types, self.types = self.types, []
        return types, array("Q", map(id, types))


_MISSING = object()
_FORK_CHECK = object()


def _sizer(t, plan, sample):
    """(the C `__sizeof__` of type `t`, the header bytes `sys.getsizeof` adds to it) when
    objects of `t` can be sized by calling it directly, else None (`sys.getsizeof` each).
    A class with a Python `__sizeof__` gets `object.__sizeof__` (no user code runs).

    Type objects are left to `sys.getsizeof`: static types are not GC objects, heap types
    are, so the GC header it adds differs between objects of one type."""
    if plan == P.CLASSOBJ:
        return None
    mro = P.type_mro(t)
    if P.is_heap_type(t) and P.sizeof_overridden(mro):
        return (object.__sizeof__, 0)
    f = P.lookup_class_attr(mro, "__sizeof__")
    if type(f) is not _C_METHOD:
        return None
    try:
        header = sys.getsizeof(sample) - f(sample)
    except Exception:
        return None
    if type(header) is not int or header < 0:
        return None
    return (f, header)


_OBJECT_SIZEOF = object.__dict__["__sizeof__"]
_itemsize = type.__dict__["__itemsize__"].__get__


def _fixed_size(t, sizer, sample):
    """The size of every object of type `t` when it is fixed: sized by `object.__sizeof__`
    (the type's basic size) with no per-item part, else None."""
    if sizer is None or sizer[0] is not _OBJECT_SIZEOF:
        return None
    try:
        if _itemsize(t) != 0:
            return None
        size = sizer[0](sample) + sizer[1]
    except Exception:
        return None
    return size if type(size) is int and size >= 0 else None


def _size_with(f, o):
    """`f(o)`, or 0 when it fails."""
    try:
        return f(o)
    except Exception:
        return 0


def _size_or_zero(o):
    try:
        return sys.getsizeof(o)
    except Exception:
        return 0


def _same_keys(d, ns):
    """Whether dict `d` is the namespace behind mappingproxy `ns` (same key objects)."""
    try:
        if len(d) != len(ns):
            return False
        return all(a is b for a, b in zip(d, ns))
    except Exception:
        return False
