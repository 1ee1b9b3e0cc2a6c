//! Versions in Secret Manager: AddSecretVersion with a CRC32C, AccessSecretVersion by
//! number / `latest` / alias, and Enable / Disable / DestroySecretVersion.

use super::convert::{self, classify, version_number};
use super::{code, SecretManagerStore};
use crate::backends::secrets::validate::VersionRef;
use crate::backends::secrets::{validate_secret_name, SecretError, VersionState};
use google_cloud_gax::error::rpc::Code;
use google_cloud_secretmanager_v1::model::{SecretPayload, SecretVersion};
use secrecy::{ExposeSecret, SecretString};

impl SecretManagerStore {
    pub(super) async fn add(&self, name: &str, payload: &SecretString) -> Result<u64, SecretError> {
        validate_secret_name(name)?;
        let data = payload.expose_secret().as_bytes();
        // The checksum lets Secret Manager reject a payload corrupted on the way.
        let payload = SecretPayload::new()
            .set_data(bytes::Bytes::copy_from_slice(data))
            .set_data_crc32c(i64::from(crc32c::crc32c(data)));
        let added = self
            .client
            .add_secret_version()
            .set_parent(self.secret(name))
            .set_payload(payload)
            .send()
            .await
            .map_err(|e| classify(name, None, e))?;
        version_number(name, &added.name)
    }

    pub(super) async fn read(&self, name: &str, which: &str) -> Result<SecretString, SecretError> {
        validate_secret_name(name)?;
        VersionRef::parse(name, which)?;
        let response = self
            .client
            .access_secret_version()
            .set_name(self.version(name, which))
            .send()
            .await
            .map_err(|e| classify(name, Some(which.to_owned()), e))?;
        let payload = response.payload.unwrap_or_default();
        if let Some(expected) = payload.data_crc32c {
            if i64::from(crc32c::crc32c(&payload.data)) != expected {
                return Err(SecretError::backend(name, "payload checksum mismatch"));
            }
        }
        String::from_utf8(payload.data.to_vec())
            .map(SecretString::from)
            .map_err(|_| SecretError::backend(name, format!("version `{which}` is not UTF-8")))
    }

    pub(super) async fn set_state(
        &self,
        name: &str,
        version: u64,
        to: VersionState,
    ) -> Result<(), SecretError> {
        validate_secret_name(name)?;
        let resource = self.version(name, version);
        let sent = match to {
            VersionState::Enabled => {
                self.client
                    .enable_secret_version()
                    .set_name(&resource)
                    .send()
                    .await
            }
            VersionState::Disabled => {
                self.client
                    .disable_secret_version()
                    .set_name(&resource)
                    .send()
                    .await
            }
            VersionState::Destroyed => {
                self.client
                    .destroy_secret_version()
                    .set_name(&resource)
                    .send()
                    .await
            }
        };
        match sent {
            Ok(_) => Ok(()),
            // Refused because of its state: fine if it is already where we want it, so the
            // operation is idempotent like the local store's.
            Err(e) if code(&e) == Some(Code::FailedPrecondition) => {
                let current = self
                    .client
                    .get_secret_version()
                    .set_name(&resource)
                    .send()
                    .await;
                match current.map(|v: SecretVersion| v.state) {
                    Ok(state) if convert::state(&state) == Some(to) => Ok(()),
                    _ => Err(classify(name, Some(version.to_string()), e)),
                }
            }
            Err(e) => Err(classify(name, Some(version.to_string()), e)),
        }
    }
}
