"""Allocation sites from tracemalloc (sections FRAMES, TB_OFFSETS, TB_FRAMES, OBJ_TRACEBACK)."""

import sys
from array import array

from . import snapformat as F


def is_tracing():
    tm = sys.modules.get("tracemalloc")
    try:
        return tm is not None and tm.is_tracing()
    except Exception:
        return False


def record(objs, strings):
    """(frames, tb_offsets, tb_frames, obj_traceback, traceback_limit) for `objs`."""
    import tracemalloc
    get_tb = tracemalloc.get_object_traceback
    frame_ids = {}
    frames = array("I")
    tb_ids = {}
    tb_offsets = array("I", [0])
    tb_frames = array("I")
    obj_tb = array("I")
    for o in objs:
        try:
            tb = get_tb(o)
        except Exception:
            tb = None
        if tb is None:
            obj_tb.append(F.NONE)
            continue
        key = tuple((fr.filename, fr.lineno) for fr in tb)
        j = tb_ids.get(key)
        if j is None:
            j = tb_ids[key] = len(tb_offsets) - 1
            for site in key:
                fid = frame_ids.get(site)
                if fid is None:
                    fid = frame_ids[site] = len(frames) // 2
                    name = site[0] if type(site[0]) is str else "?"
                    frames.extend((strings.intern(name), max(0, min(site[1] or 0, F.NONE))))
                tb_frames.append(fid)
            tb_offsets.append(len(tb_frames))
        obj_tb.append(j)
    return frames, tb_offsets, tb_frames, obj_tb, tracemalloc.get_traceback_limit()
