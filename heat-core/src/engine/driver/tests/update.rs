//! Update, preview, rollback of updates, and the other stack actions.

use super::*;
