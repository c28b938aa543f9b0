//! The store suite: every case runs on every [`ServerStore`](heat_server::store::ServerStore)
//! implementation — a SQLite file and a throw-away PostgreSQL database (which must be
//! running: the PostgreSQL cases fail, saying how to start it, when it is not).
//!
//! Adding an implementation is one line at the bottom, e.g. for an in-memory store:
//! `store_suite!(memory, async { harness::Fresh::new(MyStore::new()) });`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "store_suite/cases.rs"]
mod cases;
#[path = "store_suite/engine_cases.rs"]
mod engine_cases;
#[path = "store_suite/harness.rs"]
mod harness;
#[path = "store_suite/records.rs"]
mod records;
#[path = "store_suite/server_cases.rs"]
mod server_cases;

/// One test per case, each on a new database made by `$database` (an async expression
/// giving a [`harness::Database`]).
macro_rules! store_suite {
    ($name:ident, $database:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            store_suite!(@cases $database;
                cases::batches_are_all_or_nothing,
                cases::names_are_unique_per_project,
                cases::soft_delete_frees_the_name,
                cases::resources_follow_the_last_change,
                cases::events_are_ordered_and_purged_like_memory,
                cases::event_readers_miss_nothing_under_concurrent_writers,
                cases::resource_ids_are_never_handed_out_twice,
                cases::snapshots_round_trip,
                cases::records_round_trip_field_for_field,
                cases::data_survives_reopening,
                server_cases::listing_filters,
                server_cases::listing_tags,
                server_cases::listing_sorts,
                server_cases::listing_pages,
                server_cases::software_configs_deployments_and_services,
                engine_cases::engine_creates_and_deletes_a_stack,
                engine_cases::engine_resumes_a_create_after_a_crash,
            );
        }
    };
    (@cases $database:expr; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let database = $database.await;
                super::$module::$case(&database).await;
            }
        )*
    };
}

store_suite!(sqlite, harness::Sqlite::new());
store_suite!(postgres, harness::Postgres::new());
store_suite!(memory, async {
    harness::Fresh::new(heat_server::store::memory::MemoryServerStore::new(Some(
        heat_core::engine::store::DEFAULT_MAX_EVENTS_PER_STACK,
    )))
});
