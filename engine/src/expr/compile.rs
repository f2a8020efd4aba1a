//! From SQL text to a typed [`Node`] tree bound to field positions.
//!
//! The text is parsed by `sqlparser` (generic dialect); this module walks the AST once,
//! resolves every identifier to a field position, checks types and picks the integer or float
//! version of each operator. Every error carries the byte range of the offending part of the
//! expression so the caller can point at it inside the scenario file.

use super::eval::{Arith, Cmp, CmpKind, Node, RoundMode};
use super::{ExprError, Scope};
use crate::core::value::{Interner, Type, Value};
use sqlparser::ast::{
    BinaryOperator, CastKind, CeilFloorKind, DataType, DateTimeField, Expr as Ast, FunctionArg,
    FunctionArgExpr, FunctionArguments, InTarget, Spanned, UnaryOperator, Value as AstValue,
};
use sqlparser::tokenizer::Span;
use std::ops::Range;

/// Walks one parsed expression, producing nodes and their types.
pub(super) struct Compiler<'a> {
    pub text: &'a str,
    pub scope: &'a Scope<'a>,
    pub interner: &'a mut Interner,
}

type Typed = (Node, Type);

impl Compiler<'_> {
    /// Byte range in the expression text of a sqlparser span (whole text if unknown).
    pub fn range(&self, span: Span) -> Range<usize> {
        super::span_to_range(self.text, span)
    }

    fn err(&self, span: Span, message: impl Into<String>) -> ExprError {
        ExprError {
            message: message.into(),
            span: self.range(span),
            label: String::new(),
        }
    }

    /// Compiles one expression node: identifiers become field positions, literals constants,
    /// operators their typed form; anything outside streamlab's SQL subset is an error at
    /// the node's span.
    pub fn compile(&mut self, e: &Ast) -> Result<Typed, ExprError> {
        match e {
            Ast::Identifier(id) => self.field(None, &id.value, id.span),
            Ast::CompoundIdentifier(parts) if parts.len() == 2 => {
                let span = parts[0].span.union(&parts[1].span);
                self.field(Some(&parts[0].value), &parts[1].value, span)
            }
            Ast::CompoundIdentifier(parts) => {
                let span = parts.iter().fold(Span::empty(), |s, p| s.union(&p.span));
                Err(self.err(span, "a field name has at most one qualifier (`acc.count`)"))
            }
            Ast::Value(v) => self.literal(&v.value, v.span),
            Ast::Nested(inner) => self.compile(inner),
            Ast::UnaryOp { op, expr } => self.unary(*op, expr, e.span()),
            Ast::BinaryOp { left, op, right } => self.binary(left, op, right, e.span()),
            Ast::Between {
                expr,
                negated,
                low,
                high,
            } => self.between(expr, *negated, low, high, e.span()),
            Ast::In {
                expr,
                target: InTarget::List(list),
                negated,
                ..
            } => self.in_list(expr, list, *negated),
            Ast::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(
                operand.as_deref(),
                conditions,
                else_result.as_deref(),
                e.span(),
            ),
            Ast::Cast {
                kind: CastKind::Cast,
                expr,
                data_type,
                ..
            } => self.cast(expr, data_type, e.span()),
            // SQL gives `FLOOR` and `CEIL` a syntax of their own (`FLOOR(ts TO HOUR)`); with one
            // plain argument they are the functions.
            Ast::Floor {
                expr,
                field: CeilFloorKind::DateTimeField(DateTimeField::NoDateTime),
            } => self.function("floor", &[expr], e.span()),
            Ast::Ceil {
                expr,
                field: CeilFloorKind::DateTimeField(DateTimeField::NoDateTime),
            } => self.function("ceil", &[expr], e.span()),
            // A bare keyword such as `user` parses as a function call without parentheses:
            // read it as the field of that name.
            Ast::Function(f)
                if matches!(f.args, FunctionArguments::None) && f.name.0.len() == 1 =>
            {
                let name = f.name.to_string();
                self.field(None, &name, e.span())
            }
            Ast::Function(f) => {
                let name = f.name.to_string().to_ascii_lowercase();
                let args = self.args(&f.args, e.span())?;
                self.function(&name, &args, e.span())
            }
            other => Err(self.err(
                other.span(),
                format!(
                    "`{other}` is not supported here; expressions may use fields, literals, \
                     + - * / %, comparisons, AND/OR/NOT, CASE, IN, BETWEEN, CAST and the functions \
                     lower, upper, concat, length, abs, floor, ceil, round"
                ),
            )),
        }
    }

    /// `x [NOT] BETWEEN low AND high`: inclusive at both ends, as in SQL, so it compiles to
    /// `x >= low AND x <= high` (negated as a whole for NOT BETWEEN).
    fn between(
        &mut self,
        expr: &Ast,
        negated: bool,
        low: &Ast,
        high: &Ast,
        span: Span,
    ) -> Result<Typed, ExprError> {
        let lo = self.binary(expr, &BinaryOperator::GtEq, low, span)?;
        let hi = self.binary(expr, &BinaryOperator::LtEq, high, span)?;
        let both = Node::And(Box::new(lo.0), Box::new(hi.0));
        Ok((not_if(negated, both), Type::Bool))
    }

    /// `x [NOT] IN (a, b, …)`: the list holds literals only, each comparable with `x`, so the
    /// set is known when the expression is compiled.
    fn in_list(&mut self, expr: &Ast, list: &[Ast], negated: bool) -> Result<Typed, ExprError> {
        let (x, xt) = self.compile(expr)?;
        let mut values = Vec::with_capacity(list.len());
        for item in list {
            let (n, t) = self.compile(item)?;
            let Node::Const(v) = n else {
                return Err(self.err(item.span(), "IN lists hold literals only"));
            };
            if !comparable(xt, t) {
                return Err(self.err(item.span(), format!("cannot compare {xt} with {t}")));
            }
            values.push(v);
        }
        let node = Node::InList(Box::new(x), values);
        Ok((not_if(negated, node), Type::Bool))
    }

    /// `CAST(x AS type)` to one of the four streamlab types (SQL's names for them:
    /// BIGINT/INT/INTEGER, DOUBLE/FLOAT/REAL, VARCHAR/STRING/TEXT, BOOLEAN/BOOL); any other
    /// target type is an error at the whole CAST.
    fn cast(&mut self, expr: &Ast, data_type: &DataType, span: Span) -> Result<Typed, ExprError> {
        let target = match data_type {
            DataType::Int(_) | DataType::Integer(_) | DataType::BigInt(_) => Type::Int,
            DataType::Double(_) | DataType::Float(_) | DataType::Real => Type::Float,
            DataType::Varchar(_) | DataType::String(_) | DataType::Text => Type::String,
            DataType::Bool | DataType::Boolean => Type::Bool,
            other => {
                return Err(self.err(
                    span,
                    format!("cannot cast to `{other}`; streamlab types are BIGINT, DOUBLE, VARCHAR, BOOLEAN"),
                ));
            }
        };
        let (n, t) = self.compile(expr)?;
        self.convert(n, t, target, expr.span())
    }

    fn field(
        &mut self,
        qualifier: Option<&str>,
        name: &str,
        span: Span,
    ) -> Result<Typed, ExprError> {
        match self.scope.resolve(qualifier, name) {
            Ok((row, idx, ty)) => Ok((
                Node::Field {
                    row,
                    idx: idx as u16,
                },
                ty,
            )),
            Err(message) => Err(self.err(span, message)),
        }
    }

    fn literal(&mut self, v: &AstValue, span: Span) -> Result<Typed, ExprError> {
        match v {
            AstValue::Number(text, _) => {
                if let Ok(i) = text.parse::<i64>() {
                    Ok((Node::Const(Value::Int(i)), Type::Int))
                } else if let Ok(f) = text.parse::<f64>() {
                    Ok((Node::Const(Value::Float(f)), Type::Float))
                } else {
                    Err(self.err(span, format!("`{text}` is not a number streamlab can hold")))
                }
            }
            AstValue::SingleQuotedString(s) => Ok((
                Node::Const(Value::Str(self.interner.intern(s))),
                Type::String,
            )),
            AstValue::Boolean(b) => Ok((Node::Const(Value::Bool(*b)), Type::Bool)),
            AstValue::Null => Err(self.err(
                span,
                "streamlab records have no NULL; every field always has a value",
            )),
            AstValue::DoubleQuotedString(_) => Err(self.err(
                span,
                "double quotes name a field in SQL; write text in single quotes ('like this')",
            )),
            other => Err(self.err(span, format!("literal `{other}` is not supported"))),
        }
    }

    fn unary(&mut self, op: UnaryOperator, expr: &Ast, span: Span) -> Result<Typed, ExprError> {
        let (n, t) = self.compile(expr)?;
        match (op, t) {
            (UnaryOperator::Not, Type::Bool) => Ok((Node::Not(Box::new(n)), Type::Bool)),
            (UnaryOperator::Minus, Type::Int) => Ok((Node::IntNeg(Box::new(n)), Type::Int)),
            (UnaryOperator::Minus, Type::Float) => Ok((Node::FloatNeg(Box::new(n)), Type::Float)),
            (UnaryOperator::Plus, Type::Int | Type::Float) => Ok((n, t)),
            (UnaryOperator::Not, t) => {
                Err(self.err(expr.span(), format!("NOT needs a boolean, found {t}")))
            }
            (op, t) => Err(self.err(span, format!("`{op}` cannot be applied to {t}"))),
        }
    }

    fn binary(
        &mut self,
        left: &Ast,
        op: &BinaryOperator,
        right: &Ast,
        span: Span,
    ) -> Result<Typed, ExprError> {
        let (l, lt) = self.compile(left)?;
        let (r, rt) = self.compile(right)?;
        let arith = match op {
            BinaryOperator::Plus => Some(Arith::Add),
            BinaryOperator::Minus => Some(Arith::Sub),
            BinaryOperator::Multiply => Some(Arith::Mul),
            BinaryOperator::Divide => Some(Arith::Div),
            BinaryOperator::Modulo => Some(Arith::Rem),
            _ => None,
        };
        if let Some(a) = arith {
            for (t, side) in [(lt, left), (rt, right)] {
                if !matches!(t, Type::Int | Type::Float) {
                    return Err(self.err(
                        side.span(),
                        format!("`{op}` needs numbers, but `{side}` is {}", article(t)),
                    ));
                }
            }
            return Ok(if lt == Type::Int && rt == Type::Int {
                (Node::IntArith(a, Box::new(l), Box::new(r)), Type::Int)
            } else {
                (
                    Node::FloatArith(a, Box::new(widen(l, lt)), Box::new(widen(r, rt))),
                    Type::Float,
                )
            });
        }
        let cmp = match op {
            BinaryOperator::Eq => Some(Cmp::Eq),
            BinaryOperator::NotEq => Some(Cmp::Ne),
            BinaryOperator::Lt => Some(Cmp::Lt),
            BinaryOperator::LtEq => Some(Cmp::Le),
            BinaryOperator::Gt => Some(Cmp::Gt),
            BinaryOperator::GtEq => Some(Cmp::Ge),
            _ => None,
        };
        if let Some(c) = cmp {
            let kind = match (lt, rt) {
                (Type::Int, Type::Int) => CmpKind::Int,
                (Type::Int | Type::Float, Type::Int | Type::Float) => CmpKind::Float,
                (Type::String, Type::String) => CmpKind::Str,
                (Type::Bool, Type::Bool) => CmpKind::Bool,
                _ => {
                    return Err(self.err(
                        span,
                        format!("cannot compare {} with {}", article(lt), article(rt)),
                    ));
                }
            };
            return Ok((Node::Compare(c, kind, Box::new(l), Box::new(r)), Type::Bool));
        }
        match op {
            BinaryOperator::And | BinaryOperator::Or => {
                for (t, side) in [(lt, left), (rt, right)] {
                    if t != Type::Bool {
                        return Err(self.err(
                            side.span(),
                            format!("`{op}` needs booleans, but `{side}` is {}", article(t)),
                        ));
                    }
                }
                let node = if *op == BinaryOperator::And {
                    Node::And(Box::new(l), Box::new(r))
                } else {
                    Node::Or(Box::new(l), Box::new(r))
                };
                Ok((node, Type::Bool))
            }
            BinaryOperator::StringConcat => Ok((
                Node::Concat(vec![stringify(l, lt), stringify(r, rt)]),
                Type::String,
            )),
            other => Err(self.err(span, format!("operator `{other}` is not supported"))),
        }
    }

    fn case(
        &mut self,
        operand: Option<&Ast>,
        conditions: &[sqlparser::ast::CaseWhen],
        else_result: Option<&Ast>,
        span: Span,
    ) -> Result<Typed, ExprError> {
        let Some(else_result) = else_result else {
            return Err(self.err(
                span,
                "CASE needs an ELSE branch: streamlab records have no NULL",
            ));
        };
        let operand = match operand {
            Some(o) => Some(self.compile(o)?),
            None => None,
        };
        let (otherwise, else_ty) = self.compile(else_result)?;
        let mut ty = else_ty;
        let mut arms = Vec::with_capacity(conditions.len());
        let mut results = Vec::with_capacity(conditions.len());
        for cw in conditions {
            let cond = match &operand {
                Some((on, ot)) => {
                    let (v, vt) = self.compile(&cw.condition)?;
                    if !comparable(*ot, vt) {
                        return Err(self.err(
                            cw.condition.span(),
                            format!("cannot compare {ot} with {vt}"),
                        ));
                    }
                    let kind = cmp_kind(*ot, vt);
                    Node::Compare(Cmp::Eq, kind, Box::new(on.clone()), Box::new(v))
                }
                None => {
                    let (c, ct) = self.compile(&cw.condition)?;
                    if ct != Type::Bool {
                        return Err(self.err(
                            cw.condition.span(),
                            format!("WHEN needs a boolean, found {ct}"),
                        ));
                    }
                    c
                }
            };
            let (r, rt) = self.compile(&cw.result)?;
            ty = unify(ty, rt).ok_or_else(|| {
                self.err(
                    cw.result.span(),
                    format!("CASE branches must have one type; found {ty} and {rt}"),
                )
            })?;
            arms.push(cond);
            results.push((r, rt));
        }
        let arms = arms
            .into_iter()
            .zip(results)
            .map(|(c, (r, rt))| (c, if ty == Type::Float { widen(r, rt) } else { r }))
            .collect();
        let otherwise = if ty == Type::Float {
            widen(otherwise, else_ty)
        } else {
            otherwise
        };
        Ok((Node::Case(arms, Box::new(otherwise)), ty))
    }

    fn convert(&self, n: Node, from: Type, to: Type, span: Span) -> Result<Typed, ExprError> {
        let node = match (from, to) {
            (a, b) if a == b => n,
            (Type::Int, Type::Float) => Node::ToFloat(Box::new(n)),
            (Type::Float, Type::Int) => Node::ToInt(Box::new(n)),
            (_, Type::String) => Node::ToStr(Box::new(n)),
            (a, b) => return Err(self.err(span, format!("cannot cast {a} to {b}"))),
        };
        Ok((node, to))
    }

    fn args<'e>(&self, args: &'e FunctionArguments, span: Span) -> Result<Vec<&'e Ast>, ExprError> {
        match args {
            FunctionArguments::None => Ok(Vec::new()),
            FunctionArguments::List(list) => list
                .args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
                    _ => Err(self.err(span, "function arguments must be plain expressions")),
                })
                .collect(),
            FunctionArguments::Subquery(_) => Err(self.err(span, "subqueries are not supported")),
        }
    }

    fn function(&mut self, name: &str, args: &[&Ast], span: Span) -> Result<Typed, ExprError> {
        let arity = |n: usize| -> Result<(), ExprError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(self.err(
                    span,
                    format!(
                        "`{name}` takes {n} argument{}",
                        if n == 1 { "" } else { "s" }
                    ),
                ))
            }
        };
        match name {
            "lower" | "upper" | "length" | "char_length" => {
                arity(1)?;
                let (a, t) = self.compile(args[0])?;
                if t != Type::String {
                    return Err(self.err(
                        args[0].span(),
                        format!("`{name}` needs a string, found {t}"),
                    ));
                }
                Ok(match name {
                    "lower" => (Node::Lower(Box::new(a)), Type::String),
                    "upper" => (Node::Upper(Box::new(a)), Type::String),
                    _ => (Node::Length(Box::new(a)), Type::Int),
                })
            }
            "concat" => {
                if args.is_empty() {
                    return Err(self.err(span, "`concat` needs at least one argument"));
                }
                let mut parts = Vec::with_capacity(args.len());
                for a in args {
                    let (n, t) = self.compile(a)?;
                    parts.push(stringify(n, t));
                }
                Ok((Node::Concat(parts), Type::String))
            }
            "abs" => {
                arity(1)?;
                match self.compile(args[0])? {
                    (a, Type::Int) => Ok((Node::IntAbs(Box::new(a)), Type::Int)),
                    (a, Type::Float) => Ok((Node::FloatAbs(Box::new(a)), Type::Float)),
                    (_, t) => {
                        Err(self.err(args[0].span(), format!("`abs` needs a number, found {t}")))
                    }
                }
            }
            "floor" | "ceil" | "ceiling" | "round" => {
                arity(1)?;
                let mode = match name {
                    "floor" => RoundMode::Floor,
                    "round" => RoundMode::Round,
                    _ => RoundMode::Ceil,
                };
                match self.compile(args[0])? {
                    (a, Type::Int) => Ok((a, Type::Int)),
                    (a, Type::Float) => Ok((Node::FloatRound(mode, Box::new(a)), Type::Float)),
                    (_, t) => Err(self.err(
                        args[0].span(),
                        format!("`{name}` needs a number, found {t}"),
                    )),
                }
            }
            "mod" => {
                arity(2)?;
                self.binary(args[0], &BinaryOperator::Modulo, args[1], span)
            }
            "split" => Err(self.err(
                span,
                "`split` makes several records out of one, so it can only be a whole select \
                 expression of a flat_map",
            )),
            other => Err(self.err(
                span,
                format!(
                    "unknown function `{other}`; known: lower, upper, concat, length, abs, floor, \
                     ceil, round, mod (and split in flat_map)"
                ),
            )),
        }
    }
}

fn widen(n: Node, t: Type) -> Node {
    if t == Type::Int {
        Node::ToFloat(Box::new(n))
    } else {
        n
    }
}

fn stringify(n: Node, t: Type) -> Node {
    if t == Type::String {
        n
    } else {
        Node::ToStr(Box::new(n))
    }
}

/// `node`, or `NOT node` for the negated forms (`NOT BETWEEN`, `NOT IN`).
fn not_if(negated: bool, node: Node) -> Node {
    if negated {
        Node::Not(Box::new(node))
    } else {
        node
    }
}

fn comparable(a: Type, b: Type) -> bool {
    a == b || (matches!(a, Type::Int | Type::Float) && matches!(b, Type::Int | Type::Float))
}

fn cmp_kind(a: Type, b: Type) -> CmpKind {
    match (a, b) {
        (Type::Int, Type::Int) => CmpKind::Int,
        (Type::String, _) => CmpKind::Str,
        (Type::Bool, _) => CmpKind::Bool,
        _ => CmpKind::Float,
    }
}

fn unify(a: Type, b: Type) -> Option<Type> {
    match (a, b) {
        (x, y) if x == y => Some(x),
        (Type::Int | Type::Float, Type::Int | Type::Float) => Some(Type::Float),
        _ => None,
    }
}

fn article(t: Type) -> String {
    match t {
        Type::Int => "an int".into(),
        other => format!("a {other}"),
    }
}
