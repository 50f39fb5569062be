"""Writes a `.snap` file (formats/snap.md): header, directory, 8-aligned sections, trailer
with CRC-32. Writes `PATH.tmp-<pid>` and renames it, so PATH is complete or absent."""

import os
import sys
import zlib
from array import array

from . import snapformat as F

_LITTLE = sys.byteorder == "little"


def _as_bytes(payload):
    """A little-endian bytes-like view of an array / bytes / bytearray payload."""
    if isinstance(payload, array) and not _LITTLE and payload.itemsize > 1:
        payload = array(payload.typecode, payload)
        payload.byteswap()
    return memoryview(payload).cast("B")


def write_snapshot(path, sections, objects, edges):
    """Write `sections` ([(section_id, payload)]; a payload may be a list of pieces written
    one after another) to `path`; returns the file size."""
    payloads = []
    for sid, payload in sections:
        elem = F.SECTIONS[sid][1]
        pieces = [_as_bytes(p) for p in (payload if type(payload) is list else [payload])]
        size = sum(map(len, pieces))
        if size % elem:
            raise ValueError("section %d: %d bytes is not a multiple of %d" % (sid, size, elem))
        payloads.append((sid, elem, pieces, size))
    pos = F.HEADER_SIZE + F.DIR_ENTRY_SIZE * len(payloads)
    directory = bytearray()
    layout = []
    for sid, elem, pieces, size in payloads:
        pos = (pos + 7) & ~7
        directory += F.DIR_ENTRY_STRUCT.pack(sid, elem, pos, size // elem, size)
        layout.append((pos, pieces))
        pos += size
    trailer_at = (pos + 7) & ~7
    file_size = trailer_at + F.TRAILER_SIZE
    header = F.HEADER_STRUCT.pack(F.MAGIC, F.VERSION, len(payloads), file_size, F.HEADER_SIZE)
    header += bytes(F.HEADER_SIZE - len(header))

    tmp = "%s.tmp-%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            crc = 0
            written = 0
            for chunk in (header, directory):
                f.write(chunk)
                crc = zlib.crc32(chunk, crc)
                written += len(chunk)
            for at, pieces in layout:
                if at > written:
                    pad = bytes(at - written)
                    f.write(pad)
                    crc = zlib.crc32(pad, crc)
                    written = at
                for data in pieces:
                    f.write(data)
                    crc = zlib.crc32(data, crc)
                    written += len(data)
            pad = bytes(trailer_at - written)
            f.write(pad)
            crc = zlib.crc32(pad, crc)
            f.write(F.TRAILER_STRUCT.pack(F.TRAILER_MAGIC, objects, edges, crc & 0xFFFFFFFF, 0))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return file_size
