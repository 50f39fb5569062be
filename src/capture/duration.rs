//! Durations on the command line: `30s`, `5m`, `1h`, `500ms`, or plain seconds.

use crate::error::{Error, Result};

/// Seconds in `text` (`30s`, `1.5m`, `2h`, `250ms`, `45`); 0 is allowed.
pub fn seconds(option: &str, text: &str) -> Result<f64> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v * scale),
        _ => Err(Error::usage(format!(
            "{option}: not a duration: {text:?} (expected 30s, 5m, 1h, 500ms or seconds)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn units() {
        assert_eq!(seconds("--every", "30s").ok(), Some(30.0));
        assert_eq!(seconds("--every", "5m").ok(), Some(300.0));
        assert_eq!(seconds("--every", "1h").ok(), Some(3600.0));
        assert_eq!(seconds("--every", "250ms").ok(), Some(0.25));
        assert_eq!(seconds("--every", "2.5").ok(), Some(2.5));
        assert_eq!(seconds("--every", "0").ok(), Some(0.0));
        assert!(seconds("--every", "-1s").is_err());
        assert!(seconds("--every", "soon").is_err());
        assert!(seconds("--every", "").is_err());
    }
}
