//! The pickle memo, compact: a million memoized trace tuples cost a bit each, not a `Value`.

use super::value::Value;

/// Memo slots in order; a slot holding the next trace in creation order is one set bit.
#[derive(Default)]
pub struct Memo {
    /// Bit `i` set: slot `i` holds trace number `rank(i)`.
    bits: Vec<u64>,
    /// Trace slots before each 64-slot word.
    ranks: Vec<u32>,
    /// Every other slot's value, in slot order.
    others: Vec<Value>,
    len: usize,
    traces: u32,
}

impl Memo {
    /// Store a value in the next slot.
    #[inline]
    pub fn push(&mut self, v: Value) {
        let bit = self.len % 64;
        if bit == 0 {
            self.bits.push(0);
            self.ranks.push(self.traces);
        }
        match (v, self.bits.last_mut()) {
            (Value::Trace(t), Some(word)) if t == self.traces => {
                *word |= 1 << bit;
                self.traces += 1;
            }
            (other, _) => self.others.push(other),
        }
        self.len += 1;
    }

    /// The value in slot `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<Value> {
        if i >= self.len {
            return None;
        }
        let (w, b) = (i / 64, i % 64);
        let (&word, &before) = (self.bits.get(w)?, self.ranks.get(w)?);
        let rank = before + (word & ((1u64 << b) - 1)).count_ones();
        if word >> b & 1 == 1 {
            Some(Value::Trace(rank))
        } else {
            self.others.get(i - rank as usize).copied()
        }
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no slot is filled.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_slots_round_trip() {
        let mut m = Memo::default();
        let mut want = Vec::new();
        for i in 0..300u32 {
            let v = match i % 5 {
                0..=2 => {
                    Value::Trace(want.iter().filter(|v| matches!(v, Value::Trace(_))).count() as u32)
                }
                3 => Value::Str(i),
                _ => Value::Trace(0), // not the next trace: stored as an ordinary slot
            };
            m.push(v);
            want.push(v);
        }
        for (i, v) in want.iter().enumerate() {
            assert_eq!(m.get(i), Some(*v), "slot {i}");
        }
        assert_eq!(m.get(300), None);
    }
}
