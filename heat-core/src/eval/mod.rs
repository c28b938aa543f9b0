//! Evaluation of expressions given parameter values, pseudo-parameters and a provider of
//! resource references and attributes.
//! OWNER: evaluation helper.
