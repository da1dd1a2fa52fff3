//! Contract 1.0 (`h2h:connector@1.0.0`, frozen): its host interfaces served
//! by the capabilities' newest implementations (`imports`), and its export
//! types turned into the host's model and back (`exports`). What 1.0 cannot
//! say (split payments, signed or editable batches, sessions completed by a
//! signature) is refused with a clear error, never dropped.

pub(crate) mod exports;
mod imports;
