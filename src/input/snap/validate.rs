//! Content checks of `formats/snap.md` §10 (rules 9–20), each failure at the offending byte.

use super::layout::{Section, Trailer, id};
use crate::error::ParseError;
use crate::graph::{AllocSites, NONE, Strings, kind};
use serde_json::Value as Json;

fn at(s: &Section, index: usize) -> u64 {
    s.offset + index as u64 * s.elem_size as u64
}

/// Rules 9 and 10: every column has the count the object and edge counts imply.
pub fn counts(dir: &[Section], n: u64, m: u64, trailer: &Trailer) -> Result<(), ParseError> {
    if n >= NONE as u64 {
        return Err(ParseError::expected(0, "fewer than 2^32-1 objects", n));
    }
    for (sid, want, name) in [
        (id::OBJ_TYPE, n, "OBJ_TYPE"),
        (id::OBJ_SIZE, n, "OBJ_SIZE"),
        (id::OBJ_FLAGS, n, "OBJ_FLAGS"),
        (id::EDGE_OFFSETS, n + 1, "EDGE_OFFSETS"),
        (id::EDGE_KIND, m, "EDGE_KIND"),
        (id::EDGE_LABEL, m, "EDGE_LABEL"),
        (id::OBJ_TRACEBACK, n, "OBJ_TRACEBACK"),
    ] {
        if let Some(s) = dir.iter().find(|s| s.id == sid)
            && s.count != want
        {
            return Err(ParseError::expected(
                s.entry_at + 16,
                &format!("{want} entries in {name}"),
                s.count,
            ));
        }
    }
    if trailer.object_count != n || trailer.edge_count != m {
        return Err(ParseError::expected(
            0,
            &format!("trailer counts {n} objects and {m} edges, as the sections hold"),
            format_args!("{} and {}", trailer.object_count, trailer.edge_count),
        ));
    }
    Ok(())
}

/// Rule 11: string offsets and UTF-8.
pub fn strings<'a>(
    off: &'a [u64],
    off_s: &Section,
    data: &'a [u8],
    data_s: &Section,
) -> Result<Strings<'a>, ParseError> {
    if off.len() < 2 || off[0] != 0 || off[1] != 0 {
        return Err(ParseError::expected(
            off_s.offset,
            "a string table whose string 0 is empty",
            "another table",
        ));
    }
    let text = std::str::from_utf8(data).map_err(|e| {
        ParseError::expected(
            data_s.offset + e.valid_up_to() as u64,
            "UTF-8 string data",
            "an invalid byte",
        )
    })?;
    let mut prev = 0u64;
    for (i, &o) in off.iter().enumerate() {
        if o < prev || o > data.len() as u64 || !text.is_char_boundary(o as usize) {
            return Err(ParseError::expected(
                at(off_s, i),
                "non-decreasing string offsets on character boundaries",
                o,
            ));
        }
        prev = o;
    }
    if prev != data.len() as u64 {
        return Err(ParseError::expected(
            at(off_s, off.len() - 1),
            "the last string offset at the end of STR_DATA",
            prev,
        ));
    }
    Ok(Strings {
        offsets: off,
        data: text,
    })
}

/// Rule 12: META is a JSON object with the required keys.
pub fn meta(bytes: &[u8], s: &Section, n: u64, m: u64, version: u32) -> Result<Json, ParseError> {
    let v: Json = serde_json::from_slice(bytes).map_err(|e| {
        ParseError::expected(
            s.offset,
            "META as a JSON object",
            format_args!("invalid JSON ({e})"),
        )
    })?;
    let obj = v.as_object().ok_or_else(|| {
        ParseError::expected(s.offset, "META as a JSON object", "another JSON value")
    })?;
    if obj.get("format").and_then(Json::as_str) != Some("leakhunt-snap")
        || obj.get("format_version").and_then(Json::as_u64) != Some(version as u64)
    {
        return Err(ParseError::expected(
            s.offset,
            &format!("META format \"leakhunt-snap\" version {version}"),
            "something else",
        ));
    }
    for key in ["dumper_version", "python_version", "implementation"] {
        if !obj.get(key).is_some_and(Json::is_string) {
            return Err(ParseError::expected(
                s.offset,
                &format!("META key {key:?} (a string)"),
                "none",
            ));
        }
    }
    for key in ["pointer_size", "pid"] {
        if !obj.get(key).is_some_and(Json::is_u64) {
            return Err(ParseError::expected(
                s.offset,
                &format!("META key {key:?} (an integer)"),
                "none",
            ));
        }
    }
    if !obj.get("time").is_some_and(Json::is_number) {
        return Err(ParseError::expected(
            s.offset,
            "META key \"time\" (a number)",
            "none",
        ));
    }
    if obj.get("objects").and_then(Json::as_u64) != Some(n)
        || obj.get("edges").and_then(Json::as_u64) != Some(m)
    {
        return Err(ParseError::expected(
            s.offset,
            &format!("META objects {n} and edges {m}"),
            "other counts",
        ));
    }
    Ok(v)
}

/// Rule 13: type records name existing strings and objects.
pub fn types(types: &[[u32; 4]], s: &Section, strings: u64, n: u64) -> Result<(), ParseError> {
    for (i, t) in types.iter().enumerate() {
        if t[0] as u64 >= strings || t[1] as u64 >= strings || (t[2] != NONE && t[2] as u64 >= n) {
            return Err(ParseError::expected(
                at(s, i),
                "a type record with valid string and object ids",
                format_args!("{t:?}"),
            ));
        }
    }
    Ok(())
}

/// Every value of a u32 column below `limit` (rules 14, 16).
pub fn below(col: &[u32], limit: u64, s: &Section, what: &str) -> Result<(), ParseError> {
    match col.iter().position(|&x| x as u64 >= limit) {
        None => Ok(()),
        Some(i) => Err(ParseError::expected(at(s, i), what, col[i])),
    }
}

/// Rule 15 (and 19 for tracebacks): CSR offsets start at 0, never decrease, end at `total`.
pub fn offsets<T: Copy + Into<u64>>(
    off: &[T],
    s: &Section,
    total: u64,
    name: &str,
) -> Result<(), ParseError> {
    if off.first().map(|&x| x.into()) != Some(0) {
        return Err(ParseError::expected(
            s.offset,
            &format!("{name} starting at 0"),
            "another value",
        ));
    }
    if let Some(i) = off.windows(2).position(|w| w[1].into() < w[0].into()) {
        return Err(ParseError::expected(
            at(s, i + 1),
            &format!("non-decreasing {name}"),
            off[i + 1].into(),
        ));
    }
    let last = off.last().map(|&x| x.into()).unwrap_or(0);
    if last != total {
        return Err(ParseError::expected(
            at(s, off.len() - 1),
            &format!("{name} ending at {total}"),
            last,
        ));
    }
    Ok(())
}

/// Rule 17: string labels name existing strings.
pub fn labels(kinds: &[u8], labels: &[u32], s: &Section, strings: u64) -> Result<(), ParseError> {
    let bad = kinds
        .iter()
        .zip(labels)
        .position(|(&k, &l)| kind::has_str_label(k) && l != NONE && l as u64 >= strings);
    match bad {
        None => Ok(()),
        Some(e) => Err(ParseError::expected(
            at(s, e),
            "an edge label that is a string id",
            labels[e],
        )),
    }
}

/// Rule 18: roots name existing objects and strings.
pub fn roots(roots: &[[u32; 4]], s: &Section, n: u64, strings: u64) -> Result<(), ParseError> {
    match roots
        .iter()
        .position(|r| r[0] as u64 >= n || r[2] as u64 >= strings)
    {
        None => Ok(()),
        Some(i) => Err(ParseError::expected(
            at(s, i),
            "a root naming an existing object and string",
            format_args!("{:?}", roots[i]),
        )),
    }
}

/// Rule 19: allocation sites are consistent.
pub fn alloc(a: &AllocSites, s: [&Section; 4], n: u64, strings: u64) -> Result<(), ParseError> {
    let [frames_s, tb_off_s, tb_frames_s, obj_tb_s] = s;
    if let Some(i) = a.frames.iter().position(|f| f[0] as u64 >= strings) {
        return Err(ParseError::expected(
            at(frames_s, i),
            "a frame whose file name is a string id",
            a.frames[i][0],
        ));
    }
    offsets(
        a.tb_offsets,
        tb_off_s,
        a.tb_frames.len() as u64,
        "TB_OFFSETS",
    )?;
    below(
        a.tb_frames,
        a.frames.len() as u64,
        tb_frames_s,
        "a frame id below the frame count",
    )?;
    if a.object_tb.len() as u64 != n {
        return Err(ParseError::expected(
            obj_tb_s.entry_at + 16,
            &format!("{n} object tracebacks"),
            a.object_tb.len(),
        ));
    }
    let k = a.tb_offsets.len() as u64 - 1;
    match a.object_tb.iter().position(|&t| t != NONE && t as u64 >= k) {
        None => Ok(()),
        Some(i) => Err(ParseError::expected(
            at(obj_tb_s, i),
            "a traceback id or NONE",
            a.object_tb[i],
        )),
    }
}

/// Rule 20: value previews name existing objects and strings.
pub fn values(v: &[[u32; 2]], s: &Section, n: u64, strings: u64) -> Result<(), ParseError> {
    match v
        .iter()
        .position(|x| x[0] as u64 >= n || x[1] as u64 >= strings)
    {
        None => Ok(()),
        Some(i) => Err(ParseError::expected(
            at(s, i),
            "a value preview naming an existing object and string",
            format_args!("{:?}", v[i]),
        )),
    }
}
