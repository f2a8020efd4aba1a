//! Record values, their types, and the string interner.
//!
//! A record is a row of [`Value`]s laid out by a [`Schema`]. Values are 16-byte `Copy` enums
//! so that records move through buffers and operators without touching the heap. Strings are
//! interned: a [`Sym`] is an index into the run's [`Interner`], which also caches each
//! string's Java `hashCode`, so a string key is hashed to its key group once, not per record.

use indexmap::IndexSet;
use rustc_hash::FxBuildHasher;
use serde::Serialize;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// An interned string: an index into the run's [`Interner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

/// The type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Type {
    /// 64-bit signed integer (Java `long`).
    Int,
    /// 64-bit float (Java `double`).
    Float,
    /// Text (Java `String`).
    String,
    /// Boolean (Java `boolean`).
    Bool,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Int => "int",
            Type::Float => "float",
            Type::String => "string",
            Type::Bool => "bool",
        })
    }
}

/// One field value of a record.
///
/// Laid out as two whole words, the tag and the payload (`repr(C, u64)`): a value built in a
/// register and copied into a state row or a buffer then moves as two 8-byte stores. With the
/// default layout (a one-byte tag, a `bool` right after it) the copy was split at byte 1, and
/// the 8-byte load of bytes 1–8 could not be forwarded from the stores that wrote them: a
/// stall of some 15 cycles on every reduce by expression.
#[derive(Debug, Clone, Copy)]
#[repr(C, u64)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// An interned string.
    Str(Sym),
    /// A boolean.
    Bool(bool),
}

impl Value {
    /// The value's type.
    pub fn ty(&self) -> Type {
        match self {
            Value::Int(_) => Type::Int,
            Value::Float(_) => Type::Float,
            Value::Str(_) => Type::String,
            Value::Bool(_) => Type::Bool,
        }
    }

    /// The integer, or 0 for other types (expressions are type-checked before they run).
    #[inline]
    pub fn as_int(&self) -> i64 {
        match *self {
            Value::Int(i) => i,
            Value::Float(f) => f as i64,
            _ => 0,
        }
    }

    /// The number as a float (integers widen), 0.0 for other types.
    #[inline]
    pub fn as_float(&self) -> f64 {
        match *self {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            _ => 0.0,
        }
    }

    /// The boolean, `false` for other types.
    #[inline]
    pub fn as_bool(&self) -> bool {
        matches!(*self, Value::Bool(true))
    }

    /// The value's size when serialized into a network buffer, in bytes, as Flink's
    /// serializers write it: 8 for long/double, 1 for boolean, 2 + UTF-8 length for a string
    /// (`StringValue`'s length prefix is variable; 2 bytes covers strings under 16 K chars).
    #[inline]
    pub fn serialized_len(&self, interner: &Interner) -> u32 {
        match *self {
            Value::Int(_) | Value::Float(_) => 8,
            Value::Bool(_) => 1,
            Value::Str(s) => 2 + interner.len_of(s),
        }
    }

    /// Java's `hashCode()` of the boxed value, which Flink's key-group assignment starts from:
    /// `Long.hashCode` for integers, `Double.hashCode` for floats, `Boolean.hashCode`
    /// (1231/1237), and `String.hashCode` (cached by the interner) for strings.
    #[inline]
    pub fn java_hash_code(&self, interner: &Interner) -> i32 {
        // Integers (the common key) get a branch of their own; the rest is out of line so
        // that the compiler does not turn the whole thing back into a jump table.
        match *self {
            Value::Int(v) => java_long_hash(v),
            _ => self.java_hash_code_other(interner),
        }
    }

    #[inline(never)]
    fn java_hash_code_other(&self, interner: &Interner) -> i32 {
        match *self {
            Value::Int(v) => java_long_hash(v),
            Value::Float(f) => {
                let bits = if f.is_nan() {
                    0x7ff8_0000_0000_0000u64 as i64
                } else {
                    f.to_bits() as i64
                };
                java_long_hash(bits)
            }
            Value::Bool(b) => {
                if b {
                    1231
                } else {
                    1237
                }
            }
            Value::Str(s) => interner.java_hash(s),
        }
    }

    /// The value as JSON (strings resolved through the interner).
    pub fn to_json(&self, interner: &Interner) -> serde_json::Value {
        match *self {
            Value::Int(i) => serde_json::Value::from(i),
            Value::Float(f) => serde_json::Number::from_f64(f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::from(interner.resolve(s)),
            Value::Bool(b) => serde_json::Value::from(b),
        }
    }

    /// A printable view of the value.
    pub fn display<'a>(&'a self, interner: &'a Interner) -> ValueDisplay<'a> {
        ValueDisplay {
            value: self,
            interner,
        }
    }
}

/// Appends a row to a vector of values. Rows are a few values: for common small arities the
/// copy has a length known at compile time, which becomes a couple of moves instead of a
/// call to `memcpy` (and one capacity check instead of one per value).
#[inline(always)]
pub fn push_row(dst: &mut Vec<Value>, row: &[Value]) {
    #[inline(always)]
    fn fixed<const A: usize>(dst: &mut Vec<Value>, row: &[Value]) {
        let row: &[Value; A] = row.try_into().expect("row of the matched length");
        dst.extend_from_slice(row);
    }
    match row.len() {
        1 => fixed::<1>(dst, row),
        2 => fixed::<2>(dst, row),
        3 => fixed::<3>(dst, row),
        4 => fixed::<4>(dst, row),
        _ => dst.extend_from_slice(row),
    }
}

/// Appends the rows at positions `sel` of `src` (rows of `arity` values) to `dst`. Common
/// small arities get a loop whose row length the compiler knows.
#[inline]
pub fn gather_rows(dst: &mut Vec<Value>, src: &[Value], arity: usize, sel: &[u32]) {
    fn fixed<const A: usize>(dst: &mut Vec<Value>, src: &[Value], sel: &[u32]) {
        let start = dst.len();
        dst.resize(start + sel.len() * A, Value::Int(0));
        for (d, &i) in dst[start..].chunks_exact_mut(A).zip(sel) {
            let i = i as usize * A;
            let row: &[Value; A] = src[i..i + A].try_into().expect("a whole row");
            let d: &mut [Value; A] = d.try_into().expect("a whole row");
            *d = *row;
        }
    }
    match arity {
        0 => {}
        1 => fixed::<1>(dst, src, sel),
        2 => fixed::<2>(dst, src, sel),
        3 => fixed::<3>(dst, src, sel),
        4 => fixed::<4>(dst, src, sel),
        a => {
            dst.reserve(sel.len() * a);
            for &i in sel {
                dst.extend_from_slice(&src[i as usize * a..(i as usize + 1) * a]);
            }
        }
    }
}

/// Java's `Long.hashCode`: `(int)(value ^ (value >>> 32))`.
#[inline]
pub fn java_long_hash(v: i64) -> i32 {
    let u = v as u64;
    (u ^ (u >> 32)) as u32 as i32
}

/// Java's `String.hashCode`: `s[0]·31^(n−1) + … + s[n−1]` over UTF-16 code units, wrapping
/// in 32 bits.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

impl Value {
    /// The one word a value hashes as (see the `Hash` impl). Integers, the common case, get
    /// a branch of their own (the rest is out of line, or the compiler makes a jump table of
    /// it again).
    #[inline(always)]
    pub fn hash_word(&self) -> u64 {
        match *self {
            Value::Int(i) => i as u64,
            Value::Str(s) => u64::from(s.0),
            _ => self.hash_word_other(),
        }
    }

    #[inline(never)]
    fn hash_word_other(&self) -> u64 {
        match *self {
            Value::Int(i) => i as u64,
            Value::Float(f) => f.to_bits(),
            Value::Str(s) => u64::from(s.0),
            Value::Bool(b) => u64::from(b),
        }
    }

    /// `==`, with branches of their own for two integers and two strings (the common cases
    /// of a key compare).
    #[inline(always)]
    pub fn same_as(&self, other: Value) -> bool {
        match (*self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            _ => self.same_as_other(other),
        }
    }

    /// [`Value::same_as`] for anything but two integers, out of line (inline, the values are
    /// spilled to memory for it on every call).
    #[inline(never)]
    fn same_as_other(&self, other: Value) -> bool {
        *self == other
    }
}

impl PartialEq for Value {
    /// Equality as Java's `equals` on the boxed values: floats compare by bits.
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            _ => false,
        }
    }
}
impl Eq for Value {}

impl Hash for Value {
    /// One word per value (keys of one stream share a type, so the variant need not be
    /// hashed; equality still tells variants apart).
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash_word())
    }
}

/// A value with a total order, for deterministic ordered containers (timer queues). Numbers
/// order numerically within their type, strings by interning order: deterministic within a
/// run, not alphabetical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrdValue(pub Value);

impl Ord for OrdValue {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Int(_) => 0,
                Value::Float(_) => 1,
                Value::Str(_) => 2,
                Value::Bool(_) => 3,
            }
        }
        match (self.0, other.0) {
            (Value::Int(a), Value::Int(b)) => a.cmp(&b),
            (Value::Float(a), Value::Float(b)) => a.total_cmp(&b),
            (Value::Str(a), Value::Str(b)) => a.cmp(&b),
            (Value::Bool(a), Value::Bool(b)) => a.cmp(&b),
            (a, b) => rank(&a).cmp(&rank(&b)),
        }
    }
}

impl PartialOrd for OrdValue {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Formats a value for people (strings unquoted).
pub struct ValueDisplay<'a> {
    value: &'a Value,
    interner: &'a Interner,
}

impl fmt::Display for ValueDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.value {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(self.interner.resolve(s)),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// The strings of one run. Interning is the only place strings are allocated, once per
/// distinct string; its size is bounded by the number of distinct strings, not of records.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    set: IndexSet<Box<str>, FxBuildHasher>,
    java_hashes: Vec<i32>,
    content_hashes: Vec<u64>,
}

impl Interner {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// The symbol for a string, adding it on first sight.
    #[inline]
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(i) = self.set.get_index_of(s) {
            return Sym(i as u32);
        }
        let (i, _) = self.set.insert_full(s.into());
        self.java_hashes.push(java_string_hash(s));
        self.content_hashes
            .push(crate::core::rng::fnv1a64(s.as_bytes()));
        Sym(i as u32)
    }

    /// The string of a symbol.
    #[inline]
    pub fn resolve(&self, s: Sym) -> &str {
        self.set.get_index(s.0 as usize).map_or("", |b| b)
    }

    /// UTF-8 length in bytes of a symbol's string.
    #[inline]
    pub fn len_of(&self, s: Sym) -> u32 {
        self.resolve(s).len() as u32
    }

    /// The cached Java `String.hashCode` of a symbol's string.
    #[inline]
    pub fn java_hash(&self, s: Sym) -> i32 {
        self.java_hashes[s.0 as usize]
    }

    /// A 64-bit hash of a symbol's text (FNV-1a), independent of interning order.
    #[inline]
    pub fn content_hash(&self, s: Sym) -> u64 {
        self.content_hashes[s.0 as usize]
    }

    /// Number of distinct strings seen.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether no string was interned yet.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// A named, typed field of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The field's name, as expressions refer to it.
    pub name: Arc<str>,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: Type,
}

/// The fields of the records of one stream, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Schema {
    /// The fields.
    pub fields: Vec<Field>,
}

impl Schema {
    /// A schema from `(name, type)` pairs.
    pub fn new<'a>(fields: impl IntoIterator<Item = (&'a str, Type)>) -> Self {
        Schema {
            fields: fields
                .into_iter()
                .map(|(n, t)| Field {
                    name: n.into(),
                    ty: t,
                })
                .collect(),
        }
    }

    /// Position of a field by name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| &*f.name == name)
    }

    /// Number of fields.
    pub fn arity(&self) -> usize {
        self.fields.len()
    }

    /// The field names joined by ", " (for error messages).
    pub fn names(&self) -> String {
        self.fields
            .iter()
            .map(|f| f.name.as_ref())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .fields
            .iter()
            .map(|x| format!("{}: {}", x.name, x.ty))
            .collect();
        write!(f, "({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_a_whole_word_tag_and_a_word_of_payload() {
        // Records are arrays of values: 16 bytes a field, every payload at byte 8.
        assert_eq!(size_of::<Value>(), 16);
        let v = [
            Value::Int(0),
            Value::Bool(true),
            Value::Str(Sym(3)),
            Value::Float(0.5),
        ];
        for w in &v {
            let payload = match w {
                Value::Int(i) => std::ptr::from_ref(i).addr(),
                Value::Float(f) => std::ptr::from_ref(f).addr(),
                Value::Str(s) => std::ptr::from_ref(s).addr(),
                Value::Bool(b) => std::ptr::from_ref(b).addr(),
            };
            assert_eq!(payload - std::ptr::from_ref(w).addr(), 8, "{w:?}");
        }
    }

    #[test]
    fn java_string_hash_matches_known_values() {
        // Values printed by Java: "hello".hashCode() etc.
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("Aa"), java_string_hash("BB")); // the classic collision
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        // a non-BMP char is two UTF-16 code units: "😀" = \uD83D\uDE00
        assert_eq!(java_string_hash("😀"), 0xD83D * 31 + 0xDE00);
    }

    #[test]
    fn java_long_hash_folds_the_high_word() {
        assert_eq!(java_long_hash(0), 0);
        assert_eq!(java_long_hash(1), 1);
        assert_eq!(java_long_hash(-1), 0);
        assert_eq!(java_long_hash(1 << 32), 1);
    }

    #[test]
    fn interner_gives_one_symbol_per_string_and_caches_the_hash() {
        let mut i = Interner::new();
        let a = i.intern("hello");
        let b = i.intern("world");
        assert_eq!(i.intern("hello"), a);
        assert_ne!(a, b);
        assert_eq!(i.resolve(b), "world");
        assert_eq!(Value::Str(a).java_hash_code(&i), 99_162_322);
        assert_eq!(i.len(), 2);
    }

    #[test]
    fn floats_compare_by_bits_like_java_equals() {
        assert_eq!(Value::Float(f64::NAN), Value::Float(f64::NAN));
        assert_ne!(Value::Float(0.0), Value::Float(-0.0));
        assert_ne!(Value::Int(1), Value::Float(1.0));
    }
}
