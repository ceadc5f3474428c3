//! Staff roles (職員の役割) and the part of the country each may see (閲覧範囲). One place
//! decides who decides, who reads which authority's cases and who manages the directory; the
//! handlers only ask.

use serde::{Deserialize, Serialize};

use crate::application::OfficeId;
use crate::tables::tables;

/// The authorities whose cases a staff member may read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One authority (a 経済産業局, a 地方運輸局 …).
    Office(OfficeId),
    /// Every office of one network (経済産業局 全局).
    Network(String),
    /// Every office of every network of one ministry (本省).
    Ministry(String),
    /// Every authority (the SME Agency's 企画課).
    National,
}

impl Scope {
    /// Whether the cases of `office` are inside the scope.
    pub fn covers(&self, office: &OfficeId) -> bool {
        match self {
            Scope::Office(own) => own == office,
            Scope::National => true,
            Scope::Network(id) => tables()
                .office(office.as_str())
                .is_some_and(|(network, _)| &network.id == id),
            Scope::Ministry(id) => tables()
                .office(office.as_str())
                .is_some_and(|(network, _)| &network.ministry == id),
        }
    }

    /// The authorities of the scope, in the authority table's order.
    pub fn offices(&self) -> Vec<OfficeId> {
        if let Scope::Office(own) = self {
            return vec![own.clone()];
        }
        tables()
            .authorities
            .networks
            .iter()
            .flat_map(|n| n.offices.iter())
            .map(|o| OfficeId::from(o.id.as_str()))
            .filter(|o| self.covers(o))
            .collect()
    }

    /// Whether the scope names something the authority table knows.
    pub fn is_known(&self) -> bool {
        let t = tables();
        match self {
            Scope::Office(id) => t.office(id.as_str()).is_some(),
            Scope::Network(id) => t.network(id).is_some(),
            Scope::Ministry(id) => t.ministry(id).is_some(),
            Scope::National => true,
        }
    }

    /// The scope as people name it: 関東経済産業局, 経済産業局 全局, 経済産業省, 全国.
    pub fn label(&self) -> String {
        let t = tables();
        match self {
            Scope::Office(id) => t
                .office(id.as_str())
                .map_or_else(|| id.to_string(), |(_, o)| o.name.clone()),
            Scope::Network(id) => t
                .network(id)
                .map_or_else(|| id.clone(), |n| format!("{} 全局", n.name)),
            Scope::Ministry(id) => t
                .ministry(id)
                .map_or_else(|| id.clone(), |m| m.name.clone()),
            Scope::National => "全国".to_string(),
        }
    }
}

/// What a staff member does, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffRole {
    /// 審査担当: works one authority's queue and decides (return, approve, reject).
    Reviewer(OfficeId),
    /// 局・本省 閲覧: searches, reads, extracts and counts within a scope; no decisions.
    Reader(Scope),
    /// 企画課 (the SME Agency's planning division): reads every authority, national statistics,
    /// the audit of staff reads; no decisions.
    Planning,
    /// 管理者: the staff directory and notices, every change audited; no cases.
    Administrator,
}

/// Something a staff member may do, as the pages and routes ask it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffPermission {
    /// Work a queue and decide.
    Decide,
    /// Search, read cases, extract CSV, see statistics (within the scope).
    Read,
    /// Search the audit of staff reads and directory changes.
    Audit,
    /// Manage the staff directory and notices.
    Administer,
}

impl StaffRole {
    /// The authorities whose cases the role reads; `None` for a role that reads no case.
    pub fn scope(&self) -> Option<Scope> {
        match self {
            StaffRole::Reviewer(office) => Some(Scope::Office(office.clone())),
            StaffRole::Reader(scope) => Some(scope.clone()),
            StaffRole::Planning => Some(Scope::National),
            StaffRole::Administrator => None,
        }
    }

    /// The authority the role decides for, if it decides.
    pub fn deciding_office(&self) -> Option<&OfficeId> {
        match self {
            StaffRole::Reviewer(office) => Some(office),
            _ => None,
        }
    }

    pub fn may(&self, permission: StaffPermission) -> bool {
        use StaffPermission::*;
        matches!(
            (self, permission),
            (StaffRole::Reviewer(_), Decide | Read)
                | (StaffRole::Reader(_), Read)
                | (StaffRole::Planning, Read | Audit)
                | (StaffRole::Administrator, Administer | Audit)
        )
    }

    /// The role as the directory page names it.
    pub fn label(&self) -> &'static str {
        match self {
            StaffRole::Reviewer(_) => "審査担当",
            StaffRole::Reader(_) => "局・本省 閲覧",
            StaffRole::Planning => "企画課",
            StaffRole::Administrator => "管理者",
        }
    }

    /// Role and place in one line: 「審査担当（関東経済産業局）」.
    pub fn describe(&self) -> String {
        match self.scope() {
            Some(Scope::National) | None => self.label().to_string(),
            Some(scope) => format!("{}（{}）", self.label(), scope.label()),
        }
    }

    /// Whether the role's place exists in the authority table (a directory entry naming an
    /// unknown office is refused before it is written).
    pub fn is_known(&self) -> bool {
        self.scope().is_none_or(|s| s.is_known())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office(id: &str) -> OfficeId {
        OfficeId::from(id)
    }

    #[test]
    fn a_network_scope_covers_its_offices_only() {
        let bureaus = Scope::Network("meti-bureaus".into());
        assert!(bureaus.covers(&office("meti-kanto")));
        assert!(bureaus.covers(&office("meti-kinki")));
        assert!(!bureaus.covers(&office("mlit-dev-kanto")));
        assert_eq!(bureaus.offices().len(), 9);
        assert_eq!(bureaus.label(), "経済産業局 全局");
    }

    #[test]
    fn a_ministry_scope_covers_every_network_of_the_ministry() {
        let mlit = Scope::Ministry("mlit".into());
        assert!(mlit.covers(&office("mlit-dev-kanto")));
        assert!(!mlit.covers(&office("meti-kanto")));
        let networks: usize = tables()
            .authorities
            .networks
            .iter()
            .filter(|n| n.ministry == "mlit")
            .map(|n| n.offices.len())
            .sum();
        assert_eq!(mlit.offices().len(), networks);
        assert!(networks > 11, "both mlit networks");
    }

    #[test]
    fn the_national_scope_covers_every_office_once() {
        let all = Scope::National.offices();
        let mut unique = all.clone();
        unique.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        unique.dedup();
        assert_eq!(all.len(), unique.len());
        assert!(all.len() > 70);
    }

    #[test]
    fn only_reviewers_decide_and_administrators_read_no_case() {
        let reviewer = StaffRole::Reviewer(office("meti-kanto"));
        let reader = StaffRole::Reader(Scope::Ministry("meti".into()));
        assert!(reviewer.may(StaffPermission::Decide));
        for role in [&reader, &StaffRole::Planning, &StaffRole::Administrator] {
            assert!(!role.may(StaffPermission::Decide), "{role:?}");
        }
        assert!(StaffRole::Administrator.scope().is_none());
        assert!(!StaffRole::Administrator.may(StaffPermission::Read));
        assert!(StaffRole::Planning.may(StaffPermission::Audit));
        assert!(!reader.may(StaffPermission::Audit));
        assert_eq!(reviewer.describe(), "審査担当（関東経済産業局）");
        assert_eq!(StaffRole::Planning.describe(), "企画課");
    }

    #[test]
    fn unknown_places_are_noticed() {
        assert!(!StaffRole::Reviewer(office("meti-atlantis")).is_known());
        assert!(!StaffRole::Reader(Scope::Network("nowhere".into())).is_known());
        assert!(StaffRole::Reader(Scope::Ministry("meti".into())).is_known());
    }
}
