use super::*;

fn options(classes: &str, names: &[&str], key: Option<Key>) -> PseudonymOptions {
    PseudonymOptions {
        classes: Classes::parse(&[classes.to_string()]).expect("classes"),
        names: names.iter().map(|n| n.to_string()).collect(),
        key,
        key_file: None,
        known_hosts: Vec::new(),
    }
}

fn hosts(list: &[&str]) -> Vec<String> {
    list.iter().map(|h| h.to_string()).collect()
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[test]
fn classes_parse() {
    let c = Classes::parse(&["hosts,ips".into(), "names".into()]).expect("parse");
    assert!(c.hosts && c.ips && c.names);
    assert_eq!(c.names(), ["hosts", "ips", "names"]);
    let err = Classes::parse(&["hosts,people".into()]).expect_err("unknown");
    assert!(err.to_string().contains("people"), "{err}");
}

#[test]
fn flags_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(
        PseudonymOptions::from_flags(&[], None, None)
            .expect("none")
            .is_none()
    );
    let names = dir.path().join("names.txt");
    let err = PseudonymOptions::from_flags(&["names".into()], None, None).expect_err("no file");
    assert!(err.to_string().contains("--pseudonymize-names"), "{err}");
    let err = PseudonymOptions::from_flags(&["hosts".into()], Some(&names), None)
        .expect_err("names file without the class");
    assert!(err.to_string().contains("--pseudonymize names"), "{err}");
    let err = PseudonymOptions::from_flags(&["names".into()], Some(&names), None)
        .expect_err("missing file");
    assert!(err.to_string().contains("names.txt"), "{err}");
    std::fs::write(&names, "# customer\nAcme Corp\n\n  team-payments  \n").expect("write");
    let o = PseudonymOptions::from_flags(&["names,ips".into()], Some(&names), None)
        .expect("ok")
        .expect("some");
    assert_eq!(o.names, ["Acme Corp", "team-payments"]);
    std::fs::write(&names, "bad\x1b[31mname\n").expect("write");
    let err = PseudonymOptions::from_flags(&["names".into()], Some(&names), None)
        .expect_err("control character");
    assert!(!err.to_string().contains('\x1b'), "{err}");
}

#[test]
fn host_tokens_are_stable_dns_names_and_fqdns_keep_their_short_name() {
    let p = Pseudonymizer::new(
        &options("hosts", &[], None),
        &hosts(&["node-a", "Node-B.corp.example.com", "10.0.0.9", "localhost"]),
    )
    .expect("new");
    let text = "node-a node-b NODE-B.corp.example.com corp.example.com localhost 10.0.0.9";
    let once = p.apply_str(text);
    assert_eq!(once, p.apply_str(text), "stable");
    let words: Vec<&str> = once.split(' ').collect();
    assert!(
        words[0].starts_with("host-") && is_dns_label(words[0]),
        "{once}"
    );
    assert!(
        words[1].starts_with("host-") && is_dns_label(words[1]),
        "{once}"
    );
    assert_ne!(words[0], words[1]);
    // The FQDN is the short name's token in the domain's token.
    let (first, domain) = words[2].split_once('.').expect("fqdn");
    assert_eq!(first, words[1]);
    assert_eq!(domain, words[3]);
    assert!(domain.starts_with("dom-") && is_dns_label(domain), "{once}");
    // An IP given as a node name is left to the address mapping; localhost stays.
    assert_eq!(&words[4..], ["localhost", "10.0.0.9"]);
    for original in ["node-a", "node-b", "corp", "example"] {
        assert!(
            !once.to_lowercase().contains(original),
            "{original} in {once}"
        );
    }
}

#[test]
fn the_same_key_gives_the_same_tokens_in_another_bundle() {
    let first =
        Pseudonymizer::new(&options("hosts,ips", &[], None), &hosts(&["node-a"])).expect("first");
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("cluster.tar.zst");
    let written = first.write_key_file(&bundle).expect("key file");
    assert_eq!(written, dir.path().join("cluster.pseudonyms.json"));
    let key = Key::from_file(&written).expect("key");
    // A node bundle knows only its own name, as an FQDN.
    let second = Pseudonymizer::new(
        &options("hosts,ips", &[], Some(key)),
        &hosts(&["node-a.corp.example"]),
    )
    .expect("second");
    let text = "node-a at 10.0.0.5";
    assert_eq!(first.apply_str(text), second.apply_str(text));
    let other =
        Pseudonymizer::new(&options("hosts,ips", &[], None), &hosts(&["node-a"])).expect("other");
    assert_ne!(
        first.apply_str(text),
        other.apply_str(text),
        "a new key, new tokens"
    );
}

#[test]
fn the_key_file_maps_every_token_back() {
    let p = Pseudonymizer::new(
        &options("hosts,ips,names", &["Acme Corp"], None),
        &hosts(&["node-a.corp.example"]),
    )
    .expect("new");
    let out = p.apply_str("acme corp runs node-a.corp.example on 10.1.2.3 and 127.0.0.1");
    let file = p.key_file();
    let mut back = out.clone();
    for (token, original) in file.hosts.iter().chain(&file.names).chain(&file.ips) {
        back = back.replace(token.as_str(), original);
    }
    assert_eq!(
        back,
        "Acme Corp runs node-a.corp.example on 10.1.2.3 and 127.0.0.1"
    );
    assert_eq!(file.classes, ["hosts", "ips", "names"]);
    assert_eq!(
        file.ips.len(),
        1,
        "unchanged addresses are not listed: {:?}",
        file.ips
    );
    assert_eq!(hex::decode(&file.key).expect("hex").len(), 32);
}

#[test]
fn only_the_chosen_classes_are_replaced() {
    let p = Pseudonymizer::new(&options("ips", &[], None), &hosts(&["node-a"])).expect("new");
    let out = p.apply_str("node-a 10.1.2.3");
    assert!(out.starts_with("node-a "), "{out}");
    assert!(!out.contains("10.1.2.3"), "{out}");
    let p = Pseudonymizer::new(&options("hosts", &[], None), &hosts(&["node-a"])).expect("new");
    let out = p.apply_str("node-a 10.1.2.3");
    assert!(
        out.ends_with(" 10.1.2.3") && !out.contains("node-a"),
        "{out}"
    );
}

#[test]
fn json_strings_change_and_keys_stay() {
    let p = Pseudonymizer::new(&options("hosts,ips", &[], None), &hosts(&["node-a"])).expect("new");
    let mut v = serde_json::json!({"node-a": ["node-a", {"ip": "10.0.0.1/32"}], "n": 1});
    p.apply_json(&mut v);
    assert!(v.get("node-a").is_some());
    let list = v["node-a"].as_array().expect("array");
    assert!(list[0].as_str().expect("str").starts_with("host-"));
    let ip = list[1]["ip"].as_str().expect("str");
    assert!(ip.ends_with("/32") && ip != "10.0.0.1/32", "{ip}");
    assert_eq!(v["n"], 1);
}

#[test]
fn a_reused_key_file_brings_the_cluster_host_names() {
    let cluster = Pseudonymizer::new(
        &options("hosts", &[], None),
        &hosts(&["node-a", "node-b.corp.example"]),
    )
    .expect("cluster");
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = cluster
        .write_key_file(&dir.path().join("c.tar.zst"))
        .expect("key file");
    let reuse = PseudonymOptions::from_flags(&["hosts".into()], None, Some(&key_file))
        .expect("flags")
        .expect("some");
    // The node bundle of node-a still replaces node-b, which it finds in /etc/hosts.
    let node = Pseudonymizer::new(&reuse, &hosts(&["node-a"])).expect("node");
    let text = "10.0.0.2 node-b.corp.example node-b\n10.0.0.1 node-a";
    assert_eq!(node.apply_str(text), cluster.apply_str(text));
    assert!(
        !node.apply_str(text).contains("node-"),
        "{}",
        node.apply_str(text)
    );
    // Domains are not taken for host names.
    assert!(!node.apply_str("corp").starts_with("host-"));
}
