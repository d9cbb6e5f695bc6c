//! coffer-bench against a real coffer: every workload runs briefly, counts
//! exactly the operations it was asked for, verifies what it reads, and
//! removes its bucket. A tampered object must show up as verify errors.
//! No timing is asserted.

use anyhow::Result;
use aws_sdk_s3::primitives::ByteStream;
use coffer_bench::{run, Load, Mix, Report, SizeSpec, Target, Workload};
use coffer_e2e::server::{Server, ServerOptions};
use tokio_util::sync::CancellationToken;

fn target(server: &Server, endpoint: String, virtual_host: bool) -> Target {
    Target {
        endpoint,
        access_key_id: server.access_key_id().to_owned(),
        secret_access_key: server.secret_access_key().to_owned(),
        region: server.region().to_owned(),
        virtual_host,
        ca_file: None,
    }
}

fn brief(concurrency: usize, size: SizeSpec, operations: u64) -> Load {
    Load {
        concurrency,
        size,
        operations: Some(operations),
        progress: false,
        ..Load::default()
    }
}

async fn run_clean(target: &Target, workload: Workload, load: &Load) -> Result<Report> {
    let report = run(target, workload, load, &CancellationToken::new()).await?;
    assert_eq!(
        report.total_errors(),
        0,
        "{} reported errors: {:?}",
        workload.name(),
        report.error_samples
    );
    Ok(report)
}

fn ok_count(report: &Report, operation: &str) -> u64 {
    report
        .operation(operation)
        .map_or(0, |summary| summary.ok_count)
}

#[tokio::test]
async fn every_workload_counts_its_operations_and_finds_no_verify_errors() -> Result<()> {
    let server = Server::start().await?;
    let target = target(&server, server.endpoint(), false);
    let small = SizeSpec::Fixed(100_000);

    let put = run_clean(&target, Workload::Put, &brief(4, small, 20)).await?;
    assert_eq!(ok_count(&put, "put"), 20);
    assert_eq!(put.operation("put").unwrap().bytes, 20 * 100_000);

    let get_load = Load {
        objects: Some(10),
        ..brief(
            4,
            SizeSpec::Uniform {
                min: 0,
                max: 300_000,
            },
            30,
        )
    };
    let get = run_clean(&target, Workload::Get, &get_load).await?;
    assert_eq!(ok_count(&get, "get"), 30);
    assert!(get.operation("get").unwrap().latency_max_ms > 0.0);

    let mixed_load = Load {
        objects: Some(16),
        ..brief(4, small, 60)
    };
    let mixed = run_clean(&target, Workload::Mixed(Mix::default()), &mixed_load).await?;
    let mixed_total: u64 = ["get", "head", "put", "delete"]
        .iter()
        .map(|operation| ok_count(&mixed, operation))
        .sum();
    assert_eq!(mixed_total, 60);

    let list_load = Load {
        objects: Some(250),
        ..brief(1, SizeSpec::Fixed(0), 2)
    };
    let list = run_clean(&target, Workload::List { page_size: 100 }, &list_load).await?;
    assert_eq!(ok_count(&list, "list-walk"), 2);
    assert_eq!(ok_count(&list, "list-first-page"), 2);
    assert_eq!(ok_count(&list, "list-page"), 6);
    assert_eq!(list.keys_listed, 500);

    let multipart = Workload::Multipart {
        parts: 2,
        part_size_bytes: 5 << 20,
        parts_in_flight: 2,
    };
    let uploads = run_clean(&target, multipart, &brief(2, small, 3)).await?;
    assert_eq!(ok_count(&uploads, "upload"), 3);
    assert_eq!(ok_count(&uploads, "part"), 6);
    assert_eq!(uploads.operation("upload").unwrap().bytes, 3 * (10 << 20));

    let meta = run_clean(&target, Workload::Meta, &brief(16, SizeSpec::Fixed(0), 100)).await?;
    assert_eq!(ok_count(&meta, "put"), 100);

    // Every run removed its own bucket.
    let buckets = server.client().list_buckets().send().await?;
    assert!(buckets.buckets().is_empty(), "{:?}", buckets.buckets());
    Ok(())
}

#[tokio::test]
async fn a_duration_bound_run_stops_and_virtual_host_style_works() -> Result<()> {
    let server = Server::start_with(ServerOptions {
        domain: Some("localhost".to_owned()),
        ..ServerOptions::default()
    })
    .await?;
    let endpoint = format!("http://localhost:{}", server.s3_port());
    let target = target(&server, endpoint, true);
    let load = Load {
        concurrency: 4,
        size: SizeSpec::Fixed(4096),
        duration: std::time::Duration::from_millis(500),
        progress: false,
        ..Load::default()
    };
    let report = run_clean(&target, Workload::Put, &load).await?;
    assert!(ok_count(&report, "put") > 0);
    assert!(!report.interrupted);
    Ok(())
}

#[tokio::test]
async fn content_that_differs_from_what_was_written_is_a_verify_error() -> Result<()> {
    let server = Server::start().await?;
    let target = target(&server, server.endpoint(), false);
    let bucket = "bench-tampered".to_owned();
    let size = SizeSpec::Fixed(10_000);
    let write = Load {
        objects: Some(1),
        bucket: Some(bucket.clone()),
        keep_bucket: true,
        ..brief(1, size, 1)
    };
    run_clean(&target, Workload::Put, &write).await?;
    // Same length, different bytes.
    server
        .client()
        .put_object()
        .bucket(&bucket)
        .key(coffer_bench::workload::object_key(0, 1))
        .body(ByteStream::from(vec![0u8; 10_000]))
        .send()
        .await?;
    let read = Load {
        objects: Some(1),
        bucket: Some(bucket),
        prefill: false,
        ..brief(1, size, 3)
    };
    let report = run(&target, Workload::Get, &read, &CancellationToken::new()).await?;
    let get = report.operation("get").expect("get was measured");
    assert_eq!(get.verify_error_count, 3);
    assert_eq!(get.ok_count, 0);
    assert_eq!(report.total_errors(), 3);
    Ok(())
}

/// The scenario runner starts its own coffer, measures the machine's limits
/// and fills every figure of the table (here with `--quick` sizes, which
/// measure nothing but prove the runner works).
#[tokio::test]
async fn a_quick_scenario_starts_coffer_and_fills_every_figure() -> Result<()> {
    use coffer_bench::scenario::{run_scenario, ScenarioName, ScenarioOptions};
    use coffer_bench::servers::{Programs, ServerKind};
    let work_dir = tempfile::Builder::new()
        .prefix("coffer-bench-scenario-")
        .tempdir_in(std::env::temp_dir())?;
    let options = ScenarioOptions {
        name: ScenarioName::Meta,
        targets: vec![ServerKind::Coffer],
        programs: Programs {
            coffer: coffer_e2e::server::coffer_binary()?,
            rclone: "rclone".into(),
            moto_server: "moto_server".into(),
        },
        work_dir: work_dir.path().to_owned(),
        list_keys: 0,
        quick: true,
        progress: false,
    };
    let report = run_scenario(&options, &CancellationToken::new()).await?;
    assert!(report.limits.disk_write_mib_per_second > 0.0);
    assert!(report.limits.synced_writes_per_second > 0.0);
    assert_eq!(report.targets.len(), 1);
    let reports = &report.targets[0].reports;
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0].total_errors(),
        0,
        "{:?}",
        reports[0].error_samples
    );
    assert!(reports[0]
        .operation("put")
        .is_some_and(|put| put.ok_count > 0));
    assert!(report.targets[0].peak_rss_mib[0] > 0.0);
    let figure = &report.figures[0];
    assert!(figure.values["coffer"] > 0.0);
    assert!(figure.ratio.is_some());
    assert!(report.to_text().contains("| 0-byte PUT, concurrency 64 |"));
    Ok(())
}
