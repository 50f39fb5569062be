//! The fixed parts of a `.snap` file: header, section directory and trailer (`formats/snap.md`).

use crate::error::ParseError;
use nom::IResult;
use nom::Parser;
use nom::bytes::complete::tag;
use nom::number::complete::{le_u32, le_u64};

/// Bytes of the header.
pub const HEADER_SIZE: u64 = 64;
/// Bytes of one directory entry.
pub const DIR_ENTRY_SIZE: u64 = 32;
/// Bytes of the trailer.
pub const TRAILER_SIZE: u64 = 32;
/// The trailer's magic.
pub const TRAILER_MAGIC: &[u8; 8] = b"LKSNEND\n";
/// The version of files with object numbers (and of the image a version-2 file becomes).
pub const VERSION: u32 = 1;
/// The version the dumper writes: edge targets, roots and type objects as addresses,
/// resolved by the reader (`formats/snap.md` §12).
pub const VERSION_ADDR: u32 = 2;
/// Most directory entries a file may have.
pub const MAX_SECTIONS: u32 = 64;

/// Section ids and their element sizes.
pub mod id {
    /// META: JSON metadata.
    pub const META: u32 = 1;
    /// STR_OFFSETS: u64 string starts.
    pub const STR_OFFSETS: u32 = 2;
    /// STR_DATA: UTF-8 bytes.
    pub const STR_DATA: u32 = 3;
    /// TYPES: 16-byte type records.
    pub const TYPES: u32 = 4;
    /// OBJ_ADDR: u64 per object.
    pub const OBJ_ADDR: u32 = 5;
    /// OBJ_TYPE: u32 per object.
    pub const OBJ_TYPE: u32 = 6;
    /// OBJ_SIZE: u64 per object.
    pub const OBJ_SIZE: u32 = 7;
    /// OBJ_FLAGS: u8 per object.
    pub const OBJ_FLAGS: u32 = 8;
    /// EDGE_OFFSETS: u64 CSR row starts.
    pub const EDGE_OFFSETS: u32 = 9;
    /// EDGE_TARGET: u32 per edge.
    pub const EDGE_TARGET: u32 = 10;
    /// EDGE_KIND: u8 per edge.
    pub const EDGE_KIND: u32 = 11;
    /// EDGE_LABEL: u32 per edge.
    pub const EDGE_LABEL: u32 = 12;
    /// ROOTS: 16-byte root records.
    pub const ROOTS: u32 = 13;
    /// FRAMES: 8-byte allocation frames.
    pub const FRAMES: u32 = 14;
    /// TB_OFFSETS: u32 traceback starts.
    pub const TB_OFFSETS: u32 = 15;
    /// TB_FRAMES: u32 frame ids.
    pub const TB_FRAMES: u32 = 16;
    /// OBJ_TRACEBACK: u32 per object.
    pub const OBJ_TRACEBACK: u32 = 17;
    /// VALUES: 8-byte value previews.
    pub const VALUES: u32 = 18;
    /// TYPE_ADDR: u64 address of each type object (version 2).
    pub const TYPE_ADDR: u32 = 19;
    /// OBJ_REFCOUNT: u32 refcount per object (version 2).
    pub const OBJ_REFCOUNT: u32 = 20;
    /// EDGE_TARGET_ADDR: u64 target address per edge (version 2).
    pub const EDGE_TARGET_ADDR: u32 = 21;
    /// ROOT_ADDR: u64 address of each root's object (version 2).
    pub const ROOT_ADDR: u32 = 22;
    /// EDGE_COUNTS: u32 edges per object (version 2, instead of EDGE_OFFSETS).
    pub const EDGE_COUNTS: u32 = 23;
    /// The highest section id this reader knows.
    pub const LAST: u32 = EDGE_COUNTS;

    /// Whether a file of `version` must have section `id`.
    pub fn required_in(version: u32, id: u32) -> bool {
        match id {
            EDGE_TARGET | EDGE_OFFSETS => version == super::VERSION,
            TYPE_ADDR | OBJ_REFCOUNT | EDGE_TARGET_ADDR | ROOT_ADDR | EDGE_COUNTS => {
                version == super::VERSION_ADDR
            }
            _ => spec(id).is_some_and(|(_, _, required)| required),
        }
    }

    /// Element size of a known section id, its name, and whether it is required.
    pub fn spec(id: u32) -> Option<(u32, &'static str, bool)> {
        Some(match id {
            META => (1, "META", true),
            STR_OFFSETS => (8, "STR_OFFSETS", true),
            STR_DATA => (1, "STR_DATA", true),
            TYPES => (16, "TYPES", true),
            OBJ_ADDR => (8, "OBJ_ADDR", true),
            OBJ_TYPE => (4, "OBJ_TYPE", true),
            OBJ_SIZE => (8, "OBJ_SIZE", true),
            OBJ_FLAGS => (1, "OBJ_FLAGS", true),
            EDGE_OFFSETS => (8, "EDGE_OFFSETS", true),
            EDGE_TARGET => (4, "EDGE_TARGET", true),
            EDGE_KIND => (1, "EDGE_KIND", true),
            EDGE_LABEL => (4, "EDGE_LABEL", true),
            ROOTS => (16, "ROOTS", true),
            FRAMES => (8, "FRAMES", false),
            TB_OFFSETS => (4, "TB_OFFSETS", false),
            TB_FRAMES => (4, "TB_FRAMES", false),
            OBJ_TRACEBACK => (4, "OBJ_TRACEBACK", false),
            VALUES => (8, "VALUES", false),
            TYPE_ADDR => (8, "TYPE_ADDR", false),
            OBJ_REFCOUNT => (4, "OBJ_REFCOUNT", false),
            EDGE_TARGET_ADDR => (8, "EDGE_TARGET_ADDR", false),
            ROOT_ADDR => (8, "ROOT_ADDR", false),
            EDGE_COUNTS => (4, "EDGE_COUNTS", false),
            _ => return None,
        })
    }
}

/// The header's fields.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    /// Format version.
    pub version: u32,
    /// Directory entries.
    pub section_count: u32,
    /// The file size the writer recorded.
    pub file_size: u64,
    /// Header size (64).
    pub header_size: u32,
}

/// One directory entry.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    /// Section id.
    pub id: u32,
    /// Bytes per element.
    pub elem_size: u32,
    /// Absolute offset of the payload.
    pub offset: u64,
    /// Elements.
    pub count: u64,
    /// Payload bytes.
    pub byte_len: u64,
    /// Where this entry sits in the file (for messages).
    pub entry_at: u64,
}

/// The trailer's fields.
#[derive(Debug, Clone, Copy)]
pub struct Trailer {
    /// Objects, as the writer counted them.
    pub object_count: u64,
    /// Edges, as the writer counted them.
    pub edge_count: u64,
    /// CRC-32 of everything before the trailer.
    pub crc32: u32,
}

type R<'a, T> = IResult<&'a [u8], T, nom::error::Error<&'a [u8]>>;

fn header(i: &[u8]) -> R<'_, Header> {
    let (i, _) = tag(&crate::input::SNAP_MAGIC[..])(i)?;
    let (i, (version, section_count, file_size, header_size)) =
        (le_u32, le_u32, le_u64, le_u32).parse(i)?;
    Ok((
        i,
        Header {
            version,
            section_count,
            file_size,
            header_size,
        },
    ))
}

fn entry(i: &[u8]) -> R<'_, (u32, u32, u64, u64, u64)> {
    (le_u32, le_u32, le_u64, le_u64, le_u64).parse(i)
}

fn trailer(i: &[u8]) -> R<'_, Trailer> {
    let (i, _) = tag(&TRAILER_MAGIC[..])(i)?;
    let (i, (object_count, edge_count, crc32, _reserved)) =
        (le_u64, le_u64, le_u32, le_u32).parse(i)?;
    Ok((
        i,
        Trailer {
            object_count,
            edge_count,
            crc32,
        },
    ))
}

/// Parse and check the header (rules 1–3 of the format's validation chapter).
pub fn read_header(data: &[u8]) -> Result<Header, ParseError> {
    let len = data.len() as u64;
    if len < HEADER_SIZE + TRAILER_SIZE {
        return Err(ParseError::expected(
            len,
            "a .snap of at least 96 bytes (header and trailer)",
            format_args!("end of file after {len} bytes"),
        ));
    }
    let (_, h) = header(data)
        .map_err(|_| ParseError::expected(0, "the .snap magic LKSNAP\\r\\n", "other bytes"))?;
    if h.version != VERSION && h.version != VERSION_ADDR {
        return Err(ParseError::expected(
            8,
            "format version 1 or 2",
            format_args!("version {}", h.version),
        ));
    }
    if h.header_size as u64 != HEADER_SIZE {
        return Err(ParseError::expected(24, "header_size 64", h.header_size));
    }
    if h.file_size != len {
        return Err(ParseError::expected(
            16,
            &format!(
                "a file of {} bytes as its header says (truncated or extended?)",
                h.file_size
            ),
            format_args!("{len} bytes"),
        ));
    }
    let dir_end = HEADER_SIZE + DIR_ENTRY_SIZE * h.section_count as u64;
    if h.section_count == 0 || h.section_count > MAX_SECTIONS || dir_end > len - TRAILER_SIZE {
        return Err(ParseError::expected(
            12,
            "1 to 64 sections that fit the file",
            h.section_count,
        ));
    }
    Ok(h)
}

/// Parse the trailer (rule 4, without the CRC, which the caller computes).
pub fn read_trailer(data: &[u8]) -> Result<Trailer, ParseError> {
    let at = data.len() as u64 - TRAILER_SIZE;
    let bytes = &data[at as usize..];
    trailer(bytes).map(|(_, t)| t).map_err(|_| {
        ParseError::expected(
            at,
            "the trailer magic LKSNEND\\n (is the file truncated?)",
            "other bytes",
        )
    })
}

/// Parse the directory and check rules 5–8: sizes, alignment, bounds, overlap, presence.
pub fn read_directory(data: &[u8], h: &Header) -> Result<Vec<Section>, ParseError> {
    let len = data.len() as u64;
    let payload_start = HEADER_SIZE + DIR_ENTRY_SIZE * h.section_count as u64;
    let payload_end = len - TRAILER_SIZE;
    let mut out: Vec<Section> = Vec::with_capacity(h.section_count as usize);
    let mut rest = &data[HEADER_SIZE as usize..];
    for k in 0..h.section_count as u64 {
        let at = HEADER_SIZE + k * DIR_ENTRY_SIZE;
        let (r, (id, elem_size, offset, count, byte_len)) = entry(rest)
            .map_err(|_| ParseError::expected(at, "a directory entry", "end of file"))?;
        rest = r;
        let s = Section {
            id,
            elem_size,
            offset,
            count,
            byte_len,
            entry_at: at,
        };
        if count.checked_mul(elem_size as u64) != Some(byte_len) {
            return Err(ParseError::expected(
                at + 24,
                "byte_len = count x elem_size",
                byte_len,
            ));
        }
        if !offset.is_multiple_of(8) {
            return Err(ParseError::expected(
                at + 8,
                "a section offset that is a multiple of 8",
                offset,
            ));
        }
        if offset < payload_start
            || offset
                .checked_add(byte_len)
                .is_none_or(|end| end > payload_end)
        {
            return Err(ParseError::expected(
                at + 8,
                &format!("a section inside bytes {payload_start}..{payload_end}"),
                format_args!("{byte_len} bytes at {offset}"),
            ));
        }
        if let Some((size, name, _)) = id::spec(id)
            && size != elem_size
        {
            return Err(ParseError::expected(
                at + 4,
                &format!("element size {size} for {name}"),
                elem_size,
            ));
        }
        if out.iter().any(|o| o.id == id) {
            return Err(ParseError::expected(
                at,
                "each section id once",
                format_args!("id {id} again"),
            ));
        }
        out.push(s);
    }
    let mut by_offset: Vec<&Section> = out.iter().collect();
    by_offset.sort_by_key(|s| s.offset);
    for w in by_offset.windows(2) {
        if w[0].offset + w[0].byte_len > w[1].offset {
            return Err(ParseError::expected(
                w[1].entry_at + 8,
                "sections that do not overlap",
                w[1].offset,
            ));
        }
    }
    for sid in 1..=id::LAST {
        if let Some((_, name, _)) = id::spec(sid)
            && id::required_in(h.version, sid)
            && !out.iter().any(|s| s.id == sid)
        {
            return Err(ParseError::expected(
                HEADER_SIZE,
                &format!("a {name} section"),
                "none",
            ));
        }
    }
    let alloc = [id::FRAMES, id::TB_OFFSETS, id::TB_FRAMES, id::OBJ_TRACEBACK]
        .iter()
        .filter(|&&sid| out.iter().any(|s| s.id == sid))
        .count();
    if alloc != 0 && alloc != 4 {
        return Err(ParseError::expected(
            HEADER_SIZE,
            "all four allocation-site sections or none",
            alloc,
        ));
    }
    Ok(out)
}
