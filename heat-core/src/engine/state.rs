//! Stack and resource states, named exactly as Heat names them (`CREATE_IN_PROGRESS`, ...).

use std::fmt;

/// What a stack or resource is doing (or last did).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Defined, nothing done yet (resources only; `INIT_COMPLETE`).
    Init,
    /// Being created.
    Create,
    /// Being deleted.
    Delete,
    /// Being updated.
    Update,
    /// Rolling back a failed create or update.
    Rollback,
    /// Being suspended.
    Suspend,
    /// Being resumed.
    Resume,
    /// Being adopted (physical ids recorded, nothing created).
    Adopt,
    /// Being snapshotted.
    Snapshot,
    /// Being checked against the live resources.
    Check,
    /// Being restored from a snapshot (stacks only).
    Restore,
    /// A signal was delivered to a resource (events only, as in Heat: the resource's own
    /// state does not change).
    Signal,
}

impl Action {
    /// Every action.
    pub const ALL: &'static [Action] = &[
        Action::Init,
        Action::Create,
        Action::Delete,
        Action::Update,
        Action::Rollback,
        Action::Suspend,
        Action::Resume,
        Action::Adopt,
        Action::Snapshot,
        Action::Check,
        Action::Restore,
        Action::Signal,
    ];

    /// The name Heat uses (`CREATE`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Init => "INIT",
            Action::Create => "CREATE",
            Action::Delete => "DELETE",
            Action::Update => "UPDATE",
            Action::Rollback => "ROLLBACK",
            Action::Suspend => "SUSPEND",
            Action::Resume => "RESUME",
            Action::Adopt => "ADOPT",
            Action::Snapshot => "SNAPSHOT",
            Action::Check => "CHECK",
            Action::Restore => "RESTORE",
            Action::Signal => "SIGNAL",
        }
    }

    /// Parses Heat's name (`CREATE`).
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.as_str() == name)
    }
}

/// How far the action got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Under way.
    InProgress,
    /// Finished successfully.
    Complete,
    /// Finished with an error.
    Failed,
}

impl Status {
    /// Every status.
    pub const ALL: &'static [Status] = &[Status::InProgress, Status::Complete, Status::Failed];

    /// The name Heat uses (`IN_PROGRESS`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "IN_PROGRESS",
            Status::Complete => "COMPLETE",
            Status::Failed => "FAILED",
        }
    }

    /// Parses Heat's name (`IN_PROGRESS`).
    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.iter().copied().find(|s| s.as_str() == name)
    }
}

/// An action and its status: what Heat shows as `CREATE_COMPLETE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// The action.
    pub action: Action,
    /// Its status.
    pub status: Status,
}

impl State {
    /// A state from its parts.
    pub const fn new(action: Action, status: Status) -> State {
        State { action, status }
    }

    /// `INIT_COMPLETE`: a resource that is defined but not created.
    pub const INIT: State = State::new(Action::Init, Status::Complete);

    /// Parses `CREATE_IN_PROGRESS` and friends.
    pub fn parse(text: &str) -> Option<State> {
        Status::ALL.iter().find_map(|status| {
            let action = text.strip_suffix(status.as_str())?.strip_suffix('_')?;
            Some(State::new(Action::from_name(action)?, *status))
        })
    }

    /// Whether the action is under way.
    pub fn in_progress(self) -> bool {
        self.status == Status::InProgress
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.action.as_str(), self.status.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_through_heats_name() {
        let mut count = 0;
        for action in Action::ALL {
            for status in Status::ALL {
                let state = State::new(*action, *status);
                let name = state.to_string();
                assert_eq!(State::parse(&name), Some(state), "{name}");
                count += 1;
            }
        }
        assert_eq!(count, 36);
        assert_eq!(
            State::new(Action::Create, Status::InProgress).to_string(),
            "CREATE_IN_PROGRESS"
        );
        assert_eq!(State::INIT.to_string(), "INIT_COMPLETE");
        for bad in [
            "",
            "CREATE",
            "CREATE_",
            "_COMPLETE",
            "CREATE_DONE",
            "create_complete",
        ] {
            assert_eq!(State::parse(bad), None, "{bad}");
        }
    }
}
