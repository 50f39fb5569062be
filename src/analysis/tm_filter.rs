//! `--include/--exclude` with the meaning of `tracemalloc.Filter`: fnmatch on file names.

use crate::text;

/// One fnmatch pattern (`*`, `?`, `[seq]`, `[!seq]`), matched like Python's `fnmatch.fnmatchcase`.
#[derive(Debug, Clone)]
pub struct Glob {
    tokens: Vec<Token>,
    text: String,
}

#[derive(Debug, Clone)]
enum Token {
    Char(char),
    Any,
    Star,
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

impl Glob {
    /// Compile a pattern; like tracemalloc, a trailing `.pyc` is read as `.py`.
    pub fn new(pattern: &str) -> Glob {
        let normalized = pattern.strip_suffix(".pyc").map(|p| format!("{p}.py"));
        let pat: Vec<char> = normalized.as_deref().unwrap_or(pattern).chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < pat.len() {
            let c = pat[i];
            i += 1;
            match c {
                '*' => {
                    if !matches!(tokens.last(), Some(Token::Star)) {
                        tokens.push(Token::Star);
                    }
                }
                '?' => tokens.push(Token::Any),
                '[' => match parse_class(&pat, i) {
                    Some((token, next)) => {
                        tokens.push(token);
                        i = next;
                    }
                    None => tokens.push(Token::Char('[')),
                },
                c => tokens.push(Token::Char(c)),
            }
        }
        Glob {
            tokens,
            text: pattern.to_string(),
        }
    }

    /// The pattern as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        let s: Vec<char> = name.chars().collect();
        let (mut p, mut i) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while i < s.len() {
            match self.tokens.get(p) {
                Some(Token::Star) => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                Some(t) if t.matches_one(s[i]) => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
            match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            }
        }
        self.tokens[p..].iter().all(|t| matches!(t, Token::Star))
    }
}

impl Token {
    fn matches_one(&self, c: char) -> bool {
        match self {
            Token::Char(x) => *x == c,
            Token::Any => true,
            Token::Star => false,
            Token::Class { negated, items } => {
                items.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
        }
    }
}

/// Parse `[...]` starting after the `[` at `start`; `None` when unclosed (then `[` is literal).
fn parse_class(pat: &[char], start: usize) -> Option<(Token, usize)> {
    let mut j = start;
    if pat.get(j) == Some(&'!') {
        j += 1;
    }
    if pat.get(j) == Some(&']') {
        j += 1;
    }
    while j < pat.len() && pat[j] != ']' {
        j += 1;
    }
    if j >= pat.len() {
        return None;
    }
    let mut body = &pat[start..j];
    let negated = body.first() == Some(&'!');
    if negated {
        body = &body[1..];
    }
    let mut items = Vec::new();
    let mut k = 0;
    while k < body.len() {
        if k + 2 < body.len() && body[k + 1] == '-' {
            items.push((body[k], body[k + 2]));
            k += 3;
        } else {
            items.push((body[k], body[k]));
            k += 1;
        }
    }
    Some((Token::Class { negated, items }, j + 1))
}

/// The trace filters of one command: keep a trace when an include pattern matches (if any are
/// given) and no exclude pattern matches.
#[derive(Debug, Clone, Default)]
pub struct TraceFilter {
    /// `--include` patterns.
    pub include: Vec<Glob>,
    /// `--exclude` patterns.
    pub exclude: Vec<Glob>,
    /// Match any frame of the traceback instead of the most recent one (`all_frames=True`).
    pub all_frames: bool,
}

impl TraceFilter {
    /// Whether no pattern was given.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether a traceback (file names, most recent first) is kept.
    pub fn keeps(&self, files_most_recent_first: &[&[u8]]) -> bool {
        if self.is_empty() {
            return true;
        }
        let names: Vec<String> = if self.all_frames {
            files_most_recent_first
                .iter()
                .map(|f| text::display(f).into_owned())
                .collect()
        } else {
            files_most_recent_first
                .first()
                .map(|f| text::display(f).into_owned())
                .into_iter()
                .collect()
        };
        let hit = |g: &Glob| names.iter().any(|n| g.matches(n));
        (self.include.is_empty() || self.include.iter().any(hit)) && !self.exclude.iter().any(hit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_basics() {
        let g = Glob::new("*/myapp/*");
        assert!(g.matches("/srv/myapp/x.py"));
        assert!(!g.matches("/srv/other/x.py"));
        assert!(Glob::new("<frozen *>").matches("<frozen importlib._bootstrap>"));
        assert!(Glob::new("a?c").matches("abc"));
        assert!(!Glob::new("a?c").matches("ac"));
        assert!(Glob::new("[!a]x").matches("bx"));
        assert!(!Glob::new("[!a]x").matches("ax"));
        assert!(Glob::new("[a-c]*").matches("b.py"));
        assert!(Glob::new("[]]").matches("]"));
        assert!(Glob::new("x[").matches("x["));
        assert!(Glob::new("*.pyc").matches("m.py"));
        assert!(Glob::new("**a*b").matches("zzazzb"));
        assert!(!Glob::new("*a*b").matches("zzazzbc"));
    }

    #[test]
    fn include_exclude_semantics() {
        let f = TraceFilter {
            include: vec![Glob::new("*app*")],
            exclude: vec![Glob::new("*skip*")],
            all_frames: false,
        };
        assert!(f.keeps(&[b"/app/a.py", b"/lib/skip.py"]));
        assert!(!f.keeps(&[b"/lib/x.py", b"/app/a.py"]));
        let all = TraceFilter {
            all_frames: true,
            ..f
        };
        assert!(!all.keeps(&[b"/app/a.py", b"/lib/skip.py"]));
        assert!(all.keeps(&[b"/lib/x.py", b"/app/a.py"]));
    }
}
