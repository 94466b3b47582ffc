//! `pulumi up` / `pulumi preview` run this: pulumi-language-rust runs `cargo run` in the
//! directory of Pulumi.yaml, and the workspace's default member is this crate.

fn main() {
    if let Err(error) = pulumi_gestalt_rust::run(orders_infra::program) {
        // The engine shows stderr; a chain of causes says what to fix.
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
