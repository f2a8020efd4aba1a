use super::*;

fn schema() -> Schema {
    Schema::new([
        ("word", Type::String),
        ("n", Type::Int),
        ("price", Type::Float),
        ("ok", Type::Bool),
    ])
}

fn eval_on(text: &str, row: &[Value], interner: &mut Interner) -> Value {
    let s = schema();
    let e = compile(text, &Scope::Record(&s), interner).unwrap_or_else(|e| panic!("{text}: {e:?}"));
    let (mut scratch, mut error) = (String::new(), None);
    let mut cx = EvalCx {
        interner,
        scratch: &mut scratch,
        error: &mut error,
    };
    e.eval(row, &[], &mut cx)
}

fn row(i: &mut Interner) -> Vec<Value> {
    vec![
        Value::Str(i.intern("Hello")),
        Value::Int(7),
        Value::Float(2.5),
        Value::Bool(true),
    ]
}

#[test]
fn long_and_deep_expressions_are_refused_not_overflowing_the_stack() {
    let s = schema();
    let mut i = Interner::new();
    let r = row(&mut i);
    // The longest allowed chain compiles and evaluates (on a test thread's 2 MiB stack).
    let longest = vec!["n"; MAX_EXPR_TERMS].join(" + ");
    assert_eq!(
        eval_on(&longest, &r, &mut i),
        Value::Int(7 * MAX_EXPR_TERMS as i64)
    );
    for terms in [MAX_EXPR_TERMS + 1, 5_000, 50_000] {
        let text = vec!["n"; terms].join(" + ");
        let err = compile(&text, &Scope::Record(&s), &mut i).unwrap_err();
        assert_eq!(
            err.message,
            format!("expression too long: {terms} terms, at most {MAX_EXPR_TERMS}")
        );
    }
    let nested = |d: usize| format!("{}n{}", "(".repeat(d), ")".repeat(d));
    assert_eq!(
        eval_on(&nested(MAX_EXPR_NESTING), &r, &mut i),
        Value::Int(7)
    );
    for d in [MAX_EXPR_NESTING + 1, 3_000] {
        let err = compile(&nested(d), &Scope::Record(&s), &mut i).unwrap_err();
        assert!(
            err.message.starts_with(&format!(
                "expression nested too deeply: {d} levels of parentheses"
            )),
            "{}",
            err.message
        );
        assert_eq!(err.span, MAX_EXPR_NESTING..MAX_EXPR_NESTING + 1);
    }
    let signs = format!("{}n", "- ".repeat(400));
    let err = compile(&signs, &Scope::Record(&s), &mut i).unwrap_err();
    assert!(
        err.message.starts_with("expression nested too deeply"),
        "{}",
        err.message
    );
}

#[test]
fn arithmetic_follows_java() {
    let mut i = Interner::new();
    let r = row(&mut i);
    assert_eq!(eval_on("n * 2 + 1", &r, &mut i), Value::Int(15));
    assert_eq!(eval_on("n / 2", &r, &mut i), Value::Int(3));
    assert_eq!(eval_on("-n % 3", &r, &mut i), Value::Int(-1));
    assert_eq!(eval_on("n + price", &r, &mut i), Value::Float(9.5));
    assert_eq!(
        eval_on("9223372036854775807 + 1", &r, &mut i),
        Value::Int(i64::MIN)
    );
}

#[test]
fn integer_division_by_zero_is_reported_not_panicked() {
    let mut i = Interner::new();
    let r = row(&mut i);
    let s = schema();
    let e = compile("n / (n - 7)", &Scope::Record(&s), &mut i).unwrap();
    let (mut scratch, mut error) = (String::new(), None);
    let mut cx = EvalCx {
        interner: &mut i,
        scratch: &mut scratch,
        error: &mut error,
    };
    e.eval(&r, &[], &mut cx);
    assert_eq!(
        error.as_deref(),
        Some("java.lang.ArithmeticException: / by zero")
    );
}

#[test]
fn comparisons_logic_case_and_in() {
    let mut i = Interner::new();
    let r = row(&mut i);
    assert_eq!(
        eval_on("n > 5 AND NOT ok = false", &r, &mut i),
        Value::Bool(true)
    );
    assert_eq!(
        eval_on("word = 'Hello' OR n < 0", &r, &mut i),
        Value::Bool(true)
    );
    assert_eq!(eval_on("word < 'Help'", &r, &mut i), Value::Bool(true));
    assert_eq!(
        eval_on(
            "CASE WHEN n > 10 THEN 'big' WHEN n > 5 THEN 'mid' ELSE 'small' END",
            &r,
            &mut i
        )
        .display(&i)
        .to_string(),
        "mid"
    );
    assert_eq!(
        eval_on("CASE n WHEN 7 THEN 1.5 ELSE 0 END", &r, &mut i),
        Value::Float(1.5)
    );
    assert_eq!(eval_on("n IN (1, 7, 9)", &r, &mut i), Value::Bool(true));
    assert_eq!(
        eval_on("n NOT BETWEEN 1 AND 6", &r, &mut i),
        Value::Bool(true)
    );
}

#[test]
fn string_functions() {
    let mut i = Interner::new();
    let r = row(&mut i);
    let v = eval_on("concat(lower(word), '-', upper(word), n)", &r, &mut i);
    assert_eq!(v.display(&i).to_string(), "hello-HELLO7");
    let v = eval_on("word || ':' || price", &r, &mut i);
    assert_eq!(v.display(&i).to_string(), "Hello:2.5");
    assert_eq!(eval_on("length(word)", &r, &mut i), Value::Int(5));
    assert_eq!(eval_on("CAST(price AS BIGINT)", &r, &mut i), Value::Int(2));
    assert_eq!(
        eval_on("CAST(n AS VARCHAR)", &r, &mut i)
            .display(&i)
            .to_string(),
        "7"
    );
}

#[test]
fn unknown_field_names_the_known_ones_and_points_at_the_name() {
    let mut i = Interner::new();
    let s = schema();
    let err = compile("n + wrod", &Scope::Record(&s), &mut i).unwrap_err();
    assert!(
        err.message.contains("unknown field `wrod`"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("known fields: word, n, price, ok"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("did you mean `word`"),
        "{}",
        err.message
    );
    assert_eq!(err.span, 4..8);
}

#[test]
fn malformed_expression_points_inside_the_text() {
    let err = parse("n + * 2").unwrap_err();
    assert!(
        err.message.starts_with("malformed expression"),
        "{}",
        err.message
    );
    assert_eq!(err.span.start, 4, "{err:?}");
    let err = parse("n + 2 3").unwrap_err();
    assert!(err.message.contains("unexpected `3`"), "{}", err.message);
    assert_eq!(err.span, 6..7);
}

#[test]
fn type_errors_name_the_operand() {
    let mut i = Interner::new();
    let s = schema();
    let err = compile("word + 1", &Scope::Record(&s), &mut i).unwrap_err();
    assert!(
        err.message
            .contains("needs numbers, but `word` is a string"),
        "{}",
        err.message
    );
    assert_eq!(err.span, 0..4);
    let err = compile_typed(
        "n + 1",
        &Scope::Record(&s),
        &mut i,
        Type::Bool,
        "a filter condition",
    )
    .unwrap_err();
    assert!(
        err.message.contains("a filter condition must be bool"),
        "{}",
        err.message
    );
    assert!(
        compile("CASE WHEN ok THEN 1 END", &Scope::Record(&s), &mut i)
            .unwrap_err()
            .message
            .contains("ELSE")
    );
}

#[test]
fn split_is_only_for_flat_map_and_splits_like_flinks_wordcount() {
    let mut i = Interner::new();
    let s = schema();
    assert!(compile("split(word)", &Scope::Record(&s), &mut i).is_err());
    let item = compile_select("split(lower(word))", &Scope::Record(&s), &mut i).unwrap();
    assert!(matches!(
        item,
        SelectItem::Split {
            delimiter: None,
            ..
        }
    ));
    let mut pieces = Vec::new();
    split_pieces("To be, or not to be,--that is the question:--", None, |p| {
        pieces.push(p.to_string())
    });
    assert_eq!(
        pieces,
        [
            "To", "be", "or", "not", "to", "be", "that", "is", "the", "question"
        ]
    );
    let mut pieces = Vec::new();
    split_pieces("a,b,,c", Some(","), |p| pieces.push(p.to_string()));
    assert_eq!(pieces, ["a", "b", "c"]);
}

#[test]
fn ascii_fast_paths_split_and_case_like_the_unicode_path() {
    // The byte-wise split of ASCII text gives the pieces of the char-wise split.
    for text in ["", "_", "--a--", "it's_a b9 c", "x", "  lead and trail  "] {
        let mut fast = Vec::new();
        split_pieces(text, None, |p| fast.push(p.to_string()));
        let slow: Vec<String> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        assert_eq!(fast, slow, "{text:?}");
    }
    // Non-ASCII text takes the char-wise path: letters beyond ASCII are word characters.
    let mut pieces = Vec::new();
    split_pieces("Grüße, Ωmega!", None, |p| pieces.push(p.to_string()));
    assert_eq!(pieces, ["Grüße", "Ωmega"]);
    let mut i = Interner::new();
    let word = i.intern("ÄbC");
    let mut r = row(&mut i);
    r[0] = Value::Str(word);
    let v = eval_on("concat(lower(word), upper(word))", &r, &mut i);
    assert_eq!(v.display(&i).to_string(), "äbcÄBC");
}

#[test]
fn fused_nodes_compute_the_same_as_the_tree() {
    let mut i = Interner::new();
    let r = row(&mut i);
    let s = schema();
    let e = compile("n * 3", &Scope::Record(&s), &mut i).unwrap();
    assert!(matches!(e.node, Node::IntArithFieldConst(..)));
    assert_eq!(eval_on("n * 3", &r, &mut i), Value::Int(21));
    assert_eq!(eval_on("n - n", &r, &mut i), Value::Int(0));
    let e = compile("n > 6", &Scope::Record(&s), &mut i).unwrap();
    assert!(matches!(e.node, Node::CompareIntFieldConst(..)));
    assert_eq!(eval_on("n > 6", &r, &mut i), Value::Bool(true));
    assert_eq!(eval_on("n <= 6", &r, &mut i), Value::Bool(false));
    assert_eq!(eval_on("n > 6 AND n < 8", &r, &mut i), Value::Bool(true));
}

#[test]
fn reduce_scope_reads_the_accumulator() {
    let mut i = Interner::new();
    let s = schema();
    let e = compile("acc.n + n", &Scope::Reduce { acc: &s, cur: &s }, &mut i).unwrap();
    let r = row(&mut i);
    let mut acc = r.clone();
    acc[1] = Value::Int(100);
    let (mut scratch, mut error) = (String::new(), None);
    let mut cx = EvalCx {
        interner: &mut i,
        scratch: &mut scratch,
        error: &mut error,
    };
    assert_eq!(e.eval(&r, &acc, &mut cx), Value::Int(107));
}

#[test]
fn integer_arithmetic_over_two_plain_operands_is_seen_as_such_and_nothing_else_is() {
    use eval::Arith;
    let mut i = Interner::new();
    let s = schema();
    let scope = Scope::Reduce { acc: &s, cur: &s };
    let r = row(&mut i);
    let mut acc = r.clone();
    acc[1] = Value::Int(100);
    let shapes = [
        (
            "acc.n + n",
            Some((Arith::Add, IntOperand::Acc(1), IntOperand::Row(1))),
        ),
        (
            "n - acc.n",
            Some((Arith::Sub, IntOperand::Row(1), IntOperand::Acc(1))),
        ),
        (
            "acc.n * 3",
            Some((Arith::Mul, IntOperand::Acc(1), IntOperand::Const(3))),
        ),
        (
            "n - 2",
            Some((Arith::Sub, IntOperand::Row(1), IntOperand::Const(2))),
        ),
        (
            "n * n",
            Some((Arith::Mul, IntOperand::Row(1), IntOperand::Row(1))),
        ),
        // can fail (division by zero), nested, or not integers
        ("acc.n / n", None),
        ("acc.n % 2", None),
        ("acc.n + n * 2", None),
        ("price + 1", None),
        ("n", None),
    ];
    for (text, expected) in shapes {
        let e = compile(text, &scope, &mut i).unwrap();
        assert_eq!(e.int_binop(), expected, "{text}");
        let Some((op, a, b)) = e.int_binop() else {
            continue;
        };
        let (x, y) = (a.get(&r, &acc), b.get(&r, &acc));
        let got = match op {
            Arith::Add => x.wrapping_add(y),
            Arith::Sub => x.wrapping_sub(y),
            _ => x.wrapping_mul(y),
        };
        let (mut scratch, mut error) = (String::new(), None);
        let mut cx = EvalCx {
            interner: &mut i,
            scratch: &mut scratch,
            error: &mut error,
        };
        assert_eq!(Value::Int(got), e.eval(&r, &acc, &mut cx), "{text}");
    }
}

#[test]
fn floor_and_ceil_are_functions_though_sql_gives_them_a_syntax_of_their_own() {
    let mut i = Interner::new();
    let mut r = row(&mut i);
    r[2] = Value::Float(-2.5);
    assert_eq!(eval_on("floor(price)", &r, &mut i), Value::Float(-3.0));
    assert_eq!(eval_on("FLOOR(price)", &r, &mut i), Value::Float(-3.0));
    assert_eq!(eval_on("ceil(price)", &r, &mut i), Value::Float(-2.0));
    assert_eq!(eval_on("CEILING(price)", &r, &mut i), Value::Float(-2.0));
    assert_eq!(eval_on("round(price)", &r, &mut i), Value::Float(-3.0));
    assert_eq!(eval_on("floor(n)", &r, &mut i), Value::Int(7));
    let s = schema();
    let err = compile("floor(word)", &Scope::Record(&s), &mut i).unwrap_err();
    assert_eq!(err.message, "`floor` needs a number, found string");
}
