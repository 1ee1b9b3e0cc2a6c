//! Each step's side effect: what `environment.requested` creates, one step at a time. Every
//! step may run again after a crash and must then end as if it had run once.

use std::sync::Arc;

use crate::previews::{Deployment, PreviewSpec};
use events::environment::EnvironmentRequested;
use events::names::{DbIdent, LoginSlot};
use events::Event;
use shared::backends::databases::DatabaseAdmin;
use shared::backends::secrets::SecretStore;
use shared::credential::Credential;
use shared::Ctx;

use crate::error::StepError;
use crate::objects;
use crate::restore;
use crate::state::{self, Record};
use crate::steps::ProvisionStep;
use crate::Config;

/// Performs one step; returns the state to record (`created` or `skipped`).
pub async fn create(
    event: &Event<EnvironmentRequested>,
    ctx: &Ctx,
    config: &Config,
    record: &Record,
    step: ProvisionStep,
) -> Result<&'static str, StepError> {
    let missing = |e: shared::MissingBackend| StepError {
        retryable: true,
        reason: e.to_string(),
    };
    let name = &record.name;
    match step {
        ProvisionStep::OwnerRole => {
            ctx.databases()
                .map_err(missing)?
                .create_owner_role(&name.owner_role())
                .await?;
        }
        ProvisionStep::LoginRoles => {
            let db = ctx.databases().map_err(missing)?;
            for slot in [LoginSlot::A, LoginSlot::B] {
                db.create_login_role(&name.login_role(slot), &name.owner_role())
                    .await?;
            }
        }
        ProvisionStep::Database => {
            let limit = config.connection_limit(record.tier);
            let db = ctx.databases().map_err(missing)?;
            db.create_database(&name.database(), &name.owner_role(), limit)
                .await?;
        }
        ProvisionStep::Restore => return restore::request(ctx, &event.data, record).await,
        ProvisionStep::Credentials => credentials(ctx, config, record).await?,
        ProvisionStep::Bucket => return objects::create_bucket(ctx, config, record).await,
        ProvisionStep::Objects => {
            let marker = serde_json::json!({ "environment": name, "tier": record.tier, "owner": record.owner, "labels": record.labels });
            let bytes = bytes::Bytes::from(marker.to_string());
            let place = objects::place_for_create(ctx, config, name).await?;
            place
                .store
                .put(&place.marker(), bytes, "application/json")
                .await?;
        }
        ProvisionStep::Service => {
            let Some(service) = &event.data.service else {
                return Ok("skipped");
            };
            let spec = PreviewSpec {
                environment: name.clone(),
                image: service.image.clone(),
                env: service.env.clone(),
                credentials_secret: name.secret_id(record.tier).to_string(),
                labels: record.labels.clone(),
                max_instances: config.preview_max_instances,
                service_account: config.preview_service_account.clone(),
            };
            let pool = ctx.control_db().map_err(missing)?;
            let (key, value) = match config.previews.backend(ctx).await?.deploy(&spec).await? {
                Deployment::Deployed { url } => ("service_url", url),
                Deployment::Skipped { reason } => ("service_skipped", reason),
            };
            state::set_output(pool, name, key, &value)
                .await
                .map_err(|e| StepError {
                    retryable: true,
                    reason: e.to_string(),
                })?;
            if key == "service_skipped" {
                return Ok("skipped");
            }
        }
    }
    Ok("created")
}

/// A fresh password for the `_a` login role, proven by a login, stored as the secret's first
/// `current` version. Re-running it after a crash keeps the version an earlier attempt stored
/// if it logs in; otherwise it sets a new password and version.
async fn credentials(ctx: &Ctx, config: &Config, record: &Record) -> Result<(), StepError> {
    let missing = |e: shared::MissingBackend| StepError {
        retryable: true,
        reason: e.to_string(),
    };
    let (db, secrets) = (
        ctx.databases().map_err(missing)?,
        ctx.secrets().map_err(missing)?,
    );
    let (name, user) = (&record.name, record.name.login_role(LoginSlot::A));
    let secret = name.secret_id(record.tier);
    if let Some(version) =
        stored_credentials_that_log_in(db, secrets, secret.as_str(), &name.database(), &user)
            .await?
    {
        return point_current_at(secrets, secret.as_str(), version).await;
    }
    let password = shared::password::generate(config.password_length);
    db.set_password(&user, &password).await?;
    db.test_login(&name.database(), &user, &password).await?;
    let endpoint = db.endpoint();
    let payload = Credential {
        host: endpoint.host.clone(),
        port: endpoint.port,
        database: name.database().as_str().to_owned(),
        user,
        password,
        sslmode: endpoint.sslmode,
    }
    .to_payload();
    secrets
        .create_secret(secret.as_str(), &record.labels)
        .await?;
    let version = secrets.add_version(secret.as_str(), &payload).await?;
    point_current_at(secrets, secret.as_str(), version).await
}

/// The newest version of `secret` if an earlier attempt of this step stored it and its
/// credentials for `user` on `database` still log in. A crash after the version was added
/// (before or after `current` moved to it) is then resumed without a second version, whose
/// new password would leave the first one stale.
async fn stored_credentials_that_log_in(
    db: &Arc<dyn DatabaseAdmin>,
    secrets: &Arc<dyn SecretStore>,
    secret: &str,
    database: &DbIdent,
    user: &DbIdent,
) -> Result<Option<u64>, StepError> {
    let Some(info) = secrets.get_secret(secret).await? else {
        return Ok(None);
    };
    let Some(newest) = info.versions.iter().map(|v| v.version).max() else {
        return Ok(None);
    };
    // Disabled, destroyed or unreadable: not usable, so a new version is made.
    let Ok(payload) = secrets.access(secret, &newest.to_string()).await else {
        return Ok(None);
    };
    let Ok(stored) = Credential::parse(&payload) else {
        return Ok(None);
    };
    let ours = stored.database == database.as_str() && &stored.user == user;
    let logs_in = ours
        && db
            .test_login(database, user, &stored.password)
            .await
            .is_ok();
    Ok(logs_in.then_some(newest))
}

/// Moves `secret`'s `current` alias to `version`, keeping its other aliases.
async fn point_current_at(
    secrets: &Arc<dyn SecretStore>,
    secret: &str,
    version: u64,
) -> Result<(), StepError> {
    let info = secrets.get_secret(secret).await?.ok_or_else(|| StepError {
        retryable: true,
        reason: format!("secret {secret} vanished"),
    })?;
    let mut aliases = info.aliases.clone();
    aliases.insert("current".into(), version);
    secrets.update_aliases(secret, &aliases, &info.etag).await?;
    Ok(())
}
