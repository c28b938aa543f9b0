//! Static checks of a parsed template: function arity and argument shapes, references to
//! parameters / resources / mappings / conditions / outputs, function contexts, per-version
//! availability, resource types.
//! OWNER: expression helper.
