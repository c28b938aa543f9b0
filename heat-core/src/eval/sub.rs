//! `Fn::Sub` (AWS): `${Name}` substitution in a string.
//!
//! `${Param}`, `${AWS::Region}` and `${Resource}` are what `Ref` gives; `${Resource.Attr}`
//! is `Fn::GetAtt` (the attribute may itself contain dots); `${!Literal}` is written as
//! `${Literal}`. In the list form `[template, {Var: value}]` the variables come first. A `${`
//! without a closing `}` and an empty `${}` are errors. Values must be strings, numbers or
//! booleans. The template is split by [`crate::template::refs::sub_variables`], the same
//! scanner validation uses.

use serde_json::Value;

use crate::eval::py;
use crate::eval::{Evaluator, Res, pick};
use crate::span::Span;
use crate::template::expr::{Call, Expr};
use crate::template::refs::sub_variables;

impl Evaluator<'_, '_> {
    /// `Fn::Sub: template` or `Fn::Sub: [template, {Var: value, ...}]`.
    pub(crate) fn fn_sub(&self, call: &Call, span: Span) -> Res<Value> {
        let (template_expr, vars_expr): (&Expr, Option<&Expr>) = match call.arg.as_list() {
            Some(_) => {
                let items =
                    self.raw_list(call, span, 1, 2, "[template, {<name>: <value>, ...}]")?;
                (&items[0], items.get(1))
            }
            None => (&call.arg, None),
        };
        let template = self.eval_name(call, template_expr, "template")?;
        let mut vars = serde_json::Map::new();
        if let Some(ve) = vars_expr {
            let Some(entries) = ve.as_map() else {
                return Err(self.fail(
                    call,
                    ve.span,
                    format!("the variables must be a map, found {}", ve.kind_name()),
                ));
            };
            for (k, e) in entries {
                match self.eval_opt(e)? {
                    Some(v) => {
                        vars.insert(k.name.clone(), v);
                    }
                    None => {
                        return Err(self
                            .fail(
                                call,
                                e.span,
                                format!("variable \"{}\" has no value (AWS::NoValue)", k.name),
                            )
                            .with_hint(
                                "give the variable a value, or remove it: AWS::NoValue cannot be \
                                 substituted",
                            ));
                    }
                }
            }
        }
        let at = pick(template_expr.span, span);
        let pieces = sub_variables(&template).map_err(|m| {
            self.fail(call, at, m).with_hint(
                "every ${ needs a closing } around a name; write ${!Name} for a literal ${Name}",
            )
        })?;
        let mut out = String::with_capacity(template.len());
        let mut pos = 0;
        for var in &pieces {
            // Text between variables; any `${` there is an escape `${!...}`.
            out.push_str(
                &template
                    .get(pos..var.offset)
                    .unwrap_or("")
                    .replace("${!", "${"),
            );
            pos = var.offset + var.len;
            let full = var.full_name();
            let name = full.as_str();
            let value = if let Some(v) = vars.get(name) {
                v.clone()
            } else if let Some(attribute) = &var.attr {
                self.attribute_of(call, at, &var.name, attribute, &[], true)?
            } else {
                match self.resolve_ref(call, at, &var.name)? {
                    Some(v) => v,
                    None => {
                        return Err(self
                            .fail(
                                call,
                                at,
                                format!("\"${{{name}}}\" has no value (AWS::NoValue)"),
                            )
                            .with_hint(
                                "AWS::NoValue cannot be substituted: put an Fn::If around the \
                                 whole Fn::Sub instead",
                            ));
                    }
                }
            };
            match value {
                Value::String(s) => out.push_str(&s),
                Value::Number(n) => out.push_str(&n.to_string()),
                Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                Value::Null => {}
                other => {
                    return Err(self
                        .fail(
                            call,
                            at,
                            format!(
                                "\"${{{name}}}\" is {}; only strings can be substituted",
                                py::describe(&other)
                            ),
                        )
                        .with_hint("join a list into a string first with Fn::Join"));
                }
            }
        }
        out.push_str(&template.get(pos..).unwrap_or("").replace("${!", "${"));
        Ok(Value::String(out))
    }
}
