//! Software configs, software deployments and engine service records.

use heat_core::engine::store::StoreError;

use super::codec::backend;
use super::conn::{Arg, Conn, Stmt};
use super::rows::{
    config_args, config_columns, config_from_row, deployment_args, deployment_columns,
    deployment_from_row, service_args, service_columns, service_from_row,
};
use crate::store::{ServiceRecord, SoftwareConfig, SoftwareDeployment};

const INSERT_CONFIG: Stmt = Stmt::fixed(concat!(
    "INSERT INTO software_configs (",
    config_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
));
const CONFIG: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    config_columns!(),
    " FROM software_configs WHERE project = $1 AND id = $2"
));
const CONFIGS: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    config_columns!(),
    " FROM software_configs WHERE project = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
));
const CONFIGS_AFTER: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    config_columns!(),
    " FROM software_configs WHERE project = $1 AND (created_at, id) < \
     (SELECT created_at, id FROM software_configs WHERE project = $1 AND id = $2) \
     ORDER BY created_at DESC, id DESC LIMIT $3"
));
const DELETE_CONFIG: Stmt =
    Stmt::fixed("DELETE FROM software_configs WHERE project = $1 AND id = $2");

const UPSERT_DEPLOYMENT: Stmt = Stmt::fixed(concat!(
    "INSERT INTO software_deployments (",
    deployment_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
     ON CONFLICT (id) DO UPDATE SET project = excluded.project, \
     config_id = excluded.config_id, server_id = excluded.server_id, \
     input_values = excluded.input_values, output_values = excluded.output_values, \
     action = excluded.action, status = excluded.status, \
     status_reason = excluded.status_reason, \
     stack_user_project_id = excluded.stack_user_project_id, \
     created_at = excluded.created_at, updated_at = excluded.updated_at"
));
const DEPLOYMENT: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    deployment_columns!(),
    " FROM software_deployments WHERE project = $1 AND id = $2"
));
const DEPLOYMENTS: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    deployment_columns!(),
    " FROM software_deployments WHERE project = $1 ORDER BY created_at, seq"
));
const DEPLOYMENTS_OF_SERVER: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    deployment_columns!(),
    " FROM software_deployments WHERE project = $1 AND server_id = $2 ORDER BY created_at, seq"
));
const DELETE_DEPLOYMENT: Stmt =
    Stmt::fixed("DELETE FROM software_deployments WHERE project = $1 AND id = $2");

const UPSERT_SERVICE: Stmt = Stmt::fixed(concat!(
    "INSERT INTO services (",
    service_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (id) DO UPDATE SET host = excluded.host, binary_name = excluded.binary_name, \
     topic = excluded.topic, report_interval = excluded.report_interval, \
     created_at = excluded.created_at, updated_at = excluded.updated_at"
));
const SERVICES: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    service_columns!(),
    " FROM services ORDER BY created_at, seq"
));
const CONFIG_EXISTS: Stmt =
    Stmt::fixed("SELECT id FROM software_configs WHERE project = $1 AND id = $2");

/// Stores a new software config (an id already used is an error).
pub async fn put_config<C: Conn>(conn: &mut C, config: &SoftwareConfig) -> Result<(), StoreError> {
    conn.execute(&INSERT_CONFIG, config_args(config)?)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Backend(format!(
                "a software config with id {} already exists",
                config.id
            )),
            other => backend(other),
        })?;
    Ok(())
}

/// A project's software config.
pub async fn config<C: Conn>(
    conn: &mut C,
    project: &str,
    id: &str,
) -> Result<Option<SoftwareConfig>, StoreError> {
    let rows = conn
        .fetch(&CONFIG, vec![project.into(), id.into()])
        .await
        .map_err(backend)?;
    rows.first().map(config_from_row).transpose()
}

/// A project's software configs, newest first, after a marker (which must be one of the
/// project's configs: otherwise [`StoreError::Missing`]).
pub async fn configs<C: Conn>(
    conn: &mut C,
    project: &str,
    marker: Option<&str>,
    limit: Option<u64>,
) -> Result<Vec<SoftwareConfig>, StoreError> {
    // No limit: as many as a signed 64-bit LIMIT allows.
    let limit = Arg::from(limit.map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX)));
    let rows = match marker {
        None => conn
            .fetch(&CONFIGS, vec![project.into(), limit])
            .await
            .map_err(backend)?,
        Some(marker) => {
            let found = conn
                .fetch(&CONFIG_EXISTS, vec![project.into(), marker.into()])
                .await
                .map_err(backend)?;
            if found.is_empty() {
                return Err(StoreError::Missing(format!("marker {marker}")));
            }
            conn.fetch(&CONFIGS_AFTER, vec![project.into(), marker.into(), limit])
                .await
                .map_err(backend)?
        }
    };
    rows.iter().map(config_from_row).collect()
}

/// Deletes a software config; whether there was one.
pub async fn delete_config<C: Conn>(
    conn: &mut C,
    project: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let n = conn
        .execute(&DELETE_CONFIG, vec![project.into(), id.into()])
        .await
        .map_err(backend)?;
    Ok(n > 0)
}

/// Inserts or replaces a software deployment.
pub async fn put_deployment<C: Conn>(
    conn: &mut C,
    deployment: &SoftwareDeployment,
) -> Result<(), StoreError> {
    conn.execute(&UPSERT_DEPLOYMENT, deployment_args(deployment)?)
        .await
        .map_err(backend)?;
    Ok(())
}

/// A project's software deployment.
pub async fn deployment<C: Conn>(
    conn: &mut C,
    project: &str,
    id: &str,
) -> Result<Option<SoftwareDeployment>, StoreError> {
    let rows = conn
        .fetch(&DEPLOYMENT, vec![project.into(), id.into()])
        .await
        .map_err(backend)?;
    rows.first().map(deployment_from_row).transpose()
}

/// A project's software deployments (of one server when given), oldest first.
pub async fn deployments<C: Conn>(
    conn: &mut C,
    project: &str,
    server_id: Option<&str>,
) -> Result<Vec<SoftwareDeployment>, StoreError> {
    let rows = match server_id {
        None => conn.fetch(&DEPLOYMENTS, vec![project.into()]).await,
        Some(server) => {
            conn.fetch(&DEPLOYMENTS_OF_SERVER, vec![project.into(), server.into()])
                .await
        }
    }
    .map_err(backend)?;
    rows.iter().map(deployment_from_row).collect()
}

/// Deletes a software deployment; whether there was one.
pub async fn delete_deployment<C: Conn>(
    conn: &mut C,
    project: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let n = conn
        .execute(&DELETE_DEPLOYMENT, vec![project.into(), id.into()])
        .await
        .map_err(backend)?;
    Ok(n > 0)
}

/// Inserts or refreshes a service record.
pub async fn put_service<C: Conn>(conn: &mut C, service: &ServiceRecord) -> Result<(), StoreError> {
    conn.execute(&UPSERT_SERVICE, service_args(service)?)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Every service record, oldest first.
pub async fn services<C: Conn>(conn: &mut C) -> Result<Vec<ServiceRecord>, StoreError> {
    let rows = conn.fetch(&SERVICES, Vec::new()).await.map_err(backend)?;
    rows.iter().map(service_from_row).collect()
}
