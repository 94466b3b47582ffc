//! The customer app: the static files of `web/` in a private S3 bucket (every public-access
//! block on, objects owned by the bucket), served over HTTPS by CloudFront through an origin
//! access control; the bucket policy admits that one distribution and nothing else. The
//! program writes `config.json` next to the files, so the same files serve every stack.

use crate::aws::cloudfront::{distribution, origin_access_control};
use crate::aws::s3::{
    bucket, bucket_objectv_2, bucket_ownership_controls, bucket_policy, bucket_public_access_block,
};
use crate::aws::types::cloudfront::{
    DistributionDefaultCacheBehavior, DistributionOrigin, DistributionRestrictions,
    DistributionRestrictionsGeoRestriction, DistributionViewerCertificate,
};
use crate::aws::types::s3::BucketOwnershipControlsRule;
use crate::outputs::after;
use anyhow::{Context as _, Result};
use orders_blueprint::Names;
use orders_blueprint::live::AppConfig;
use pulumi_gestalt_rust::{Context, Output, pulumi_combine};
use serde_json::json;
use std::path::Path;

/// CloudFront's managed cache policy "CachingOptimized" ("Use managed cache policies",
/// CloudFront developer guide): the files' own `Cache-Control` bounds how long it keeps them.
pub const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/// How long a browser and CloudFront keep a file: a deployment shows within a minute.
pub const CACHE_CONTROL: &str = "max-age=60";

/// The id of the bucket as the distribution's origin.
const ORIGIN_ID: &str = "app-bucket";

/// The bucket policy: CloudFront may read the objects, on behalf of this distribution only
/// ("Restricting access to an Amazon S3 origin", CloudFront developer guide).
pub fn bucket_policy_document(bucket_arn: &str, distribution_arn: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AppDistributionReads",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": format!("{bucket_arn}/*"),
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
        }],
    })
    .to_string()
}

/// The `Content-Type` of an app file, by its extension; `None` for a file the app does not
/// serve.
pub fn content_type(file: &str) -> Option<&'static str> {
    match file.rsplit_once('.')?.1 {
        "html" => Some("text/html; charset=utf-8"),
        "js" => Some("text/javascript; charset=utf-8"),
        "css" => Some("text/css; charset=utf-8"),
        "json" => Some("application/json"),
        _ => None,
    }
}

/// The app's files: (name, text), sorted by name.
pub fn files(web: &Path) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(web).with_context(|| format!("read {}", web.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .context("a file name of web/ is not UTF-8")?
            .to_string();
        anyhow::ensure!(
            content_type(&name).is_some(),
            "web/{name}: the app serves .html, .js, .css and .json files only"
        );
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        files.push((name, text));
    }
    files.sort();
    Ok(files)
}

/// The hosting: bucket and distribution. Files come later ([`Hosting::publish`]): the
/// config names the API, which admits the app's URL.
pub struct Hosting {
    pub bucket: Output<String>,
    /// `https://<distribution domain>`: the app's URL and origin.
    pub url: Output<String>,
    /// Every file waits for the bucket policy, so none is ever served before it holds.
    ready: Output<String>,
}

pub fn create(ctx: &Context, names: &Names) -> Hosting {
    let store = bucket::create(
        ctx,
        "app-bucket",
        bucket::BucketArgs::builder()
            .bucket_prefix(format!("{}-app-", names.prefix))
            // The objects are the program's: a destroy removes them with the bucket.
            .force_destroy(true)
            .build_struct(),
    );
    let blocked = bucket_public_access_block::create(
        ctx,
        "app-bucket-private",
        bucket_public_access_block::BucketPublicAccessBlockArgs::builder()
            .bucket(store.id.clone())
            .block_public_acls(true)
            .block_public_policy(true)
            .ignore_public_acls(true)
            .restrict_public_buckets(true)
            .build_struct(),
    );
    // An origin access control needs the bucket owner to own every object (ACLs off).
    let owned = bucket_ownership_controls::create(
        ctx,
        "app-bucket-ownership",
        bucket_ownership_controls::BucketOwnershipControlsArgs::builder()
            .bucket(store.id.clone())
            .rule(
                BucketOwnershipControlsRule::builder()
                    .object_ownership("BucketOwnerEnforced".to_string())
                    .build_struct(),
            )
            .build_struct(),
    );
    let access = origin_access_control::create(
        ctx,
        "app-origin-access",
        origin_access_control::OriginAccessControlArgs::builder()
            .name(names.app_origin_access())
            .description("CloudFront reads the app's bucket, signing every request")
            .origin_access_control_origin_type("s3")
            .signing_behavior("always")
            .signing_protocol("sigv4")
            .build_struct(),
    );
    let origin = pulumi_combine!(store.bucket_regional_domain_name.clone(), access.id.clone()).map(
        |(domain, access)| {
            vec![
                DistributionOrigin::builder()
                    .domain_name(domain)
                    .origin_id(ORIGIN_ID.to_string())
                    .origin_access_control_id(access)
                    .build_struct(),
            ]
        },
    );
    let cdn = distribution::create(
        ctx,
        "app-distribution",
        distribution::DistributionArgs::builder()
            .enabled(true)
            .comment(format!("{}: the customer app", names.prefix))
            .default_root_object("index.html")
            .http_version("http2and3")
            .is_ipv6_enabled(true)
            // North America and Europe: the cheapest class.
            .price_class("PriceClass_100")
            .origins(origin)
            .default_cache_behavior(
                DistributionDefaultCacheBehavior::builder()
                    .target_origin_id(ORIGIN_ID.to_string())
                    .viewer_protocol_policy("redirect-to-https".to_string())
                    .allowed_methods(vec!["GET".to_string(), "HEAD".to_string()])
                    .cached_methods(vec!["GET".to_string(), "HEAD".to_string()])
                    .cache_policy_id(CACHING_OPTIMIZED.to_string())
                    .compress(true)
                    .build_struct(),
            )
            .restrictions(
                DistributionRestrictions::builder()
                    .geo_restriction(
                        DistributionRestrictionsGeoRestriction::builder()
                            .restriction_type("none".to_string())
                            .build_struct(),
                    )
                    .build_struct(),
            )
            .viewer_certificate(
                DistributionViewerCertificate::builder()
                    .cloudfront_default_certificate(true)
                    .build_struct(),
            )
            .build_struct(),
    );
    // The policy is set once public access is blocked and ACLs are off.
    let settled = pulumi_combine!(blocked.id.clone(), owned.id.clone());
    let policy = bucket_policy::create(
        ctx,
        "app-bucket-policy",
        bucket_policy::BucketPolicyArgs::builder()
            .bucket(after(&store.id, &settled))
            .policy(
                pulumi_combine!(store.arn.clone(), cdn.arn.clone())
                    .map(|(bucket, cdn)| bucket_policy_document(&bucket, &cdn)),
            )
            .build_struct(),
    );
    Hosting {
        bucket: store.id,
        url: cdn.domain_name.map(|domain| format!("https://{domain}")),
        ready: policy.id,
    }
}

impl Hosting {
    /// Uploads the app's files and its `config.json`.
    pub fn publish(&self, ctx: &Context, files: Vec<(String, String)>, config: Output<AppConfig>) {
        let bucket = after(&self.bucket, &self.ready);
        let config = config
            .map(|config| serde_json::to_string_pretty(&config).expect("a config is JSON") + "\n");
        let uploads = files
            .into_iter()
            .map(|(name, text)| (name, Output::new(text)))
            .chain([(orders_blueprint::live::CONFIG_FILE.to_string(), config)]);
        for (name, content) in uploads {
            let content_type = content_type(&name).expect("files() admits served types only");
            bucket_objectv_2::create(
                ctx,
                &format!("app-file-{}", name.replace('.', "-")),
                bucket_objectv_2::BucketObjectv2Args::builder()
                    .bucket(bucket.clone())
                    .key(name)
                    .content(content)
                    .content_type(content_type)
                    .cache_control(CACHE_CONTROL)
                    .build_struct(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_files_of_the_checkout_are_served_with_their_types() {
        let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
        let files = files(&web).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"index.html"), "{names:?}");
        assert!(names.contains(&"app.js"), "{names:?}");
        assert_eq!(
            content_type("app.js"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(content_type("notes.md"), None);
    }

    #[test]
    fn only_the_distribution_may_read_the_bucket() {
        let policy: serde_json::Value = serde_json::from_str(&bucket_policy_document(
            "arn:aws:s3:::app",
            "arn:aws:cloudfront::1:distribution/E1",
        ))
        .unwrap();
        let statement = &policy["Statement"][0];
        assert_eq!(
            statement["Principal"]["Service"],
            "cloudfront.amazonaws.com"
        );
        assert_eq!(statement["Action"], "s3:GetObject");
        assert_eq!(statement["Resource"], "arn:aws:s3:::app/*");
        assert_eq!(
            statement["Condition"]["StringEquals"]["AWS:SourceArn"],
            "arn:aws:cloudfront::1:distribution/E1"
        );
    }
}
