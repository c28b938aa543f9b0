//! Node → Expr: recognising intrinsic functions per template version.
//! OWNER: expression helper.

use crate::diagnostic::Diagnostic;
use crate::template::expr::Expr;
use crate::template::node::Node;
use crate::template::version::Version;

/// Where an expression is being parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExprContext {
    /// The template version (decides which names are functions).
    pub version: Version,
    /// Inside `conditions` or a `condition:` field, where only condition functions apply.
    pub in_condition: bool,
}

/// Parses a node into an expression, recognising function calls.
pub fn parse_expr(node: &Node, ctx: &ExprContext, diags: &mut Vec<Diagnostic>) -> Expr {
    let _ = (node, ctx, diags);
    unimplemented!("expression helper")
}
