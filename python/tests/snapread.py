"""A pure-Python reader of `.snap` files (v1, and v2 resolved as §12 says) that checks every
rule of formats/snap.md §10.

It doubles as an executable check of the spec: `Snapshot(path)` raises `SnapError` (with
the byte offset) on the first violation. Usage as a script: `snapread.py FILE` prints a
summary."""

import json
import os
import struct
import sys
import zlib
from array import array

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from leakhunt import snapformat as F  # noqa: E402

_TYPECODE = {1: "B", 4: "I", 8: "Q"}
_META_REQUIRED = {
    "format": (str,), "format_version": (int,), "dumper_version": (str,),
    "python_version": (str,), "implementation": (str,), "pointer_size": (int,),
    "pid": (int,), "time": (float, int), "step": (int, type(None)),
    "label": (str, type(None)), "objects": (int,), "edges": (int,),
}


class SnapError(ValueError):
    """A violated rule: `offset` is where in the file, the message says what was expected."""

    def __init__(self, offset, message):
        super().__init__("offset %d: %s" % (offset, message))
        self.offset = offset


class Snapshot:
    """A validated snapshot. Columns are `array`s; strings are decoded on demand."""

    def __init__(self, path, check_crc=True):
        with open(path, "rb") as f:
            self.raw = f.read()
        self._validate(check_crc)

    # -- parsing and validation ------------------------------------------------------------

    def _validate(self, check_crc):
        raw = self.raw
        size = len(raw)
        if size < F.HEADER_SIZE + F.TRAILER_SIZE:
            raise SnapError(0, "file of %d bytes is shorter than header + trailer" % size)
        magic, version, count, file_size, header_size = struct.unpack_from("<8sIIQI", raw, 0)
        if magic != F.MAGIC:
            raise SnapError(0, "bad magic %r" % magic)
        if version not in (1, 2):
            raise SnapError(8, "unsupported version %d" % version)
        self.version = version
        if header_size != F.HEADER_SIZE:
            raise SnapError(24, "header_size %d != 64" % header_size)
        if file_size != size:
            raise SnapError(16, "file_size %d != actual size %d" % (file_size, size))
        if not 1 <= count <= 64:
            raise SnapError(12, "section_count %d not in 1..64" % count)
        data_start = F.HEADER_SIZE + F.DIR_ENTRY_SIZE * count
        trailer_at = size - F.TRAILER_SIZE
        if data_start > trailer_at:
            raise SnapError(12, "directory runs into the trailer")
        tmagic, t_objects, t_edges, crc, _ = struct.unpack_from("<8sQQII", raw, trailer_at)
        if tmagic != F.TRAILER_MAGIC:
            raise SnapError(trailer_at, "bad trailer magic (truncated file?)")
        if check_crc and zlib.crc32(memoryview(raw)[:trailer_at]) & 0xFFFFFFFF != crc:
            raise SnapError(trailer_at + 24, "CRC-32 mismatch")

        self.sections = {}
        spans = []
        for j in range(count):
            at = F.HEADER_SIZE + F.DIR_ENTRY_SIZE * j
            sid, elem, offset, n, byte_len = struct.unpack_from("<IIQQQ", raw, at)
            if elem == 0 or n * elem != byte_len:
                raise SnapError(at, "section %d: byte_len %d != count %d x elem_size %d"
                                % (sid, byte_len, n, elem))
            if offset % 8:
                raise SnapError(at + 8, "section %d: offset %d not 8-aligned" % (sid, offset))
            if offset < data_start or offset + byte_len > trailer_at:
                raise SnapError(at + 8, "section %d: [%d, %d) outside the payload area"
                                % (sid, offset, offset + byte_len))
            if sid in self.sections:
                raise SnapError(at, "section %d listed twice" % sid)
            known = F.SECTIONS.get(sid)
            if known is not None and known[1] != elem:
                raise SnapError(at + 4, "section %d: elem_size %d, expected %d"
                                % (sid, elem, known[1]))
            spans.append((offset, offset + byte_len, sid, at))
            if known is not None:
                self.sections[sid] = (offset, n, byte_len, elem)
        spans.sort()
        for (a0, a1, sa, _), (b0, b1, sb, at) in zip(spans, spans[1:]):
            if b0 < a1 and b1 > b0 and a1 > a0:
                raise SnapError(at, "sections %d and %d overlap" % (sa, sb))
        for sid in (F.REQUIRED_SECTIONS if version == 2 else F.REQUIRED_SECTIONS_V1):
            if sid not in self.sections:
                raise SnapError(F.HEADER_SIZE, "required section %s missing" % F.SECTIONS[sid][0])
        present = [sid in self.sections for sid in F.ALLOC_SECTIONS]
        if any(present) and not all(present):
            raise SnapError(F.HEADER_SIZE, "allocation-site sections partly present")

        col = self._column
        self.addr, self.obj_type = col(F.SEC_OBJ_ADDR), col(F.SEC_OBJ_TYPE)
        self.size, self.flags = col(F.SEC_OBJ_SIZE), col(F.SEC_OBJ_FLAGS)
        if version == 1:
            self.edge_offsets = col(F.SEC_EDGE_OFFSETS)
        else:
            self.edge_offsets = array("Q", [0])
            for c in col(F.SEC_EDGE_COUNTS):
                self.edge_offsets.append(self.edge_offsets[-1] + c)
        self.kind = col(F.SEC_EDGE_KIND)
        self.label = col(F.SEC_EDGE_LABEL)
        self.target = col(F.SEC_EDGE_TARGET if version == 1 else F.SEC_EDGE_TARGET_ADDR)
        n, m = len(self.addr), len(self.target)
        self.n, self.m = n, m
        rows = (F.SEC_EDGE_OFFSETS, n + 1) if version == 1 else (F.SEC_EDGE_COUNTS, n)
        for sid, want in ((F.SEC_OBJ_TYPE, n), (F.SEC_OBJ_SIZE, n), (F.SEC_OBJ_FLAGS, n),
                          rows, (F.SEC_EDGE_KIND, m), (F.SEC_EDGE_LABEL, m)):
            if self.sections[sid][1] != want:
                raise SnapError(self._dir_at(sid), "%s has %d elements, expected %d"
                                % (F.SECTIONS[sid][0], self.sections[sid][1], want))
        if n >= F.NONE:
            raise SnapError(self._dir_at(F.SEC_OBJ_ADDR), "too many objects")
        if (t_objects, t_edges) != (n, m):
            raise SnapError(trailer_at + 8, "trailer counts %d/%d != sections %d/%d"
                            % (t_objects, t_edges, n, m))

        # strings
        self.str_offsets = col(F.SEC_STR_OFFSETS)
        so = self.str_offsets
        data_off, _, data_len, _ = self.sections[F.SEC_STR_DATA]
        if len(so) < 2 or so[0] != 0 or so[-1] != data_len:
            raise SnapError(self._dir_at(F.SEC_STR_OFFSETS), "string offsets must run 0..len(STR_DATA)")
        if any(a > b for a, b in zip(so, so[1:])):
            raise SnapError(self._dir_at(F.SEC_STR_OFFSETS), "string offsets decrease")
        if so[1] != 0:
            raise SnapError(self._dir_at(F.SEC_STR_OFFSETS), "string 0 is not empty")
        self.str_data = raw[data_off:data_off + data_len]
        try:
            self.strings = [self.str_data[a:b].decode("utf-8") for a, b in zip(so, so[1:])]
        except UnicodeDecodeError as e:
            raise SnapError(data_off + e.start, "string data is not valid UTF-8")
        s = len(self.strings)

        # META
        meta_off, _, meta_len, _ = self.sections[F.SEC_META]
        try:
            self.meta = json.loads(raw[meta_off:meta_off + meta_len].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise SnapError(meta_off, "META is not UTF-8 JSON: %s" % e)
        if type(self.meta) is not dict:
            raise SnapError(meta_off, "META is not a JSON object")
        for key, types in _META_REQUIRED.items():
            if key not in self.meta or type(self.meta[key]) not in types:
                raise SnapError(meta_off, "META key %r missing or of the wrong type" % key)
        if self.meta["format"] != "leakhunt-snap" or self.meta["format_version"] != version:
            raise SnapError(meta_off, "META format/format_version")
        if (self.meta["objects"], self.meta["edges"]) != (n, m):
            raise SnapError(meta_off, "META objects/edges != section counts")

        # types
        types = col(F.SEC_TYPES, "I")
        self.types = [tuple(types[i:i + 4]) for i in range(0, len(types), 4)]
        roots = col(F.SEC_ROOTS, "I")
        self.roots = [tuple(roots[i:i + 4]) for i in range(0, len(roots), 4)]
        if version == 2:
            self._resolve_v2(present)
            n, m = self.n, self.m
        t = len(self.types)
        for j, (q, mod, obj, _) in enumerate(self.types):
            if q >= s or mod >= s or not (obj < n or obj == F.NONE):
                raise SnapError(self._elem_at(F.SEC_TYPES, j), "type %d: bad string or object id" % j)
        if n and max(self.obj_type) >= t:
            raise SnapError(self._dir_at(F.SEC_OBJ_TYPE), "object type id out of range")

        # edges
        eo = self.edge_offsets
        if eo[0] != 0 or eo[-1] != m or any(a > b for a, b in zip(eo, eo[1:])):
            raise SnapError(self._dir_at(F.SEC_EDGE_OFFSETS if self.version == 1 else F.SEC_EDGE_COUNTS),
                            "edge offsets must run 0..m, non-decreasing")
        if m and max(self.target) >= n:
            raise SnapError(self._dir_at(F.SEC_EDGE_TARGET), "edge target out of range")
        for e in range(m):
            if self.kind[e] in F.STRING_LABEL_KINDS:
                lab = self.label[e]
                if lab >= s and lab != F.NONE:
                    raise SnapError(self._elem_at(F.SEC_EDGE_LABEL, e), "edge %d: label not a string id" % e)

        # roots
        for j, (obj, _kind, name, _extra) in enumerate(self.roots):
            if obj >= n or name >= s:
                raise SnapError(self._elem_at(F.SEC_ROOTS, j), "root %d: bad object or name" % j)

        # allocation sites
        if version == 1:
            self.obj_traceback = None
        if all(present):
            if self.meta.get("tracemalloc") is not True:
                raise SnapError(meta_off, "allocation sites present but META.tracemalloc is not true")
            fr = col(F.SEC_FRAMES, "I")
            self.frames = [(fr[i], fr[i + 1]) for i in range(0, len(fr), 2)]
            if any(fn >= s for fn, _ in self.frames):
                raise SnapError(self._dir_at(F.SEC_FRAMES), "frame filename not a string id")
            self.tb_offsets, self.tb_frames = col(F.SEC_TB_OFFSETS), col(F.SEC_TB_FRAMES)
            to = self.tb_offsets
            if not to or to[0] != 0 or to[-1] != len(self.tb_frames) or any(
                    a > b for a, b in zip(to, to[1:])):
                raise SnapError(self._dir_at(F.SEC_TB_OFFSETS), "traceback offsets")
            if self.tb_frames and max(self.tb_frames) >= len(self.frames):
                raise SnapError(self._dir_at(F.SEC_TB_FRAMES), "traceback frame id out of range")
            if self.obj_traceback is None:
                self.obj_traceback = col(F.SEC_OBJ_TRACEBACK)
            k = len(to) - 1
            if len(self.obj_traceback) != n or any(
                    x >= k and x != F.NONE for x in self.obj_traceback):
                raise SnapError(self._dir_at(F.SEC_OBJ_TRACEBACK), "object traceback ids")
        self.values = {}
        if F.SEC_VALUES in self.sections:
            vals = col(F.SEC_VALUES, "I")
            if version == 2:
                renum = self._renumber
                vals = array("I", [x for i in range(0, len(vals), 2)
                                   if renum[vals[i]] != F.NONE
                                   for x in (renum[vals[i]], vals[i + 1])])
            for i in range(0, len(vals), 2):
                if vals[i] >= n or vals[i + 1] >= s:
                    raise SnapError(self._elem_at(F.SEC_VALUES, i // 2), "value row out of range")
                self.values[vals[i]] = self.strings[vals[i + 1]]

    def _resolve_v2(self, present):
        """Version 2 (formats/snap.md §12): addresses to object numbers, duplicates merged,
        dangling edges dropped, INDEX labels numbered, type bits and IMMORTAL into the
        flags, and the held-from-outside roots from the refcounts."""
        col = self._column
        addr = self.addr
        first = {}
        renum = array("I")
        kept = []
        for i, a in enumerate(addr):
            if a in first:
                renum.append(F.NONE)
            else:
                first[a] = len(kept)
                renum.append(len(kept))
                kept.append(i)
        self._renumber = renum
        self.duplicates = len(addr) - len(kept)
        eo, tgt, kind, label = self.edge_offsets, self.target, self.kind, self.label
        self.dangling = 0
        offs, t2, k2, l2 = array("Q", [0]), array("I"), array("B"), array("I")
        for i in kept:
            index = 0
            for e in range(eo[i], eo[i + 1]):
                t = first.get(tgt[e])
                lab = label[e]
                if kind[e] == F.INDEX:
                    if lab == F.NONE:
                        lab = index
                    index += 1
                if t is None:
                    self.dangling += 1
                    continue
                t2.append(t)
                k2.append(kind[e])
                l2.append(lab)
            offs.append(len(t2))
        rc = col(F.SEC_OBJ_REFCOUNT)
        type_addr = col(F.SEC_TYPE_ADDR)
        flags = bytearray()
        for i in kept:
            f = self.flags[i] | (self.types[self.obj_type[i]][3] & 0x7F)
            if rc[i] >= F.IMMORTAL_REFCOUNT:
                f |= F.F_IMMORTAL
            flags.append(f)
        root_addr = col(F.SEC_ROOT_ADDR)
        roots = [(first[a], k, name, extra)
                 for (_, k, name, extra), a in zip(self.roots, root_addr) if a in first]
        indeg = [0] * len(kept)
        for t, k in zip(t2, k2):
            if k != F.WEAK:
                indeg[t] += 1
        base = self.meta["refcount_baseline"]
        for j, i in enumerate(kept):
            if flags[j] & (F.F_IMMORTAL | F.F_IS_FRAME):
                continue
            extra = rc[i] - base - indeg[j]
            if extra > 0:
                roots.append((j, F.ROOT_HELD_FROM_OUTSIDE, 0, min(extra, F.NONE - 1)))
        self.types = [(q, mod, first.get(a, F.NONE), 0)
                      for (q, mod, _, _), a in zip(self.types, type_addr)]
        self.addr = array("Q", [addr[i] for i in kept])
        self.obj_type = array("I", [self.obj_type[i] for i in kept])
        self.size = array("Q", [self.size[i] for i in kept])
        self.flags = flags
        self.edge_offsets, self.target, self.kind, self.label = offs, t2, k2, l2
        self.roots = roots
        self.n, self.m = len(kept), len(t2)
        self.obj_traceback = None
        if all(present):
            tb = col(F.SEC_OBJ_TRACEBACK)
            self.obj_traceback = array("I", [tb[i] for i in kept])

    def _dir_at(self, sid):
        raw = self.raw
        count = struct.unpack_from("<I", raw, 12)[0]
        for j in range(count):
            at = F.HEADER_SIZE + F.DIR_ENTRY_SIZE * j
            if struct.unpack_from("<I", raw, at)[0] == sid:
                return at
        return F.HEADER_SIZE

    def _elem_at(self, sid, j):
        offset, _, _, elem = self.sections[sid]
        return offset + j * elem

    def _column(self, sid, typecode=None):
        offset, n, byte_len, elem = self.sections[sid]
        a = array(typecode or _TYPECODE[elem])
        a.frombytes(self.raw[offset:offset + byte_len])
        if sys.byteorder != "little" and a.itemsize > 1:
            a.byteswap()
        return a

    # -- queries ----------------------------------------------------------------------------

    def type_name(self, i):
        """'module.qualname' of object i's type ('builtins.' omitted)."""
        q, mod, _, _ = self.types[self.obj_type[i]]
        mod = self.strings[mod]
        return self.strings[q] if mod == "builtins" else "%s.%s" % (mod, self.strings[q])

    def edges(self, i):
        """[(target, kind, label)] of object i; label is a str, an int (INDEX) or None."""
        out = []
        for e in range(self.edge_offsets[i], self.edge_offsets[i + 1]):
            kind, lab = self.kind[e], self.label[e]
            if kind == F.INDEX:
                label = lab
            elif lab == F.NONE or kind not in F.STRING_LABEL_KINDS:
                label = None
            else:
                label = self.strings[lab]
            out.append((self.target[e], kind, label))
        return out

    def referrers(self, j):
        """[(source, kind, label)] of edges into object j (a linear scan)."""
        out = []
        for i in range(self.n):
            for t, kind, label in self.edges(i):
                if t == j:
                    out.append((i, kind, label))
        return out

    def objects_of_type(self, qualname):
        ids = {k for k, (q, _, _, _) in enumerate(self.types) if self.strings[q] == qualname}
        return [i for i in range(self.n) if self.obj_type[i] in ids]

    def roots_of_kind(self, kind):
        return [(obj, self.strings[name], extra) for obj, k, name, extra in self.roots if k == kind]

    def traceback(self, i):
        """[(filename, lineno)] oldest first for object i, or None."""
        if self.obj_traceback is None or self.obj_traceback[i] == F.NONE:
            return None
        j = self.obj_traceback[i]
        return [(self.strings[self.frames[f][0]], self.frames[f][1])
                for f in self.tb_frames[self.tb_offsets[j]:self.tb_offsets[j + 1]]]


def main(argv):
    snap = Snapshot(argv[1])
    counts = {}
    for i in range(snap.n):
        counts[snap.obj_type[i]] = counts.get(snap.obj_type[i], 0) + 1
    print("%s: %d objects, %d edges, %d strings, %d types, %d roots; python %s"
          % (argv[1], snap.n, snap.m, len(snap.strings), len(snap.types), len(snap.roots),
             snap.meta["python_version"]))
    for j, c in sorted(counts.items(), key=lambda kv: -kv[1])[:15]:
        q, mod, _, _ = snap.types[j]
        print("  %8d  %s.%s" % (c, snap.strings[mod], snap.strings[q]))
    kinds = {}
    for r in snap.roots:
        kinds[r[1]] = kinds.get(r[1], 0) + 1
    print("  roots:", {F.ROOT_KIND_NAMES[k]: v for k, v in kinds.items()})


if __name__ == "__main__":
    main(sys.argv)
