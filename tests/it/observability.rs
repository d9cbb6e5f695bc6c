//! Health endpoints and metrics.

use coffer_e2e::ops::{create_bucket, put_bytes};
use coffer_e2e::{unique_bucket, Server};

#[tokio::test(flavor = "multi_thread")]
async fn health_and_request_metrics() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    assert_eq!(server.admin_get("/health/live").await?.0, 200);
    assert_eq!(server.admin_get("/health/ready").await?.0, 200);

    let client = server.client();
    let bucket = unique_bucket("metrics");
    create_bucket(&client, &bucket).await?;
    for index in 0..5 {
        put_bytes(&client, &bucket, &format!("k{index}"), b"metric").await?;
    }
    let _ = client
        .get_object()
        .bucket(&bucket)
        .key("missing")
        .send()
        .await;

    let (status, body) = server.admin_get("/metrics").await?;
    assert_eq!(status, 200);
    assert!(
        body.contains("coffer_s3_requests_total"),
        "no coffer_s3_requests_total:\n{body}"
    );
    let total = coffer_e2e::server::sum_metric(&body, "coffer_s3_requests_total", &[]);
    assert!(
        total >= 7.0,
        "coffer_s3_requests_total = {total}, expected ≥ 7"
    );
    let ok =
        coffer_e2e::server::sum_metric(&body, "coffer_s3_requests_total", &[("status", "200")]);
    assert!(ok >= 6.0, "200s counted: {ok}");
    let not_found =
        coffer_e2e::server::sum_metric(&body, "coffer_s3_requests_total", &[("status", "404")]);
    assert!(not_found >= 1.0, "404s counted: {not_found}");
    assert!(
        body.contains("coffer_block_files"),
        "no coffer_block_files gauge"
    );

    assert_eq!(server.stop_graceful()?, 0);
    Ok(())
}
