//! The static dependency graph of a template's resources (petgraph), from explicit
//! `depends_on` and implicit references; cycles reported with every member, in order.
//! OWNER: graph/CLI helper.
