//! Versions in the local store: adding, reading by number / `latest` / alias, and moving
//! between enabled, disabled and destroyed.

use super::{db, parse_state, to_i64, LocalSecretStore};
use crate::backends::secrets::validate::VersionRef;
use crate::backends::secrets::{validate_secret_name, SecretError, VersionState};
use secrecy::{ExposeSecret, SecretString};

impl LocalSecretStore {
    pub(super) async fn add(&self, name: &str, payload: &SecretString) -> Result<u64, SecretError> {
        validate_secret_name(name)?;
        // Bumping the counter locks the secret's row, so concurrent adds get distinct numbers.
        let version: Option<i64> = sqlx::query_scalar(
            "WITH s AS (UPDATE control.secrets SET last_version = last_version + 1 \
                        WHERE name = $1 RETURNING last_version) \
             INSERT INTO control.secret_versions (secret, version, state, payload) \
             SELECT $1, last_version, 'enabled', $2 FROM s RETURNING version",
        )
        .bind(name)
        .bind(payload.expose_secret().as_bytes())
        .fetch_optional(&self.pool)
        .await
        .map_err(db(name))?;
        let version = version.ok_or_else(|| SecretError::not_found(name))?;
        u64::try_from(version).map_err(|e| SecretError::backend(name, e))
    }

    pub(super) async fn read(&self, name: &str, which: &str) -> Result<SecretString, SecretError> {
        validate_secret_name(name)?;
        let wanted = VersionRef::parse(name, which)?;
        const COLS: &str = "SELECT v.version, v.state, v.payload FROM control.secret_versions v";
        let query = match &wanted {
            VersionRef::Latest => format!("{COLS} WHERE v.secret = $1 ORDER BY v.version DESC LIMIT 1"),
            VersionRef::Number(_) => format!("{COLS} WHERE v.secret = $1 AND v.version = $2"),
            VersionRef::Alias(_) => format!(
                "{COLS} JOIN control.secret_aliases a ON a.secret = v.secret AND a.version = v.version \
                 WHERE a.secret = $1 AND a.alias = $2"
            ),
        };
        let mut q = sqlx::query_as::<_, (i64, String, Option<Vec<u8>>)>(&query).bind(name);
        q = match &wanted {
            VersionRef::Latest => q,
            VersionRef::Number(n) => q.bind(to_i64(*n)),
            VersionRef::Alias(a) => q.bind(a.clone()),
        };
        let Some((version, state, payload)) =
            q.fetch_optional(&self.pool).await.map_err(db(name))?
        else {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM control.secrets WHERE name = $1)")
                    .bind(name)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db(name))?;
            return Err(if exists {
                SecretError::version_not_found(name, which)
            } else {
                SecretError::not_found(name)
            });
        };
        let state = parse_state(name, &state)?;
        match (state, payload) {
            (VersionState::Enabled, Some(bytes)) => String::from_utf8(bytes)
                .map(SecretString::from)
                .map_err(|_| SecretError::backend(name, format!("version {version} is not UTF-8"))),
            (state, _) => Err(SecretError::invalid_state(
                name,
                Some(version.to_string()),
                format!("the version is {}", state.as_str()),
            )),
        }
    }

    pub(super) async fn set_state(
        &self,
        name: &str,
        version: u64,
        to: VersionState,
    ) -> Result<(), SecretError> {
        validate_secret_name(name)?;
        let mut tx = self.pool.begin().await.map_err(db(name))?;
        Self::lock(&mut tx, name).await?;
        let state: Option<String> = sqlx::query_scalar(
            "SELECT state FROM control.secret_versions WHERE secret = $1 AND version = $2",
        )
        .bind(name)
        .bind(to_i64(version))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db(name))?;
        let state = parse_state(
            name,
            &state.ok_or_else(|| SecretError::version_not_found(name, version))?,
        )?;
        if state == to {
            return Ok(());
        }
        let v = Some(version.to_string());
        if state == VersionState::Destroyed {
            return Err(SecretError::invalid_state(
                name,
                v,
                "the version is destroyed",
            ));
        }
        if to == VersionState::Destroyed {
            let aliases: Vec<String> = sqlx::query_scalar(
                "SELECT alias FROM control.secret_aliases WHERE secret = $1 AND version = $2 ORDER BY alias",
            )
            .bind(name)
            .bind(to_i64(version))
            .fetch_all(&mut *tx)
            .await
            .map_err(db(name))?;
            if !aliases.is_empty() {
                let reason = format!("aliases {aliases:?} point at it; move them first");
                return Err(SecretError::invalid_state(name, v, reason));
            }
        }
        sqlx::query(
            "UPDATE control.secret_versions SET state = $3, \
               payload = CASE WHEN $3 = 'destroyed' THEN NULL ELSE payload END, \
               destroyed_at = CASE WHEN $3 = 'destroyed' THEN now() END \
             WHERE secret = $1 AND version = $2",
        )
        .bind(name)
        .bind(to_i64(version))
        .bind(to.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db(name))?;
        tx.commit().await.map_err(db(name))
    }
}
