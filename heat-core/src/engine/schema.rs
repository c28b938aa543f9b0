//! Resource type schemas: properties (types, required, defaults, constraints, update_allowed,
//! immutable) and attributes, and the validation of a resource's properties against them.
//! OWNER: builtins helper (validation functions); the types below are the contract.

use serde_json::Value;

use crate::template::model::ConstraintKind;

/// The type of a property value.
#[derive(Clone, Debug, PartialEq)]
pub enum PropertyType {
    /// A string.
    String,
    /// An integer.
    Integer,
    /// A number (integer or float).
    Number,
    /// A boolean (Heat accepts the strings `true`/`false` too).
    Boolean,
    /// A list; items follow the schema when one is given.
    List(Option<Box<PropertySchema>>),
    /// A map; with a schema, its keys are themselves properties.
    Map(Vec<PropertySchema>),
    /// Any JSON value.
    Any,
}

/// One property.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertySchema {
    /// The name.
    pub name: &'static str,
    /// What it does (shown by `resource type show`).
    pub description: &'static str,
    /// The value's type.
    pub ty: PropertyType,
    /// Whether a value must be given (there is no default).
    pub required: bool,
    /// The value used when none is given.
    pub default: Option<Value>,
    /// Constraints on the value (the same kinds as parameter constraints).
    pub constraints: Vec<ConstraintKind>,
    /// Whether a change can be applied in place (otherwise it means replacement).
    pub update_allowed: bool,
    /// Whether the value may never change after create (an update that changes it fails).
    pub immutable: bool,
}

impl PropertySchema {
    /// A property of the given type; not required, no default, replaced on change.
    pub fn new(name: &'static str, ty: PropertyType, description: &'static str) -> PropertySchema {
        PropertySchema {
            name,
            description,
            ty,
            required: false,
            default: None,
            constraints: Vec::new(),
            update_allowed: false,
            immutable: false,
        }
    }

    /// Marks the property required.
    #[must_use]
    pub fn required(mut self) -> PropertySchema {
        self.required = true;
        self
    }

    /// Sets the default.
    #[must_use]
    pub fn default(mut self, value: Value) -> PropertySchema {
        self.default = Some(value);
        self
    }

    /// Adds a constraint.
    #[must_use]
    pub fn constraint(mut self, constraint: ConstraintKind) -> PropertySchema {
        self.constraints.push(constraint);
        self
    }

    /// Allows in-place updates.
    #[must_use]
    pub fn update_allowed(mut self) -> PropertySchema {
        self.update_allowed = true;
        self
    }

    /// Forbids any change after create.
    #[must_use]
    pub fn immutable(mut self) -> PropertySchema {
        self.immutable = true;
        self
    }
}

/// One attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeSchema {
    /// The name.
    pub name: &'static str,
    /// What it holds.
    pub description: &'static str,
}

/// A resource type's schema.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceSchema {
    /// The type name (`OS::Heat::RandomString`).
    pub type_name: &'static str,
    /// What the type does.
    pub description: &'static str,
    /// The properties.
    pub properties: Vec<PropertySchema>,
    /// The attributes (`show` is implied, as in Heat).
    pub attributes: Vec<AttributeSchema>,
}

impl ResourceSchema {
    /// Looks a property up by name.
    pub fn property(&self, name: &str) -> Option<&PropertySchema> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Looks an attribute up by name.
    pub fn attribute(&self, name: &str) -> Option<&AttributeSchema> {
        self.attributes.iter().find(|a| a.name == name)
    }
}
