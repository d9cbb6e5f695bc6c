//! Compile `proto/coffer.proto` with the vendored protoc, so building needs
//! no system protobuf compiler.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; nothing reads the
    // environment concurrently.
    unsafe { std::env::set_var("PROTOC", protoc) };
    println!("cargo:rerun-if-changed=../../proto/coffer.proto");
    tonic_prost_build::configure()
        .bytes(".")
        .compile_protos(&["../../proto/coffer.proto"], &["../../proto"])?;
    Ok(())
}
