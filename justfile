# The gestalt language plugin (Pulumi.yaml: runtime gestalt) runs `just run` to execute
# the Pulumi program; the engine passes its addresses and the stack config in the environment.
run:
    cargo run --locked --quiet --package orders-infra --bin orders-infra
