//! Aliases in the local store: the whole map replaced under the etag, in one transaction
//! holding the secret's row lock, so concurrent writers serialize and the loser sees the
//! etag it read has moved.

use super::{db, to_i64, LocalSecretStore};
use crate::backends::secrets::validate::validate_aliases;
use crate::backends::secrets::{validate_secret_name, SecretError};
use std::collections::BTreeMap;

impl LocalSecretStore {
    pub(super) async fn replace_aliases(
        &self,
        name: &str,
        aliases: &BTreeMap<String, u64>,
        etag: &str,
    ) -> Result<String, SecretError> {
        validate_secret_name(name)?;
        validate_aliases(name, aliases)?;
        let mut tx = self.pool.begin().await.map_err(db(name))?;
        let current = Self::lock(&mut tx, name).await?;
        if etag.parse::<i64>().ok() != Some(current) {
            return Err(SecretError::Conflict {
                secret: name.to_owned(),
            });
        }
        let (alias_names, versions): (Vec<String>, Vec<i64>) =
            aliases.iter().map(|(a, v)| (a.clone(), to_i64(*v))).unzip();
        let states: Vec<(i64, String)> = sqlx::query_as(
            "SELECT version, state FROM control.secret_versions WHERE secret = $1 AND version = ANY($2)",
        )
        .bind(name)
        .bind(&versions)
        .fetch_all(&mut *tx)
        .await
        .map_err(db(name))?;
        for (alias, version) in aliases {
            match states.iter().find(|(v, _)| *v == to_i64(*version)) {
                None => return Err(SecretError::version_not_found(name, version)),
                Some((_, state)) if state == "destroyed" => {
                    let reason = format!("alias {alias:?} cannot point at a destroyed version");
                    return Err(SecretError::invalid_state(
                        name,
                        Some(version.to_string()),
                        reason,
                    ));
                }
                Some(_) => {}
            }
        }
        sqlx::query("DELETE FROM control.secret_aliases WHERE secret = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db(name))?;
        sqlx::query(
            "INSERT INTO control.secret_aliases (secret, alias, version) \
             SELECT $1, * FROM UNNEST($2::text[], $3::bigint[])",
        )
        .bind(name)
        .bind(&alias_names)
        .bind(&versions)
        .execute(&mut *tx)
        .await
        .map_err(db(name))?;
        let new: i64 = sqlx::query_scalar(
            "UPDATE control.secrets SET etag = etag + 1 WHERE name = $1 RETURNING etag",
        )
        .bind(name)
        .fetch_one(&mut *tx)
        .await
        .map_err(db(name))?;
        tx.commit().await.map_err(db(name))?;
        Ok(new.to_string())
    }
}
