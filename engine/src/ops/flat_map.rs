//! `flat_map`: zero or more records out per record in. One output field may be a `split`,
//! which emits one record per piece of the text (Flink's WordCount tokenizer); the other
//! fields are computed once per input record and repeated on every output.

use super::batch::{Batch, View};
use super::state::{OperatorState, over_limit};
use crate::core::value::{Sym, Value};
use crate::expr::eval::EvalCx;
use crate::expr::{Expr, split_syms};

/// A compiled flat_map.
#[derive(Debug, Clone)]
pub struct FlatMapOp {
    /// Scalar fields: `(position, expression)`.
    pub scalars: Vec<(usize, Expr)>,
    /// The split field: `(position, text expression, delimiter)`.
    pub split: Option<(usize, Expr, Option<Box<str>>)>,
    /// The output record, reused.
    pub out: Vec<Value>,
    /// The pieces of the current split, reused.
    pub pieces: Vec<Sym>,
    /// Most records one input batch may produce (its share of the memory limit,
    /// [`OperatorState::set_memory_share`]); beyond it the task fails.
    pub max_out: usize,
}

impl FlatMapOp {
    /// Processes a batch: every input record's outputs, in input order. Stops at the record
    /// whose expression fails (the task fails there) or whose pieces would pass
    /// [`FlatMapOp::max_out`] records in the batch.
    #[inline]
    pub fn process(&mut self, input: View<'_>, out: &mut Batch, ev: &mut EvalCx<'_>) {
        let before = ev.error.is_some();
        for i in 0..input.len() {
            self.prepare(input.row(i), ev);
            if !before && ev.error.is_some() {
                break; // an expression failed: the task stops at this record
            }
            match self.split.as_ref().map(|s| s.0) {
                None => out.push(&self.out, input.meta[i], i as u32),
                Some(pos) => {
                    if out.len() + self.pieces.len() > self.max_out {
                        // checked before the records are written: a row that
                        // splits into millions of pieces must not allocate them
                        *ev.error = Some(over_limit(
                            &format!(
                                "a flat_map row splits into {} pieces, {} records in this batch",
                                self.pieces.len(),
                                out.len() + self.pieces.len()
                            ),
                            &format!("{} records per batch", self.max_out),
                        ));
                        break;
                    }
                    for &piece in &self.pieces {
                        out.push_with_field(
                            &self.out,
                            pos,
                            Value::Str(piece),
                            input.meta[i],
                            i as u32,
                        );
                    }
                }
            }
        }
    }

    /// Computes the scalar fields and the pieces for one input record. The caller then emits
    /// one record per piece (or one record if there is no split).
    #[inline]
    pub fn prepare(&mut self, row: &[Value], ev: &mut EvalCx<'_>) {
        for (pos, e) in &self.scalars {
            self.out[*pos] = e.eval(row, &[], ev);
        }
        self.pieces.clear();
        if let Some((_, e, delim)) = &self.split
            && let Value::Str(s) = e.eval(row, &[], ev)
        {
            split_syms(
                ev.interner,
                ev.scratch,
                s,
                delim.as_deref(),
                &mut self.pieces,
            );
        }
    }
}

/// Stateless; its share of the memory limit bounds the records one batch may produce (a
/// quarter of the limit: its batch and the copies downstream operators make of it).
impl OperatorState for FlatMapOp {
    fn set_memory_share(&mut self, limit_bytes: u64, out_arity: usize) {
        let record = super::batch::record_bytes(out_arity).max(1);
        self.max_out = usize::try_from(limit_bytes / 4 / record).unwrap_or(usize::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::{Interner, Schema, Type};
    use crate::expr::{Scope, compile};

    #[test]
    fn splits_a_line_into_words() {
        let s = Schema::new([("line", Type::String)]);
        let mut i = Interner::new();
        let text = compile("lower(line)", &Scope::Record(&s), &mut i).unwrap();
        let one = compile("1", &Scope::Record(&s), &mut i).unwrap();
        let mut f = FlatMapOp {
            scalars: vec![(1, one)],
            split: Some((0, text, None)),
            out: vec![Value::Int(0); 2],
            pieces: vec![],
            max_out: usize::MAX,
        };
        let line = Value::Str(i.intern("To be, or not to be"));
        let (mut scratch, mut err) = (String::new(), None);
        let mut ev = EvalCx {
            interner: &mut i,
            scratch: &mut scratch,
            error: &mut err,
        };
        f.prepare(&[line], &mut ev);
        let words: Vec<&str> = f.pieces.iter().map(|p| ev.interner.resolve(*p)).collect();
        assert_eq!(words, ["to", "be", "or", "not", "to", "be"]);
        assert_eq!(f.out[1], Value::Int(1));

        // Through `process`: a record per word, the word in field 0 and the scalar in field
        // 1, each with its input record's metadata and index.
        let meta = crate::ops::element::RecMeta::untimed(crate::core::time::SimTime::ZERO);
        let lines = [line, Value::Str(ev.interner.intern("Whether"))];
        let input = View {
            arity: 1,
            values: &lines,
            meta: &[meta, meta],
        };
        let mut out = Batch::new(2);
        f.process(input, &mut out, &mut ev);
        let rows: Vec<String> = (0..out.len())
            .map(|r| {
                let row = &out.values[r * 2..r * 2 + 2];
                format!(
                    "{} {}",
                    row[0].display(ev.interner),
                    row[1].display(ev.interner)
                )
            })
            .collect();
        assert_eq!(
            rows,
            ["to 1", "be 1", "or 1", "not 1", "to 1", "be 1", "whether 1"]
        );
        assert_eq!(out.parent, [0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn its_memory_share_is_a_quarter_of_the_limit_in_records() {
        let mut f = FlatMapOp {
            scalars: vec![],
            split: None,
            out: vec![],
            pieces: vec![],
            max_out: usize::MAX,
        };
        let limit = 4 * 1000 * super::super::batch::record_bytes(2);
        f.set_memory_share(limit, 2);
        assert_eq!(f.max_out, 1000);
    }
}
