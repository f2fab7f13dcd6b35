//! Test support for ktriage: the builder that turns readable fixture sources (YAML objects,
//! log and host files) into real bundles, and the checks of both binaries' completions and man
//! pages. See `tests/README.md` for the source format.

pub mod cli_docs;
pub mod generate;
pub mod hostile;
pub mod source;

/// The calling crate's directory (where its `Cargo.toml` is), as cargo gives it to the test it
/// runs, falling back to where the test was compiled. Not `env!("CARGO_MANIFEST_DIR")` alone:
/// a test binary built in another checkout that shares the target directory is fresh to cargo
/// and would read that checkout's files, or fail when it is gone.
#[macro_export]
macro_rules! manifest_dir {
    () => {
        ::std::path::PathBuf::from(
            ::std::env::var_os("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|| ::std::ffi::OsString::from(env!("CARGO_MANIFEST_DIR"))),
        )
    };
}
