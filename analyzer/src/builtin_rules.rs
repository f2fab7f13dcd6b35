//! The built-in rules, embedded so the binary runs offline with nothing beside it. One line
//! per file of `analyzer/rules/`; a test fails when this list and the directory differ.

/// `(file name, text)` of every built-in rule, sorted by file name.
pub const BUILTIN_RULES: ktriage::rules::Builtin = &[
    ("apiserver-tls-handshake-noise.sql", include_str!("../rules/apiserver-tls-handshake-noise.sql")),
    ("apiservice-unavailable.sql", include_str!("../rules/apiservice-unavailable.sql")),
    ("certificate-expiry.sql", include_str!("../rules/certificate-expiry.sql")),
    ("container-oomkilled.sql", include_str!("../rules/container-oomkilled.sql")),
    ("coredns-no-nameservers.sql", include_str!("../rules/coredns-no-nameservers.sql")),
    ("image-k8s-gcr-io.sql", include_str!("../rules/image-k8s-gcr-io.sql")),
    ("image-pull-unreachable-registry.sql", include_str!("../rules/image-pull-unreachable-registry.sql")),
    ("resolv-conf-too-many-nameservers.sql", include_str!("../rules/resolv-conf-too-many-nameservers.sql")),
    ("stuck-terminating.sql", include_str!("../rules/stuck-terminating.sql")),
];
