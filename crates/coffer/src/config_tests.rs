//! Precedence (flag > env > file > default), TOML parsing and validation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};

use super::*;
use crate::cli::{Cli, Command};

fn parse_args(flags: &[&str]) -> ServerArgs {
    let argv = ["coffer", "server"].iter().chain(flags.iter());
    match Cli::try_parse_from(argv).expect("flags parse").command {
        Command::Server(args) => args,
        Command::Version | Command::Admin(_) => unreachable!("server was asked for"),
    }
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

fn file_of(text: &str) -> FileConfig {
    FileConfig::parse(text, Path::new("test.toml")).expect("valid TOML")
}

#[test]
fn the_cli_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn defaults_apply_when_nothing_is_set() {
    let config = resolve(&parse_args(&[]), &env_of(&[]), FileConfig::default()).expect("valid");
    assert_eq!(
        config,
        ServerConfig {
            data_dir: PathBuf::from("./data"),
            s3_listen: "127.0.0.1:9000".parse().expect("literal"),
            admin_listen: "127.0.0.1:9001".parse().expect("literal"),
            region: "us-east-1".to_owned(),
            domains: Vec::new(),
            tls: None,
            master_key_file: None,
            node_id: 1,
            block_size_bytes: 4 * 1024 * 1024,
            log_format: LogFormat::Text,
            zone: "default".to_owned(),
            replication_factor: 3,
            raft_snapshot_logs: 50_000,
            scrub_interval_seconds: 86_400,
            sts_min_duration_seconds: 900,
            cluster: None,
        }
    );
}

#[test]
fn cluster_settings_resolve_and_conflicts_are_refused() {
    let config = resolve(
        &parse_args(&[
            "--rpc-listen",
            "0.0.0.0:9100",
            "--rpc-advertise",
            "node1:9100",
            "--init",
        ]),
        &env_of(&[("COFFER_ZONE", "b")]),
        FileConfig::default(),
    )
    .expect("valid");
    let cluster = config.cluster.expect("clustered");
    assert_eq!(cluster.rpc_advertise, "node1:9100");
    assert!(cluster.start == ClusterStart::Init);
    assert_eq!(config.zone, "b");

    let joined = resolve(
        &parse_args(&["--rpc-listen", "127.0.0.1:9100", "--join", "10.0.0.1:9100"]),
        &env_of(&[("COFFER_JOIN_TOKEN", "coffer-join-1.x")]),
        FileConfig::default(),
    )
    .expect("valid");
    let cluster = joined.cluster.expect("clustered");
    assert_eq!(cluster.rpc_advertise, "127.0.0.1:9100");
    match &cluster.start {
        ClusterStart::Join { address, token } => {
            assert_eq!(address, "10.0.0.1:9100");
            assert_eq!(token.as_ref().map(|t| t.as_str()), Some("coffer-join-1.x"));
        }
        _ => panic!("expected a join"),
    }
    // The token never shows in Debug output.
    assert!(!format!("{cluster:?}").contains("coffer-join-1.x"));

    let file = file_of("rpc_listen = \"127.0.0.1:9100\"\ninit = true\nzone = \"c\"\n");
    let from_file = resolve(&parse_args(&[]), &env_of(&[]), file).expect("valid");
    assert!(from_file.cluster.expect("clustered").start == ClusterStart::Init);
    assert_eq!(from_file.zone, "c");

    let refused = |flags: &[&str]| resolve(&parse_args(flags), &env_of(&[]), FileConfig::default());
    assert!(matches!(
        refused(&["--init"]),
        Err(ConfigError::NeedsRpc(_))
    ));
    assert!(matches!(
        refused(&["--join", "a:1", "--join-token", "t"]),
        Err(ConfigError::NeedsRpc(_))
    ));
    assert!(matches!(
        refused(&[
            "--rpc-listen",
            "127.0.0.1:1",
            "--init",
            "--join",
            "a:1",
            "--join-token",
            "t"
        ]),
        Err(ConfigError::InitAndJoin)
    ));
    assert!(matches!(
        refused(&["--rpc-listen", "127.0.0.1:1", "--join", "a:1"]),
        Err(ConfigError::JoinWithoutToken)
    ));
    assert!(refused(&[
        "--rpc-listen",
        "127.0.0.1:1",
        "--join",
        "no-port",
        "--join-token",
        "t"
    ])
    .is_err());
    assert!(refused(&["--zone", "a b"]).is_err());
    assert!(refused(&["--replication-factor", "0"]).is_err());
    assert!(refused(&["--replication-factor", "8"]).is_err());
}

/// Each row: a setting set at every layer, and what each layer said.
struct Row {
    flag: &'static [&'static str],
    env: (&'static str, &'static str),
    file: &'static str,
    read: fn(&ServerConfig) -> String,
    /// Values expected from flag, env, file, default.
    expected: [&'static str; 4],
}

#[test]
fn flag_beats_env_beats_file_beats_default() {
    let rows = [
        Row {
            flag: &["--data-dir", "/flag"],
            env: ("COFFER_DATA_DIR", "/env"),
            file: "data_dir = \"/file\"",
            read: |c| c.data_dir.display().to_string(),
            expected: ["/flag", "/env", "/file", "./data"],
        },
        Row {
            flag: &["--s3-listen", "127.0.0.1:1"],
            env: ("COFFER_S3_LISTEN", "127.0.0.1:2"),
            file: "s3_listen = \"127.0.0.1:3\"",
            read: |c| c.s3_listen.to_string(),
            expected: [
                "127.0.0.1:1",
                "127.0.0.1:2",
                "127.0.0.1:3",
                "127.0.0.1:9000",
            ],
        },
        Row {
            flag: &["--admin-listen", "[::1]:1"],
            env: ("COFFER_ADMIN_LISTEN", "[::1]:2"),
            file: "admin_listen = \"[::1]:3\"",
            read: |c| c.admin_listen.to_string(),
            expected: ["[::1]:1", "[::1]:2", "[::1]:3", "127.0.0.1:9001"],
        },
        Row {
            flag: &["--region", "eu-flag-1"],
            env: ("COFFER_REGION", "eu-env-1"),
            file: "region = \"eu-file-1\"",
            read: |c| c.region.clone(),
            expected: ["eu-flag-1", "eu-env-1", "eu-file-1", "us-east-1"],
        },
        Row {
            flag: &["--domain", "flag.example", "--domain", "two.example"],
            env: ("COFFER_DOMAIN", "env.example,more.example"),
            file: "domain = [\"file.example\"]",
            read: |c| c.domains.join("+"),
            expected: [
                "flag.example+two.example",
                "env.example+more.example",
                "file.example",
                "",
            ],
        },
        Row {
            flag: &["--master-key-file", "/flag.key"],
            env: ("COFFER_MASTER_KEY_FILE", "/env.key"),
            file: "master_key_file = \"/file.key\"",
            read: |c| format!("{:?}", c.master_key_file),
            expected: [
                "Some(\"/flag.key\")",
                "Some(\"/env.key\")",
                "Some(\"/file.key\")",
                "None",
            ],
        },
        Row {
            flag: &["--node-id", "11"],
            env: ("COFFER_NODE_ID", "12"),
            file: "node_id = 13",
            read: |c| c.node_id.to_string(),
            expected: ["11", "12", "13", "1"],
        },
        Row {
            flag: &["--block-size-bytes", "65536"],
            env: ("COFFER_BLOCK_SIZE_BYTES", "131072"),
            file: "block_size_bytes = 196608",
            read: |c| c.block_size_bytes.to_string(),
            expected: ["65536", "131072", "196608", "4194304"],
        },
        Row {
            flag: &["--log-format", "json"],
            env: ("COFFER_LOG_FORMAT", "text"),
            file: "log_format = \"json\"",
            read: |c| c.log_format.as_str().to_owned(),
            expected: ["json", "text", "json", "text"],
        },
    ];
    for row in &rows {
        let layers = [
            resolve(
                &parse_args(row.flag),
                &env_of(&[row.env]),
                file_of(row.file),
            ),
            resolve(&parse_args(&[]), &env_of(&[row.env]), file_of(row.file)),
            resolve(&parse_args(&[]), &env_of(&[]), file_of(row.file)),
            resolve(&parse_args(&[]), &env_of(&[]), FileConfig::default()),
        ];
        for (layer, expected) in layers.into_iter().zip(row.expected) {
            let config = layer.unwrap_or_else(|error| panic!("{}: {error}", row.file));
            assert_eq!((row.read)(&config), expected, "row {}", row.file);
        }
    }
}

#[test]
fn an_empty_env_var_counts_as_unset() {
    let config = resolve(
        &parse_args(&[]),
        &env_of(&[("COFFER_REGION", "")]),
        file_of("region = \"eu-west-3\""),
    )
    .expect("valid");
    assert_eq!(config.region, "eu-west-3");
}

#[test]
fn tls_needs_both_files_from_any_layers() {
    let config = resolve(
        &parse_args(&["--tls-cert", "/c.pem"]),
        &env_of(&[("COFFER_TLS_KEY", "/k.pem")]),
        FileConfig::default(),
    )
    .expect("valid");
    assert_eq!(
        config.tls,
        Some(TlsFiles {
            cert: PathBuf::from("/c.pem"),
            key: PathBuf::from("/k.pem"),
        })
    );
    let half = resolve(
        &parse_args(&["--tls-cert", "/c.pem"]),
        &env_of(&[]),
        FileConfig::default(),
    );
    assert!(matches!(half, Err(ConfigError::TlsHalf { .. })), "{half:?}");
    let half = resolve(
        &parse_args(&[]),
        &env_of(&[]),
        file_of("tls_key = \"/k.pem\""),
    );
    assert!(matches!(half, Err(ConfigError::TlsHalf { .. })), "{half:?}");
}

#[test]
fn invalid_values_name_the_setting_and_where_they_came_from() {
    // (flags, env, file, setting named in the error, origin named in the error)
    type Case = (
        ServerArgs,
        Vec<(&'static str, &'static str)>,
        &'static str,
        &'static str,
        Origin,
    );
    let cases: Vec<Case> = vec![
        (
            parse_args(&[]),
            vec![("COFFER_NODE_ID", "abc")],
            "",
            "node_id",
            Origin::Env("COFFER_NODE_ID"),
        ),
        (
            parse_args(&[]),
            vec![],
            "node_id = 0",
            "node_id",
            Origin::File,
        ),
        (
            parse_args(&["--s3-listen", "localhost"]),
            vec![],
            "",
            "s3_listen",
            Origin::Flag,
        ),
        (
            parse_args(&[]),
            vec![("COFFER_REGION", "US East")],
            "",
            "region",
            Origin::Env("COFFER_REGION"),
        ),
        (
            parse_args(&["--domain", "bad_domain.example"]),
            vec![],
            "",
            "domain",
            Origin::Flag,
        ),
        (
            parse_args(&[]),
            vec![],
            "block_size_bytes = 1000",
            "block_size_bytes",
            Origin::File,
        ),
        (
            parse_args(&[]),
            vec![],
            "block_size_bytes = 134217728",
            "block_size_bytes",
            Origin::File,
        ),
        (
            parse_args(&[]),
            vec![("COFFER_LOG_FORMAT", "xml")],
            "",
            "log_format",
            Origin::Env("COFFER_LOG_FORMAT"),
        ),
    ];
    for (args, env, file, expected_setting, expected_origin) in cases {
        match resolve(&args, &env_of(&env), file_of(file)) {
            Err(ConfigError::Invalid {
                setting, origin, ..
            }) => {
                assert_eq!(
                    (setting, origin),
                    (expected_setting, expected_origin),
                    "{file} {env:?}"
                )
            }
            other => panic!("{expected_setting}: expected Invalid, got {other:?}"),
        }
    }
}

#[test]
fn the_two_endpoints_need_different_addresses() {
    let result = resolve(
        &parse_args(&["--s3-listen", "127.0.0.1:9001"]),
        &env_of(&[]),
        FileConfig::default(),
    );
    assert!(
        matches!(result, Err(ConfigError::SameListenAddress(_))),
        "{result:?}"
    );
}

#[test]
fn domains_are_deduplicated_lowercased_and_trimmed() {
    let config = resolve(
        &parse_args(&["--domain", "S3.Example.com, s3.example.com,,other.example"]),
        &env_of(&[]),
        FileConfig::default(),
    )
    .expect("valid");
    assert_eq!(config.domains, ["s3.example.com", "other.example"]);
    let file = file_of("domain = \"a.example,b.example\"");
    let config = resolve(&parse_args(&[]), &env_of(&[]), file).expect("valid");
    assert_eq!(config.domains, ["a.example", "b.example"]);
}

#[test]
fn toml_errors_are_reported_with_the_file() {
    for text in [
        "data_dir = ",              // syntax
        "node_id = \"one\"",        // type
        "s3_listn = \"1.2.3.4:5\"", // unknown key (typo)
        "log_format = \"xml\"",     // bad enum
    ] {
        match FileConfig::parse(text, Path::new("/etc/coffer.toml")) {
            Err(error @ ConfigError::ParseFile { .. }) => {
                assert!(error.to_string().contains("/etc/coffer.toml"), "{error}")
            }
            other => panic!("{text:?}: expected ParseFile, got {other:?}"),
        }
    }
}

#[test]
fn the_example_config_documents_every_key_and_parses() {
    let text = include_str!("../../../deploy/coffer.example.toml");
    // Every key is present, commented out, with its default.
    let uncommented: String = text
        .lines()
        .map(|line| {
            line.strip_prefix("# ")
                .filter(|l| l.contains(" = "))
                .unwrap_or(line)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let file =
        FileConfig::parse(&uncommented, Path::new("coffer.example.toml")).expect("example parses");
    assert!(file.data_dir.is_some() && file.s3_listen.is_some() && file.admin_listen.is_some());
    assert!(file.region.is_some() && file.domain.is_some() && file.tls_cert.is_some());
    assert!(file.tls_key.is_some() && file.master_key_file.is_some() && file.node_id.is_some());
    assert!(file.block_size_bytes.is_some() && file.log_format.is_some());
    assert!(file.rpc_listen.is_some() && file.rpc_advertise.is_some() && file.zone.is_some());
    assert!(file.init.is_some() && file.join.is_some() && file.join_token.is_some());
    assert!(file.replication_factor.is_some() && file.raft_snapshot_logs.is_some());
    assert!(file.scrub_interval_seconds.is_some());
    // As shipped (all commented out) it is empty: the defaults apply.
    assert_eq!(
        FileConfig::parse(text, Path::new("x")).expect("parses"),
        FileConfig::default()
    );
}

#[test]
fn config_file_path_flag_beats_env() {
    let args = parse_args(&["--config", "/flag.toml"]);
    let env = env_of(&[("COFFER_CONFIG", "/env.toml")]);
    assert_eq!(
        config_file_path(&args, &env),
        Some(PathBuf::from("/flag.toml"))
    );
    assert_eq!(
        config_file_path(&parse_args(&[]), &env),
        Some(PathBuf::from("/env.toml"))
    );
    assert_eq!(config_file_path(&parse_args(&[]), &env_of(&[])), None);
}

#[test]
fn loading_a_missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.toml");
    let error = FileConfig::load(&missing).expect_err("missing file");
    assert!(matches!(error, ConfigError::ReadFile { .. }), "{error:?}");
    assert!(error.to_string().contains("nope.toml"));

    let present = dir.path().join("coffer.toml");
    std::fs::write(&present, "region = \"eu-north-1\"\n").expect("write");
    assert_eq!(
        FileConfig::load(&present).expect("loads").region.as_deref(),
        Some("eu-north-1")
    );
}
