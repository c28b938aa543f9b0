//! References an expression makes: parameters, resources, attributes, conditions, mappings
//! (including those inside `Fn::Sub` strings). Shared by validation and the graph.
//! OWNER: expression helper (the body of `collect`).

use crate::span::Span;
use crate::template::expr::{Expr, Func};

/// What a reference points at.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// `Ref` / `${Name}` in `Fn::Sub`: a parameter, a pseudo-parameter or a resource,
    /// decided by the template's names.
    Ref,
    /// `get_param` (HOT): a parameter or pseudo-parameter.
    Param,
    /// `get_resource` (HOT): a resource.
    Resource,
    /// `get_attr` / `Fn::GetAtt` / `${Name.Attr}`: a resource's attribute (attribute name
    /// when it is a literal).
    Attribute(Option<String>),
    /// `Condition` / a condition name used in `if` / `Fn::If`, or `condition:` fields.
    Condition,
    /// `Fn::FindInMap`: a mapping.
    Mapping,
}

/// One reference found in an expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// What kind of name it is.
    pub kind: RefKind,
    /// The name referred to (only literal names are references; computed ones are skipped).
    pub name: String,
    /// Where the name is written (for `Fn::Sub`, the span of the string).
    pub span: Span,
    /// The function that makes the reference.
    pub func: Func,
}

/// Appends every reference that `expr` makes, in document order.
pub fn collect(expr: &Expr, out: &mut Vec<Reference>) {
    let _ = (expr, out);
    unimplemented!("expression helper")
}
