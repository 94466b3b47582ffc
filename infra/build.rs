//! Generates typed resources from `schema/aws.json`, the subset of the AWS provider's schema
//! that the program declares (the full schema takes very long to compile).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pulumi_gestalt_build::generate_from_schema(std::path::Path::new("schema/aws.json"))?;
    Ok(())
}
