//! References an expression makes: parameters, resources, attributes, conditions, mappings
//! (including those inside `Fn::Sub` strings). Shared by validation and the graph.
//! OWNER: expression helper.
