//! Conditions: a template's `conditions` section evaluated lazily, in dependency order, with
//! cycle detection (as Heat resolves them: each on first use, once).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::diagnostic::Code;
use crate::eval::context::{ConditionLookup, EvalContext};
use crate::eval::{EvalError, evaluate};
use crate::template::model::{ConditionDef, ResourceCondition};

enum State {
    InProgress,
    Done(Result<bool, EvalError>),
}

/// The conditions of a template, evaluated on first use and remembered. A condition that
/// (directly or not) refers to itself is an error naming the cycle.
///
/// Use it as the context's condition source:
/// `ctx.with_conditions(&TemplateConditions::new(&template.conditions))`.
pub struct TemplateConditions<'t> {
    defs: &'t [ConditionDef],
    state: RefCell<HashMap<String, State>>,
    stack: RefCell<Vec<String>>,
}

impl<'t> TemplateConditions<'t> {
    /// Conditions from their definitions (a later definition of a name wins).
    pub fn new(defs: &'t [ConditionDef]) -> TemplateConditions<'t> {
        TemplateConditions {
            defs,
            state: RefCell::new(HashMap::new()),
            stack: RefCell::new(Vec::new()),
        }
    }
}

impl std::fmt::Debug for TemplateConditions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateConditions")
            .field("defs", &self.defs.len())
            .finish_non_exhaustive()
    }
}

impl ConditionLookup for TemplateConditions<'_> {
    fn condition(&self, name: &str, ctx: &EvalContext<'_>) -> Option<Result<bool, EvalError>> {
        let def = self.defs.iter().rev().find(|d| d.name.value == name)?;
        match self.state.borrow().get(name) {
            Some(State::Done(r)) => return Some(r.clone()),
            Some(State::InProgress) => {
                let stack = self.stack.borrow();
                let start = stack.iter().position(|n| n == name).unwrap_or(0);
                let mut cycle: Vec<&str> = stack[start..].iter().map(String::as_str).collect();
                cycle.push(name);
                return Some(Err(EvalError::new(
                    Code::ConditionCycle,
                    def.name.span,
                    format!(
                        "conditions refer to each other in a cycle: {}",
                        cycle.join(" -> ")
                    ),
                )
                .with_hint(
                    "break the cycle: a condition cannot refer to itself, directly or through \
                     other conditions",
                )));
            }
            None => {}
        }
        self.state
            .borrow_mut()
            .insert(name.to_string(), State::InProgress);
        self.stack.borrow_mut().push(name.to_string());
        let sub = EvalContext {
            conditions: self,
            ..*ctx
        };
        let result = match evaluate(&def.expr, &sub) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(EvalError::new(
                Code::EvaluationFailed,
                def.expr.span,
                format!(
                    "condition \"{name}\" must evaluate to a boolean, found {}",
                    super::py::describe(&other)
                ),
            )
            .with_hint(
                "define the condition with true, false or a condition function (equals, not, and, \
                 or)",
            )),
            Err(e) => Err(e),
        };
        self.stack.borrow_mut().pop();
        self.state
            .borrow_mut()
            .insert(name.to_string(), State::Done(result.clone()));
        Some(result)
    }
}

/// Every condition's value, and the errors met on the way (each once).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConditionValues {
    /// The conditions that could be evaluated.
    pub values: BTreeMap<String, bool>,
    /// The errors, in the order of the definitions (a condition that fails because another
    /// one does shares its error, which is listed once).
    pub errors: Vec<EvalError>,
}

/// Evaluates every condition of a conditions section, in dependency order, with cycle
/// detection. `ctx` gives parameters and pseudo-parameters; its own condition source is
/// replaced by the definitions.
pub fn evaluate_conditions(defs: &[ConditionDef], ctx: &EvalContext<'_>) -> ConditionValues {
    let table = TemplateConditions::new(defs);
    let sub = EvalContext {
        conditions: &table,
        ..*ctx
    };
    let mut out = ConditionValues::default();
    for def in defs {
        match table.condition(&def.name.value, &sub) {
            Some(Ok(b)) => {
                out.values.insert(def.name.value.clone(), b);
            }
            Some(Err(e)) if !out.errors.contains(&e) => out.errors.push(e),
            Some(Err(_)) | None => {}
        }
    }
    out
}

/// Whether a resource's or output's `condition` holds: a condition name (looked up in the
/// context), or an inline condition expression (HOT), which may give a boolean or a
/// condition name. No condition means enabled.
pub fn condition_enabled(
    condition: Option<&ResourceCondition>,
    ctx: &EvalContext<'_>,
) -> Result<bool, EvalError> {
    match condition {
        None => Ok(true),
        Some(ResourceCondition::Named(name)) => match ctx.conditions.condition(&name.value, ctx) {
            Some(r) => r,
            None => Err(EvalError::new(
                Code::EvaluationFailed,
                name.span,
                format!("there is no condition named \"{}\"", name.value),
            )
            .with_hint("define it in the conditions section, or fix the name")),
        },
        Some(ResourceCondition::Inline(expr)) => match evaluate(expr, ctx)? {
            Value::Bool(b) => Ok(b),
            Value::Null => Ok(true),
            Value::String(name) => match ctx.conditions.condition(&name, ctx) {
                Some(r) => r,
                None => Err(EvalError::new(
                    Code::EvaluationFailed,
                    expr.span,
                    format!("there is no condition named \"{name}\""),
                )
                .with_hint("define it in the conditions section, or fix the name")),
            },
            other => Err(EvalError::new(
                Code::EvaluationFailed,
                expr.span,
                format!(
                    "a condition must be a boolean or a condition name, found {}",
                    super::py::describe(&other)
                ),
            )
            .with_hint(
                "use a condition name, true or false, or a condition function such as \
                 {equals: [{get_param: env}, prod]}",
            )),
        },
    }
}
