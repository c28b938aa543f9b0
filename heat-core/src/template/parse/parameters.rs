//! The parameters and parameter_groups sections.
//! OWNER: parameters helper.

use crate::diagnostic::Diagnostic;
use crate::template::model::{Parameter, ParameterGroup};
use crate::template::node::Node;
use crate::template::version::Version;

/// Parses a `parameters` / `Parameters` section.
pub fn parse_parameters(
    section: &Node,
    version: Version,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Parameter> {
    let _ = (section, version, diags);
    unimplemented!("parameters helper")
}

/// Parses a HOT `parameter_groups` section (or CFN `AWS::CloudFormation::Interface`
/// `ParameterGroups`).
pub fn parse_parameter_groups(
    section: &Node,
    version: Version,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ParameterGroup> {
    let _ = (section, version, diags);
    unimplemented!("parameters helper")
}
