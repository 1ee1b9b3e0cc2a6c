//! The kit of a multi-step task (provisioning, rotation, …): its steps, typed and named the
//! way the journal and the events spell them, and the error base every task shares, with
//! the one mapping of its kinds to done / retry / rejected.

use std::{convert::Infallible, fmt, str::FromStr};

use crate::{crash_point::Injected, Classify, Disposition, MissingBackend};

/// One step of a multi-step task. The journal (the task's row in the control database) and
/// the events store [`Step::as_str`]; [`FromStr`] reads it back, so both stay byte-for-byte
/// what they were when steps were strings. Define one with [`crate::steps!`].
pub trait Step: Copy + Eq + fmt::Debug + fmt::Display + FromStr + Send + Sync + 'static {
    /// Every step, in the order the task runs them.
    const ALL: &'static [Self];
    /// The task's name in messages (`provisioning`, `rotation`).
    const TASK: &'static str;
    /// What one task works on, in messages (`environment`, `secret`).
    const SUBJECT: &'static str;
    /// The step's name as journaled and published.
    fn as_str(self) -> &'static str;
}

/// Defines a [`Step`] enum: variants with their journal names, `as_str`, `Display`,
/// `FromStr` (an unknown name is an error naming it) and comparison with a `&str`.
#[macro_export]
macro_rules! steps {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $task:literal of $subject:literal {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The step's name as journaled and published.
            $vis const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl $crate::task::Step for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            const TASK: &'static str = $task;
            const SUBJECT: &'static str = $subject;
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::task::UnknownStep;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err($crate::task::UnknownStep(other.to_owned())),
                }
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

/// A journaled step name this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown step {0:?}")]
pub struct UnknownStep(pub String);

/// What went wrong running a task; `X` is what a service adds of its own (the rotator's
/// "too soon"), [`Infallible`] when nothing.
#[derive(Debug, thiserror::Error)]
pub enum TaskError<S: Step, X = Infallible> {
    /// The event can never succeed as sent.
    #[error("{0}")]
    Rejected(String),
    /// Another delivery holds this subject's lock; it will be done by the time a redelivery
    /// arrives.
    #[error("{subject} {0} is being worked on by another delivery", subject = S::SUBJECT)]
    Busy(String),
    /// A step failed for good; the task cleaned up and published its failure.
    #[error("{task} of {subject} failed at step {step}: {reason}", task = S::TASK)]
    Failed {
        /// What the task works on (the environment, the secret).
        subject: String,
        /// The step.
        step: S,
        /// Why.
        reason: String,
    },
    /// A dependency is unavailable at this step; the journal is kept and a redelivery
    /// resumes.
    #[error("{task} of {subject}, step {step}: {reason}", task = S::TASK)]
    Transient {
        /// What the task works on.
        subject: String,
        /// The step.
        step: S,
        /// Why.
        reason: String,
    },
    /// The control database failed.
    #[error("control database: {0}")]
    Control(#[from] sqlx::Error),
    /// A backend is not configured.
    #[error(transparent)]
    Missing(#[from] MissingBackend),
    /// A follow-up event could not be published.
    #[error(transparent)]
    Publish(#[from] crate::backends::publisher::PublishError),
    /// A test stopped the task here (the `fault-injection` feature, tests only).
    #[cfg(feature = "fault-injection")]
    #[error("fault injected at {0}")]
    Injected(String),
    /// The service's own cases.
    #[error(transparent)]
    Other(X),
}

impl<S: Step, X> From<Injected> for TaskError<S, X> {
    fn from(injected: Injected) -> Self {
        #[cfg(feature = "fault-injection")]
        return Self::Injected(injected.0);
        #[cfg(not(feature = "fault-injection"))]
        match injected {}
    }
}

impl<S: Step, X: Classify> Classify for TaskError<S, X> {
    fn disposition(&self) -> Disposition {
        match self {
            Self::Rejected(_) | Self::Failed { .. } => Disposition::Reject,
            Self::Busy(_) => Disposition::Retry { quiet: true },
            Self::Transient { .. } | Self::Control(_) | Self::Missing(_) | Self::Publish(_) => {
                Disposition::Retry { quiet: false }
            }
            // A crash the test asked for: the redelivery is the point, not an incident.
            #[cfg(feature = "fault-injection")]
            Self::Injected(_) => Disposition::Retry { quiet: true },
            Self::Other(other) => other.disposition(),
        }
    }
}

/// No service cases: never constructed.
impl Classify for Infallible {
    fn disposition(&self) -> Disposition {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::steps! {
        /// Two steps, for the tests.
        enum Demo: "demo" of "thing" { First = "first", Second = "second:two" }
    }

    #[test]
    fn steps_round_trip_through_their_journal_names() {
        for step in Demo::ALL {
            assert_eq!(step.as_str().parse::<Demo>(), Ok(*step));
            assert_eq!(step.to_string(), step.as_str());
        }
        assert_eq!(Demo::Second.as_str(), "second:two");
        assert_eq!("third".parse::<Demo>(), Err(UnknownStep("third".into())));
        assert!(Demo::First == "first" && Demo::First != "second:two");
    }

    #[test]
    fn every_kind_maps_to_its_disposition_and_names_step_and_subject() {
        let failed: TaskError<Demo> = TaskError::Failed {
            subject: "x".into(),
            step: Demo::Second,
            reason: "gone".into(),
        };
        assert_eq!(failed.disposition(), Disposition::Reject);
        assert_eq!(
            failed.to_string(),
            "demo of x failed at step second:two: gone"
        );
        let busy: TaskError<Demo> = TaskError::Busy("x".into());
        assert_eq!(busy.disposition(), Disposition::Retry { quiet: true });
        assert_eq!(
            busy.to_string(),
            "thing x is being worked on by another delivery"
        );
        let transient: TaskError<Demo> = TaskError::Transient {
            subject: "x".into(),
            step: Demo::First,
            reason: "down".into(),
        };
        assert_eq!(transient.disposition(), Disposition::Retry { quiet: false });
        assert_eq!(transient.to_string(), "demo of x, step first: down");
        let rejected: TaskError<Demo> = TaskError::Rejected("bad".into());
        assert_eq!(rejected.disposition(), Disposition::Reject);
    }
}
