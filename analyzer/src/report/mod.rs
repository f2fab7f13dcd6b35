//! Reports: the data a report shows ([`model`]) and its renderings ([`render`]).

pub mod model;
pub mod render;

pub use model::Report;
