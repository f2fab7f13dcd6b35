//! The rule file format is part of the bundle contract (`ktriage_schema::rule`), so third-party
//! rule packs and the fuzz targets parse it without a database.

pub use ktriage_schema::rule::*;
