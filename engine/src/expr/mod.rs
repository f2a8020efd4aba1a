//! Expressions over record fields, written in SQL syntax.
//!
//! Scenario files describe `map`, `filter`, `flat_map`, `key_by` and reduce logic with SQL
//! expressions (`lower(word)`, `amount * 2 > 100`, `CASE WHEN … END`). They are parsed once by
//! `sqlparser`, type-checked against the input stream's [`Schema`], and compiled into a
//! [`Node`] tree bound to field positions ([`compile`]). Evaluating a record then costs a walk
//! over that tree — no parsing, no name lookups, no allocation.
//!
//! ```
//! use streamlab_engine::expr::{compile, Scope};
//! use streamlab_engine::expr::eval::EvalCx;
//! use streamlab_engine::core::value::{Interner, Schema, Type, Value};
//!
//! let schema = Schema::new([("word", Type::String), ("n", Type::Int)]);
//! let mut interner = Interner::new();
//! let e = compile("n * 2 + 1", &Scope::Record(&schema), &mut interner).unwrap();
//! let row = [Value::Str(interner.intern("to")), Value::Int(20)];
//! let (mut scratch, mut error) = (String::new(), None);
//! let mut cx = EvalCx { interner: &mut interner, scratch: &mut scratch, error: &mut error };
//! assert_eq!(e.eval(&row, &[], &mut cx), Value::Int(41));
//! ```

mod column;
mod compile;
pub mod compiled;
pub mod eval;

pub use compiled::{Assign, Compiled, Relink};

use crate::core::value::{Interner, Schema, Sym, Type, Value};
use eval::{EvalCx, Node};
use sqlparser::ast::{Expr as Ast, FunctionArg, FunctionArgExpr, FunctionArguments, Spanned};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Span, Token};
use std::ops::Range;
use std::sync::Arc;

/// A mistake in an expression, located inside the expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// What is wrong.
    pub message: String,
    /// Byte range inside the expression text.
    pub span: Range<usize>,
    /// Optional short label for the range.
    pub label: String,
}

/// The names an expression can refer to.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// The fields of the record being processed.
    Record(&'a Schema),
    /// A reduce: plain names are the new record's fields, `acc.name` the accumulated record's.
    Reduce {
        /// The accumulated record (same schema as the input).
        acc: &'a Schema,
        /// The incoming record.
        cur: &'a Schema,
    },
    /// A join: `left.name` and `right.name` (evaluated with the left record as the record
    /// and the right one in the second slot).
    Join {
        /// The first input's record.
        left: &'a Schema,
        /// The second input's record.
        right: &'a Schema,
    },
}

impl Scope<'_> {
    /// Resolves a (possibly qualified) name to `(row, position, type)`.
    pub fn resolve(
        &self,
        qualifier: Option<&str>,
        name: &str,
    ) -> Result<(u8, usize, Type), String> {
        let (row, schema) = match (self, qualifier) {
            (Scope::Record(s), None) => (0u8, *s),
            (Scope::Reduce { cur, .. }, None) => (0, *cur),
            (Scope::Reduce { acc, .. }, Some("acc")) => (1, *acc),
            (Scope::Record(_), Some(q)) => {
                return Err(format!(
                    "`{q}.{name}`: fields are named without a qualifier here; write `{name}`"
                ));
            }
            (Scope::Reduce { .. }, Some(q)) => {
                return Err(format!(
                    "unknown qualifier `{q}`; in a reduce, `acc.<field>` is the accumulated record"
                ));
            }
            (Scope::Join { left, .. }, Some("left")) => (0, *left),
            (Scope::Join { right, .. }, Some("right")) => (1, *right),
            (Scope::Join { .. }, q) => {
                return Err(match q {
                    None => {
                        format!("write `left.{name}` or `right.{name}`: a join sees two records")
                    }
                    Some(q) => {
                        format!("unknown qualifier `{q}`; a join's records are `left` and `right`")
                    }
                });
            }
        };
        match schema.index_of(name) {
            Some(i) => Ok((row, i, schema.fields[i].ty)),
            None => {
                let known: Vec<&str> = schema.fields.iter().map(|f| f.name.as_ref()).collect();
                let mut msg = format!("unknown field `{name}`; known fields: {}", known.join(", "));
                if let Some(s) = closest(name, &known) {
                    msg.push_str(&format!(" (did you mean `{s}`?)"));
                }
                Err(msg)
            }
        }
    }
}

/// An operand of integer arithmetic read straight from a row: a field of the record, a field
/// of the accumulator (reduce only), or a constant. See [`Expr::int_binop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOperand {
    /// Field of the record being processed.
    Row(usize),
    /// Field of the accumulated record.
    Acc(usize),
    /// A literal.
    Const(i64),
}

impl IntOperand {
    /// The operand's value as an integer, as the tree walk reads it (`Value::as_int`).
    #[inline(always)]
    pub fn get(self, row: &[Value], acc: &[Value]) -> i64 {
        match self {
            IntOperand::Row(i) => row[i].as_int(),
            IntOperand::Acc(i) => acc[i].as_int(),
            IntOperand::Const(c) => c,
        }
    }

    fn of(n: &Node) -> Option<Self> {
        match *n {
            Node::Field { row: 0, idx } => Some(IntOperand::Row(idx as usize)),
            Node::Field { idx, .. } => Some(IntOperand::Acc(idx as usize)),
            Node::Const(v) => Some(IntOperand::Const(v.as_int())),
            _ => None,
        }
    }
}

/// A compiled, type-checked expression.
#[derive(Debug, Clone)]
pub struct Expr {
    /// The source text.
    pub text: Arc<str>,
    /// The compiled tree.
    pub node: Node,
    /// The result type.
    pub ty: Type,
}

impl Expr {
    /// Evaluates the expression on a record (and the accumulator, for reduce expressions).
    #[inline(always)]
    pub fn eval(&self, row: &[Value], acc: &[Value], cx: &mut EvalCx<'_>) -> Value {
        // The commonest shapes inline; everything else walks the tree.
        match self.node {
            Node::Field { row: 0, idx } => row[idx as usize],
            Node::Const(v) => v,
            Node::IntArithFieldConst(op, idx, c)
                if !matches!(op, eval::Arith::Div | eval::Arith::Rem) =>
            {
                eval::int_arith(op, row[idx as usize].as_int(), c, cx)
            }
            Node::CompareIntFieldConst(op, idx, c) => {
                Value::Bool(eval::cmp_ord(op, row[idx as usize].as_int().cmp(&c)))
            }
            // Integer arithmetic that cannot fail over two operands (`acc.total + amount`).
            Node::IntArith(op, ref a, ref b)
                if !matches!(op, eval::Arith::Div | eval::Arith::Rem) =>
            {
                let (x, y) = (
                    a.operand(row, acc, cx).as_int(),
                    b.operand(row, acc, cx).as_int(),
                );
                eval::int_arith(op, x, y, cx)
            }
            _ => self.node.eval(row, acc, cx),
        }
    }

    /// The expression as integer arithmetic that cannot fail (`+`, `-`, `*`) over two plain
    /// operands — `acc.total + amount`, `acc.n + 1`, `price * qty` — for a fold that picks the
    /// operator once per batch instead of walking the tree per record. `None` for any other
    /// shape. Evaluating `op` on the two operands gives what [`Expr::eval`] gives.
    pub fn int_binop(&self) -> Option<(eval::Arith, IntOperand, IntOperand)> {
        use eval::Arith;
        let (op, a, b) = match self.node {
            Node::IntArith(op, ref a, ref b) => (op, IntOperand::of(a)?, IntOperand::of(b)?),
            Node::IntArithFieldConst(op, idx, c) => {
                (op, IntOperand::Row(idx as usize), IntOperand::Const(c))
            }
            Node::IntArithFieldField(op, a, b) => {
                (op, IntOperand::Row(a as usize), IntOperand::Row(b as usize))
            }
            _ => return None,
        };
        match op {
            Arith::Add | Arith::Sub | Arith::Mul => Some((op, a, b)),
            Arith::Div | Arith::Rem => None,
        }
    }

    /// Evaluates over every record of a row-major batch (`arity` values per record), calling
    /// `f(i, value)` in order. The common shapes run as tight loops with the operator chosen
    /// once per batch; everything else evaluates record by record.
    #[inline(always)]
    pub fn eval_each(
        &self,
        values: &[Value],
        arity: usize,
        cx: &mut EvalCx<'_>,
        mut f: impl FnMut(usize, Value),
    ) {
        use eval::{Arith, Cmp};
        let rows = values.chunks_exact(arity.max(1));
        macro_rules! each {
            (|$row:ident| $e:expr) => {
                for (i, $row) in rows.enumerate() {
                    f(i, $e);
                }
            };
        }
        match self.node {
            Node::Field { row: 0, idx } => {
                let idx = idx as usize;
                each!(|row| row[idx])
            }
            Node::Const(v) => each!(|_row| v),
            Node::IntArithFieldConst(op, idx, c) if !matches!(op, Arith::Div | Arith::Rem) => {
                let idx = idx as usize;
                match op {
                    Arith::Add => each!(|row| Value::Int(row[idx].as_int().wrapping_add(c))),
                    Arith::Sub => each!(|row| Value::Int(row[idx].as_int().wrapping_sub(c))),
                    _ => each!(|row| Value::Int(row[idx].as_int().wrapping_mul(c))),
                }
            }
            Node::CompareIntFieldConst(op, idx, c) => {
                let idx = idx as usize;
                match op {
                    Cmp::Eq => each!(|row| Value::Bool(row[idx].as_int() == c)),
                    Cmp::Ne => each!(|row| Value::Bool(row[idx].as_int() != c)),
                    Cmp::Lt => each!(|row| Value::Bool(row[idx].as_int() < c)),
                    Cmp::Le => each!(|row| Value::Bool(row[idx].as_int() <= c)),
                    Cmp::Gt => each!(|row| Value::Bool(row[idx].as_int() > c)),
                    Cmp::Ge => each!(|row| Value::Bool(row[idx].as_int() >= c)),
                }
            }
            _ if column::columnar(&self.node) => column::each(&self.node, values, arity, cx, f),
            _ => each!(|row| self.node.eval(row, &[], cx)),
        }
    }

    /// Whether evaluating it can fail: only integer division and remainder can (by zero).
    pub fn may_fail(&self) -> bool {
        self.node.may_fail()
    }

    /// If the expression is a plain field of the current record, its position.
    pub fn as_field(&self) -> Option<usize> {
        match self.node {
            Node::Field { row: 0, idx } => Some(idx as usize),
            _ => None,
        }
    }

    /// The integer literal `n`, as [`compile`] gives it for the text `n`.
    pub fn int(n: i64) -> Expr {
        Expr {
            text: n.to_string().into(),
            node: Node::Const(Value::Int(n)),
            ty: Type::Int,
        }
    }
}

/// One output column of a `flat_map`: a scalar, or a `split` that fans the record out.
#[derive(Debug, Clone)]
pub enum SelectItem {
    /// One value per input record.
    Scalar(Expr),
    /// `split(text)` or `split(text, 'delimiter')`: one output record per piece.
    Split {
        /// The string to split.
        input: Expr,
        /// The literal delimiter; `None` splits at runs of non-word characters (Java's `\W+`,
        /// as Flink's WordCount tokenizer does).
        delimiter: Option<Box<str>>,
    },
}

/// Most operands (field names, literals) one expression may have. Parsing, type checking,
/// evaluation and dropping an expression walk its tree recursively, and `a + b + c + …` builds a
/// tree as deep as it is long: the bound keeps every walk well inside a thread's stack (a
/// scenario's expressions are a few terms; thousands mean a generated or mangled file).
pub const MAX_EXPR_TERMS: usize = 500;

/// Deepest nesting of parentheses (and function calls) in one expression.
pub const MAX_EXPR_NESTING: usize = 32;

/// How deep sqlparser may recurse (it counts each nested sub-expression, `NOT`, `CASE`, …).
/// Above [`MAX_EXPR_NESTING`] so that parentheses get the clearer message of [`check_size`].
const PARSER_RECURSION_LIMIT: usize = 2 * MAX_EXPR_NESTING + 16;

/// Refuses expressions too long or too deeply nested to walk safely, before building a tree.
/// Works on tokens, without recursion.
fn check_size(text: &str) -> Result<(), ExprError> {
    use sqlparser::tokenizer::Tokenizer;
    let dialect = GenericDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, text).tokenize_with_location() else {
        // The parser reports the tokenizer's error with its position.
        return Ok(());
    };
    let (mut terms, mut depth, mut deepest) = (0usize, 0usize, 0usize);
    let mut deepest_at = None;
    for t in &tokens {
        match &t.token {
            Token::LParen => {
                depth += 1;
                deepest = deepest.max(depth);
                if depth == MAX_EXPR_NESTING + 1 && deepest_at.is_none() {
                    deepest_at = Some(t.span);
                }
            }
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(_)
            | Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_) => terms += 1,
            _ => {}
        }
    }
    if terms > MAX_EXPR_TERMS {
        return Err(ExprError {
            message: format!("expression too long: {terms} terms, at most {MAX_EXPR_TERMS}"),
            span: 0..text.len(),
            label: "split the computation over several operators".into(),
        });
    }
    if deepest > MAX_EXPR_NESTING {
        return Err(ExprError {
            message: format!(
                "expression nested too deeply: {deepest} levels of parentheses, at most {MAX_EXPR_NESTING}"
            ),
            span: deepest_at.map_or(0..text.len(), |s| {
                let r = span_to_range(text, s);
                r.start..r.start + 1
            }),
            label: "the first parenthesis too deep".into(),
        });
    }
    Ok(())
}

/// Parses SQL expression text.
pub fn parse(text: &str) -> Result<Ast, ExprError> {
    check_size(text)?;
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .try_with_sql(text)
        .map_err(|e| parser_error(text, &e.to_string()))?;
    let ast = parser
        .parse_expr()
        .map_err(|e| parser_error(text, &e.to_string()))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        let r = span_to_range(text, next.span);
        return Err(ExprError {
            message: format!(
                "unexpected `{}` after the end of the expression",
                next.token
            ),
            span: r,
            label: "the expression ends before this".into(),
        });
    }
    Ok(ast)
}

/// Parses and compiles an expression against a scope.
pub fn compile(text: &str, scope: &Scope<'_>, interner: &mut Interner) -> Result<Expr, ExprError> {
    let ast = parse(text)?;
    compile_ast(text, &ast, scope, interner)
}

/// Compiles an expression that must have a given type (`what` names its role in messages).
pub fn compile_typed(
    text: &str,
    scope: &Scope<'_>,
    interner: &mut Interner,
    want: Type,
    what: &str,
) -> Result<Expr, ExprError> {
    let e = compile(text, scope, interner)?;
    if e.ty != want {
        return Err(ExprError {
            message: format!("{what} must be {want}, but `{text}` is {}", e.ty),
            span: 0..text.len(),
            label: String::new(),
        });
    }
    Ok(e)
}

/// Compiles one select expression of a `flat_map`, where a top-level `split` is allowed.
pub fn compile_select(
    text: &str,
    scope: &Scope<'_>,
    interner: &mut Interner,
) -> Result<SelectItem, ExprError> {
    let ast = parse(text)?;
    if let Ast::Function(f) = &ast
        && f.name.to_string().eq_ignore_ascii_case("split")
    {
        let args: Vec<&Ast> = match &f.args {
            FunctionArguments::List(l) => l
                .args
                .iter()
                .filter_map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let whole = span_to_range(text, ast.span());
        if args.is_empty() || args.len() > 2 {
            return Err(ExprError {
                message: "`split` takes the text and an optional literal delimiter: split(line) or split(line, ',')"
                    .into(),
                span: whole,
                label: String::new(),
            });
        }
        let input = compile_ast(text, args[0], scope, interner)?;
        if input.ty != Type::String {
            return Err(ExprError {
                message: format!("`split` needs a string, but `{}` is {}", args[0], input.ty),
                span: span_to_range(text, args[0].span()),
                label: String::new(),
            });
        }
        let delimiter = match args.get(1) {
            None => None,
            Some(Ast::Value(v)) => match &v.value {
                sqlparser::ast::Value::SingleQuotedString(s) if !s.is_empty() => {
                    Some(s.clone().into_boxed_str())
                }
                _ => {
                    return Err(ExprError {
                        message:
                            "the delimiter of `split` must be a non-empty text literal like ','"
                                .into(),
                        span: span_to_range(text, v.span),
                        label: String::new(),
                    });
                }
            },
            Some(other) => {
                return Err(ExprError {
                    message: "the delimiter of `split` must be a literal like ','".into(),
                    span: span_to_range(text, other.span()),
                    label: String::new(),
                });
            }
        };
        return Ok(SelectItem::Split { input, delimiter });
    }
    Ok(SelectItem::Scalar(compile_ast(
        text, &ast, scope, interner,
    )?))
}

fn compile_ast(
    text: &str,
    ast: &Ast,
    scope: &Scope<'_>,
    interner: &mut Interner,
) -> Result<Expr, ExprError> {
    let mut c = compile::Compiler {
        text,
        scope,
        interner,
    };
    let (node, ty) = c.compile(ast)?;
    Ok(Expr {
        text: text.into(),
        node: optimize(node),
        ty,
    })
}

/// A peephole pass: folds `ToFloat(literal)` and fuses the commonest shapes — an integer field
/// with a literal or another field — into single nodes, so they cost one dispatch.
fn optimize(n: Node) -> Node {
    use eval::Node as N;
    match n {
        N::ToFloat(inner) => match *inner {
            N::Const(Value::Int(i)) => N::Const(Value::Float(i as f64)),
            other => N::ToFloat(Box::new(optimize(other))),
        },
        N::IntArith(op, a, b) => match (optimize(*a), optimize(*b)) {
            (N::Field { row: 0, idx }, N::Const(Value::Int(c))) => {
                N::IntArithFieldConst(op, idx, c)
            }
            (N::Field { row: 0, idx: i }, N::Field { row: 0, idx: j }) => {
                N::IntArithFieldField(op, i, j)
            }
            (a, b) => N::IntArith(op, Box::new(a), Box::new(b)),
        },
        N::Compare(op, eval::CmpKind::Int, a, b) => match (optimize(*a), optimize(*b)) {
            (N::Field { row: 0, idx }, N::Const(Value::Int(c))) => {
                N::CompareIntFieldConst(op, idx, c)
            }
            (a, b) => N::Compare(op, eval::CmpKind::Int, Box::new(a), Box::new(b)),
        },
        N::And(a, b) => N::And(Box::new(optimize(*a)), Box::new(optimize(*b))),
        N::Or(a, b) => N::Or(Box::new(optimize(*a)), Box::new(optimize(*b))),
        N::Not(a) => N::Not(Box::new(optimize(*a))),
        other => other,
    }
}

/// Splits `text` the way [`SelectItem::Split`] describes, calling `f` with each piece.
pub fn split_pieces(text: &str, delimiter: Option<&str>, mut f: impl FnMut(&str)) {
    match delimiter {
        Some(d) => text.split(d).filter(|p| !p.is_empty()).for_each(&mut f),
        // For ASCII text a byte is a char and `is_alphanumeric` is `is_ascii_alphanumeric`, so
        // the byte-wise split gives the same pieces without decoding UTF-8.
        None if text.is_ascii() => {
            let mut start = 0;
            for (i, b) in text.bytes().enumerate() {
                if !(b.is_ascii_alphanumeric() || b == b'_') {
                    if i > start {
                        f(&text[start..i]);
                    }
                    start = i + 1;
                }
            }
            if start < text.len() {
                f(&text[start..]);
            }
        }
        None => text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|p| !p.is_empty())
            .for_each(f),
    }
}

/// Interns the pieces of a split (helper for flat_map and tests).
pub fn split_syms(
    interner: &mut Interner,
    scratch: &mut String,
    s: Sym,
    delimiter: Option<&str>,
    out: &mut Vec<Sym>,
) {
    scratch.clear();
    scratch.push_str(interner.resolve(s));
    split_pieces(scratch, delimiter, |p| out.push(interner.intern(p)));
}

/// Byte range in `text` of a sqlparser span (lines and columns are 1-based, in characters).
pub(crate) fn span_to_range(text: &str, span: Span) -> Range<usize> {
    if span.start.line == 0 {
        return 0..text.len();
    }
    let start = offset_of(text, span.start.line, span.start.column);
    let end = offset_of(text, span.end.line, span.end.column).max(start);
    start..end
}

fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u64 + 1 == line {
            let col = column.saturating_sub(1) as usize;
            return offset + l.char_indices().nth(col).map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

/// sqlparser reports positions inside its message ("… at Line: 1, Column: 7"); turn that into
/// a range and a cleaner message.
pub(crate) fn parser_error(text: &str, msg: &str) -> ExprError {
    let msg = msg.trim_start_matches("sql parser error: ").to_string();
    if msg.contains("recursion limit exceeded") {
        return ExprError {
            message: format!(
                "expression nested too deeply: at most {MAX_EXPR_NESTING} levels of sub-expressions (NOT, CASE, parentheses, signs)"
            ),
            span: 0..text.len(),
            label: "split the computation over several operators".into(),
        };
    }
    let (clean, pos) = match msg.rfind(" at Line: ") {
        Some(i) => {
            let tail = &msg[i + " at Line: ".len()..];
            let mut nums = tail
                .split(", Column: ")
                .map(|p| p.trim().parse::<u64>().ok());
            let line = nums.next().flatten();
            let col = nums.next().flatten();
            (msg[..i].to_string(), line.zip(col))
        }
        None => (msg.clone(), None),
    };
    let span = match pos {
        Some((l, c)) => {
            let s = offset_of(text, l, c);
            let e = text[s..]
                .char_indices()
                .nth(1)
                .map_or(text.len(), |(b, _)| s + b);
            s..e.max(s)
        }
        None => text.len()..text.len(),
    };
    let clean = clean
        .replace("Expected: ", "expected ")
        .replace(", found: ", ", found ");
    ExprError {
        message: format!("malformed expression: {clean}"),
        span,
        label: String::new(),
    }
}

/// The candidate closest to `name` by edit distance, if close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d > 0)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests;
