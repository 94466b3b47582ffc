//! `pulumi up` / `pulumi preview` run this (see the justfile beside Pulumi.yaml).

fn main() {
    if let Err(error) = pulumi_gestalt_rust::run(orders_infra::program) {
        // The engine shows stderr; a chain of causes says what to fix.
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
