//! User-supplied redaction rules (`--redact FILE`): extra literals and regexes on top of the
//! built-in redactors. YAML or JSON (JSON is YAML, so one parser reads both).

use std::path::Path;

use serde::Deserialize;

/// Extra redaction rules. Every string in every object and every log line is checked against
/// them; a match is replaced by `<redacted len=N>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactConfig {
    /// Exact strings to redact wherever they appear (a customer name, an internal host).
    #[serde(default)]
    pub literals: Vec<String>,
    /// Regular expressions (Rust `regex` syntax). The whole match is redacted, or only the
    /// capture group named `secret` when the expression has one.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Keep ConfigMap `binaryData` values (`--keep-configmap-binary-data`); a flag, never
    /// read from the rules file.
    #[serde(skip)]
    pub keep_configmap_binary_data: bool,
}

/// Why a redaction file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RedactConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not valid YAML/JSON of the expected shape.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What the parser said.
        message: String,
    },
    /// A rule is not usable.
    #[error("{0}")]
    Rule(String),
}

impl RedactConfig {
    /// Reads rules from a YAML or JSON file.
    pub fn from_file(path: &Path) -> Result<Self, RedactConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| RedactConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_text(&text).map_err(|message| RedactConfigError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses rules from YAML or JSON text. An empty document means no extra rules.
    pub fn from_text(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(RedactConfig::default());
        }
        serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yaml_and_json() {
        let y = RedactConfig::from_text("literals: [acme-corp]\nregexes: ['id-[0-9]+']\n")
            .expect("yaml");
        assert_eq!(y.literals, vec!["acme-corp"]);
        assert_eq!(y.regexes, vec!["id-[0-9]+"]);
        let j = RedactConfig::from_text(r#"{"literals":["x"]}"#).expect("json");
        assert_eq!(j.literals, vec!["x"]);
        assert!(j.regexes.is_empty());
        assert_eq!(
            RedactConfig::from_text("  \n").expect("empty"),
            RedactConfig::default()
        );
    }

    #[test]
    fn rejects_unknown_fields() {
        let err = RedactConfig::from_text("literal: [x]\n").expect_err("unknown field");
        assert!(err.contains("literal"), "{err}");
    }
}
