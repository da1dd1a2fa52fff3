//! Values every layer shares, checked in one place so the ERP API, the
//! domain and the stored data agree:
//!
//! - `money`: ISO 4217 currencies with their minor units, and the one
//!   amount grammar money is written in, in and out;
//! - `text`: free text with a length cap and no control or bidirectional
//!   formatting characters.

mod money;
mod text;

pub use money::{Currency, MAX_INTEGER_DIGITS, MoneyError};
pub use text::{TextError, line};
