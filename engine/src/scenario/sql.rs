//! What a `[[query]]` became: Flink's logical plan of the SQL query, one line per relational
//! operator (`TableSourceScan`, `Calc`, `WindowAggregate`, `Sink`), each with the streamlab
//! operators that run it. `streamlab plan` prints it above the job graph.

/// One query's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlPlan {
    /// The query's name (`[[query]] name`).
    pub query: String,
    /// The logical plan, top-down as Flink's `EXPLAIN` prints it (the sink first).
    pub nodes: Vec<SqlPlanNode>,
}

/// One relational operator of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlPlanNode {
    /// How Flink's `EXPLAIN` would show it, e.g. `Calc(select=[a, b])`.
    pub relational: String,
    /// The streamlab nodes that run it (`map q.calc`), in data-flow order.
    pub operators: Vec<String>,
}

impl SqlPlan {
    /// The plan as text: one line per relational operator, indented as Flink's `EXPLAIN`.
    pub fn render(&self) -> String {
        let mut out = format!("SQL query `{}`:\n", self.query);
        for (depth, n) in self.nodes.iter().enumerate() {
            let indent = if depth == 0 {
                String::new()
            } else {
                format!("{}+- ", "   ".repeat(depth - 1))
            };
            out.push_str(&format!("  {indent}{}\n", n.relational));
            out.push_str(&format!(
                "  {}    ⇒ {}\n",
                "   ".repeat(depth),
                n.operators.join(", ")
            ));
        }
        out
    }
}
