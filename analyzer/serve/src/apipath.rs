//! Takes a Kubernetes API path apart: `/api/v1/namespaces/ns/pods/p/log` becomes group `""`,
//! version `v1`, namespace `ns`, resource `pods`, name `p`, subresource `log`.

/// What a path under `/api` or `/apis` addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiPath {
    /// `/api`: the core group's versions.
    CoreVersions,
    /// `/apis`: all named groups.
    Groups,
    /// `/apis/{group}`: one group.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`: the resources of a group version.
    Resources {
        /// Group, empty for core.
        group: String,
        /// Version.
        version: String,
    },
    /// Objects of a resource, one object or a subresource of one.
    Objects(Target),
}

/// Objects of one resource, possibly narrowed to a namespace, a name, a subresource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Group, empty for core.
    pub group: String,
    /// Version.
    pub version: String,
    /// The namespace of a namespaced request.
    pub namespace: Option<String>,
    /// Plural resource name.
    pub resource: String,
    /// Object name.
    pub name: Option<String>,
    /// Subresource (`log`, `proxy`, `status`).
    pub subresource: Option<String>,
    /// Path after the subresource (the node proxy path).
    pub rest: Vec<String>,
    /// The legacy `/watch/` prefix was used.
    pub watch: bool,
}

/// Parses a request path; `None` when it is not an API path.
pub fn parse(path: &str) -> Option<ApiPath> {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect::<Option<_>>()?;
    let mut it = segments.into_iter();
    let (group, version) = match it.next()?.as_str() {
        "api" => match it.next() {
            None => return Some(ApiPath::CoreVersions),
            Some(v) => (String::new(), v),
        },
        "apis" => match (it.next(), it.next()) {
            (None, _) => return Some(ApiPath::Groups),
            (Some(g), None) => return Some(ApiPath::Group(g)),
            (Some(g), Some(v)) => (g, v),
        },
        _ => return None,
    };
    let mut rest: Vec<String> = it.collect();
    if rest.is_empty() {
        return Some(ApiPath::Resources { group, version });
    }
    let mut target = Target {
        group,
        version,
        ..Target::default()
    };
    if rest[0] == "watch" {
        target.watch = true;
        rest.remove(0);
    }
    // `/namespaces/{ns}/{resource}...` unless it is the namespace's own subresource.
    let namespaced = rest.len() >= 3
        && rest[0] == "namespaces"
        && !matches!(rest[2].as_str(), "status" | "finalize");
    let mut rest = rest.into_iter();
    if namespaced {
        rest.next();
        target.namespace = rest.next();
    }
    target.resource = rest.next()?;
    target.name = rest.next();
    target.subresource = rest.next();
    target.rest = rest.collect();
    Some(ApiPath::Objects(target))
}

/// Decodes `%XX` escapes; `None` when the result is not UTF-8 or an escape is malformed.
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> Target {
        match parse(path) {
            Some(ApiPath::Objects(t)) => t,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn discovery_paths() {
        assert_eq!(parse("/api"), Some(ApiPath::CoreVersions));
        assert_eq!(parse("/apis/"), Some(ApiPath::Groups));
        assert_eq!(parse("/apis/apps"), Some(ApiPath::Group("apps".into())));
        assert_eq!(
            parse("/api/v1"),
            Some(ApiPath::Resources {
                group: "".into(),
                version: "v1".into()
            })
        );
        assert_eq!(parse("/version"), None);
    }

    #[test]
    fn object_paths() {
        let t = target("/api/v1/namespaces/ns/pods/p/log");
        assert_eq!(
            (
                t.namespace.as_deref(),
                t.resource.as_str(),
                t.name.as_deref()
            ),
            (Some("ns"), "pods", Some("p"))
        );
        assert_eq!(t.subresource.as_deref(), Some("log"));
        let t = target("/api/v1/namespaces/kube-system");
        assert_eq!(
            (t.namespace, t.resource.as_str(), t.name.as_deref()),
            (None, "namespaces", Some("kube-system"))
        );
        let t = target("/api/v1/namespaces/kube-system/status");
        assert_eq!(
            (t.resource.as_str(), t.subresource.as_deref()),
            ("namespaces", Some("status"))
        );
        let t = target("/apis/apps/v1/namespaces/ns/deployments");
        assert_eq!(
            (t.group.as_str(), t.namespace.as_deref(), t.name),
            ("apps", Some("ns"), None)
        );
        let t = target("/api/v1/nodes/n1/proxy/configz");
        assert_eq!(
            (t.subresource.as_deref(), t.rest.clone()),
            (Some("proxy"), vec!["configz".to_string()])
        );
        let t = target("/api/v1/watch/namespaces/ns/pods");
        assert!(t.watch);
        let t = target("/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aadmin");
        assert_eq!(t.name.as_deref(), Some("system:admin"));
    }
}
