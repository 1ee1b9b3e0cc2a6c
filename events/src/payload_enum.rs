//! [`payload_enum!`](crate::payload_enum): one handler, several event types.
//!
//! A service that takes several types declares an enum of their payloads; the macro
//! implements [`crate::Payload`] for it by dispatching on the event's `type`, so an event of
//! any other type is refused with [`crate::DecodeError::UnknownType`] listing all of them.

/// Declares an enum of payloads and implements [`Payload`](crate::Payload) for it.
///
/// Each variant wraps one payload type (anything implementing `Payload`: one of our
/// [`TypedEvent`](crate::TypedEvent)s, a Google notification, or another such enum).
/// `accepts()` is the union of the variants' types, `decode` picks the first variant that
/// accepts the event's type, and `idempotency_key` is the variant's.
///
/// ```
/// use events::environment::{EnvironmentRequested, TeardownRequested, TtlSweep};
///
/// events::payload_enum! {
///     /// What the provisioner handles.
///     #[derive(Debug)]
///     pub enum ProvisionerEvent {
///         /// Provision.
///         Requested(EnvironmentRequested),
///         /// Remove one.
///         Teardown(TeardownRequested),
///         /// Remove the expired ones.
///         Sweep(TtlSweep),
///     }
/// }
///
/// use events::Payload;
/// assert_eq!(ProvisionerEvent::accepts().len(), 3);
/// ```
#[macro_export]
macro_rules! payload_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident($ty:ty) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant($ty), )+
        }

        impl $crate::Payload for $name {
            fn accepts() -> &'static [&'static str] {
                // Computed once: the variants' lists are only reachable through functions.
                static ACCEPTS: ::std::sync::OnceLock<::std::vec::Vec<&'static str>> =
                    ::std::sync::OnceLock::new();
                ACCEPTS.get_or_init(|| {
                    let mut all = ::std::vec::Vec::new();
                    $( all.extend_from_slice(<$ty as $crate::Payload>::accepts()); )+
                    all
                })
            }

            fn decode(
                raw: &$crate::RawEvent,
            ) -> ::std::result::Result<Self, $crate::DecodeError> {
                $(
                    if <$ty as $crate::Payload>::accepts().contains(&raw.ty.as_str()) {
                        return <$ty as $crate::Payload>::decode(raw).map(Self::$variant);
                    }
                )+
                ::std::result::Result::Err($crate::DecodeError::UnknownType {
                    ty: raw.ty.clone(),
                    accepted: <Self as $crate::Payload>::accepts().join(", "),
                })
            }

            fn idempotency_key(&self) -> ::std::option::Option<::std::string::String> {
                match self {
                    $( Self::$variant(payload) => $crate::Payload::idempotency_key(payload), )+
                }
            }
        }
    };
}
