//! [`Role`]: what a node is doing in its term, as [`crate::Status`] shows it.
//! The state each role keeps lives with the engine (`context/role.rs`).

/// A node's role (§5.1, and the pre-candidate of the thesis, §9.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Answers leaders and candidates; starts an election when it hears from no leader.
    Follower,
    /// Asks whether it could win an election in the next term, without
    /// entering that term (pre-vote, §9.6; only with [`crate::Config::pre_vote`]).
    PreCandidate,
    /// Asks for votes in its term.
    Candidate,
    /// Replicates its log and decides what is committed.
    Leader,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Follower => "follower",
            Role::PreCandidate => "pre-candidate",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn roles_display_in_lower_case() {
        let all = [
            Role::Follower,
            Role::PreCandidate,
            Role::Candidate,
            Role::Leader,
        ];
        let shown: Vec<String> = all.iter().map(Role::to_string).collect();
        assert_eq!(shown, ["follower", "pre-candidate", "candidate", "leader"]);
    }
}
