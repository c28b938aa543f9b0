//! The HOT functions, with Heat's per-version variants:
//!
//! | function | variants |
//! |---|---|
//! | `get_attr` | 2013-05-23: the attribute is fetched, then the path selected from it; 2014-10-16: the path is passed to the resource; 2015-10-15+: `[resource]` alone gives all attributes as a map |
//! | `list_join` | before 2015-10-15: `[delim, list]`, items must be strings; 2015-10-15+: several lists, maps and lists among the items are JSON-serialised |
//! | `str_replace` | before 2015-10-15: param values must be strings or numbers; 2015-10-15+: lists and maps are JSON-serialised |
//! | `str_replace_strict` | a param that does not occur in the template is an error |
//! | `str_replace_vstrict` | also a null or empty param value is an error |
//! | `repeat` | 2015-04-30: `for_each` values are lists; 2016-10-14+: also maps (their keys are iterated); 2017-09-01+: `permutations: false` zips the lists (which must be lists of equal length) |
//! | `if` | 3 arguments; 2021-04-16+: the third may be left out, and a false condition then omits the value |
//!
//! Values Heat takes from Python keep Python's rules: `str()` of `true` is `True`, JSON is
//! serialised with sorted keys and `", "` separators, `1 == 1.0 == true` in `equals`,
//! `contains`, `filter` and `list_concat_unique`.

use serde_json::Value;
use sha1::Digest as _;

use crate::diagnostic::Code;
use crate::eval::context::{FacadeAttribute, LookupError, Pseudo};
use crate::eval::py;
use crate::eval::{
    EvalError, Evaluator, MAX_REPEAT_ITEMS, Res, near_or_usage, pick, py_index, select_path,
};
use crate::span::Span;
use crate::template::expr::{Call, Expr, ExprKind, Func};
use crate::template::version::{Format, Version};

/// What a name refers to in `get_param` / `Ref`.
pub(crate) enum Named {
    /// A value.
    Value(Value),
    /// `AWS::NoValue`.
    NoValue,
    /// Nothing of that name.
    NotFound,
}

impl Evaluator<'_, '_> {
    // ---------------------------------------------------------------- names ------------

    /// A parameter or pseudo-parameter.
    pub(crate) fn parameter(&self, call: &Call, span: Span, name: &str) -> Res<Named> {
        match self.ctx.pseudo.lookup(name, self.format()) {
            Pseudo::Value(v) => return Ok(Named::Value(v)),
            Pseudo::NoValue => return Ok(Named::NoValue),
            Pseudo::Missing(msg) => {
                return Err(self
                    .unavailable(call, span, msg)
                    .with_hint("give the pseudo-parameter a value in the evaluation context"));
            }
            Pseudo::Absent => {}
        }
        match self.ctx.parameters.value(name) {
            Some(v) => {
                if self.ctx.parameters.is_hidden(name) {
                    self.note_secret(&v);
                }
                Ok(Named::Value(v))
            }
            None => Ok(Named::NotFound),
        }
    }

    /// Turns a resource lookup failure into an error.
    pub(crate) fn lookup_error(
        &self,
        call: &Call,
        span: Span,
        e: LookupError,
        resource: &str,
        attribute: Option<&str>,
    ) -> EvalError {
        match e {
            LookupError::UnknownResource => self
                .fail(
                    call,
                    span,
                    format!("there is no resource named \"{resource}\""),
                )
                .with_hint(format!(
                    "declare a resource named \"{resource}\" in the template, or fix the name"
                )),
            LookupError::UnknownAttribute => self
                .fail(
                    call,
                    span,
                    format!(
                        "resource \"{resource}\" has no attribute \"{}\"",
                        attribute.unwrap_or_default()
                    ),
                )
                .with_hint(format!(
                    "check the attribute name against the documentation of the resource type of \
                     \"{resource}\" (names are case-sensitive)"
                )),
            LookupError::Unavailable(m) => self.unavailable(call, span, m).with_hint(format!(
                "not a template error: resource \"{resource}\" has this value only once it exists, \
                 after the stack is created"
            )),
            LookupError::Failed(m) => self.fail(call, span, m),
        }
    }

    /// A resource's reference value.
    pub(crate) fn resource_ref(&self, call: &Call, span: Span, name: &str) -> Res<Value> {
        match self.ctx.resources.reference(name) {
            Ok(v) => Ok(v.unwrap_or(Value::Null)),
            Err(e) => Err(self.lookup_error(call, span, e, name, None)),
        }
    }

    /// A resource's attribute. `then_select`: fetch the attribute, then select the path
    /// (HOT 2013-05-23 and CloudFormation); otherwise pass the path to the resolver.
    pub(crate) fn attribute_of(
        &self,
        call: &Call,
        span: Span,
        resource: &str,
        attribute: &str,
        path: &[Value],
        then_select: bool,
    ) -> Res<Value> {
        let r = if then_select {
            self.ctx
                .resources
                .attribute(resource, attribute, &[])
                .map(|v| v.and_then(|v| select_path(&v, path)))
        } else {
            self.ctx.resources.attribute(resource, attribute, path)
        };
        match r {
            Ok(v) => Ok(v.unwrap_or(Value::Null)),
            Err(e) => Err(self.lookup_error(call, span, e, resource, Some(attribute))),
        }
    }

    /// Evaluates an argument that must give a string (a name).
    pub(crate) fn eval_name(&self, call: &Call, e: &Expr, what: &str) -> Res<String> {
        match self.eval(e)? {
            Value::String(s) => Ok(s),
            other => Err(self.fail_found(
                call,
                e.span,
                format_args!("the {what} must be a string"),
                &other,
            )),
        }
    }

    // ---------------------------------------------------------------- get_* ------------

    /// `get_param: name` or `get_param: [name, key or index, ...]`.
    pub(crate) fn get_param(&self, call: &Call, span: Span) -> Res<Value> {
        let args = self.eval(&call.arg)?;
        if !py::truthy(&args) {
            return Err(self.fail(call, span, "needs a parameter name"));
        }
        let (name, path) = match args {
            Value::String(s) => (s, Vec::new()),
            Value::Array(mut items) => {
                let first = items.remove(0);
                match first {
                    Value::String(s) => (s, items),
                    other => {
                        return Err(self.fail_found(
                            call,
                            span,
                            "the parameter name must be a string",
                            &other,
                        ));
                    }
                }
            }
            other => {
                return Err(self.fail_found(
                    call,
                    span,
                    "the argument must be a parameter name or a list [name, key, ...]",
                    &other,
                ));
            }
        };
        let value = match self.parameter(call, span, &name)? {
            Named::Value(v) => v,
            Named::NoValue => Value::Null,
            Named::NotFound => {
                return Err(self
                    .fail(
                        call,
                        span,
                        format!("there is no parameter named \"{name}\""),
                    )
                    .with_hint("declare it in the parameters section or give it a value"));
            }
        };
        Ok(param_path(value, &path))
    }

    /// `get_resource: name`.
    pub(crate) fn get_resource(&self, call: &Call, span: Span) -> Res<Value> {
        let name = self.eval_name(call, &call.arg, "resource name")?;
        self.resource_ref(call, span, &name)
    }

    /// `get_attr: [resource, attribute, path...]` (and `[resource]` from 2015-10-15).
    pub(crate) fn get_attr(&self, call: &Call, span: Span) -> Res<Value> {
        let all_allowed = self.version() >= Version::Hot20151015;
        let form = if all_allowed {
            "[resource] or [resource, attribute, key or index, ...]"
        } else {
            "[resource, attribute, key or index, ...]"
        };
        let items = self.raw_list(
            call,
            span,
            if all_allowed { 1 } else { 2 },
            usize::MAX,
            form,
        )?;
        let resource = self.eval_name(call, &items[0], "resource name")?;
        let Some(attr_expr) = items.get(1) else {
            return match self.ctx.resources.all_attributes(&resource) {
                Ok(v) => Ok(v.unwrap_or(Value::Null)),
                Err(e) => Err(self.lookup_error(call, span, e, &resource, None)),
            };
        };
        let attribute = self.eval_name(call, attr_expr, "attribute name")?;
        let mut path = Vec::with_capacity(items.len().saturating_sub(2));
        for p in items.iter().skip(2) {
            if let Some(v) = self.eval_opt(p)? {
                path.push(v);
            }
        }
        let then_select = self.version() == Version::Hot20130523;
        self.attribute_of(call, span, &resource, &attribute, &path, then_select)
    }

    /// `get_file: name` → the content from the files map.
    pub(crate) fn get_file(&self, call: &Call, span: Span) -> Res<Value> {
        let name = self.eval_name(call, &call.arg, "file name")?;
        match self.ctx.files.and_then(|f| f.get(&name)) {
            Some(content) => Ok(Value::String(content.clone())),
            None => Err(EvalError::new(
                Code::MissingFile,
                span,
                format!(
                    "get_file: there is no file \"{name}\" in the files given with the template"
                ),
            )
            .with_hint(
                "pass the file along with the template (clients read the files get_file names)",
            )),
        }
    }

    // ---------------------------------------------------------------- strings ----------

    /// `list_join: [delim, list, ...]`.
    pub(crate) fn list_join(&self, call: &Call, span: Span) -> Res<Value> {
        let multiple = self.version() >= Version::Hot20151015;
        let items = self.raw_list(
            call,
            span,
            2,
            if multiple { usize::MAX } else { 2 },
            if multiple {
                "[delimiter, [string, ...], ...]"
            } else {
                "[delimiter, [string, ...]]"
            },
        )?;
        let mut strings = Vec::new();
        for list_expr in &items[1..] {
            let list = self.eval(list_expr)?;
            match list {
                Value::Array(v) => strings.extend(v),
                Value::Null => {}
                ref other if multiple && !py::truthy(other) => {}
                other => {
                    return Err(self
                        .fail_found(call, list_expr.span, "joins lists only", &other)
                        .with_hint(
                            "each item after the delimiter must evaluate to a list (null is \
                             skipped); a parameter used here must be of type \
                             comma_delimited_list or json",
                        ));
                }
            }
        }
        let delim = self.eval_name(call, &items[0], "delimiter")?;
        let mode = if multiple {
            JoinMode::Json
        } else {
            JoinMode::Strict
        };
        self.join(call, span, &delim, strings, mode)
    }

    /// Joins items with a delimiter; `mode` says what non-strings become.
    pub(crate) fn join(
        &self,
        call: &Call,
        span: Span,
        delim: &str,
        items: Vec<Value>,
        mode: JoinMode,
    ) -> Res<Value> {
        let mut parts = Vec::with_capacity(items.len());
        for item in items {
            parts.push(match item {
                Value::Null => String::new(),
                Value::String(s) => s,
                v @ (Value::Array(_) | Value::Object(_)) if mode == JoinMode::Json => {
                    py::json_dumps(&v)
                }
                Value::Number(n) if mode == JoinMode::Aws => n.to_string(),
                Value::Bool(b) if mode == JoinMode::Aws => b.to_string(),
                other => {
                    let allowed = match mode {
                        JoinMode::Json => "strings, maps or lists",
                        JoinMode::Aws => "strings or numbers",
                        JoinMode::Strict => "strings",
                    };
                    return Err(self
                        .fail_found(
                            call,
                            span,
                            format_args!("the items to join must be {allowed}"),
                            &other,
                        )
                        .with_hint(match mode {
                            JoinMode::Json => {
                                "quote numbers and booleans in the list ('8080') so that they are \
                                 strings; maps and lists are joined as JSON"
                                    .to_string()
                            }
                            JoinMode::Aws => {
                                "Fn::Join joins strings and numbers: join an inner list first, or \
                                 pick one item with Fn::Select"
                                    .to_string()
                            }
                            JoinMode::Strict if call.func == Func::ListJoin => {
                                "quote numbers and booleans ('8080'); from heat_template_version \
                                 2015-10-15 list_join also joins maps and lists (as JSON)"
                                    .to_string()
                            }
                            JoinMode::Strict => {
                                "only strings can be joined here: quote numbers and booleans \
                                 ('8080')"
                                    .to_string()
                            }
                        }));
                }
            });
        }
        Ok(Value::String(parts.join(delim)))
    }

    /// `str_replace`, `str_replace_strict`, `str_replace_vstrict`:
    /// `{template: ..., params: {...}}`.
    pub(crate) fn str_replace(&self, call: &Call, span: Span) -> Res<Value> {
        let form = "{template: <string>, params: {<name>: <value>, ...}}";
        self.raw_map(call, span, form)?;
        let (Some(template), Some(params)) = (call.arg.get("template"), call.arg.get("params"))
        else {
            return Err(self
                .fail(
                    call,
                    pick(call.arg.span, span),
                    "needs both \"template\" and \"params\"",
                )
                .with_hint(format!("write {}: {form}", call.func.name())));
        };
        let json = self.version() >= Version::Hot20151015
            || matches!(call.func, Func::StrReplaceStrict | Func::StrReplaceVstrict);
        let strict = matches!(call.func, Func::StrReplaceStrict | Func::StrReplaceVstrict);
        let allow_empty = call.func != Func::StrReplaceVstrict;
        self.replace(call, span, template, params, json, strict, allow_empty)
    }

    /// The substitution shared by `str_replace*` and `Fn::Replace`: longer names first (then
    /// alphabetical), one pass, replaced text never replaced again.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn replace(
        &self,
        call: &Call,
        span: Span,
        template: &Expr,
        params: &Expr,
        json: bool,
        strict: bool,
        allow_empty: bool,
    ) -> Res<Value> {
        if !matches!(params.kind, ExprKind::Map(_) | ExprKind::Call(_)) {
            return Err(self.fail(
                call,
                params.span,
                format!("the params must be a map, found {}", params.kind_name()),
            ));
        }
        let text = match self.eval(template)? {
            Value::String(s) => s,
            other => {
                return Err(self.fail_found(
                    call,
                    pick(template.span, span),
                    "the template must be a string",
                    &other,
                ));
            }
        };
        let mapping = match self.eval(params)? {
            Value::Object(m) => m,
            other => {
                return Err(self.fail_found(call, params.span, "the params must be a map", &other));
            }
        };
        let mut keys: Vec<&String> = mapping.keys().collect();
        keys.sort();
        keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
        let mut replacements = Vec::with_capacity(keys.len());
        for k in &keys {
            if k.is_empty() {
                return Err(self
                    .fail(call, params.span, "a param name must not be empty")
                    .with_hint("give the param a name, or remove the empty key"));
            }
            let v = mapping.get(*k).unwrap_or(&Value::Null);
            replacements.push(self.replacement(call, params.span, k, v, json, allow_empty)?);
        }
        // Segments: Ok(text still open to replacement) or Err(substituted text).
        let mut segments: Vec<Result<String, usize>> = vec![Ok(text)];
        let mut found = vec![false; keys.len()];
        for (i, k) in keys.iter().enumerate() {
            let mut next = Vec::with_capacity(segments.len());
            for seg in segments {
                match seg {
                    Ok(s) => {
                        let mut first = true;
                        for piece in s.split(k.as_str()) {
                            if !first {
                                next.push(Err(i));
                                found[i] = true;
                            }
                            first = false;
                            next.push(Ok(piece.to_string()));
                        }
                    }
                    done => next.push(done),
                }
            }
            segments = next;
        }
        if strict {
            let missing: Vec<&str> = keys
                .iter()
                .zip(&found)
                .filter(|(_, f)| !**f)
                .map(|(k, _)| k.as_str())
                .collect();
            if !missing.is_empty() {
                return Err(self
                    .fail(
                        call,
                        params.span,
                        format!(
                            "these params do not occur in the template: {}",
                            missing.join(", ")
                        ),
                    )
                    .with_hint(format!(
                        "{} fails when a param does not occur in the template: fix the names, \
                         remove those params, or use str_replace",
                        call.func.name()
                    )));
            }
        }
        let mut out = String::new();
        for seg in segments {
            match seg {
                Ok(s) => out.push_str(&s),
                Err(i) => out.push_str(replacements.get(i).map_or("", String::as_str)),
            }
        }
        Ok(Value::String(out))
    }

    fn replacement(
        &self,
        call: &Call,
        span: Span,
        key: &str,
        v: &Value,
        json: bool,
        allow_empty: bool,
    ) -> Res<String> {
        let empty = || {
            self.fail(
                call,
                span,
                format!("param \"{key}\" has no value (null or empty), which is not allowed here"),
            )
            .with_hint(format!(
                "{} refuses null or empty values: give \"{key}\" a value, or use \
                 str_replace_strict",
                call.func.name()
            ))
        };
        match v {
            Value::Null if allow_empty => Ok(String::new()),
            Value::Null => Err(empty()),
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                let s = py::str_of(v);
                if s.is_empty() && !allow_empty {
                    Err(empty())
                } else {
                    Ok(s)
                }
            }
            Value::Array(_) | Value::Object(_) if json => {
                if !allow_empty && !py::truthy(v) {
                    Err(empty())
                } else {
                    Ok(py::json_dumps(v))
                }
            }
            other => Err(self
                .fail(
                    call,
                    span,
                    format!(
                        "param values must be strings or numbers; param \"{key}\" is {}",
                        py::describe(other)
                    ),
                )
                .with_hint(
                    "from heat_template_version 2015-10-15 lists and maps are serialised as JSON",
                )),
        }
    }

    /// `str_split: [delimiter, string, index?]`.
    pub(crate) fn str_split(&self, call: &Call, span: Span) -> Res<Value> {
        let form = "[delimiter, string, index (optional)]";
        if matches!(call.arg.kind, ExprKind::String(_) | ExprKind::Map(_)) {
            return Err(self.fail(
                call,
                call.arg.span,
                format!(
                    "the argument must be a list {form}, found {}",
                    call.arg.kind_name()
                ),
            ));
        }
        let args = match self.eval(&call.arg)? {
            Value::Array(a) if a.len() >= 2 => a,
            other => {
                return Err(self.fail_found(call, span, format_args!("expected {form}"), &other));
            }
        };
        let text = match &args[1] {
            Value::Null => return Ok(Value::Null),
            Value::String(s) => s.as_str(),
            other => {
                return Err(self
                    .fail_found(call, span, "the value to split must be a string", other)
                    .with_hint(
                        "split a string: a parameter used here must be of type string (a \
                         comma_delimited_list is a list already)",
                    ));
            }
        };
        let parts: Vec<Value> = match &args[0] {
            Value::Null => text
                .split_whitespace()
                .map(|s| Value::String(s.into()))
                .collect(),
            Value::String(d) if d.is_empty() => {
                return Err(self
                    .fail(call, span, "the delimiter must not be empty")
                    .with_hint(
                        "use a non-empty delimiter, e.g. ','; leave it null to split at white \
                         space",
                    ));
            }
            Value::String(d) => text
                .split(d.as_str())
                .map(|s| Value::String(s.into()))
                .collect(),
            other => {
                return Err(self
                    .fail_found(call, span, "the delimiter must be a string", other)
                    .with_hint("quote the delimiter: ','"));
            }
        };
        let Some(index) = args.get(2) else {
            return Ok(Value::Array(parts));
        };
        let Some(i) = py::to_int(index) else {
            return Err(self
                .fail_found(call, span, "the index must be an integer", index)
                .with_hint("write the index as a whole number: 0 is the first item, -1 the last"));
        };
        match py_index(i, parts.len()) {
            Some(j) => Ok(parts.get(j).cloned().unwrap_or(Value::Null)),
            None => Err(self
                .fail(
                    call,
                    span,
                    format!(
                        "index {i} is out of range: the split gives {} item(s), indexes 0 to {}",
                        parts.len(),
                        parts.len() as i64 - 1
                    ),
                )
                .with_hint(
                    "negative indexes count from the end (-1 is the last item); leave the index \
                     out to get the whole list",
                )),
        }
    }

    /// `digest: [algorithm, value]`.
    pub(crate) fn digest(&self, call: &Call, span: Span) -> Res<Value> {
        let args = self.eval(&call.arg)?;
        let strings: Option<Vec<&str>> = match &args {
            Value::Array(a) => a.iter().map(Value::as_str).collect(),
            _ => None,
        };
        let Some(strings) = strings else {
            return Err(self.fail_found(
                call,
                span,
                "the argument must be a list of two strings [algorithm, value]",
                &args,
            ));
        };
        let [algorithm, value] = strings[..] else {
            return Err(self.fail(
                call,
                span,
                format!(
                    "expected [algorithm, value], found {} item(s)",
                    strings.len()
                ),
            ));
        };
        let mut bytes = Vec::with_capacity(value.len());
        for c in value.chars() {
            match u8::try_from(u32::from(c)) {
                Ok(b) => bytes.push(b),
                Err(_) => {
                    let message = format!(
                        "the value has a character outside Latin-1 (U+{:04X}); Heat digests the \
                         Latin-1 encoding of the text",
                        u32::from(c)
                    );
                    return Err(self.fail(call, span, message).with_hint(
                        "Heat cannot digest text outside Latin-1: replace the character, or \
                         digest a value without it",
                    ));
                }
            }
        }
        let hex = match algorithm.to_ascii_lowercase().as_str() {
            "md5" => hex(&md5::Md5::digest(&bytes)),
            "sha1" => hex(&sha1::Sha1::digest(&bytes)),
            "sha224" => hex(&sha2::Sha224::digest(&bytes)),
            "sha256" => hex(&sha2::Sha256::digest(&bytes)),
            "sha384" => hex(&sha2::Sha384::digest(&bytes)),
            "sha512" => hex(&sha2::Sha512::digest(&bytes)),
            "sha512_224" => hex(&sha2::Sha512_224::digest(&bytes)),
            "sha512_256" => hex(&sha2::Sha512_256::digest(&bytes)),
            _ => {
                return Err(self.fail(
                    call,
                    span,
                    format!(
                        "unknown algorithm \"{algorithm}\"; use one of md5, sha1, sha224, sha256, \
                         sha384, sha512, sha512_224, sha512_256"
                    ),
                )
                .with_hint(near_or_usage(call.func, algorithm, DIGEST_NAMES)));
            }
        };
        Ok(Value::String(hex))
    }

    // ---------------------------------------------------------------- maps and lists ---

    /// `map_merge: [map, ...]` (later maps win).
    pub(crate) fn map_merge(&self, call: &Call, span: Span) -> Res<Value> {
        let items = match self.eval(&call.arg)? {
            Value::Array(a) => a,
            Value::String(s) => s.chars().map(|c| Value::String(c.into())).collect(),
            other => {
                return Err(self.fail_found(
                    call,
                    span,
                    "the argument must be a list of maps",
                    &other,
                ));
            }
        };
        let mut out = serde_json::Map::new();
        for item in items {
            match item {
                Value::Null => {}
                Value::Object(m) => out.extend(m),
                other => {
                    return Err(self
                        .fail_found(call, span, "the items to merge must be maps", &other)
                        .with_hint(
                            "each item must evaluate to a map (null items are skipped): a \
                             parameter used here must be of type json",
                        ));
                }
            }
        }
        Ok(Value::Object(out))
    }

    /// `map_replace: [map, {keys: {...}, values: {...}}]`.
    pub(crate) fn map_replace(&self, call: &Call, span: Span) -> Res<Value> {
        let form = "[{<key>: <value>, ...}, {keys: {<old>: <new>}, values: {<old>: <new>}}]";
        let args = match self.eval(&call.arg)? {
            Value::Array(a) if a.len() == 2 => a,
            other => {
                return Err(self.fail_found(call, span, format_args!("expected {form}"), &other));
            }
        };
        let as_map = |v: &Value| -> Res<serde_json::Map<String, Value>> {
            match v {
                Value::Null => Ok(serde_json::Map::new()),
                Value::Object(m) => Ok(m.clone()),
                other => Err(self
                    .fail_found(call, span, "the arguments must be maps", other)
                    .with_hint(
                        "both arguments must evaluate to maps: a parameter used here must be of \
                         type json",
                    )),
            }
        };
        let input = as_map(&args[0])?;
        let repl = as_map(&args[1])?;
        if let Some(bad) = repl.keys().find(|k| *k != "keys" && *k != "values") {
            return Err(self
                .fail(
                    call,
                    span,
                    format!(
                        "the replacement map may only have \"keys\" and \"values\", found \"{bad}\""
                    ),
                )
                .with_hint(
                    crate::names::did_you_mean(bad, ["keys", "values"]).unwrap_or_else(|| {
                        "write the replacements as \
                             {keys: {<old key>: <new key>}, values: {<old value>: <new value>}}"
                            .to_string()
                    }),
                ));
        }
        let keys = as_map(repl.get("keys").unwrap_or(&Value::Null))?;
        let values = as_map(repl.get("values").unwrap_or(&Value::Null))?;
        let mut out = serde_json::Map::with_capacity(input.len());
        for (k, v) in &input {
            let key = match keys.get(k) {
                None | Some(Value::Null) => k.clone(),
                Some(Value::String(s)) => s.clone(),
                Some(n @ (Value::Number(_) | Value::Bool(_))) => py::json_dumps(n),
                Some(other) => {
                    return Err(self
                        .fail_found(
                            call,
                            span,
                            format_args!("the replacement for key \"{k}\" must be a string"),
                            other,
                        )
                        .with_hint(format!(
                            "map \"{k}\" to the new key as a string: keys: {{{k}: new_name}}"
                        )));
                }
            };
            if key != *k && input.contains_key(&key) {
                return Err(self
                    .fail(
                        call,
                        span,
                        format!(
                            "the key replacement \"{key}\" collides with a key of the input map"
                        ),
                    )
                    .with_hint(
                        "choose a replacement key the input map does not have, or replace that key \
                         too",
                    ));
            }
            if key != *k && out.contains_key(&key) {
                return Err(self
                    .fail(
                        call,
                        span,
                        format!("the key replacement \"{key}\" collides with another replaced key"),
                    )
                    .with_hint("map each key to a different replacement"));
            }
            let value = match v {
                Value::String(s) => values.get(s).cloned().unwrap_or_else(|| v.clone()),
                _ => v.clone(),
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }

    /// `repeat: {for_each: {<var>: <list>, ...}, template: <body>, permutations: <bool>}`.
    pub(crate) fn repeat(&self, call: &Call, span: Span) -> Res<Value> {
        let form = "{for_each: {<var>: <list>, ...}, template: <body>}";
        self.raw_map(call, span, form)?;
        let (Some(for_each), Some(template)) = (call.arg.get("for_each"), call.arg.get("template"))
        else {
            return Err(self
                .fail(
                    call,
                    pick(call.arg.span, span),
                    "needs both \"for_each\" and \"template\"",
                )
                .with_hint(format!("write repeat: {form}")));
        };
        let v = self.version();
        let with_map = v >= Version::Hot20161014;
        let nested = if v >= Version::Hot20170901 {
            match call.arg.get("permutations") {
                None => true,
                Some(Expr {
                    kind: ExprKind::Bool(b),
                    ..
                }) => *b,
                Some(other) => {
                    return Err(self
                        .fail(
                            call,
                            other.span,
                            format!(
                                "\"permutations\" must be a boolean, found {}",
                                other.kind_name()
                            ),
                        )
                        .with_hint(
                            "write `permutations: false` or `permutations: true` (a literal \
                             boolean, not a function)",
                        ));
                }
            }
        } else {
            true
        };
        if !matches!(for_each.kind, ExprKind::Map(_) | ExprKind::Call(_)) {
            return Err(self.fail(
                call,
                for_each.span,
                format!("\"for_each\" must be a map, found {}", for_each.kind_name()),
            ));
        }
        let for_each_v = match self.eval(for_each)? {
            Value::Object(m) if !m.is_empty() => m,
            other => {
                return Err(self.fail_found(
                    call,
                    for_each.span,
                    "\"for_each\" must be a non-empty map",
                    &other,
                ));
            }
        };
        let mut keys = Vec::with_capacity(for_each_v.len());
        let mut lists: Vec<Vec<Value>> = Vec::with_capacity(for_each_v.len());
        let mut lens = Vec::new();
        for (k, val) in for_each_v {
            let list = match val {
                Value::Null => Vec::new(),
                Value::Array(a) => {
                    lens.push(a.len());
                    a
                }
                Value::Object(m) if with_map && nested => {
                    lens.push(m.len());
                    m.keys().map(|k| Value::String(k.clone())).collect()
                }
                other => {
                    let allowed = if with_map && nested {
                        "lists or maps"
                    } else {
                        "lists"
                    };
                    return Err(self
                        .fail(
                            call,
                            for_each.span,
                            format!(
                                "the values of \"for_each\" must be {allowed}; \"{k}\" is {}",
                                py::describe(&other)
                            ),
                        )
                        .with_hint(if matches!(other, Value::Object(_)) && !with_map {
                            "iterating over a map's keys needs heat_template_version 2016-10-14 or \
                             later"
                                .to_string()
                        } else if matches!(other, Value::Object(_)) {
                            "with `permutations: false` the values must be lists: drop \
                             permutations to iterate over a map's keys"
                                .to_string()
                        } else {
                            "give each variable a list of values; a parameter used here must be of \
                             type comma_delimited_list or json"
                                .to_string()
                        }));
                }
            };
            keys.push(k);
            lists.push(list);
        }
        if !nested && lens.windows(2).any(|w| w[0] != w[1]) {
            let message =
                "with \"permutations: false\" the lists of \"for_each\" must have the same length";
            return Err(self.fail(call, for_each.span, message).with_hint(
                "give the lists the same length, or drop `permutations: false` to repeat over \
                 every combination",
            ));
        }
        let body = self.eval(template)?;
        let count = if nested {
            lists
                .iter()
                .try_fold(1usize, |acc, l| acc.checked_mul(l.len()))
        } else {
            lists.iter().map(Vec::len).min()
        };
        let count = match count {
            Some(c) if c <= MAX_REPEAT_ITEMS => c,
            _ => {
                return Err(self
                    .fail(
                        call,
                        span,
                        format!("would produce more than {MAX_REPEAT_ITEMS} items"),
                    )
                    .with_hint(
                        "each combination of the for_each values makes one item: shorten the \
                         lists, or split the repeat",
                    ));
            }
        };
        let mut out = Vec::with_capacity(count);
        for n in 0..count {
            // The n-th combination: the first variable varies slowest (Python's product).
            let mut combo = vec![&Value::Null; lists.len()];
            if nested {
                let mut rem = n;
                for (i, l) in lists.iter().enumerate().rev() {
                    let len = l.len().max(1);
                    combo[i] = l.get(rem % len).unwrap_or(&Value::Null);
                    rem /= len;
                }
            } else {
                for (i, l) in lists.iter().enumerate() {
                    combo[i] = l.get(n).unwrap_or(&Value::Null);
                }
            }
            out.push(self.substitute(call, span, &keys, &combo, &body)?);
        }
        Ok(Value::Array(out))
    }

    fn substitute(
        &self,
        call: &Call,
        span: Span,
        keys: &[String],
        values: &[&Value],
        body: &Value,
    ) -> Res<Value> {
        Ok(match body {
            Value::String(s) => Value::String(self.substitute_str(call, span, keys, values, s)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.substitute(call, span, keys, values, i))
                    .collect::<Res<_>>()?,
            ),
            Value::Object(m) => {
                let mut out = serde_json::Map::with_capacity(m.len());
                for (k, v) in m {
                    out.insert(
                        self.substitute_str(call, span, keys, values, k)?,
                        self.substitute(call, span, keys, values, v)?,
                    );
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    fn substitute_str(
        &self,
        call: &Call,
        span: Span,
        keys: &[String],
        values: &[&Value],
        s: &str,
    ) -> Res<String> {
        let mut s = s.to_string();
        for (k, v) in keys.iter().zip(values) {
            let Value::String(v) = v else {
                let message = format!(
                    "the items of \"for_each\" must be strings to be put into the template; \
                     \"{k}\" has {}",
                    py::describe(v)
                );
                return Err(self.fail(call, span, message).with_hint(
                    "quote numbers and booleans in the lists of for_each ('80') so that they are \
                     strings",
                ));
            };
            if !k.is_empty() {
                s = s.replace(k.as_str(), v);
            }
        }
        Ok(s)
    }

    /// `list_concat` / `list_concat_unique: [list, ...]`.
    pub(crate) fn list_concat(&self, call: &Call, span: Span) -> Res<Value> {
        let items = match self.eval(&call.arg)? {
            Value::Array(a) => a,
            other => {
                return Err(self.fail_found(
                    call,
                    span,
                    "the argument must be a list of lists",
                    &other,
                ));
            }
        };
        let mut out = Vec::new();
        for item in items {
            match item {
                Value::Null => {}
                Value::Array(a) => out.extend(a),
                other => {
                    return Err(self
                        .fail_found(call, span, "the items to concatenate must be lists", &other)
                        .with_hint(
                            "each item must evaluate to a list (null items are skipped): a \
                             parameter used here must be of type comma_delimited_list or json",
                        ));
                }
            }
        }
        if call.func == Func::ListConcatUnique {
            let mut seen = std::collections::HashSet::new();
            out.retain(|v| seen.insert(py::canon(v)));
        }
        Ok(Value::Array(out))
    }

    /// `filter: [values_to_remove, list]`.
    pub(crate) fn filter(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(call, span, 2, 2, "[values_to_remove, list]")?;
        let seq = self.eval(&items[1])?;
        if !py::truthy(&seq) {
            return Ok(seq);
        }
        let Value::Array(seq) = seq else {
            return Err(self
                .fail_found(call, items[1].span, "filters lists only", &seq)
                .with_hint(
                    "the second argument must evaluate to a list; a parameter used here must be of \
                     type comma_delimited_list or json",
                ));
        };
        let values = self.eval(&items[0])?;
        if !py::truthy(&values) {
            return Ok(Value::Array(seq));
        }
        let Value::Array(values) = values else {
            return Err(self
                .fail_found(
                    call,
                    items[0].span,
                    "the values to remove must be a list",
                    &values,
                )
                .with_hint("write the values to remove as a list, e.g. [null, '']"));
        };
        let remove: std::collections::HashSet<String> = values.iter().map(py::canon).collect();
        Ok(Value::Array(
            seq.into_iter()
                .filter(|v| !remove.contains(&py::canon(v)))
                .collect(),
        ))
    }

    /// `contains: [value, list or string]`.
    pub(crate) fn contains(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(call, span, 2, 2, "[value, [value, ...]]")?;
        let value = self.eval(&items[0])?;
        match self.eval(&items[1])? {
            Value::Array(seq) => Ok(Value::Bool(seq.iter().any(|v| py::eq(v, &value)))),
            Value::String(s) => match &value {
                Value::String(needle) => Ok(Value::Bool(s.contains(needle.as_str()))),
                other => Err(self
                    .fail_found(
                        call,
                        items[0].span,
                        "to look into a string the value must be a string",
                        other,
                    )
                    .with_hint(
                        "to look for a value that is not a string, look into a list instead of a \
                         string",
                    )),
            },
            other => Err(self.fail_found(
                call,
                items[1].span,
                "the second argument must be a list",
                &other,
            )),
        }
    }

    // ---------------------------------------------------------------- conditions -------

    /// A condition operand: a boolean, a condition name, or null (Heat counts "no
    /// condition" as true).
    pub(crate) fn cond_value(&self, call: &Call, e: &Expr, v: &Value) -> Res<bool> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::Null => Ok(true),
            Value::String(name) => self.named_condition(name, e.span),
            other => {
                let message = format!(
                    "a condition must be a boolean, a condition name or a condition function, \
                     found {}",
                    py::describe(other)
                );
                Err(self.fail(call, e.span, message).with_hint(
                    "use a condition name, true or false, or a condition function such as \
                     {equals: [{get_param: env}, prod]}",
                ))
            }
        }
    }

    /// `if: [condition, value_if_true, value_if_false]` (2021-04-16: the last is optional).
    pub(crate) fn if_(&self, call: &Call, span: Span) -> Res<Option<Value>> {
        let nullable = call.func == Func::If && self.version() >= Version::Hot20210416;
        let items = self.raw_list(
            call,
            span,
            if nullable { 2 } else { 3 },
            3,
            if nullable {
                "[condition, value_if_true, value_if_false (optional)]"
            } else {
                "[condition, value_if_true, value_if_false]"
            },
        )?;
        let c = self.eval(&items[0])?;
        if self.cond_value(call, &items[0], &c)? {
            self.eval_opt(&items[1])
        } else {
            match items.get(2) {
                Some(e) => self.eval_opt(e),
                None => Ok(None),
            }
        }
    }

    /// `equals: [a, b]` (Python equality).
    pub(crate) fn equals(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(call, span, 2, 2, "[value_1, value_2]")?;
        let a = self.eval(&items[0])?;
        let b = self.eval(&items[1])?;
        Ok(Value::Bool(py::eq(&a, &b)))
    }

    /// `not: condition` / `Fn::Not: [condition]`.
    pub(crate) fn not(&self, call: &Call, span: Span) -> Res<Value> {
        let operand = if call.func == Func::FnNot {
            &self.raw_list(call, span, 1, 1, "[condition]")?[0]
        } else {
            if matches!(call.arg.kind, ExprKind::Null) {
                return Err(self.fail(call, pick(call.arg.span, span), "needs a condition"));
            }
            &call.arg
        };
        let v = self.eval(operand)?;
        Ok(Value::Bool(!self.cond_value(call, operand, &v)?))
    }

    /// `and` / `or` / `Fn::And` / `Fn::Or: [condition, condition, ...]`.
    pub(crate) fn and_or(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(call, span, 2, usize::MAX, "[condition, condition, ...]")?;
        let is_and = matches!(call.func, Func::And | Func::FnAnd);
        let mut values = Vec::with_capacity(items.len());
        for e in items {
            values.push(self.eval(e)?);
        }
        for (e, v) in items.iter().zip(&values) {
            let b = self.cond_value(call, e, v)?;
            if b != is_and {
                return Ok(Value::Bool(b));
            }
        }
        Ok(Value::Bool(is_and))
    }

    // ---------------------------------------------------------------- the rest ---------

    /// `resource_facade: metadata | deletion_policy | update_policy` (and the CFN form).
    pub(crate) fn resource_facade(&self, call: &Call, span: Span) -> Res<Value> {
        let names = if call.func == Func::FnResourceFacade {
            ["Metadata", "DeletionPolicy", "UpdatePolicy"]
        } else {
            ["metadata", "deletion_policy", "update_policy"]
        };
        let attr = match call.arg.as_str() {
            Some(s) if s == names[0] => FacadeAttribute::Metadata,
            Some(s) if s == names[1] => FacadeAttribute::DeletionPolicy,
            Some(s) if s == names[2] => FacadeAttribute::UpdatePolicy,
            _ => {
                return Err(self.fail(
                    call,
                    pick(call.arg.span, span),
                    format!("the argument must be one of {}", names.join(", ")),
                ));
            }
        };
        self.ctx.facade.facade(attr).map_err(|m| {
            self.unavailable(call, span, m).with_hint(
                "resource_facade reads the resource that uses this template as a nested stack: it \
                 has a value only when the template is used that way",
            )
        })
    }

    /// `yaql: {expression: ..., data: ...}`: checked, then refused.
    pub(crate) fn yaql(&self, call: &Call, span: Span) -> Res<Value> {
        let form = "{expression: <yaql>, data: {...}}";
        let entries = self.raw_map(call, span, form)?;
        if let Some((k, _)) = entries
            .iter()
            .find(|(k, _)| k.name != "expression" && k.name != "data")
        {
            return Err(self
                .fail(
                    call,
                    k.span,
                    format!("unknown key \"{}\"; the argument must be {form}", k.name),
                )
                .with_hint(near_or_usage(call.func, &k.name, ["expression", "data"])));
        }
        let Some(expression) = call.arg.get("expression") else {
            return Err(self.fail(
                call,
                pick(call.arg.span, span),
                format!("needs \"expression\": {form}"),
            ));
        };
        self.eval_name(call, expression, "\"expression\"")?;
        Err(EvalError::new(Code::YaqlUnsupported, span, "yaql is not supported yet")
            .with_hint("rewrite the expression with other HOT functions (map_merge, list_concat, repeat, ...)"))
    }

    /// `make_url: {scheme, username, password, host, port, path, query, fragment}`.
    pub(crate) fn make_url(&self, call: &Call, span: Span) -> Res<Value> {
        const KEYS: [&str; 8] = [
            "scheme", "username", "password", "host", "port", "path", "query", "fragment",
        ];
        let entries = self.raw_map(call, span, "{scheme: ..., host: ..., path: ..., ...}")?;
        let unknown: Vec<&str> = entries
            .iter()
            .map(|(k, _)| k.name.as_str())
            .filter(|k| !KEYS.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(self
                .fail(
                    call,
                    pick(call.arg.span, span),
                    format!(
                        "unknown argument(s) {}; the arguments are {}",
                        unknown.join(", "),
                        KEYS.join(", ")
                    ),
                )
                .with_hint(near_or_usage(
                    call.func,
                    unknown.first().copied().unwrap_or_default(),
                    KEYS,
                )));
        }
        let Value::Object(args) = self.eval(&call.arg)? else {
            return Err(self.fail(call, span, "the arguments must be a map"));
        };
        let mut strs: [String; 8] = Default::default();
        for (i, key) in KEYS.iter().enumerate() {
            let Some(v) = args.get(*key) else { continue };
            match *key {
                "query" => {
                    if !v.is_object() {
                        return Err(self
                            .fail_found(call, span, "\"query\" must be a map", v)
                            .with_hint(
                                "write the query as a map of parameters, e.g. query: \
                                 {page: 2, sort: name}",
                            ));
                    }
                }
                "port" => {
                    self.check_port(call, span, v)?;
                    strs[i] = py::str_of(v);
                }
                _ => match v {
                    Value::String(s) => strs[i] = s.clone(),
                    other => {
                        return Err(self.fail_found(
                            call,
                            span,
                            format_args!("\"{key}\" must be a string"),
                            other,
                        ));
                    }
                },
            }
        }
        let [scheme, username, password, host, port, path, _, fragment] = &strs;
        if scheme.contains(':') {
            return Err(self
                .fail(call, span, "\"scheme\" must not contain ':'")
                .with_hint("write the scheme alone, without ':' or '//', e.g. scheme: https"));
        }
        let mut netloc = String::new();
        let user = py::quote(username, "");
        let pass = py::quote(password, "");
        if !user.is_empty() || !pass.is_empty() {
            netloc.push_str(&user);
            if !pass.is_empty() {
                netloc.push(':');
                netloc.push_str(&pass);
            }
            netloc.push('@');
        }
        let bare = if host.starts_with('[') && host.ends_with(']') && host.len() >= 2 {
            &host[1..host.len() - 1]
        } else {
            host.as_str()
        };
        let host_q = py::quote(bare, ":");
        if host_q.contains(':') {
            netloc.push('[');
            netloc.push_str(&host_q);
            netloc.push(']');
        } else {
            netloc.push_str(&host_q);
        }
        if args.get("port").is_some_and(py::truthy) {
            netloc.push(':');
            netloc.push_str(port);
        }
        let path = py::quote(path, "/");
        let query = match args.get("query") {
            Some(Value::Object(q)) => q
                .iter()
                .map(|(k, v)| format!("{}={}", py::quote_plus(k), py::quote_plus(&py::str_of(v))))
                .collect::<Vec<_>>()
                .join("&")
                .replace("%2F", "/"),
            _ => String::new(),
        };
        let fragment = py::quote(fragment, "/");
        Ok(Value::String(unsplit(
            scheme, &netloc, &path, &query, &fragment,
        )))
    }

    fn check_port(&self, call: &Call, span: Span, v: &Value) -> Res<()> {
        let port = match v {
            Value::Number(_) => py::to_int(v),
            Value::String(s) => py::parse_int(s),
            _ => None,
        };
        let Some(port) = port else {
            return Err(self
                .fail(
                    call,
                    span,
                    format!("invalid port {}; it must be an integer", py::describe(v)),
                )
                .with_hint("write the port as a whole number, e.g. port: 8080"));
        };
        if !(1..=65535).contains(&port) {
            return Err(self
                .fail(
                    call,
                    span,
                    format!("invalid port {port}; it must be in the range 1-65535"),
                )
                .with_hint(
                    "use a port from 1 to 65535, or leave port out to use the scheme's default",
                ));
        }
        Ok(())
    }
}

/// The algorithms `digest` knows.
const DIGEST_NAMES: [&str; 8] = [
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha512_224",
    "sha512_256",
];

/// How `join` treats items that are not strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JoinMode {
    /// Heat before 2015-10-15 and Heat's `Fn::Join`: strings (and null) only.
    Strict,
    /// HOT 2015-10-15+: maps and lists are JSON-serialised.
    Json,
    /// AWS `Fn::Join`: numbers and booleans are written as text.
    Aws,
}

/// Path selection into a parameter value as `get_param` does it: list indexes may be
/// strings of digits; anything that does not fit gives `""`.
fn param_path(value: Value, path: &[Value]) -> Value {
    let mut cur = value;
    for key in path {
        let next = match (&cur, key) {
            (Value::Object(m), Value::String(k)) => m.get(k).cloned(),
            (Value::Array(items), k) => key_index(k)
                .and_then(|i| py_index(i, items.len()))
                .and_then(|i| items.get(i).cloned()),
            (Value::String(s), k) => {
                let chars: Vec<char> = s.chars().collect();
                key_index(k)
                    .and_then(|i| py_index(i, chars.len()))
                    .and_then(|i| chars.get(i))
                    .map(|c| Value::String(c.to_string()))
            }
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => return Value::String(String::new()),
        }
    }
    cur
}

fn key_index(k: &Value) -> Option<i64> {
    match k {
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Number(n) => n.as_i64(),
        Value::String(s) => py::parse_int(s),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Python's `urlunsplit` (3.12.6+).
fn unsplit(scheme: &str, netloc: &str, path: &str, query: &str, fragment: &str) -> String {
    const USES_NETLOC: [&str; 26] = [
        "", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https",
        "shttp", "snews", "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn", "svn+ssh", "sftp",
        "nfs", "git", "git+ssh", "ws", "wss",
    ];
    let mut url = path.to_string();
    if !netloc.is_empty() {
        if !url.is_empty() && !url.starts_with('/') {
            url.insert(0, '/');
        }
        url = format!("//{netloc}{url}");
    } else if url.starts_with("//")
        || (!scheme.is_empty()
            && (USES_NETLOC.contains(&scheme) || scheme == "itms-services")
            && (url.is_empty() || url.starts_with('/')))
    {
        url = format!("//{url}");
    }
    if !scheme.is_empty() {
        url = format!("{scheme}:{url}");
    }
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    if !fragment.is_empty() {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

/// Whether a format compares values as AWS does (scalars by their text).
pub(crate) fn aws_semantics(format: Format) -> bool {
    format == Format::Cfn
}
