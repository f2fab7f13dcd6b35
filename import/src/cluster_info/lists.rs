//! Completes the items of a List: typed Lists, as kubectl prints them, give their items'
//! `kind` and `apiVersion` only in the List's header (see [`json_stream`](crate::json_stream)),
//! and some files hold items whose kind only the file's name tells.

use serde_json::Value;

use crate::json_stream::ListHeader;

/// Gives `item` the `kind` and `apiVersion` it lacks, from the List it came from or else from
/// `fallback` (`(apiVersion, kind)` known from the file's name). Returns whether the item now
/// has a kind.
pub(crate) fn complete_item(
    item: &mut Value,
    header: &ListHeader,
    fallback: Option<(&str, &str)>,
) -> bool {
    let Some(object) = item.as_object_mut() else {
        return false;
    };
    if !object.get("kind").is_some_and(Value::is_string) {
        let kind = match header.item_kind() {
            Some(kind) => kind,
            None => match fallback {
                Some((_, kind)) => kind,
                None => return false,
            },
        };
        object.insert("kind".into(), Value::String(kind.to_owned()));
    }
    if !object.get("apiVersion").is_some_and(Value::is_string) {
        let from_header = header.item_kind().and(header.api_version.as_deref());
        if let Some(api_version) = from_header.or(fallback.map(|(v, _)| v)) {
            object.insert("apiVersion".into(), Value::String(api_version.to_owned()));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_stream::for_each_item_of_document;

    #[test]
    fn typed_list_header_completes_its_items() {
        let text = r#"{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"}}]}"#;
        let mut de = serde_json::Deserializer::from_str(text);
        let mut got = Vec::new();
        for_each_item_of_document("t", &mut de, &mut |header, mut item| {
            assert!(complete_item(&mut item, header, None));
            got.push(item);
            Ok(())
        })
        .expect("list");
        assert_eq!(got[0]["kind"], "Pod");
        assert_eq!(got[0]["apiVersion"], "v1");
    }

    #[test]
    fn generic_list_takes_the_fallback_kind_only_when_items_lack_one() {
        let header = ListHeader {
            kind: Some("List".into()),
            api_version: Some("v1".into()),
        };
        let mut bare = serde_json::json!({"metadata": {"name": "n"}});
        assert!(complete_item(
            &mut bare,
            &header,
            Some(("apps/v1", "Deployment"))
        ));
        assert_eq!(bare["kind"], "Deployment");
        assert_eq!(bare["apiVersion"], "apps/v1");
        let mut own = serde_json::json!({"kind": "Node", "apiVersion": "v1"});
        assert!(complete_item(
            &mut own,
            &header,
            Some(("apps/v1", "Deployment"))
        ));
        assert_eq!(own["kind"], "Node");
        assert!(!complete_item(&mut bare.clone()["metadata"], &header, None));
    }
}
