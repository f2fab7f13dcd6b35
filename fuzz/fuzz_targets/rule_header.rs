//! A rule file's text through the rule parser: it returns a rule or an error naming the file,
//! and never panics or hangs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ktriage_schema::rule::Rule::parse("fuzz.sql", text) {
        Ok(rule) => {
            assert!(!rule.sql.is_empty());
            let _ = rule.pattern_regexes();
        }
        Err(e) => assert!(format!("{e}").starts_with("fuzz.sql: "), "{e}"),
    }
});
