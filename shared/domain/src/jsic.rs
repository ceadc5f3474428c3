//! 日本標準産業分類 (JSIC, rev. 14): the codes a plan's business fields are chosen from.

use std::collections::HashMap;

use serde::Deserialize;

#[derive(Deserialize)]
struct Root {
    major_categories: Vec<Node>,
}

#[derive(Deserialize)]
struct Node {
    code: String,
    name: String,
    #[serde(default)]
    middle_categories: Vec<Node>,
    #[serde(default)]
    minor_categories: Vec<Node>,
    #[serde(default)]
    detail_categories: Vec<Node>,
}

/// The classification as code → name, with the 中分類 of every 細分類.
pub struct Jsic {
    names: HashMap<String, String>,
    /// 中分類 codes in order.
    pub middle_codes: Vec<String>,
}

impl Jsic {
    pub(crate) fn parse(text: &str) -> Jsic {
        let root: Root = match serde_json::from_str(text) {
            Ok(root) => root,
            Err(e) => panic!("data/jsic-rev14.json is malformed: {e}"),
        };
        let mut names = HashMap::new();
        let mut middle_codes = Vec::new();
        for major in &root.major_categories {
            names.insert(major.code.clone(), major.name.clone());
            for middle in &major.middle_categories {
                middle_codes.push(middle.code.clone());
                names.insert(middle.code.clone(), middle.name.clone());
                for minor in &middle.minor_categories {
                    names.insert(minor.code.clone(), minor.name.clone());
                    for detail in &minor.detail_categories {
                        names.insert(detail.code.clone(), detail.name.clone());
                    }
                }
            }
        }
        Jsic {
            names,
            middle_codes,
        }
    }

    /// The name of a 中分類 (2 digits), 小分類 (3) or 細分類 (4) code.
    pub fn name(&self, code: &str) -> Option<&str> {
        self.names.get(code).map(String::as_str)
    }

    /// Whether `detail` is a 細分類 under the 中分類 `middle`.
    pub fn is_detail_of(&self, detail: &str, middle: &str) -> bool {
        detail.len() == 4 && detail.starts_with(middle) && self.names.contains_key(detail)
    }

    /// Codes whose name contains the text (for searching industries).
    pub fn search<'a>(&'a self, text: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.names
            .iter()
            .filter(move |(code, name)| name.contains(text) || code.starts_with(text))
            .map(|(c, n)| (c.as_str(), n.as_str()))
    }
}
