//! End-to-end tests of local mode.
