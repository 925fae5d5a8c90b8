//! Fixtures shared by the server's integration tests.
#![allow(dead_code)] // each test file uses its own subset

pub mod hub;
