//! `mkbundle SRC OUT.tar.zst`: builds a bundle from a readable fixture source.
//! With a directory of several sources, `OUT` is a directory and gets one archive per source.

use std::path::PathBuf;
use std::process::ExitCode;

use ktriage_tests::source;

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [src, out] = args.as_slice() else {
        eprintln!("usage: mkbundle SRC OUT.tar.zst   (or SRC-of-several OUT-DIR)");
        return ExitCode::from(2);
    };
    let result = (|| -> anyhow::Result<()> {
        if source::is_bundle_source(src) {
            return source::build(src, out);
        }
        std::fs::create_dir_all(out)?;
        for s in source::bundle_sources(src)? {
            let name = s
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            source::build(&s, &out.join(format!("{name}.tar.zst")))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mkbundle: {e:#}");
            ExitCode::FAILURE
        }
    }
}
