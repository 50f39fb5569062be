//! Pickle opcode bytes and their names, for dispatch and for error messages.

/// Protocol 2+: `PROTO n`.
pub const PROTO: u8 = 0x80;
/// Protocol 4+: a framing hint with a u64 length.
pub const FRAME: u8 = 0x95;
/// End of the pickle.
pub const STOP: u8 = b'.';
/// Push a mark on the mark stack.
pub const MARK: u8 = b'(';
/// Push an empty dict.
pub const EMPTY_DICT: u8 = b'}';
/// Push an empty list.
pub const EMPTY_LIST: u8 = b']';
/// Push an empty tuple.
pub const EMPTY_TUPLE: u8 = b')';
/// Build a tuple from the items above the last mark.
pub const TUPLE: u8 = b't';
/// Build a 1-tuple from the top item.
pub const TUPLE1: u8 = 0x85;
/// Build a 2-tuple from the top items.
pub const TUPLE2: u8 = 0x86;
/// Build a 3-tuple from the top items.
pub const TUPLE3: u8 = 0x87;
/// Append the top item to the list below it.
pub const APPEND: u8 = b'a';
/// Append the items above the mark to the list below the mark.
pub const APPENDS: u8 = b'e';
/// Set one key/value pair in the dict below them.
pub const SETITEM: u8 = b's';
/// Set the key/value pairs above the mark in the dict below the mark.
pub const SETITEMS: u8 = b'u';
/// Signed 4-byte integer.
pub const BININT: u8 = b'J';
/// Unsigned 1-byte integer.
pub const BININT1: u8 = b'K';
/// Unsigned 2-byte integer.
pub const BININT2: u8 = b'M';
/// Little-endian two's-complement integer with a 1-byte length.
pub const LONG1: u8 = 0x8a;
/// UTF-8 string with a 4-byte length.
pub const BINUNICODE: u8 = b'X';
/// UTF-8 string with a 1-byte length.
pub const SHORT_BINUNICODE: u8 = 0x8c;
/// UTF-8 string with an 8-byte length.
pub const BINUNICODE8: u8 = 0x8d;
/// Store the top item in the next memo slot.
pub const MEMOIZE: u8 = 0x94;
/// Push a memo item by a 1-byte index.
pub const BINGET: u8 = b'h';
/// Push a memo item by a 4-byte index.
pub const LONG_BINGET: u8 = b'j';
/// Push a global named by the two strings on the stack (module, name).
pub const STACK_GLOBAL: u8 = 0x93;
/// Push a global named by two newline-terminated operands (protocol 0-3).
pub const GLOBAL: u8 = b'c';
/// `cls.__new__(cls, *args)`.
pub const NEWOBJ: u8 = 0x81;
/// Apply a state to the object below it (`__setstate__` or `__dict__.update`).
pub const BUILD: u8 = b'b';

/// Opcodes that call or import code: refused with a message saying so.
pub const CALLING: &[(u8, &str)] = &[
    (b'R', "REDUCE"),
    (b'i', "INST"),
    (b'o', "OBJ"),
    (0x92, "NEWOBJ_EX"),
    (0x82, "EXT1"),
    (0x83, "EXT2"),
    (0x84, "EXT4"),
    (b'P', "PERSID"),
    (b'Q', "BINPERSID"),
];

/// The name of any pickle opcode, for messages; `None` for a byte that is no opcode.
pub fn name(op: u8) -> Option<&'static str> {
    Some(match op {
        PROTO => "PROTO",
        FRAME => "FRAME",
        STOP => "STOP",
        MARK => "MARK",
        EMPTY_DICT => "EMPTY_DICT",
        EMPTY_LIST => "EMPTY_LIST",
        EMPTY_TUPLE => "EMPTY_TUPLE",
        TUPLE => "TUPLE",
        TUPLE1 => "TUPLE1",
        TUPLE2 => "TUPLE2",
        TUPLE3 => "TUPLE3",
        APPEND => "APPEND",
        APPENDS => "APPENDS",
        SETITEM => "SETITEM",
        SETITEMS => "SETITEMS",
        BININT => "BININT",
        BININT1 => "BININT1",
        BININT2 => "BININT2",
        LONG1 => "LONG1",
        BINUNICODE => "BINUNICODE",
        SHORT_BINUNICODE => "SHORT_BINUNICODE",
        BINUNICODE8 => "BINUNICODE8",
        MEMOIZE => "MEMOIZE",
        BINGET => "BINGET",
        LONG_BINGET => "LONG_BINGET",
        STACK_GLOBAL => "STACK_GLOBAL",
        GLOBAL => "GLOBAL",
        NEWOBJ => "NEWOBJ",
        BUILD => "BUILD",
        b'R' => "REDUCE",
        b'i' => "INST",
        b'o' => "OBJ",
        0x92 => "NEWOBJ_EX",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'N' => "NONE",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        b'I' => "INT",
        b'L' => "LONG",
        0x8b => "LONG4",
        b'F' => "FLOAT",
        b'G' => "BINFLOAT",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        b'l' => "LIST",
        b'd' => "DICT",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b'g' => "GET",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        _ => return None,
    })
}
