//! Parameter values: type conversion, constraint checks, binding user values with defaults
//! and environments. Hidden values never appear in messages.
//! OWNER: parameters helper.
