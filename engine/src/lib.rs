//! The Pulumi program run with no cloud, two ways:
//!
//! - [`mock`]: a mock engine that runs the program binary directly and records what it
//!   registers (`make preview`, the offline preview tests): quick, and exact about what the
//!   program sends;
//! - the real `pulumi` CLI (built from its Go module, `engine/pulumi/`) with two stand-ins
//!   for what cannot be built here: the language host `pulumi-language-rust` (Go, beside the
//!   CLI) and the AWS provider `pulumi-resource-aws` ([`provider`], this crate's binary),
//!   which keeps a made-up AWS account in a file ([`account`]). `make engine` runs the whole
//!   lifecycle with them (`tests/lifecycle.rs`).

pub mod account;
pub mod aws_facts;
pub mod aws_shapes;
pub mod mock;
pub mod project;
pub mod provider;
pub mod schema;
pub mod wire;
