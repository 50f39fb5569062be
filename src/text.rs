//! Text helpers: lenient decoding of pickled names, JSON strings, human-readable sizes.

use std::borrow::Cow;

/// One decoded unit of a possibly-not-UTF-8 name.
enum Unit {
    Char(char),
    /// A lone surrogate code point, as written by Python's `surrogatepass`.
    Surrogate(u16),
    /// A byte that is neither UTF-8 nor an encoded surrogate.
    Byte(u8),
}

fn units(bytes: &[u8]) -> impl Iterator<Item = Unit> + '_ {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let &b0 = rest.first()?;
        let width = match b0 {
            0x00..=0x7F => 1,
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 0,
        };
        if let Some(c) = rest
            .get(..width)
            .and_then(|seq| std::str::from_utf8(seq).ok())
            .and_then(|s| s.chars().next())
        {
            rest = &rest[width..];
            return Some(Unit::Char(c));
        }
        if rest.len() >= 3
            && b0 == 0xED
            && (0xA0..=0xBF).contains(&rest[1])
            && (0x80..=0xBF).contains(&rest[2])
        {
            let cp = 0xD000 | ((rest[1] as u16 & 0x3F) << 6) | (rest[2] as u16 & 0x3F);
            rest = &rest[3..];
            return Some(Unit::Surrogate(cp));
        }
        rest = &rest[1..];
        Some(Unit::Byte(b0))
    })
}

/// A name for display: UTF-8 as is; lone surrogates as `\udcxx`, stray bytes as `\xNN`.
pub fn display(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for u in units(bytes) {
        match u {
            Unit::Char(c) => out.push(c),
            Unit::Surrogate(s) => out.push_str(&format!("\\u{s:04x}")),
            Unit::Byte(b) => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    Cow::Owned(out)
}

/// A JSON string literal for a name; lone surrogates become `\udcxx` escapes, so Python's
/// `json.loads` gives back exactly the `str` that tracemalloc held.
pub fn json_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for u in units(bytes) {
        match u {
            Unit::Char('"') => out.push_str("\\\""),
            Unit::Char('\\') => out.push_str("\\\\"),
            Unit::Char('\n') => out.push_str("\\n"),
            Unit::Char('\r') => out.push_str("\\r"),
            Unit::Char('\t') => out.push_str("\\t"),
            Unit::Char(c) if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            Unit::Char(c) => out.push(c),
            Unit::Surrogate(s) => out.push_str(&format!("\\u{s:04x}")),
            Unit::Byte(b) => out.push_str(&format!("\\u{:04x}", 0xDC00 + b as u32)),
        }
    }
    out.push('"');
    out
}

/// A size the way tracemalloc prints it: `123 B`, `45.6 KiB`, `+1.2 MiB` when `sign`.
pub fn size(bytes: i64, sign: bool) -> String {
    let mut v = bytes as f64;
    for unit in ["B", "KiB", "MiB", "GiB", "TiB"] {
        if v.abs() < 100.0 && unit != "B" {
            return if sign {
                format!("{v:+.1} {unit}")
            } else {
                format!("{v:.1} {unit}")
            };
        }
        if v.abs() < 10.0 * 1024.0 || unit == "TiB" {
            return if sign {
                format!("{v:+.0} {unit}")
            } else {
                format!("{v:.0} {unit}")
            };
        }
        v /= 1024.0;
    }
    unreachable!("the TiB unit always returns") // ok: loop returns at TiB
}

/// An integer with a leading `+` when positive and `sign` is set.
pub fn count(n: i64, sign: bool) -> String {
    if sign && n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// A size as a user writes it: `1MB`, `512KiB`, `2.5 GB`, `4096` (bytes). KB/MB/GB are powers
/// of 1000, KiB/MiB/GiB powers of 1024; the `B` may be left out (`1M`).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().ok()?;
    let unit = unit.trim().to_ascii_lowercase();
    let mult: f64 = match unit.trim_end_matches('b') {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "ki" => 1024.0,
        "mi" => 1024.0 * 1024.0,
        "gi" => 1024.0 * 1024.0 * 1024.0,
        "ti" => 1024.0f64.powi(4),
        _ => return None,
    };
    let bytes = value * mult;
    (0.0..1.8e19).contains(&bytes).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1MB"), Some(1_000_000));
        assert_eq!(parse_size("512KiB"), Some(524_288));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("2.5 GB"), Some(2_500_000_000));
        assert_eq!(parse_size("1M"), Some(1_000_000));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("1XB"), None);
    }

    #[test]
    fn sizes_like_tracemalloc() {
        assert_eq!(size(0, false), "0 B");
        assert_eq!(size(10239, true), "+10239 B");
        assert_eq!(size(10240, false), "10.0 KiB");
        assert_eq!(size(-5 * 1024 * 1024, true), "-5120 KiB");
        assert_eq!(size(50 * 1024 * 1024, false), "50.0 MiB");
        assert_eq!(size(200 * 1024, false), "200 KiB");
    }

    #[test]
    fn surrogates_round_trip_in_json() {
        // 'a\udc80b' encoded with surrogatepass
        let b = [b'a', 0xED, 0xB2, 0x80, b'b'];
        assert_eq!(json_string(&b), "\"a\\udc80b\"");
        assert_eq!(display(&b), "a\\udc80b");
        assert_eq!(json_string("q\"\n".as_bytes()), "\"q\\\"\\n\"");
    }
}
