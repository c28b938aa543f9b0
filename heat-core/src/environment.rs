//! Environment files: parameters, parameter_defaults, resource_registry, event_sinks,
//! encrypted_param_names, parameter_merge_strategies; parsed, validated, merged in order.
//! OWNER: parameters helper.
