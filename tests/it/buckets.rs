//! Bucket operations: ListBuckets, CreateBucket (naming rules, re-create,
//! location constraint), HeadBucket, GetBucketLocation, DeleteBucket.

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use coffer_e2e::ops::{create_bucket, put_bytes};
use coffer_e2e::{assert_s3_error, error_status, unique_bucket, Server};

#[tokio::test(flavor = "multi_thread")]
async fn bucket_lifecycle() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("life");

    create_bucket(&client, &bucket).await?;
    let listed = client.list_buckets().send().await?;
    let names: Vec<&str> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert!(names.contains(&bucket.as_str()), "{names:?}");
    let entry = listed
        .buckets()
        .iter()
        .find(|b| b.name() == Some(bucket.as_str()))
        .expect("listed above");
    assert!(entry.creation_date().is_some(), "CreationDate missing");
    assert!(
        listed.owner().and_then(|o| o.id()).is_some(),
        "Owner ID missing"
    );

    // us-east-1: re-creating your own bucket succeeds (AWS legacy behaviour).
    client.create_bucket().bucket(&bucket).send().await?;

    client.head_bucket().bucket(&bucket).send().await?;
    let missing = client
        .head_bucket()
        .bucket(unique_bucket("missing"))
        .send()
        .await;
    assert_eq!(missing.as_ref().err().and_then(error_status), Some(404));

    // us-east-1 reports an empty LocationConstraint.
    let location = client.get_bucket_location().bucket(&bucket).send().await?;
    let constraint = location
        .location_constraint()
        .map(|c| c.as_str().to_owned());
    assert!(
        constraint
            .as_deref()
            .is_none_or(|c| c.is_empty() || c == "us-east-1"),
        "{constraint:?}"
    );

    put_bytes(&client, &bucket, "k", b"x").await?;
    assert_s3_error(
        client.delete_bucket().bucket(&bucket).send().await,
        409,
        Some("BucketNotEmpty"),
    );
    client
        .delete_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await?;
    client.delete_bucket().bucket(&bucket).send().await?;
    let gone = client.head_bucket().bucket(&bucket).send().await;
    assert_eq!(gone.as_ref().err().and_then(error_status), Some(404));
    assert_s3_error(
        client.delete_bucket().bucket(&bucket).send().await,
        404,
        Some("NoSuchBucket"),
    );
    let listed = client.list_buckets().send().await?;
    assert!(!listed
        .buckets()
        .iter()
        .any(|b| b.name() == Some(bucket.as_str())));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bucket_names_and_locations() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();

    let invalid = [
        "ab",
        "Upper-Case",
        "under_score",
        "-leading",
        "trailing-",
        "double..dot",
        "192.168.5.4",
        "xn--reserved",
    ];
    for name in invalid {
        assert_s3_error(
            client.create_bucket().bucket(name).send().await,
            400,
            Some("InvalidBucketName"),
        );
    }
    let long = "a".repeat(64);
    assert_s3_error(
        client.create_bucket().bucket(&long).send().await,
        400,
        Some("InvalidBucketName"),
    );
    create_bucket(&client, &"b".repeat(63)).await?;

    // A LocationConstraint naming another region is refused.
    let other_region = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    assert_s3_error(
        client
            .create_bucket()
            .bucket(unique_bucket("eu"))
            .create_bucket_configuration(other_region)
            .send()
            .await,
        400,
        Some("InvalidLocationConstraint"),
    );
    // Operations on a missing bucket.
    assert_s3_error(
        client
            .list_objects_v2()
            .bucket(unique_bucket("nope"))
            .send()
            .await,
        404,
        Some("NoSuchBucket"),
    );
    assert_s3_error(
        put_raw(&client, &unique_bucket("nope")).await,
        404,
        Some("NoSuchBucket"),
    );
    Ok(())
}

async fn put_raw(
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<
    aws_sdk_s3::operation::put_object::PutObjectOutput,
    aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::put_object::PutObjectError>,
> {
    client
        .put_object()
        .bucket(bucket)
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
}
