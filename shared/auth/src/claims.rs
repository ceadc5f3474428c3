use serde::{Deserialize, Serialize};

/// アカウント種別 as GビズID sends it (a string code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountType {
    /// gBizIDエントリー ("1"): self-registered, identity not checked. Not allowed to apply.
    Entry,
    /// gBizIDプライム ("2"): the representative, identity checked.
    Prime,
    /// gBizIDメンバー ("3"): an employee account under a プライム.
    Member,
}

/// 法人区分 as GビズID sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorpType {
    /// 法人 ("1").
    Corporation,
    /// 個人事業主 ("2").
    SoleProprietor,
}

/// The UserInfo answer of GビズID: claims flat at the top level, every value a string
/// (docs/integrations.md §1.6). Unknown claims are ignored; missing ones are `None`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct GbizUserInfo {
    pub sub: String,
    pub account_type: Option<String>,
    pub corp_type: Option<String>,
    /// The `sub` of the プライム account a メンバー belongs to.
    pub parent_id: Option<String>,
    /// 法人番号.
    pub corporate_number: Option<String>,
    /// 法人名 or 屋号 (the company, not the person).
    pub name: Option<String>,
    /// 本店所在地の都道府県: a JIS X 0401 code such as "13", not a name.
    pub prefecture_name: Option<String>,
    /// 市区町村.
    pub address1: Option<String>,
    /// 番地等.
    pub address2: Option<String>,
    pub rep_last_nm: Option<String>,
    pub rep_first_nm: Option<String>,
    pub user_last_nm: Option<String>,
    pub user_first_nm: Option<String>,
    pub email: Option<String>,
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn join_name(last: &Option<String>, first: &Option<String>) -> Option<String> {
    match (non_empty(last), non_empty(first)) {
        (Some(l), Some(f)) => Some(format!("{l} {f}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_string()),
        (None, None) => None,
    }
}

impl GbizUserInfo {
    /// The account type, `None` when the claim is missing or unknown.
    pub fn account_type(&self) -> Option<AccountType> {
        match non_empty(&self.account_type)? {
            "1" => Some(AccountType::Entry),
            "2" => Some(AccountType::Prime),
            "3" => Some(AccountType::Member),
            _ => None,
        }
    }

    pub fn corp_type(&self) -> Option<CorpType> {
        match non_empty(&self.corp_type)? {
            "1" => Some(CorpType::Corporation),
            "2" => Some(CorpType::SoleProprietor),
            _ => None,
        }
    }

    /// 法人番号 when it is 13 ASCII digits.
    pub fn corporate_number(&self) -> Option<&str> {
        non_empty(&self.corporate_number)
            .filter(|n| n.len() == 13 && n.bytes().all(|b| b.is_ascii_digit()))
    }

    /// The key every application of this company is filed under.
    ///
    /// A corporation is keyed by its 法人番号, so プライム and メンバー of one company share their
    /// applications. A sole proprietor's number from GビズID may be an internal management number,
    /// not an NTA 法人番号, so it is kept apart with its own prefix; without any number the
    /// プライム account (the member's parent, or the account itself) is the key.
    pub fn company_id(&self) -> String {
        let account_root = non_empty(&self.parent_id).unwrap_or(self.sub.as_str());
        match (self.corp_type(), non_empty(&self.corporate_number)) {
            (Some(CorpType::Corporation), Some(_)) if self.corporate_number().is_some() => {
                keiryoku_domain::application::CompanyId::corporation(
                    self.corporate_number().unwrap_or_default(),
                )
                .to_string()
            }
            (Some(CorpType::SoleProprietor), Some(number)) => format!("sole-{number}"),
            (Some(CorpType::SoleProprietor), None) => format!("sole-acct-{account_root}"),
            _ => format!("acct-{account_root}"),
        }
    }

    /// 代表者氏名, "姓 名".
    pub fn representative_name(&self) -> Option<String> {
        join_name(&self.rep_last_nm, &self.rep_first_nm)
    }

    /// 利用者氏名 of the person logged in, "姓 名".
    pub fn user_name(&self) -> Option<String> {
        join_name(&self.user_last_nm, &self.user_first_nm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(corp_type: &str, number: Option<&str>, parent: Option<&str>) -> GbizUserInfo {
        GbizUserInfo {
            sub: "100".into(),
            account_type: Some("2".into()),
            corp_type: Some(corp_type.into()),
            corporate_number: number.map(str::to_string),
            parent_id: parent.map(str::to_string),
            ..GbizUserInfo::default()
        }
    }

    #[test]
    fn corporations_are_keyed_by_corporate_number() {
        assert_eq!(
            info("1", Some("4000012090001"), None).company_id(),
            "corp-4000012090001"
        );
        // A member of the same company lands on the same key.
        assert_eq!(
            info("1", Some("4000012090001"), Some("7")).company_id(),
            "corp-4000012090001"
        );
        // A malformed number does not become a key.
        assert_eq!(info("1", Some("12345"), Some("7")).company_id(), "acct-7");
    }

    #[test]
    fn sole_proprietors_are_kept_apart() {
        assert_eq!(
            info("2", Some("9000000000001"), None).company_id(),
            "sole-9000000000001"
        );
        assert_eq!(info("2", None, None).company_id(), "sole-acct-100");
    }

    #[test]
    fn account_types_follow_gbizid_codes() {
        let mut user = info("1", None, None);
        for (code, expected) in [
            ("1", Some(AccountType::Entry)),
            ("2", Some(AccountType::Prime)),
            ("3", Some(AccountType::Member)),
            ("9", None),
        ] {
            user.account_type = Some(code.into());
            assert_eq!(user.account_type(), expected);
        }
        user.account_type = None;
        assert_eq!(user.account_type(), None);
    }

    #[test]
    fn names_join_family_then_given() {
        let user = GbizUserInfo {
            rep_last_nm: Some("経済".into()),
            rep_first_nm: Some("太郎".into()),
            user_last_nm: Some(" ".into()),
            user_first_nm: Some("花子".into()),
            ..GbizUserInfo::default()
        };
        assert_eq!(user.representative_name().as_deref(), Some("経済 太郎"));
        assert_eq!(user.user_name().as_deref(), Some("花子"));
    }
}
