//! Contract 2.0 (`h2h:connector@2.0.0`): its generated export types
//! turned into the host's model and back. The capabilities implement this
//! version's imports directly.

pub(crate) mod exports;
