//! `environment.requested`: claim the name, run the steps (each recorded before its side
//! effect, each skipped when done), publish `environment.ready`.

use events::environment::{EnvironmentFailed, EnvironmentReady, EnvironmentRequested};
use events::names::LoginSlot;
use events::{Event, OutgoingEvent};
use secrecy::{ExposeSecret, SecretString};
use shared::backends::previews::{Deployment, PreviewSpec};
use shared::{Ctx, Outcome};

use crate::claim::{claim, Claim};
use crate::error::{ProvisionError, StepError};
use crate::resources::{self, marker_key, STEPS};
use crate::state::{self, Record};
use crate::{fault, Config};

/// Handles one request, single-flight per environment name.
pub async fn provision(
    event: Event<EnvironmentRequested>,
    ctx: Ctx,
    config: &Config,
) -> Result<Outcome, ProvisionError> {
    let request = &event.data;
    if request.from_backup.is_some() {
        return Err(ProvisionError::Rejected(
            "from_backup: restoring an environment from a backup is not supported yet".into(),
        ));
    }
    let ttl = config
        .ttl_for(request.tier, request.ttl)
        .map_err(ProvisionError::Rejected)?;
    let pool = ctx.control_db()?;
    let Some(lock) = state::lock_environment(pool, &request.name).await? else {
        return Err(ProvisionError::Busy(request.name.to_string()));
    };
    let outcome = match claim(pool, config, request, ttl, &event.id).await {
        Ok(Claim::AlreadyReady) => Ok(Outcome::Done),
        Ok(Claim::Provision(record)) => run(&event, &ctx, config, record).await,
        Err(e) => Err(e),
    };
    lock.release().await?;
    outcome
}

async fn run(
    event: &Event<EnvironmentRequested>,
    ctx: &Ctx,
    config: &Config,
    record: Record,
) -> Result<Outcome, ProvisionError> {
    let (pool, name) = (ctx.control_db()?, &record.name);
    for step in STEPS {
        match record.resources.get(step).map(String::as_str) {
            Some("created" | "skipped") => continue,
            Some(_) => {} // started before a crash: finish it
            None => {
                match resources::exists(ctx, name, record.tier, step).await {
                    Ok(false) => {}
                    Ok(true) => {
                        let reason = format!("{step}: something already exists under this environment's names and groundskeeper did not create it; it is left alone");
                        return fail(event, ctx, step, StepError::permanent(reason)).await;
                    }
                    Err(e) => return fail(event, ctx, step, e).await,
                }
                state::mark_step(pool, name, step, "creating").await?;
            }
        }
        fault::check(name, &format!("{step}:before"))?;
        let done = match create(event, ctx, config, &record, step).await {
            Ok(done) => done,
            Err(e) => return fail(event, ctx, step, e).await,
        };
        fault::check(name, &format!("{step}:after"))?;
        state::mark_step(pool, name, step, done).await?;
    }
    let record = state::load(pool, name, false)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    fault::check(name, "ready:before")?;
    ctx.emit(OutgoingEvent::new(
        ctx.source(),
        format!("{}/ready", event.id),
        &ready(ctx, config, &record)?,
    ))
    .await?;
    // A crash here re-publishes `ready` on redelivery: at least once, never lost.
    fault::check(name, "ready:after")?;
    state::set_status(pool, name, "ready", None).await?;
    tracing::info!(environment = %name, "environment ready");
    Ok(Outcome::Done)
}

/// Performs one step; returns the state to record (`created` or `skipped`).
async fn create(
    event: &Event<EnvironmentRequested>,
    ctx: &Ctx,
    config: &Config,
    record: &Record,
    step: &str,
) -> Result<&'static str, StepError> {
    let missing = |e: shared::MissingBackend| StepError {
        retryable: true,
        reason: e.to_string(),
    };
    let name = &record.name;
    match step {
        "owner_role" => {
            ctx.databases()
                .map_err(missing)?
                .create_owner_role(&name.owner_role())
                .await?;
        }
        "login_roles" => {
            let db = ctx.databases().map_err(missing)?;
            for slot in [LoginSlot::A, LoginSlot::B] {
                db.create_login_role(&name.login_role(slot), &name.owner_role())
                    .await?;
            }
        }
        "database" => {
            let limit = config.connection_limit(record.tier);
            let db = ctx.databases().map_err(missing)?;
            db.create_database(&name.database(), &name.owner_role(), limit)
                .await?;
        }
        "credentials" => credentials(ctx, config, record).await?,
        "objects" => {
            let marker = serde_json::json!({ "environment": name, "tier": record.tier, "owner": record.owner, "labels": record.labels });
            let bytes = bytes::Bytes::from(marker.to_string());
            ctx.object_store()
                .map_err(missing)?
                .put(&marker_key(name), bytes, "application/json")
                .await?;
        }
        "service" => {
            let Some(service) = &event.data.service else {
                return Ok("skipped");
            };
            let spec = PreviewSpec {
                name: name.service_name(),
                image: service.image.clone(),
                env: service.env.clone(),
                credentials_secret: name.secret_id(record.tier).to_string(),
                labels: record.labels.clone(),
                max_instances: config.preview_max_instances,
                service_account: config.preview_service_account.clone(),
            };
            let pool = ctx.control_db().map_err(missing)?;
            let (key, value) = match ctx.previews().map_err(missing)?.deploy(&spec).await? {
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
        _ => {}
    }
    Ok("created")
}

/// A fresh password for the `_a` login role, proven by a login, stored as the secret's first
/// `current` version. Re-running it (after a crash) sets a new password and version.
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
    let password = shared::password::generate(config.password_length);
    db.set_password(&user, &password).await?;
    db.test_login(&name.database(), &user, &password).await?;
    let endpoint = db.endpoint();
    let payload = SecretString::from(
        serde_json::json!({
            "host": endpoint.host, "port": endpoint.port, "database": name.database(),
            "user": user, "password": password.expose_secret(), "sslmode": endpoint.sslmode,
        })
        .to_string(),
    );
    let secret = name.secret_id(record.tier);
    secrets
        .create_secret(secret.as_str(), &record.labels)
        .await?;
    let version = secrets.add_version(secret.as_str(), &payload).await?;
    let info = secrets
        .get_secret(secret.as_str())
        .await?
        .ok_or_else(|| StepError {
            retryable: true,
            reason: format!("secret {secret} vanished"),
        })?;
    let mut aliases = info.aliases.clone();
    aliases.insert("current".into(), version);
    secrets
        .update_aliases(secret.as_str(), &aliases, &info.etag)
        .await?;
    Ok(())
}

fn ready(ctx: &Ctx, config: &Config, record: &Record) -> Result<EnvironmentReady, ProvisionError> {
    let endpoint = ctx.databases()?.endpoint().clone();
    let name = &record.name;
    Ok(EnvironmentReady {
        name: name.clone(),
        tier: record.tier,
        owner: record.owner.clone(),
        host: endpoint.host,
        port: endpoint.port,
        database: name.database(),
        user: name.login_role(LoginSlot::A),
        secret: format!(
            "projects/{}/secrets/{}",
            config.project,
            name.secret_id(record.tier)
        ),
        object_prefix: format!(
            "{}/{}",
            config.object_store_url.trim_end_matches('/'),
            name.object_prefix()
        ),
        service_url: record.outputs.get("service_url").cloned(),
        service_skipped: record.outputs.get("service_skipped").cloned(),
        expires_at: record.expires_at,
        labels: record.labels.clone(),
    })
}

/// A step failed: retry if it may pass later; otherwise remove what this environment's
/// provisioning created, record and publish the failure, and dead-letter the request.
async fn fail(
    event: &Event<EnvironmentRequested>,
    ctx: &Ctx,
    step: &'static str,
    error: StepError,
) -> Result<Outcome, ProvisionError> {
    if error.retryable {
        return Err(ProvisionError::Transient {
            step,
            reason: error.reason,
        });
    }
    let (pool, name) = (ctx.control_db()?, &event.data.name);
    tracing::warn!(environment = %name, step, reason = %error.reason, "provisioning failed; removing what it created");
    if let Some(record) = state::load(pool, name, false).await? {
        resources::remove_all(ctx, name, record.tier, &record.resources).await?;
    }
    state::set_status(pool, name, "failed", Some((step, &error.reason))).await?;
    let failed = EnvironmentFailed {
        name: name.clone(),
        step: step.into(),
        reason: error.reason.clone(),
    };
    ctx.emit(OutgoingEvent::new(
        ctx.source(),
        format!("{}/failed", event.id),
        &failed,
    ))
    .await?;
    Err(ProvisionError::Failed {
        step,
        reason: error.reason,
    })
}
