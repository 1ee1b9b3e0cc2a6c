//! Any backend behind one object type, its settings as JSON (as the journal and the events
//! hold them), so the handler walks Cloud Run, Cloud SQL and databases with one loop.

use async_trait::async_trait;
use events::downscale::TargetKind;
use events::labels::Labels;
use serde_json::Value;

use super::{Backend, BackendError, Change, Restored};

/// A [`Backend`] with its settings as JSON.
#[async_trait]
pub trait AnyBackend: Send + Sync {
    /// The kind of resource, as events name it.
    fn kind(&self) -> TargetKind;
    /// [`Backend::read`].
    async fn read(&self, name: &str) -> Result<Value, BackendError>;
    /// [`Backend::apply`].
    async fn apply(
        &self,
        name: &str,
        expected: &Value,
        change: &Change,
    ) -> Result<Value, BackendError>;
    /// [`Backend::restore`].
    async fn restore(
        &self,
        name: &str,
        previous: &Value,
        applied: &Value,
    ) -> Result<Restored<Value>, BackendError>;
    /// [`Backend::labels`].
    fn labels(&self, settings: &Value) -> Result<Labels, BackendError>;
    /// [`Backend::planned`].
    fn planned(&self, current: &Value, change: &Change) -> Result<Value, BackendError>;
}

/// A backend and the kind it changes.
pub(crate) struct Erased<B> {
    pub(crate) kind: TargetKind,
    pub(crate) backend: B,
}

/// Journaled settings this version cannot read: never guessed at, the resource is left alone.
fn unreadable(name: &str, e: &serde_json::Error) -> BackendError {
    BackendError::Refused {
        resource: name.to_owned(),
        reason: format!("its recorded settings do not read back: {e}"),
    }
}

fn to_json<S: serde::Serialize>(name: &str, settings: &S) -> Result<Value, BackendError> {
    serde_json::to_value(settings).map_err(|e| unreadable(name, &e))
}

fn from_json<S: serde::de::DeserializeOwned>(name: &str, v: &Value) -> Result<S, BackendError> {
    S::deserialize(v).map_err(|e| unreadable(name, &e))
}

#[async_trait]
impl<B: Backend> AnyBackend for Erased<B> {
    fn kind(&self) -> TargetKind {
        self.kind
    }

    async fn read(&self, name: &str) -> Result<Value, BackendError> {
        to_json(name, &self.backend.read(name).await?)
    }

    async fn apply(
        &self,
        name: &str,
        expected: &Value,
        change: &Change,
    ) -> Result<Value, BackendError> {
        let expected: B::Settings = from_json(name, expected)?;
        to_json(name, &self.backend.apply(name, &expected, change).await?)
    }

    async fn restore(
        &self,
        name: &str,
        previous: &Value,
        applied: &Value,
    ) -> Result<Restored<Value>, BackendError> {
        let previous: B::Settings = from_json(name, previous)?;
        let applied: B::Settings = from_json(name, applied)?;
        Ok(
            match self.backend.restore(name, &previous, &applied).await? {
                Restored::Done => Restored::Done,
                Restored::Conflict { found } => Restored::Conflict {
                    found: to_json(name, &found)?,
                },
            },
        )
    }

    fn labels(&self, settings: &Value) -> Result<Labels, BackendError> {
        let settings: B::Settings = from_json("settings", settings)?;
        Ok(self.backend.labels(&settings))
    }

    fn planned(&self, current: &Value, change: &Change) -> Result<Value, BackendError> {
        let current: B::Settings = from_json("settings", current)?;
        to_json("settings", &self.backend.planned(&current, change))
    }
}
