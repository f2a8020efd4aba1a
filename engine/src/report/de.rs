//! Deserialization rules of the report types, so that reading a report back is strict: a
//! field the engine always writes must be there, also when its value may be `null`.

use serde::{Deserialize, Deserializer};

/// An `Option` field the engine always writes (as `null` when it has no value): missing is an
/// error, not `None`. (Serde's derive would read a missing `Option` as `None`.)
pub(crate) fn required<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}

/// An `Option<Option<T>>` field written only when it is `Some`: present (even as `null`) is
/// `Some`, absent is `None` (with `#[serde(default)]`).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct T {
        #[serde(deserialize_with = "required")]
        always: Option<u32>,
        #[serde(default, deserialize_with = "present")]
        sometimes: Option<Option<u32>>,
    }

    fn read(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn an_always_written_option_must_be_there_even_as_null() {
        assert_eq!(read(r#"{"always": null}"#).unwrap().always, None);
        assert_eq!(read(r#"{"always": 3}"#).unwrap().always, Some(3));
        let e = read("{}").unwrap_err();
        assert!(e.contains("missing field `always`"), "{e}");
    }

    #[test]
    fn a_sometimes_written_option_of_option_keeps_null_apart_from_absent() {
        let t = |j| read(j).unwrap().sometimes;
        assert_eq!(t(r#"{"always": 1}"#), None);
        assert_eq!(t(r#"{"always": 1, "sometimes": null}"#), Some(None));
        assert_eq!(t(r#"{"always": 1, "sometimes": 7}"#), Some(Some(7)));
    }
}
