"""Write fuzz/corpus/snap_reader/small-v2.snap: a seven-object version-2 snapshot (a
module, its dict, a list of two str, an instance with a weakref to it, and a duplicate
record and a dangling edge, so the fuzzer starts from every path of the resolver).
usage: python3 fuzz/make_v2_seed.py"""

import json
import os
import sys
from array import array

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from leakhunt import snapformat as F  # noqa: E402
from leakhunt.strings import StringTable  # noqa: E402
from leakhunt.writer import write_snapshot  # noqa: E402

s = StringTable()
types = [("module", "builtins"), ("dict", "builtins"), ("list", "builtins"),
         ("str", "builtins"), ("Node", "app"), ("ReferenceType", "builtins")]
rows = array("I")
for q, m in types:
    rows.extend((s.intern(q), s.intern(m), F.NONE, 0))
A = 0x7F0000001000
addr = array("Q", [A, A + 0x40, A + 0x80, A + 0xC0, A + 0x100, A + 0x140, A + 0xC0])
obj_type = array("I", [0, 1, 2, 3, 4, 5, 3])
edges = [  # (source, target address, kind, label)
    (0, A + 0x40, F.INSTANCE_DICT, s.intern("__dict__")),
    (1, A + 0x80, F.DICT_KEY, s.intern("'items'")), (1, A + 0x80, F.DICT_VALUE, s.intern("'items'")),
    (2, A + 0xC0, F.INDEX, F.NONE), (2, A + 0x100, F.INDEX, F.NONE), (2, 0xDEAD0, F.INDEX, F.NONE),
    (5, A + 0x100, F.WEAK, F.NONE),
]
counts = array("I", [sum(1 for e in edges if e[0] == i) for i in range(len(addr))])
meta = {"format": "leakhunt-snap", "format_version": 2, "dumper_version": "seed",
        "python_version": "3.12.1", "implementation": "cpython", "pointer_size": 8,
        "pid": 1, "time": 0.0, "step": None, "label": None, "objects": len(addr),
        "edges": len(edges), "refcount_baseline": 1}
sections = [
    (F.SEC_META, json.dumps(meta).encode()),
    (F.SEC_STR_OFFSETS, s.offsets), (F.SEC_STR_DATA, s.data),
    (F.SEC_TYPES, rows), (F.SEC_TYPE_ADDR, array("Q", [0, 0, 0, 0, A + 0x200, 0])),
    (F.SEC_OBJ_ADDR, addr), (F.SEC_OBJ_TYPE, obj_type),
    (F.SEC_OBJ_SIZE, array("Q", [72, 232, 72, 50, 48, 64, 50])),
    (F.SEC_OBJ_FLAGS, bytes([1, 1, 1, 0, 1, 1, 0])),
    (F.SEC_OBJ_REFCOUNT, array("I", [3, 2, 2, 2, 2, 2, 2])),
    (F.SEC_EDGE_COUNTS, counts),
    (F.SEC_EDGE_TARGET_ADDR, array("Q", [e[1] for e in edges])),
    (F.SEC_EDGE_KIND, bytes(e[2] for e in edges)),
    (F.SEC_EDGE_LABEL, array("I", [e[3] for e in edges])),
    (F.SEC_ROOTS, array("I", [F.NONE, F.ROOT_MODULE, s.intern("app"), 0])),
    (F.SEC_ROOT_ADDR, array("Q", [A])),
]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "snap_reader", "small-v2.snap")
print(out, write_snapshot(out, sections, len(addr), len(edges)))
