//! The `.snap` reader: validate every count and offset (`formats/snap.md` §10), then view the
//! columns in place. A hostile file gets an error naming the byte offset; nothing is copied
//! or allocated in proportion to what the file claims.

pub mod columns;
pub mod layout;
pub mod resolve;
mod validate;
pub mod writer;

use super::Source;
use crate::error::{ParseError, Result};
use crate::graph::{AllocSites, HeapGraph};
use columns::view;
use layout::{Section, id};
use resolve::Resolved;
use std::sync::OnceLock;

/// Read and validate a mapped `.snap` file of either version.
pub fn load<'a>(source: &'a Source) -> Result<HeapGraph<'a>> {
    read_any(source.bytes(), source.resolved()).map_err(|e| e.in_file(source.path()))
}

/// Read and validate a `.snap` of either version held in memory; `store` keeps the columns
/// a version-2 file's reader builds (see [`resolve`]) for as long as the graph lives. Give
/// each file its own store.
pub fn read_any<'a>(
    data: &'a [u8],
    store: &'a OnceLock<Resolved>,
) -> std::result::Result<HeapGraph<'a>, ParseError> {
    let header = layout::read_header(data)?;
    if header.version == layout::VERSION {
        return read(data);
    }
    if cfg!(target_endian = "big") {
        return Err(ParseError::at(
            0,
            "this build reads .snap files on little-endian hosts only",
        ));
    }
    let trailer = layout::read_trailer(data)?;
    let dir = layout::read_directory(data, &header)?;
    // The checksum runs on a second core while the file is checked and resolved.
    let (crc, resolved) = std::thread::scope(|s| {
        let crc = s.spawn(|| check_crc(data, &trailer));
        let resolved = resolve::resolve(data, &dir, &trailer);
        (crc.join(), resolved)
    });
    crc.map_err(|_| ParseError::at(0, "checksum thread failed"))??;
    let (v, r) = resolved?;
    let r: &'a Resolved = store.get_or_init(|| r);
    Ok(HeapGraph {
        meta: v.meta,
        strings: v.strings,
        types: &r.types,
        addr: r.addr.as_deref().unwrap_or(v.addr),
        type_of: r.type_of.as_deref().unwrap_or(v.type_of),
        size: r.size.as_deref().unwrap_or(v.size),
        flags: &r.flags,
        edge_offsets: &r.edge_offsets,
        edge_target: &r.edge_target,
        edge_kind: r.edge_kind.as_deref().unwrap_or(v.edge_kind),
        edge_label: &r.edge_label,
        roots: &r.roots,
        alloc: v.alloc.map(|a| AllocSites {
            object_tb: r.object_tb.as_deref().unwrap_or(a.object_tb),
            ..a
        }),
        values: r.values.as_deref().unwrap_or(v.values),
    })
}

fn check_crc(data: &[u8], trailer: &layout::Trailer) -> std::result::Result<(), ParseError> {
    let body = &data[..data.len() - layout::TRAILER_SIZE as usize];
    let crc = crc32fast::hash(body);
    if crc != trailer.crc32 {
        return Err(ParseError::expected(
            data.len() as u64 - 8,
            &format!("CRC-32 {:08x} of the file body", crc),
            format_args!(
                "{:08x} in the trailer (the file was altered or damaged)",
                trailer.crc32
            ),
        ));
    }
    Ok(())
}

/// A mapped `.snap` file's META object, after checking only the header and directory: enough
/// to order snapshots before [`load`] validates the ones that are used.
pub fn load_meta(source: &Source) -> Result<serde_json::Value> {
    let data = source.bytes();
    let meta = || -> std::result::Result<serde_json::Value, ParseError> {
        let header = layout::read_header(data)?;
        let dir = layout::read_directory(data, &header)?;
        let s = required(&dir, id::META)?;
        let bytes: &[u8] = view(data, s)?;
        serde_json::from_slice(bytes).map_err(|e| {
            ParseError::expected(
                s.offset,
                "META as a JSON object",
                format_args!("invalid JSON ({e})"),
            )
        })
    };
    meta().map_err(|e| e.in_file(source.path()))
}

/// Read and validate a version-1 `.snap` held in memory (see [`read_any`] for both).
pub fn read(data: &[u8]) -> std::result::Result<HeapGraph<'_>, ParseError> {
    if cfg!(target_endian = "big") {
        return Err(ParseError::at(
            0,
            "this build reads .snap files on little-endian hosts only",
        ));
    }
    let header = layout::read_header(data)?;
    if header.version != layout::VERSION {
        return Err(ParseError::expected(
            8,
            "format version 1 (snap::read_any reads version 2 too)",
            format_args!("version {}", header.version),
        ));
    }
    let trailer = layout::read_trailer(data)?;
    let dir = layout::read_directory(data, &header)?;
    // The checksum runs on a second core while the structure is checked on this one.
    let (crc, graph) = std::thread::scope(|s| {
        let crc = s.spawn(|| check_crc(data, &trailer));
        let graph = build(data, &dir, &trailer);
        (crc.join(), graph)
    });
    let graph = graph?;
    crc.map_err(|_| ParseError::at(0, "checksum thread failed"))??;
    Ok(graph)
}

fn section(dir: &[Section], sid: u32) -> Option<&Section> {
    dir.iter().find(|s| s.id == sid)
}

/// The directory entry of a section the file must have.
pub(super) fn required(dir: &[Section], sid: u32) -> std::result::Result<&Section, ParseError> {
    section(dir, sid).ok_or_else(|| {
        ParseError::expected(layout::HEADER_SIZE, "all required sections", "one missing")
    })
}

fn build<'a>(
    data: &'a [u8],
    dir: &[Section],
    trailer: &layout::Trailer,
) -> std::result::Result<HeapGraph<'a>, ParseError> {
    let get = |sid| required(dir, sid);
    let meta_s = get(id::META)?;
    let meta_bytes: &[u8] = view(data, meta_s)?;
    let str_off_s = get(id::STR_OFFSETS)?;
    let str_data_s = get(id::STR_DATA)?;
    let strings = validate::strings(
        view(data, str_off_s)?,
        str_off_s,
        view(data, str_data_s)?,
        str_data_s,
    )?;
    let addr_s = get(id::OBJ_ADDR)?;
    let addr: &[u64] = view(data, addr_s)?;
    let n = addr.len() as u64;
    let target_s = get(id::EDGE_TARGET)?;
    let edge_target: &[u32] = view(data, target_s)?;
    let m = edge_target.len() as u64;
    validate::counts(dir, n, m, trailer)?;
    let meta = validate::meta(meta_bytes, meta_s, n, m, layout::VERSION)?;
    let types_s = get(id::TYPES)?;
    let types: &[[u32; 4]] = view(data, types_s)?;
    validate::types(types, types_s, strings.len() as u64, n)?;
    let type_s = get(id::OBJ_TYPE)?;
    let type_of: &[u32] = view(data, type_s)?;
    validate::below(
        type_of,
        types.len() as u64,
        type_s,
        "a type index below the type count",
    )?;
    let off_s = get(id::EDGE_OFFSETS)?;
    let edge_offsets: &[u64] = view(data, off_s)?;
    validate::offsets(edge_offsets, off_s, m, "EDGE_OFFSETS")?;
    validate::below(
        edge_target,
        n,
        target_s,
        "an edge target below the object count",
    )?;
    let kind_s = get(id::EDGE_KIND)?;
    let label_s = get(id::EDGE_LABEL)?;
    let edge_kind: &[u8] = view(data, kind_s)?;
    let edge_label: &[u32] = view(data, label_s)?;
    validate::labels(edge_kind, edge_label, label_s, strings.len() as u64)?;
    let roots_s = get(id::ROOTS)?;
    let roots: &[[u32; 4]] = view(data, roots_s)?;
    validate::roots(roots, roots_s, n, strings.len() as u64)?;
    let alloc = match section(dir, id::FRAMES) {
        None => None,
        Some(frames_s) => {
            let tb_off_s = get(id::TB_OFFSETS)?;
            let tb_frames_s = get(id::TB_FRAMES)?;
            let obj_tb_s = get(id::OBJ_TRACEBACK)?;
            let sites = AllocSites {
                frames: view(data, frames_s)?,
                tb_offsets: view(data, tb_off_s)?,
                tb_frames: view(data, tb_frames_s)?,
                object_tb: view(data, obj_tb_s)?,
            };
            validate::alloc(
                &sites,
                [frames_s, tb_off_s, tb_frames_s, obj_tb_s],
                n,
                strings.len() as u64,
            )?;
            Some(sites)
        }
    };
    let values: &[[u32; 2]] = match section(dir, id::VALUES) {
        None => &[],
        Some(s) => {
            let v = view(data, s)?;
            validate::values(v, s, n, strings.len() as u64)?;
            v
        }
    };
    Ok(HeapGraph {
        meta,
        strings,
        types,
        addr,
        type_of: view(data, type_s)?,
        size: view(data, get(id::OBJ_SIZE)?)?,
        flags: view(data, get(id::OBJ_FLAGS)?)?,
        edge_offsets,
        edge_target,
        edge_kind,
        edge_label,
        roots,
        alloc,
        values,
    })
}
