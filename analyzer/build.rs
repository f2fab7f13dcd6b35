//! Makes the binaries of this package find the prebuilt DuckDB library at run time.
//!
//! With the default (prebuilt) DuckDB, `libduckdb-sys` links `libduckdb.so` from
//! `DUCKDB_LIB_DIR` but records no run-time search path. The rpath set here lets `ktriage`
//! and this package's test binaries run without `LD_LIBRARY_PATH`: `$ORIGIN` first, for a
//! release layout with the library copied beside the binary; then, in dev builds only,
//! `DUCKDB_LIB_DIR` itself, so `target/debug/ktriage` and `target/debug/deps/*` run in place.
//! With `bundled-duckdb`, DuckDB is linked statically and nothing is needed.
//!
//! It also stamps the git commit into `--version` (`build-support/git_commit.rs`).

use std::env;
use std::path::Path;

#[path = "../build-support/git_commit.rs"]
mod git_commit;

fn main() {
    git_commit::stamp();
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if env::var_os("CARGO_FEATURE_BUNDLED_DUCKDB").is_some() {
        return;
    }
    let Some(dir) = env::var_os("DUCKDB_LIB_DIR") else {
        eprintln!(
            "error: DUCKDB_LIB_DIR is not set. ktriage links the prebuilt DuckDB library: run\n\
             \n    export DUCKDB_LIB_DIR=\"$(bash scripts/duckdb-lib.sh)\"\n\n\
             first (scripts/demo.sh and scripts/test.sh do it for you), or compile DuckDB from \
             source with `--features bundled-duckdb`."
        );
        std::process::exit(1);
    };
    let dir = Path::new(&dir);
    if !dir.join("libduckdb.so").is_file() {
        eprintln!(
            "error: DUCKDB_LIB_DIR={} holds no libduckdb.so; run `bash scripts/duckdb-lib.sh`",
            dir.display()
        );
        std::process::exit(1);
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN");
    if env::var("PROFILE").as_deref() != Ok("release") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
