"""How the walker handles each type: a small plan number per type, and for classes written
in Python a `ClassInfo` (slots, instance-dict access, attribute-name candidates).

Everything here reads classes through `type`'s own C descriptors, so no metaclass or user
code runs."""

import sys

PY311 = sys.version_info >= (3, 11)
PY313 = sys.version_info >= (3, 13)

_tdict = type.__dict__["__dict__"].__get__      # a class's namespace (mappingproxy)
_tmro = type.__dict__["__mro__"].__get__
_tflags = type.__dict__["__flags__"].__get__
_tdictoffset = type.__dict__["__dictoffset__"].__get__

HEAPTYPE = 1 << 9
HAVE_GC = 1 << 14
TYPE_SUBCLASS = 1 << 31
MANAGED_DICT = 1 << 4

# plan numbers (the walker's dispatch order follows their frequency)
ATOM, PLAIN, SEQ, DICT, INSTANCE, FUNCTION, METHOD, CELL, CLASSOBJ, MODULE, FRAME, \
    WEAKREF, SET, DICTSUB, CODE = range(15)

# Code objects are not GC objects: gc.get_referents(code) is [] on every version, so the
# walker reads the fields a code object stores (never the computed/cached ones: reading
# co_code or co_varnames on 3.11+ builds and caches a new object).
CODE_FIELDS = (("co_consts", "co_names", "co_filename", "co_name", "co_qualname",
                "co_linetable", "co_exceptiontable") if PY311 else
               ("co_consts", "co_names", "co_varnames", "co_freevars", "co_cellvars",
                "co_filename", "co_name", "co_code")
               + (("co_linetable",) if sys.version_info >= (3, 10) else ("co_lnotab",)))


def _cell_type():
    x = None
    return type((lambda: x).__closure__[0])


class _Slotted:
    __slots__ = ("x",)

    def m(self):
        """A method, to get the bound-method type."""


FunctionType = type(_cell_type)
MethodType = type(_Slotted().m)
CellType = _cell_type()
FrameType = type(sys._getframe())
ModuleType = type(sys)
CodeType = type(_cell_type.__code__)
MemberDescriptorType = type(_tdict(_Slotted)["x"])
GetSetDescriptorType = type(type.__dict__["__dict__"])
StaticMethodType = staticmethod
ClassMethodType = classmethod
PropertyType = property

import _weakref  # noqa: E402  (builtin, no import side effects)
import _collections  # noqa: E402

ReferenceType = _weakref.ref
ProxyTypes = (_weakref.ProxyType, _weakref.CallableProxyType)
DequeType = _collections.deque

_EXACT = {
    dict: DICT, list: SEQ, tuple: SEQ, DequeType: SEQ, set: SET, frozenset: SET,
    FunctionType: FUNCTION, MethodType: METHOD, CellType: CELL, ModuleType: MODULE,
    FrameType: FRAME, ReferenceType: WEAKREF, CodeType: CODE,
}
_BASE_KIND = {dict: DICT, list: SEQ, tuple: SEQ, DequeType: SEQ, set: SET, frozenset: SET,
              ReferenceType: WEAKREF, ModuleType: MODULE}


def type_mro(t):
    """`t.__mro__` without metaclass code; () if unreadable."""
    try:
        return _tmro(t) or ()
    except Exception:
        return ()


def class_namespace(t):
    """The read-only namespace of class `t` (never a metaclass `__dict__`)."""
    try:
        return _tdict(t)
    except Exception:
        return {}


READY = 1 << 12


def is_ready(t):
    """Whether PyType_Ready has run on class `t` (its bases, MRO and dict are set)."""
    try:
        return bool(_tflags(t) & READY)
    except Exception:
        return False


def is_heap_type(t):
    return bool(_tflags(t) & HEAPTYPE)


def _defines_get(t):
    """Whether objects of type `t` are descriptors (their class defines __get__)."""
    return any("__get__" in class_namespace(k) for k in type_mro(t))


_subclasses = type.__dict__["__subclasses__"]


def classes_hash_by_identity():
    """Whether hashing any class runs only C code: no metaclass (a subclass of `type`, found
    through `type.__subclasses__`) defines `__hash__` or `__eq__` in Python."""
    try:
        todo = list(_subclasses(type))
        seen = set()
        while todo:
            mc = todo.pop()
            if id(mc) in seen:
                continue
            seen.add(id(mc))
            for k in type_mro(mc):
                if is_heap_type(k):
                    ns = class_namespace(k)
                    if "__hash__" in ns or "__eq__" in ns:
                        return False
            todo.extend(_subclasses(mc))
        return True
    except Exception:
        return False


def dict_getter(t):
    """3.11+: the `__get__` of the `__dict__` descriptor of a class whose instances keep
    their attributes inline (reading it materialises the dict), else None."""
    try:
        if not (PY311 and is_heap_type(t) and _tflags(t) & MANAGED_DICT):
            return None
    except Exception:
        return None
    desc = lookup_class_attr(type_mro(t), "__dict__")
    return desc.__get__ if type(desc) is GetSetDescriptorType else None


def lookup_class_attr(mro, name, missing=None):
    """The MRO lookup of `name` (what `_PyType_Lookup` finds), without calling anything."""
    for k in mro:
        ns = class_namespace(k)
        if name in ns:
            return ns[name]
    return missing


def has_in_mro(mro, cls):
    """`cls in mro` by identity (`in` would call a metaclass __eq__)."""
    return any(k is cls for k in mro)


def plan_for(t):
    """The plan number of type `t`."""
    plan = _EXACT_BY_ID.get(id(t))
    if plan is not None:
        return plan
    flags = _tflags(t)
    if flags & TYPE_SUBCLASS:
        return CLASSOBJ
    if flags & HEAPTYPE:
        return INSTANCE
    if not flags & HAVE_GC:
        return ATOM
    if has_in_mro(type_mro(t), dict):
        return DICTSUB
    return PLAIN


_EXACT_BY_ID = {id(t): plan for t, plan in _EXACT.items()}


_C_METHOD = type(object.__dict__["__sizeof__"])


def sizeof_overridden(mro):
    """Whether a class in `mro` defines __sizeof__ in Python (sys.getsizeof would run it).
    Heap types of C extensions (array.array on 3.12+, numpy) define it in C: safe to call."""
    for k in mro:
        if is_heap_type(k):
            f = class_namespace(k).get("__sizeof__")
            if f is not None and type(f) is not _C_METHOD:
                return True
    return False


class ClassInfo:
    """What the walker needs to label the referents of instances of a Python class."""

    __slots__ = ("slots", "has_dict", "inline", "base_kind", "names", "getattr_mode",
                 "dict_getter", "is_weakref", "simple", "layout", "forward_items",
                 "plain_class_attr")

    FAST, GENERIC, NO_NAMES = range(3)

    def __init__(self, t, in_fork_child):
        mro = type_mro(t)
        flags = _tflags(t)
        self.slots = _slot_descriptors(mro)
        self.inline = PY311 and bool(flags & MANAGED_DICT)
        try:
            self.has_dict = self.inline or _tdictoffset(t) != 0
        except Exception:
            self.has_dict = False
        self.base_kind = PLAIN
        self.forward_items = has_in_mro(mro, DequeType)
        for k in mro:
            if not is_heap_type(k):
                kmro = type_mro(k)
                self.base_kind = next((v for b, v in _BASE_KIND.items() if has_in_mro(kmro, b)),
                                      PLAIN)
                break
        self.is_weakref = has_in_mro(mro, ReferenceType)
        # `o.__class__` is object's descriptor, so it gives type(o) and runs no user code
        self.plain_class_attr = lookup_class_attr(mro, "__class__") is _OBJECT_CLASS
        # instances with only attributes and the class as referents take the walker's
        # fast path; `layout` caches the last labelling (see Walker._instance_fast)
        self.simple = not self.slots and self.base_kind == PLAIN and not self.is_weakref
        self.layout = None
        self.dict_getter = None
        self.names = ()
        self.getattr_mode = ClassInfo.NO_NAMES
        if self.inline:
            if in_fork_child:
                self.dict_getter = dict_getter(t)
            else:
                self.getattr_mode = _getattr_mode(mro)
                if self.getattr_mode != ClassInfo.NO_NAMES:
                    self.names = _safe_candidates(mro)

    def add_names(self, mro, keys):
        """Learn attribute names from an already materialised instance dict."""
        if self.getattr_mode == ClassInfo.NO_NAMES:
            return
        new = [k for k in keys if type(k) is str and k not in self.names]
        if new:
            self.names = tuple(self.names) + tuple(_filter_safe(mro, new))


_OBJECT_CLASS = object.__dict__["__class__"]


def _slot_descriptors(mro):
    """[(name, member_descriptor)] for every slot over the MRO (names as stored: mangled)."""
    out = []
    for k in mro:
        if not is_heap_type(k):
            continue
        for name, v in list(dict.items(dict(class_namespace(k)))):
            if type(v) is MemberDescriptorType and type(name) is str:
                out.append((name, v))
    return out


def _getattr_mode(mro):
    """FAST: `getattr(o, name, default)` runs only the generic lookup; GENERIC: use
    `object.__getattribute__` (the class defines __getattr__ or a Python __getattribute__);
    NO_NAMES: a C base has its own attribute lookup, do not try."""
    has_getattr = any("__getattr__" in class_namespace(k) for k in mro)
    python_getattribute = False
    for k in mro:
        if "__getattribute__" in class_namespace(k):
            if is_heap_type(k):
                python_getattribute = True
                continue
            if k is not object:
                return ClassInfo.NO_NAMES
            break
    if has_getattr or python_getattribute:
        return ClassInfo.GENERIC
    return ClassInfo.FAST


def _safe_candidates(mro):
    """Candidate attribute names of instances: names stored with STORE_ATTR by the
    functions of the class and its Python bases (+ `__static_attributes__` on 3.13),
    keeping only names that resolve to no descriptor on the class."""
    names = set()
    for k in mro:
        if not is_heap_type(k):
            continue
        ns = class_namespace(k)
        if PY313:
            static = ns.get("__static_attributes__", ())
            if type(static) is tuple:
                names.update(n for n in static if type(n) is str)
        for v in list(dict.values(dict(ns))):
            for code in _codes_of(v):
                _stored_attr_names(code, names)
    return tuple(_filter_safe(mro, sorted(names)))


def _filter_safe(mro, names):
    missing = object()
    for name in names:
        v = lookup_class_attr(mro, name, missing)
        if v is missing or not _defines_get(type(v)):
            yield name


def _codes_of(v):
    t = type(v)
    if t is FunctionType:
        return (v.__code__,)
    if t is StaticMethodType or t is ClassMethodType:
        f = v.__func__
        return (f.__code__,) if type(f) is FunctionType else ()
    if t is PropertyType:
        return tuple(f.__code__ for f in (v.fget, v.fset, v.fdel) if type(f) is FunctionType)
    return ()


def _opcodes():
    import opcode
    return opcode.opmap["STORE_ATTR"], opcode.opmap["EXTENDED_ARG"]


STORE_ATTR, EXTENDED_ARG = _opcodes() if PY311 else (None, None)


def _stored_attr_names(code, out, depth=0):
    """Add to `out` the names of STORE_ATTR instructions in `code` and nested code."""
    raw = code.co_code
    names = code.co_names
    ext = 0
    for i in range(0, len(raw) - 1, 2):
        op = raw[i]
        arg = raw[i + 1] | ext
        if op == EXTENDED_ARG:
            ext = arg << 8
            continue
        ext = 0
        if op == STORE_ATTR and arg < len(names):
            out.add(names[arg])
    if depth < 4:
        for c in code.co_consts:
            if type(c) is CodeType:
                _stored_attr_names(c, out, depth + 1)
