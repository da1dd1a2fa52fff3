//! Workspace end-to-end tests live in `tests/tests/`; bank simulators will
//! live beside them as crates. This library is intentionally empty.
