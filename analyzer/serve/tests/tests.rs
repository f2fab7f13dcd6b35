//! Integration tests of ktriage-serve, compiled as one binary.

mod api;
mod common;
mod faults;
mod imported;
mod kubectl;
