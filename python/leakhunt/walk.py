"""The heap walk: every object once, its references as labelled edges (formats/snap.md §4, §8).

The walker keeps every object it found in one list (`objs`, whose positions are the object
ids) and the edges in flat arrays. Its own containers are created after `gc.get_objects()`
and are referenced only from the dumper's frames, which are never walked, so they stay out of
the graph. No user code runs: see `typeplans` and `strings` for how names are read."""

import gc
from array import array
from collections import deque
from itertools import accumulate, chain, compress, count, islice, repeat
from operator import attrgetter, is_, sub

from . import snapformat as F
from . import typeplans as P
from .strings import key_text

CHUNK = 16384        # objects processed between two discovery passes (small enough
                     # that the edge targets are still in the CPU cache)
_RUN = 4096          # length of the prebuilt kind/label runs

_ZEROS = bytes(_RUN)
_INDEX_KINDS = bytes((F.INDEX,)) * _RUN
_SET_KINDS = bytes((F.SET_ITEM,)) * _RUN
_NONES = array("I", [F.NONE]) * _RUN
_INDEXES = array("I", range(_RUN))
_KV_RUN = 64         # dict sizes with a prebuilt kind run (built by each Walker)

# The key of an object in the walker's identity maps: `object.__hash__` is the object's
# address rotated right by 4 bits (a bijection on aligned addresses, so unique among live
# objects), computed in C without calling the object's own __hash__. Unlike `id()` its low
# bits vary, so a 1M-entry dict keyed by it probes far less, and objects allocated one after
# another land in neighbouring slots (fewer cache misses).
KEY = object.__hash__

_ref_call = P.ReferenceType.__call__
_func_closure = P.FunctionType.__dict__["__closure__"].__get__
_func_code = P.FunctionType.__dict__["__code__"].__get__
_FUNC_ATTRS = ("__code__", "__globals__", "__defaults__", "__kwdefaults__", "__closure__",
               "__module__", "__name__", "__qualname__", "__doc__")
_CLASS_ATTRS = ("__mro__", "__bases__", "__base__")


def _kind_run(prebuilt, kind, k):
    return prebuilt[:k] if k <= _RUN else bytes((kind,)) * k


def _none_run(k):
    return _NONES[:k] if k <= _RUN else array("I", [F.NONE]) * k


class Walker:
    """Walks the heap from a seed list; results are left in attributes (see `finish`)."""

    def __init__(self, strings, in_fork_child):
        self.strings = strings
        self.in_fork_child = in_fork_child
        self.objs = []            # every object found; position = object index
        self.queue = []           # the objects with referents, to process (index order)
        self.queue_index = array("Q")  # object index of each queue entry
        self.queue_type = array("I")   # type number of each queue entry
        self.seen = {}            # KEY(obj) -> object index
        self.obj_type = array("I")     # type number of every object (OBJ_TYPE)
        self.edges = []           # edge targets (objects) of the current chunk
        self.index_chunks = []    # per discovered chunk, the list of its edge targets'
                                  # numbers (object indices or provisional, see _discover)
        self.m = 0                # edges discovered so far
        self.targets = None       # set by `finish`: EDGE_TARGET
        self.n0 = 0               # objects numbered before the walk (seed and roots)
        self.n_seed = 0           # objects from the seed list (all GC-tracked)
        self.first_edges = array("Q")  # provisional number of each object found by the walk
        self.real = array("I")    # set by `finish`: object index by provisional/real number
        self.pos = 0              # queue[:pos] are processed
        self.kinds = bytearray()
        self.labels = array("I")
        self.offsets = array("Q")
        # types by number, in order of first appearance among the objects (= TYPES)
        self.type_number = {}     # id(type) -> type number
        self.types = []           # type objects (dropped by `finish`)
        self.type_plans = []      # plan number per type number
        self.type_walked = []     # whether objects of that type have referents to walk
        self.class_infos = []     # ClassInfo (INSTANCE plan) or None, per type number
        self.type_rows = []       # set by `finish`: (type, object index or NONE) per type
        self.key_sids = {}        # id(dict key) -> string id of its key label
        self.name_sids = {}       # id(str) -> string id of that text (attribute names)
        self.attr_texts = {}      # string id -> candidate attribute name (3.11+ in-process)
        self.closures = []        # (KEY(closure tuple), (string ids of co_freevars))
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
        self.kv_kinds = [bytes((F.DICT_KEY,)) * k + bytes((F.DICT_VALUE,)) * k
                         for k in range(_KV_RUN + 1)]

    # -- seeding -------------------------------------------------------------------------

    def seed(self, objs):
        """Start from `objs` (the list from gc.get_objects(); it becomes the object list)."""
        self.objs = objs
        self.n_seed = len(objs)
        self.seen = dict(zip(map(KEY, objs), range(len(objs))))
        self.obj_type = array("I")
        self._queue_new(objs, 0)

    def add(self, obj):
        """Add one object (a root found outside gc.get_objects()); return its index.
        Only valid before `walk`."""
        k = KEY(obj)
        i = self.seen.get(k)
        if i is None:
            i = self.seen[k] = len(self.objs)
            self.objs.append(obj)
            self._queue_new([obj], i, force=True)
        return i

    def _type_numbers(self, objs):
        """Type numbers of `objs`, registering the types not met before (in order)."""
        nums = list(map(self.type_number.get, map(id, map(type, objs))))
        if None in nums:
            types = list(map(type, objs))
            tids = list(map(id, types))
            for tid, t in dict(zip(tids, types)).items():
                if tid not in self.type_number:
                    self._register_type(tid, t)
            nums = list(map(self.type_number.__getitem__, tids))
        return nums

    def _register_type(self, tid, t):
        p = P.plan_for(t)
        self.type_number[tid] = len(self.types)
        self.types.append(t)
        self.type_plans.append(p)
        self.type_walked.append(p != P.ATOM)
        self.class_infos.append(P.ClassInfo(t, self.in_fork_child) if p == P.INSTANCE else None)

    def _queue_new(self, new, first, force=False):
        """`new` objects were just numbered `first`, `first + 1`, ...: record their types
        and queue those that have referents (atoms are never processed)."""
        nums = self._type_numbers(new)
        self.obj_type.extend(nums)
        numbers = range(first, first + len(new))
        walk_it = list(map(self.type_walked.__getitem__, nums))
        if force or False not in walk_it:
            self.queue.extend(new)
            self.queue_index.extend(numbers)
            self.queue_type.extend(nums)
        else:
            self.queue.extend(compress(new, walk_it))
            self.queue_index.extend(compress(numbers, walk_it))
            self.queue_type.extend(compress(nums, walk_it))

    # -- the walk ------------------------------------------------------------------------

    def walk(self):
        """Process every object, appending newly discovered ones, until none is left."""
        self.n0 = len(self.objs)
        queue = self.queue
        queue_type = self.queue_type
        get_referents = gc.get_referents
        plans = self.type_plans
        types = self.types
        class_infos = self.class_infos
        edges = self.edges
        e_extend = edges.extend
        k_extend = self.kinds.extend
        l_extend = self.labels.extend
        offs_append = self.offsets.append
        key_sids_get = self.key_sids.get
        dict_items = dict.items
        special = self._special
        instance = self._instance_slow_path
        same_layout = self._same_layout
        SEQ, DICT, INSTANCE, PLAIN = P.SEQ, P.DICT, P.INSTANCE, P.PLAIN
        RUN = _RUN
        ZEROS, NONES, IKINDS, INDEXES = _ZEROS, _NONES, _INDEX_KINDS, _INDEXES
        KV_KINDS, KV_RUN = self.kv_kinds, _KV_RUN
        FORK_CHECK = _FORK_CHECK
        while self.pos < len(queue):
            chunk = queue[self.pos:self.pos + CHUNK]
            chunk_types = queue_type[self.pos:self.pos + CHUNK]
            self.pos += len(chunk)
            base = self.m
            for o, j in zip(chunk, chunk_types):
                offs_append(base + len(edges))
                p = plans[j]
                if p == SEQ:
                    # items in index order (gc.get_referents lists a list or tuple
                    # backwards); one C call, so a thread cannot resize it midway
                    before = len(edges)
                    e_extend(o)
                    k = len(edges) - before
                    if k:
                        if k <= RUN:
                            k_extend(IKINDS[:k])
                            l_extend(INDEXES[:k])
                        else:
                            k_extend(bytes((F.INDEX,)) * k)
                            l_extend(array("I", range(k)))
                elif p == DICT:
                    # keys then values; zip(*view) reads the dict in one C call
                    kv = tuple(zip(*dict_items(o)))
                    if kv:
                        ks = kv[0]
                        k = len(ks)
                        e_extend(ks)
                        e_extend(kv[1])
                        k_extend(KV_KINDS[k] if k <= KV_RUN else
                                 bytes((F.DICT_KEY,)) * k + bytes((F.DICT_VALUE,)) * k)
                        labs = list(map(key_sids_get, map(id, ks)))
                        if None in labs:
                            labs = self._key_labels(ks, labs)
                        l_extend(labs)
                        l_extend(labs)
                elif p == INSTANCE:
                    t = types[j]
                    info = class_infos[j]
                    refs = get_referents(o)
                    layout = info.layout
                    # the labelling of the last instance of this class, when it fits
                    if layout is not None and len(refs) == layout[1] and refs[-1] is t:
                        check = layout[0]
                        if check is None:
                            fits = True
                        elif check is FORK_CHECK:
                            fits = same_layout(o, info, refs, layout)
                        else:
                            try:
                                fits = all(map(is_, check(o), refs))
                            except Exception:
                                fits = False
                        if fits:
                            e_extend(refs)
                            k_extend(layout[3])
                            l_extend(layout[4])
                        else:
                            instance(o, t, info, refs)
                    else:
                        instance(o, t, info, refs)
                elif p == PLAIN:
                    refs = get_referents(o)
                    if refs:
                        k = len(refs)
                        e_extend(refs)
                        if k <= RUN:
                            k_extend(ZEROS[:k])
                            l_extend(NONES[:k])
                        else:
                            k_extend(bytes(k))
                            l_extend(array("I", [F.NONE]) * k)
                else:
                    special(o, types[j], p)
            self._discover()

    def _discover(self):
        """Turn the chunk's edge targets into object numbers, numbering the objects not
        seen yet and queueing those that have referents (atoms are never processed).

        One `setdefault` per edge, all in C-level bulk operations: an object met for the
        first time is entered in `seen` with a provisional number, `n0 + e` for the edge
        `e` that found it (`n0` = objects numbered before the walk, so provisional numbers
        never collide with real ones); every later edge to it gets the same number.
        `finish` maps provisional numbers to object indices (`first_edges` lists them in
        the order the objects were numbered)."""
        fresh = self.edges
        if not fresh:
            return
        base = self.n0 + self.m
        seen = self.seen
        before = len(seen)
        index = list(map(seen.setdefault, map(KEY, fresh), count(base)))
        k = len(seen) - before
        if k:
            # `seen` only grows, here, and a dict keeps insertion order: the entries just
            # added are its last `k`, holding the provisional numbers of the new objects
            # in the order they were met (no pass over all the chunk's edges)
            firsts = list(islice(reversed(seen.values()), k))
            firsts.reverse()
            new = list(map(fresh.__getitem__, map((-base).__add__, firsts)))
            first = len(self.objs)
            self.first_edges.extend(firsts)
            self.objs.extend(new)
            self._queue_new(new, first)
        self.index_chunks.append(index)
        self.m += len(index)
        fresh.clear()

    def _key_labels(self, keys, labs):
        """Fill the missing key label ids of `labs` (cache misses)."""
        intern = self.strings.intern
        key_sids = self.key_sids
        for j, sid in enumerate(labs):
            if sid is None:
                k = keys[j]
                sid = key_sids[id(k)] = intern(key_text(k))
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
            self._emit(refs, [F.CELL_CONTENTS] * len(refs), [F.NONE] * len(refs))
        elif p == P.SET:
            refs = gc.get_referents(o)
            k = len(refs)
            self._emit(refs, _kind_run(_SET_KINDS, F.SET_ITEM, k), _none_run(k))
        elif p == P.CLASSOBJ:
            self._class(o, t)
        elif p == P.CODE:
            fields = [get(o) for get, _ in self.code_attrs]
            self._emit(fields, [F.ATTRIBUTE] * len(fields), [sid for _, sid in self.code_attrs])
        elif p == P.MODULE:
            refs = gc.get_referents(o)
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
        closure = _func_closure(o)
        if closure:
            free = _func_code(o).co_freevars
            if len(free) == len(closure):
                self.closures.append((KEY(closure), tuple(map(self.name_sid, free))))

    def _class(self, o, t):
        refs = gc.get_referents(o)
        if not refs:
            # a static (C) type reports no referents: add what it owns ourselves
            try:
                refs = gc.get_referents(P.class_namespace(o))
                refs += [get(o) for get, _ in self.class_attrs]
            except Exception:
                refs = []
            refs = [r for r in refs if r is not None]
        named = {}
        for get, sid in self.class_attrs:
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
                if info.getattr_mode != P.ClassInfo.FAST or None in texts or not texts:
                    return
                # the values of those attributes, read in one C call (the generic lookup
                # only: FAST mode); raises AttributeError when one is missing
                check = attrgetter(*texts) if len(texts) > 1 else _one_attr(texts[0])
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
        if (own_dict is not None and P.PY313 and KEY(own_dict) in self.seen
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

    def _index_offsets(self, m):
        """CSR offsets by object index from the per-queue-entry offsets (atoms, which were
        never processed, have no edges)."""
        proc = self.offsets
        proc.append(m)
        counts = array("Q", bytes(8 * len(self.objs)))
        for _ in map(counts.__setitem__, self.queue_index, map(sub, proc[1:], proc)):
            pass
        return array("Q", accumulate(counts, initial=0))

    def finish(self):
        """Build the CSR offsets, label closure tuples and cells, and drop every cache that
        holds application objects (after this `objs` is the only reference the walker holds
        to them). Returns the edge target array."""
        targets = self.targets = self._resolve()
        self.offsets = self._index_offsets(len(targets))
        self.queue = []
        self.queue_index = array("Q")
        self.queue_type = array("I")
        seen = self.seen
        real = self.real
        offs, kinds, labels = self.offsets, self.kinds, self.labels
        for cid, sids in self.closures:
            ti = seen.get(cid)
            if ti is None:
                continue
            ti = real[ti]
            a, b = offs[ti], offs[ti + 1]
            if b - a != len(sids) or any(k != F.INDEX for k in kinds[a:b]):
                continue
            kinds[a:b] = bytes((F.CLOSURE,)) * len(sids)
            labels[a:b] = array("I", sids)
            for j, sid in enumerate(sids):
                c = targets[a + j]
                for e in range(offs[c], offs[c + 1]):
                    if kinds[e] == F.CELL_CONTENTS:
                        labels[e] = sid
        self.closures = []
        self.attr_texts = {}
        self.class_infos = []
        self.type_walked = []
        self.type_plans = []
        return targets

    def take_types(self):
        """The type objects by type number, with the object index of each type object
        (NONE if not in the snapshot); the walker drops its own references to them."""
        types, self.types = self.types, []
        seen_get, real = self.seen.get, self.real
        numbers = [seen_get(k) for k in map(KEY, types)]
        return types, [F.NONE if i is None else real[i] for i in numbers]

    def _resolve(self):
        """EDGE_TARGET: the discovered numbers with provisional ones replaced by object
        indices; keeps the mapping (`real`, indexed by any number `seen` holds)."""
        n0 = self.n0
        real = list(range(n0))
        real.extend(repeat(0, self.m))
        deque(map(real.__setitem__, self.first_edges, count(n0)), 0)
        self.first_edges = array("Q")
        self.real = real
        chunks, self.index_chunks = self.index_chunks, []
        return array("I", map(real.__getitem__, chain.from_iterable(chunks)))


_MISSING = object()
_FORK_CHECK = object()


def _one_attr(name):
    get = attrgetter(name)
    return lambda o: (get(o),)


def _same_keys(d, ns):
    """Whether dict `d` is the namespace behind mappingproxy `ns` (same key objects)."""
    try:
        if len(d) != len(ns):
            return False
        return all(a is b for a, b in zip(d, ns))
    except Exception:
        return False
