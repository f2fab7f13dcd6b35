//! The built-in rules, embedded so the binary runs offline with nothing beside it. One line
//! per file of `analyzer/rules/`; a test fails when this list and the directory differ.

/// `(file name, text)` of every built-in rule, sorted by file name.
pub const BUILTIN_RULES: ktriage::rules::Builtin = &[
    ("apiserver-tls-handshake-noise.sql", include_str!("../rules/apiserver-tls-handshake-noise.sql")),
    ("apiservice-unavailable.sql", include_str!("../rules/apiservice-unavailable.sql")),
    ("certificate-expiry.sql", include_str!("../rules/certificate-expiry.sql")),
    ("cgroup-driver-mismatch.sql", include_str!("../rules/cgroup-driver-mismatch.sql")),
    ("container-oomkilled.sql", include_str!("../rules/container-oomkilled.sql")),
    ("container-runtime-down.sql", include_str!("../rules/container-runtime-down.sql")),
    ("control-plane-flag-repeated.sql", include_str!("../rules/control-plane-flag-repeated.sql")),
    ("coredns-loop-or-selinux-crashloop.sql", include_str!("../rules/coredns-loop-or-selinux-crashloop.sql")),
    ("coredns-no-nameservers.sql", include_str!("../rules/coredns-no-nameservers.sql")),
    ("coredns-pending-no-pod-network.sql", include_str!("../rules/coredns-pending-no-pod-network.sql")),
    ("duplicate-node-ip-flannel-iface.sql", include_str!("../rules/duplicate-node-ip-flannel-iface.sql")),
    ("etcd-restarts-docker-exec-bug.sql", include_str!("../rules/etcd-restarts-docker-exec-bug.sql")),
    ("flexvolume-dir-on-readonly-usr.sql", include_str!("../rules/flexvolume-dir-on-readonly-usr.sql")),
    ("hairpin-mode-disabled.sql", include_str!("../rules/hairpin-mode-disabled.sql")),
    ("hostport-without-portmap.sql", include_str!("../rules/hostport-without-portmap.sql")),
    ("image-k8s-gcr-io.sql", include_str!("../rules/image-k8s-gcr-io.sql")),
    ("image-pull-unreachable-registry.sql", include_str!("../rules/image-pull-unreachable-registry.sql")),
    ("kube-proxy-node-ip-unknown.sql", include_str!("../rules/kube-proxy-node-ip-unknown.sql")),
    ("kube-system-pods-crashing.sql", include_str!("../rules/kube-system-pods-crashing.sql")),
    ("kubeadm-join-get-nodes-rbac-missing.sql", include_str!("../rules/kubeadm-join-get-nodes-rbac-missing.sql")),
    ("kubeconfig-ca-mismatch.sql", include_str!("../rules/kubeconfig-ca-mismatch.sql")),
    ("kubelet-client-cert-rotation-failed.sql", include_str!("../rules/kubelet-client-cert-rotation-failed.sql")),
    ("kubelet-port-unreachable-node-ip.sql", include_str!("../rules/kubelet-port-unreachable-node-ip.sql")),
    ("metrics-server-kubelet-tls.sql", include_str!("../rules/metrics-server-kubelet-tls.sql")),
    ("node-missing-network-tools.sql", include_str!("../rules/node-missing-network-tools.sql")),
    ("resolv-conf-too-many-nameservers.sql", include_str!("../rules/resolv-conf-too-many-nameservers.sql")),
    ("stuck-terminating.sql", include_str!("../rules/stuck-terminating.sql")),
];
