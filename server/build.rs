//! Builds the web app into the `keyhole` binary.
//!
//! The frontend is a Leptos crate compiled for `wasm32-unknown-unknown`. This script builds it with a
//! nested `cargo` (in its own target directory so it does not wait on the outer build's lock), runs
//! wasm-bindgen through `wasm-bindgen-cli-support` (pinned to the frontend's `wasm-bindgen` version, so
//! no separately installed CLI can drift), and generates `web_assets.rs`, which `include_bytes!`s the
//! result. A plain `cargo build --release --bin keyhole` therefore yields one self-contained file.
//! Every file served from `/assets/` is also compressed here, once, in two encodings: brotli
//! (quality 11 with a 16 MB window in release builds; what browsers that offer it receive, Chromium
//! on loopback http included) and gzip (zopfli in release builds, about 4% smaller than `gzip -9`),
//! for clients without brotli. Both are too slow to run per request; debug builds use fast settings.
//!
//! Components marked Leptos `#[lazy]` are split out of the main wasm into chunks the page fetches on
//! first use (`wasm_split_cli_support`, what cargo-leptos runs): the split comes before wasm-bindgen,
//! which then keeps the function table the chunks' loader (`__wasm_split.js`) needs. Every file of
//! `web/` is embedded; the chunks' names come from the split, so the asset table is generated.
//!
//! The page loads its files from `/assets/<version>/`, where the version is a hash of their
//! contents, so the server can let browsers keep them for good (`immutable`): after a sign-in
//! redirect the page comes back without fetching or compiling the wasm again.
//!
//! `KEYHOLE_SKIP_FRONTEND=1` skips the web build (for quick backend iterations); the binary then says
//! clearly that it was built without the web app instead of serving a blank page.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const FRONTEND_PACKAGE: &str = "keyhole-frontend";
const WASM_FILE: &str = "keyhole-frontend.wasm";
/// Files copied verbatim from `frontend/static/` next to the wasm-bindgen output.
const STATIC_FILES: &[&str] = &["index.html", "style.css", "boot.js"];
/// The loader of the lazily loaded chunks, next to `keyhole.js` (which imports it).
const SPLIT_LOADER: &str = "__wasm_split.js";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir
        .parent()
        .expect("server/ lives in the workspace")
        .to_path_buf();
    let frontend = workspace.join("frontend");
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));

    for watched in ["src", "static", "Cargo.toml"] {
        println!(
            "cargo:rerun-if-changed={}",
            frontend.join(watched).display()
        );
    }
    // The shared crate is compiled into the wasm too, and the workspace manifest holds its profiles.
    for watched in [
        workspace.join("Cargo.lock"),
        workspace.join("Cargo.toml"),
        workspace.join("shared").join("src"),
        workspace.join("shared").join("Cargo.toml"),
    ] {
        println!("cargo:rerun-if-changed={}", watched.display());
    }
    println!("cargo:rerun-if-env-changed=KEYHOLE_SKIP_FRONTEND");

    let assets_rs = out_dir.join("web_assets.rs");
    if env::var_os("KEYHOLE_SKIP_FRONTEND").is_some_and(|v| !v.is_empty() && v != "0") {
        println!(
            "cargo:warning=KEYHOLE_SKIP_FRONTEND is set: building `keyhole` without the web app"
        );
        fs::write(&assets_rs, "pub const WEB_APP: Option<WebApp> = None;\n")
            .expect("write web_assets.rs");
        return;
    }

    let release = env::var("PROFILE").as_deref() == Ok("release");
    let profile = if release { "wasm-release" } else { "wasm-dev" };
    let frontend_target = frontend_target_dir(&out_dir);
    build_frontend(&workspace, &frontend_target, profile);

    let wasm = frontend_target
        .join("wasm32-unknown-unknown")
        .join(profile)
        .join(WASM_FILE);
    let dist = out_dir.join("web");
    // Chunk names change with the code: start empty so no stale chunk is embedded.
    let _ = fs::remove_dir_all(&dist);
    fs::create_dir_all(&dist).expect("create web output dir");
    let (main_wasm, chunks) = split_lazy_chunks(&wasm, &out_dir, &dist);
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&main_wasm)
        .web(true)
        .expect("wasm-bindgen web mode")
        .typescript(false)
        // Function names are only for stack traces; they were a third of the release wasm. (Not
        // `strip = true` in the profile: that also drops the target-features section bindgen reads.)
        .remove_name_section(release)
        .remove_producers_section(release)
        // The chunks' loader calls through the function table lld exports.
        .keep_lld_exports(true)
        .demangle(false)
        .out_name("keyhole")
        .generate(&dist)
        .unwrap_or_else(|e| panic!("wasm-bindgen failed on {}: {e:#}", main_wasm.display()));
    for name in STATIC_FILES {
        fs::copy(frontend.join("static").join(name), dist.join(name))
            .unwrap_or_else(|e| panic!("copy frontend/static/{name}: {e}"));
    }
    // Served from `/assets/`, each also stored as `<name>.br` and `<name>.gz`. (`index.html` is
    // not: the server fills it in per launch.)
    let mut served: Vec<String> = ["style.css", "boot.js", "keyhole.js", "keyhole_bg.wasm"]
        .map(String::from)
        .to_vec();
    if dist.join(SPLIT_LOADER).exists() {
        served.push(SPLIT_LOADER.to_owned());
    }
    served.extend(chunks);
    // The page asks for `/assets/<version>/…`, cached for good: a new build is a new version.
    let version = content_version(&dist, &served);
    for name in ["index.html", "boot.js"] {
        let path = dist.join(name);
        let mut text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {name}: {e}"));
        if !served.iter().any(|file| file == SPLIT_LOADER) {
            // No chunks, no loader: index.html must not preload a file that is not served.
            text = text
                .lines()
                .filter(|line| !line.contains(SPLIT_LOADER))
                .map(|line| format!("{line}\n"))
                .collect();
        }
        fs::write(
            &path,
            text.replace("/assets/", &format!("/assets/{version}/")),
        )
        .unwrap_or_else(|e| panic!("write {name}: {e}"));
    }
    for name in &served {
        let path = dist.join(name);
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        fs::write(dist.join(format!("{name}.gz")), gzip(&bytes, release))
            .unwrap_or_else(|e| panic!("write {name}.gz: {e}"));
        fs::write(dist.join(format!("{name}.br")), brotli(&bytes, release))
            .unwrap_or_else(|e| panic!("write {name}.br: {e}"));
    }
    fs::write(&assets_rs, assets_source(&dist, &served, &version)).expect("write web_assets.rs");
}

/// A short name for this exact set of files: FNV-1a (64 bits) over their names and bytes. It
/// only has to change when a file does (cache busting, not security), so no hashing crate.
fn content_version(dist: &Path, served: &[String]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for name in served {
        let bytes = fs::read(dist.join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"));
        for byte in name.bytes().chain([0]).chain(bytes) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("v{hash:016x}")
}

/// Splits the `#[lazy]` functions out of the frontend's wasm: the chunks (and their loader) go to
/// `dist`, the main module to `out_dir`, for wasm-bindgen. Returns the main module's path and the
/// chunks' file names.
fn split_lazy_chunks(wasm: &Path, out_dir: &Path, dist: &Path) -> (PathBuf, Vec<String>) {
    let bytes = fs::read(wasm).unwrap_or_else(|e| panic!("read {}: {e}", wasm.display()));
    let main_wasm = out_dir.join("keyhole-main.wasm");
    let mut options = wasm_split_cli_support::Options::new(&bytes);
    options.output_dir = dist;
    options.main_out_path = &main_wasm;
    options.link_name = "./__wasm_split.js";
    options.main_module = "./keyhole.js";
    let split = wasm_split_cli_support::transform(options)
        .unwrap_or_else(|e| panic!("splitting the lazy parts out of {}: {e:#}", wasm.display()));
    let chunks = split
        .split_modules
        .iter()
        .filter_map(|path| Some(path.file_name()?.to_str()?.to_owned()))
        .collect();
    (main_wasm, chunks)
}

/// `<target>/frontend`, derived from OUT_DIR (`<target>/<profile>/build/<pkg>-<hash>/out`).
fn frontend_target_dir(out_dir: &Path) -> PathBuf {
    let target = out_dir
        .ancestors()
        .nth(4)
        .expect("OUT_DIR has the usual depth");
    target.join("frontend")
}

fn build_frontend(workspace: &Path, target_dir: &Path, profile: &str) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--package",
            FRONTEND_PACKAGE,
            "--target",
            "wasm32-unknown-unknown",
        ])
        .args(["--profile", profile])
        .arg("--target-dir")
        .arg(target_dir);
    // Flags meant for the host build must not leak into the wasm build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_LLVM_COV",
    ] {
        command.env_remove(var);
    }
    command.env("CARGO_ENCODED_RUSTFLAGS", wasm_rustflags().join("\x1f"));
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("could not run cargo to build the frontend: {e}"));
    if !status.success() {
        panic!(
            "building the web app failed ({status}). Is the wasm target installed? \
             Run `rustup target add wasm32-unknown-unknown`, or set KEYHOLE_SKIP_FRONTEND=1 \
             to build the backend alone."
        );
    }
}

/// Flags for every crate of the wasm build (set here, not in a config file, so they never reach the
/// host build).
fn wasm_rustflags() -> Vec<String> {
    // Leptos's type-erased components: views are boxed at component boundaries instead of nesting
    // their types, so far less generic code is monomorphised (about 9% less gzipped wasm).
    let mut flags = vec!["--cfg".to_owned(), "erase_components".to_owned()];
    // The wasm splitter reads the linker's relocations to find what each `#[lazy]` part uses.
    flags.push("-Clink-args=--emit-relocs".to_owned());
    // Panic locations embed source paths: make the registry's relative (shorter, and no build
    // machine paths in the binary).
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    if let Some(sources) = cargo_home.map(|home| home.join("registry").join("src"))
        && let Ok(indexes) = fs::read_dir(&sources)
    {
        for index in indexes.flatten() {
            flags.push(format!("--remap-path-prefix={}/=", index.path().display()));
        }
    }
    flags
}

fn gzip(bytes: &[u8], release: bool) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    if release {
        zopfli::compress(
            zopfli::Options::default(),
            zopfli::Format::Gzip,
            bytes,
            &mut out,
        )
        .expect("zopfli writes to memory");
    } else {
        let mut encoder = flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast());
        encoder.write_all(bytes).expect("gzip writes to memory");
        encoder.finish().expect("gzip writes to memory");
    }
    out
}

fn brotli(bytes: &[u8], release: bool) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: if release { 11 } else { 4 },
        lgwin: if release { 24 } else { 20 },
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli writes to memory");
    out
}

fn assets_source(dist: &Path, served: &[String], version: &str) -> String {
    let file = |name: &str| {
        format!(
            "include_bytes!({:?})",
            dist.join(name).display().to_string()
        )
    };
    let assets: String = served
        .iter()
        .map(|name| {
            let mime = if name.ends_with(".wasm") {
                "application/wasm"
            } else if name.ends_with(".css") {
                "text/css; charset=utf-8"
            } else {
                "text/javascript; charset=utf-8"
            };
            format!(
                "        ({name:?}, {mime:?}, Asset {{ plain: {}, gzip: {}, brotli: {} }}),\n",
                file(name),
                file(&format!("{name}.gz")),
                file(&format!("{name}.br"))
            )
        })
        .collect();
    format!(
        "pub const WEB_APP: Option<WebApp> = Some(WebApp {{\n    \
         index_html: {},\n    version: {version:?},\n    assets: &[\n{assets}    ],\n}});\n",
        file("index.html"),
    )
}
