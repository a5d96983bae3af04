//! Request parameters, with the OpenAPI's `Name.N` / `Name.N.Field` list flattening.

/// An ordered list of request parameters.
///
/// ```
/// use dwlink_acs::Params;
/// let p = Params::new()
///     .set("RegionId", "cn-hangzhou")
///     .list("VSwitchId", ["vsw-1", "vsw-2"])
///     .objects("ZoneMappings", [[("ZoneId", "cn-hangzhou-h"), ("VSwitchId", "vsw-1")]]);
/// assert_eq!(p.get("VSwitchId.2"), Some("vsw-2"));
/// assert_eq!(p.get("ZoneMappings.1.ZoneId"), Some("cn-hangzhou-h"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, replacing an earlier value of the same name.
    pub fn set(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.insert(name, value);
        self
    }

    /// Sets `name` when `value` is `Some`.
    pub fn set_opt(self, name: impl Into<String>, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.set(name, v),
            None => self,
        }
    }

    /// A list of scalars: `Name.1`, `Name.2`, ...
    pub fn list<I, V>(mut self, name: &str, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: ToString,
    {
        for (i, v) in values.into_iter().enumerate() {
            self.insert(format!("{name}.{}", i + 1), v);
        }
        self
    }

    /// A list of objects: `Name.1.Field`, ...
    pub fn objects<I, O, K, V>(mut self, name: &str, objects: I) -> Self
    where
        I: IntoIterator<Item = O>,
        O: IntoIterator<Item = (K, V)>,
        K: std::fmt::Display,
        V: ToString,
    {
        for (i, object) in objects.into_iter().enumerate() {
            for (field, v) in object {
                self.insert(format!("{name}.{}.{field}", i + 1), v);
            }
        }
        self
    }

    /// Sets in place, replacing an earlier value of the same name.
    pub fn insert(&mut self, name: impl Into<String>, value: impl ToString) {
        let name = name.into();
        let value = value.to_string();
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}

impl From<Vec<(String, String)>> for Params {
    fn from(v: Vec<(String, String)>) -> Self {
        let mut p = Params::new();
        for (k, val) in v {
            p.insert(k, val);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_and_keeps_order() {
        let p = Params::new().set("A", 1).set("B", 2).set("A", 3);
        assert_eq!(
            p.into_vec(),
            vec![("A".into(), "3".into()), ("B".into(), "2".into())]
        );
    }

    #[test]
    fn flattens_lists_one_based() {
        let p = Params::new()
            .list("DestCidrBlockList", ["10.0.0.0/8"])
            .objects(
                "NextHopList",
                [
                    vec![("NextHopType", "VpcPeer"), ("NextHopId", "pcc-1")],
                    vec![("NextHopType", "Attachment"), ("NextHopId", "tr-attach-2")],
                ],
            );
        assert_eq!(p.get("DestCidrBlockList.1"), Some("10.0.0.0/8"));
        assert_eq!(p.get("NextHopList.2.NextHopId"), Some("tr-attach-2"));
        assert_eq!(p.get("NextHopList.3.NextHopId"), None);
    }
}
