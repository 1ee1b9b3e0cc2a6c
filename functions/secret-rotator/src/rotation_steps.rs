//! The rotation protocol's steps, typed; `control.rotations.step` and
//! `secret.rotation.failed` spell them as before.

shared::steps! {
    /// One step of a rotation, in protocol order, then the sweep's cleanup.
    pub enum RotationStep: "rotation" of "secret" {
        /// The `current` credential logs in; the target role is chosen.
        Check = "check",
        /// The new version is added and aliased `pending`.
        Create = "create",
        /// The new password is set on the target role.
        Set = "set",
        /// The new credential logs in.
        Test = "test",
        /// `pending` becomes `current`, `current` becomes `previous`.
        Finish = "finish",
        /// Old versions are disabled after the grace period (the sweep's, never journaled).
        Grace = "grace",
    }
}
