//! `mkhostile DIR`: writes the hostile-bundle corpus and its `expect.tsv` into DIR.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: mkhostile DIR");
        return ExitCode::from(2);
    };
    let result = (|| -> anyhow::Result<()> {
        std::fs::create_dir_all(&dir)?;
        let mut expect = String::from("file\texpected error\n");
        for case in ktriage_tests::hostile::corpus()? {
            std::fs::write(dir.join(case.name), &case.bytes)?;
            expect.push_str(&format!("{}\t{}\n", case.name, case.expect));
        }
        std::fs::write(dir.join("expect.tsv"), expect)?;
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mkhostile: {e:#}");
            ExitCode::FAILURE
        }
    }
}
