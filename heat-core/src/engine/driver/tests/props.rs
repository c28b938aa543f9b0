//! Property tests of the engine: ordering, rollback, update A to B, crash during update.

use super::*;
