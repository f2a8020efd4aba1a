//! The oracle of the column-at-a-time path: for random expressions over random batches,
//! [`Expr::eval_each`] gives every record the value (and the run the error) that walking the
//! tree record by record gives.

use crate::core::value::{Interner, Schema, Type, Value};
use crate::expr::eval::{EvalCx, Node};
use crate::expr::{Scope, compile};
use proptest::prelude::*;

fn schema() -> Schema {
    Schema::new([
        ("word", Type::String),
        ("n", Type::Int),
        ("price", Type::Float),
        ("ok", Type::Bool),
        ("m", Type::Int),
    ])
}

/// The type of expression [`build`] makes.
#[derive(Clone, Copy)]
enum Ty {
    Int,
    Float,
    Bool,
}

/// A well-typed expression of type `ty`, as text, its shape drawn from `choices` (a node per
/// choice; leaves once `depth` runs out or the choices do).
fn build(ty: Ty, depth: u32, choices: &mut impl Iterator<Item = u8>) -> String {
    let c = match choices.next() {
        Some(c) if depth > 0 => c,
        c => {
            let c = c.unwrap_or(0) as usize;
            return match ty {
                Ty::Int => ["n", "m", "3", "-7", "0", "9223372036854775807"][c % 6],
                Ty::Float => ["price", "1.5", "-0.25"][c % 3],
                Ty::Bool => ["ok", "(word = 'be')", "(n > 30)"][c % 3],
            }
            .to_string();
        }
    };
    let mut sub = |ty| build(ty, depth - 1, choices);
    match ty {
        Ty::Int => match c % 9 {
            0 => format!("({} + {})", sub(Ty::Int), sub(Ty::Int)),
            1 => format!("({} - {})", sub(Ty::Int), sub(Ty::Int)),
            2 => format!("({} * {})", sub(Ty::Int), sub(Ty::Int)),
            3 => format!("({} / {})", sub(Ty::Int), sub(Ty::Int)),
            4 => format!("({} % {})", sub(Ty::Int), sub(Ty::Int)),
            5 => format!("(- {})", sub(Ty::Int)),
            6 => format!("abs({})", sub(Ty::Int)),
            7 => format!("CAST({} AS BIGINT)", sub(Ty::Float)),
            _ => format!("floor({})", sub(Ty::Int)),
        },
        Ty::Float => match c % 9 {
            0 => format!("({} + {})", sub(Ty::Float), sub(Ty::Int)),
            1 => format!("({} - {})", sub(Ty::Float), sub(Ty::Float)),
            2 => format!("({} * {})", sub(Ty::Int), sub(Ty::Float)),
            3 => format!("({} / {})", sub(Ty::Float), sub(Ty::Float)),
            4 => format!("({} % {})", sub(Ty::Float), sub(Ty::Float)),
            5 => format!("(- {})", sub(Ty::Float)),
            6 => format!("abs({})", sub(Ty::Float)),
            7 => format!("CAST({} AS DOUBLE)", sub(Ty::Int)),
            _ => format!(
                "{}({})",
                ["floor", "ceil", "round"][c as usize % 3],
                sub(Ty::Float)
            ),
        },
        Ty::Bool => match c % 8 {
            0 => format!("({} > {})", sub(Ty::Int), sub(Ty::Int)),
            1 => format!("({} <= {})", sub(Ty::Float), sub(Ty::Int)),
            2 => format!("({} = {})", sub(Ty::Float), sub(Ty::Float)),
            3 => format!("({} AND {})", sub(Ty::Bool), sub(Ty::Bool)),
            4 => format!("({} OR {})", sub(Ty::Bool), sub(Ty::Bool)),
            5 => format!("(NOT {})", sub(Ty::Bool)),
            6 => format!("({} IN (1, 3, 2.5))", sub(Ty::Int)),
            _ => format!("({} <> {})", sub(Ty::Bool), sub(Ty::Bool)),
        },
    }
}

/// Integer, float and boolean expressions over the schema's fields, as text.
fn exprs() -> impl Strategy<Value = String> {
    (
        0..3u8,
        0..6u32,
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(t, depth, c)| {
            let ty = [Ty::Int, Ty::Float, Ty::Bool][t as usize];
            build(ty, depth, &mut c.into_iter())
        })
}

/// Rows with small and extreme integers (wrapping), and floats with NaN and infinities.
fn rows(interner: &mut Interner) -> impl Strategy<Value = Vec<[Value; 5]>> + use<> {
    let words = [interner.intern("be"), interner.intern("to")];
    let int = prop_oneof![-50i64..50, Just(i64::MAX), Just(i64::MIN), Just(0)];
    let float = prop_oneof![
        -100.0f64..100.0,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-0.0)
    ];
    proptest::collection::vec((0..2usize, int.clone(), float, any::<bool>(), int), 0..40).prop_map(
        move |rows| {
            rows.into_iter()
                .map(|(w, n, p, ok, m)| {
                    [
                        Value::Str(words[w]),
                        Value::Int(n),
                        Value::Float(p),
                        Value::Bool(ok),
                        Value::Int(m),
                    ]
                })
                .collect()
        },
    )
}

/// The same value, floats compared bit for bit (NaN is NaN).
fn same(a: Value, b: Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (x, y) => x == y,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn a_batch_evaluates_as_record_by_record(text in exprs(), seed_rows in rows(&mut Interner::new())) {
        let s = schema();
        let mut interner = Interner::new();
        // The same symbols as the strategy's interner: "be" then "to".
        interner.intern("be");
        interner.intern("to");
        let e = compile(&text, &Scope::Record(&s), &mut interner)
            .unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let values: Vec<Value> = seed_rows.iter().flatten().copied().collect();
        let (mut scratch, mut batch_error) = (String::new(), None);
        let mut batch = Vec::new();
        {
            let mut cx = EvalCx { interner: &mut interner, scratch: &mut scratch, error: &mut batch_error };
            e.eval_each(&values, 5, &mut cx, |i, v| {
                assert_eq!(i, batch.len(), "in record order");
                batch.push(v);
            });
        }
        let mut row_error = None;
        let mut one_by_one = Vec::new();
        {
            let mut cx = EvalCx { interner: &mut interner, scratch: &mut scratch, error: &mut row_error };
            for row in &seed_rows {
                one_by_one.push(e.node.eval(row, &[], &mut cx));
            }
        }
        prop_assert_eq!(batch.len(), seed_rows.len());
        for (k, (a, b)) in batch.iter().zip(&one_by_one).enumerate() {
            prop_assert!(same(*a, *b), "{text}: record {k}: batch {a:?}, one by one {b:?}");
        }
        prop_assert_eq!(batch_error, row_error, "{}", text);
    }
}

#[test]
fn arithmetic_comparisons_and_logic_are_columnar_strings_and_division_are_not() {
    let s = schema();
    let mut i = Interner::new();
    let columnar = |text: &str, i: &mut Interner| {
        let e = compile(text, &Scope::Record(&s), i).unwrap();
        super::columnar(&e.node)
    };
    for text in [
        "n * 3 + 1",
        "(n + m) * 2 > 10 AND NOT ok",
        "abs(price) * 2.5 - n",
        "n IN (1, 2) OR word = 'be'",
        "floor(price) > 3",
    ] {
        assert!(columnar(text, &mut i), "{text}");
    }
    for text in [
        "n / 2 + 1",
        "n % m",
        "lower(word) = 'be'",
        "CASE WHEN ok THEN 1 ELSE 2 END + n",
    ] {
        assert!(!columnar(text, &mut i), "{text}");
    }
    // `acc.*` reads the accumulator: a reduce's fold, never a batch column.
    let e = compile("acc.n + n", &Scope::Reduce { acc: &s, cur: &s }, &mut i).unwrap();
    assert!(!super::columnar(&e.node));
    assert!(matches!(e.node, Node::IntArith(..)));
}
