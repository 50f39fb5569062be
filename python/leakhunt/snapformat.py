"""Constants of the `.snap` format (see formats/snap.md): section ids, edge kinds,
object flags and root kinds. Shared by the writer and by the test reader."""

from struct import Struct

MAGIC = b"LKSNAP\r\n"
TRAILER_MAGIC = b"LKSNEND\n"
VERSION = 2          # what the dumper writes; readers also accept 1
HEADER_SIZE = 64
DIR_ENTRY_SIZE = 32
TRAILER_SIZE = 32
NONE = 0xFFFFFFFF  # "absent" for u32 ids and labels

# Compiled once at import: `struct.pack(fmt, ...)` with a format string caches a new
# `Struct` in the `_struct` module the first time each format is used, which would show up
# as objects created by the dump in the next snapshot.
HEADER_STRUCT = Struct("<8sIIQI")
DIR_ENTRY_STRUCT = Struct("<IIQQQ")
TRAILER_STRUCT = Struct("<8sQQII")
POINTER_SIZE = Struct("P").size

# section id -> (name, element size)
SEC_META = 1
SEC_STR_OFFSETS = 2
SEC_STR_DATA = 3
SEC_TYPES = 4
SEC_OBJ_ADDR = 5
SEC_OBJ_TYPE = 6
SEC_OBJ_SIZE = 7
SEC_OBJ_FLAGS = 8
SEC_EDGE_OFFSETS = 9
SEC_EDGE_TARGET = 10
SEC_EDGE_KIND = 11
SEC_EDGE_LABEL = 12
SEC_ROOTS = 13
SEC_FRAMES = 14
SEC_TB_OFFSETS = 15
SEC_TB_FRAMES = 16
SEC_OBJ_TRACEBACK = 17
SEC_VALUES = 18
SEC_TYPE_ADDR = 19
SEC_OBJ_REFCOUNT = 20
SEC_EDGE_TARGET_ADDR = 21
SEC_ROOT_ADDR = 22
SEC_EDGE_COUNTS = 23

SECTIONS = {
    SEC_META: ("META", 1),
    SEC_STR_OFFSETS: ("STR_OFFSETS", 8),
    SEC_STR_DATA: ("STR_DATA", 1),
    SEC_TYPES: ("TYPES", 16),
    SEC_OBJ_ADDR: ("OBJ_ADDR", 8),
    SEC_OBJ_TYPE: ("OBJ_TYPE", 4),
    SEC_OBJ_SIZE: ("OBJ_SIZE", 8),
    SEC_OBJ_FLAGS: ("OBJ_FLAGS", 1),
    SEC_EDGE_OFFSETS: ("EDGE_OFFSETS", 8),
    SEC_EDGE_TARGET: ("EDGE_TARGET", 4),
    SEC_EDGE_KIND: ("EDGE_KIND", 1),
    SEC_EDGE_LABEL: ("EDGE_LABEL", 4),
    SEC_ROOTS: ("ROOTS", 16),
    SEC_FRAMES: ("FRAMES", 8),
    SEC_TB_OFFSETS: ("TB_OFFSETS", 4),
    SEC_TB_FRAMES: ("TB_FRAMES", 4),
    SEC_OBJ_TRACEBACK: ("OBJ_TRACEBACK", 4),
    SEC_VALUES: ("VALUES", 8),
    SEC_TYPE_ADDR: ("TYPE_ADDR", 8),
    SEC_OBJ_REFCOUNT: ("OBJ_REFCOUNT", 4),
    SEC_EDGE_TARGET_ADDR: ("EDGE_TARGET_ADDR", 8),
    SEC_ROOT_ADDR: ("ROOT_ADDR", 8),
    SEC_EDGE_COUNTS: ("EDGE_COUNTS", 4),
}
# version 1 holds object numbers in EDGE_TARGET; version 2 holds addresses (EDGE_TARGET_ADDR,
# ROOT_ADDR, TYPE_ADDR) and refcounts, and the reader resolves them (formats/snap.md §12)
REQUIRED_SECTIONS_V1 = tuple(range(SEC_META, SEC_ROOTS + 1))
REQUIRED_SECTIONS = tuple(s for s in REQUIRED_SECTIONS_V1
                          if s not in (SEC_EDGE_TARGET, SEC_EDGE_OFFSETS)) + (
    SEC_TYPE_ADDR, SEC_OBJ_REFCOUNT, SEC_EDGE_TARGET_ADDR, SEC_ROOT_ADDR, SEC_EDGE_COUNTS)
ALLOC_SECTIONS = (SEC_FRAMES, SEC_TB_OFFSETS, SEC_TB_FRAMES, SEC_OBJ_TRACEBACK)

# edge kinds
OTHER = 0
ATTRIBUTE = 1
DICT_KEY = 2
DICT_VALUE = 3
INDEX = 4
CLOSURE = 5
METHOD_SELF = 6
METHOD_FUNC = 7
FRAME_LOCAL = 8
CLASS = 9
WEAK = 10
CELL_CONTENTS = 11
SET_ITEM = 12
INSTANCE_DICT = 13
EDGE_KIND_NAMES = ("OTHER", "ATTRIBUTE", "DICT_KEY", "DICT_VALUE", "INDEX", "CLOSURE",
                   "METHOD_SELF", "METHOD_FUNC", "FRAME_LOCAL", "CLASS", "WEAK",
                   "CELL_CONTENTS", "SET_ITEM", "INSTANCE_DICT")
# kinds whose label is a string id
STRING_LABEL_KINDS = frozenset((ATTRIBUTE, DICT_KEY, DICT_VALUE, CLOSURE, METHOD_SELF,
                                METHOD_FUNC, FRAME_LOCAL, CELL_CONTENTS, INSTANCE_DICT))

# object flag bits
F_GC_TRACKED = 1
F_IS_WEAKREF = 2
F_IS_MODULE = 4
F_IS_FRAME = 8
F_IS_CLASS = 16
F_IMMORTAL = 32
F_SIZE_UNDERREPORTED = 64

# root kinds
ROOT_MODULE = 0
ROOT_THREAD = 1
ROOT_HELD_FROM_OUTSIDE = 2
ROOT_INTERPRETER = 3
ROOT_KIND_NAMES = ("MODULE", "THREAD", "HELD_FROM_OUTSIDE", "INTERPRETER")

# refcounts at or above this are immortal (3.12+) or static (3.11 deep-frozen objects)
IMMORTAL_REFCOUNT = 999_999_999
