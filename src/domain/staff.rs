//! Newsroom staff: their accounts and what each role may do.
use std::fmt;
use std::str::FromStr;

use super::{Email, StaffId};

/// A staff account. Times are UTC microseconds since the epoch.
#[derive(Clone, Debug)]
pub struct StaffUser {
    pub id: StaffId,
    pub email: Email,
    pub role: Role,
    /// `None` until the invitation's set-password link is used.
    pub password_hash: Option<String>,
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
    pub disabled_at: Option<i64>,
}

/// A staff member's role. What each role may do is listed once, in
/// [`Role::allows`]; everything not listed is denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Editor,
    Analyst,
}

/// Things staff can do. Routes name the permission they need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    ViewDashboard,
    ManageStaff,
    ViewAuditLog,
    /// Tiers, prices, comps, and retrying Stripe events.
    ManagePayments,
    /// The ledger and the Stripe event log.
    ViewPayments,
    /// Revenue figures: the dashboard's money side, revenue reports and their
    /// exports (the editorial firewall: editors never see them).
    ViewRevenue,
    /// Moderating topics, running rounds, voting settings.
    ManageTopics,
    /// Round results with who voted (names, emails), and their export.
    ViewVotes,
    /// The members directory and member pages (profile, standing, payments,
    /// votes, mail, sessions, staff notes), and its CSV export.
    ViewMembers,
    /// Writing staff notes about members and ending members' sessions.
    ManageMembers,
    /// The corrections queue: readers' suggestions (with the address a reader
    /// left for the reply), their status, notes and replies, and its CSV export.
    ManageCorrections,
    /// Topics' funding goals and the transparency page's monthly notes (read
    /// by everyone with the dashboard).
    ManageTransparency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown role {0:?}; expected one of: admin, editor, analyst.")]
pub struct UnknownRole(pub String);

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Analyst];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Analyst => "analyst",
        }
    }

    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Self::Admin => true,
            Self::Editor => {
                matches!(permission, ViewDashboard | ManageTopics | ViewVotes | ManageCorrections | ManageTransparency)
            }
            // Editors see no member pages nor revenue: they are built on money, which
            // the editorial firewall keeps from them.
            Self::Analyst => {
                matches!(permission, ViewDashboard | ViewPayments | ViewRevenue | ViewVotes | ViewMembers)
            }
        }
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Self::Admin),
            "editor" => Ok(Self::Editor),
            "analyst" => Ok(Self::Analyst),
            _ => Err(UnknownRole(s.to_string())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage_staff() {
        assert!(Role::Admin.allows(Permission::ManageStaff));
        assert!(!Role::Editor.allows(Permission::ManageStaff));
        assert!(!Role::Analyst.allows(Permission::ManageStaff));
        assert!(!Role::Analyst.allows(Permission::ViewAuditLog));
        assert!(Role::Analyst.allows(Permission::ViewDashboard));
        assert!(Role::Editor.allows(Permission::ManageTopics));
        assert!(!Role::Analyst.allows(Permission::ManageTopics));
        assert!(!Role::Editor.allows(Permission::ManagePayments));
        assert!(Role::Admin.allows(Permission::ManageMembers));
        assert!(Role::Analyst.allows(Permission::ViewMembers));
        assert!(!Role::Analyst.allows(Permission::ManageMembers));
        assert!(!Role::Editor.allows(Permission::ViewMembers));
        assert!(!Role::Editor.allows(Permission::ViewRevenue));
        assert!(Role::Analyst.allows(Permission::ViewRevenue));
        assert!(Role::Admin.allows(Permission::ManageCorrections));
        assert!(Role::Editor.allows(Permission::ManageCorrections));
        assert!(!Role::Analyst.allows(Permission::ManageCorrections));
        assert!(Role::Editor.allows(Permission::ManageTransparency));
        assert!(Role::Admin.allows(Permission::ManageTransparency));
        assert!(!Role::Analyst.allows(Permission::ManageTransparency));
    }

    #[test]
    fn roles_round_trip_through_text() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("owner".parse::<Role>().is_err());
    }
}
