//! Reports: the data a report shows ([`model`]), its renderings ([`render`]) and the escaping
//! that keeps bundle and rule text inert in them ([`markup`]).

pub mod markup;
pub mod model;
pub mod render;

pub use model::Report;
