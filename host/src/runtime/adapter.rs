//! What every contract version's adapter shares: `types.money` and
//! `types.error` have the same shape in each version, so their conversions
//! to the model are written once and stamped into each adapter.

/// Defines `error`, `money`, `money_out` and `From<types::Error>` for the
/// `types` module in scope of the adapter that invokes it.
macro_rules! money_and_error_conversions {
    () => {
        pub(crate) fn error(e: types::Error) -> crate::runtime::model::ConnectorError {
            use crate::runtime::model::{Busy, ConnectorError as E, Rejection};
            match e {
                types::Error::Unavailable(m) => E::Unavailable(m),
                types::Error::Timeout(m) => E::Timeout(m),
                types::Error::Busy(b) => E::Busy(Busy {
                    message: b.message,
                    retry_after_seconds: b.retry_after_seconds,
                }),
                types::Error::Rejected(r) => E::Rejected(Rejection {
                    code: r.code,
                    message: r.message,
                }),
                types::Error::InvalidInput(m) => E::InvalidInput(m),
                types::Error::SessionRequired(m) => E::SessionRequired(m),
                types::Error::Unauthorized(m) => E::Unauthorized(m),
                types::Error::Protocol(m) => E::Protocol(m),
                types::Error::Unsupported(m) => E::Unsupported(m),
            }
        }

        impl From<types::Error> for crate::runtime::model::ConnectorError {
            fn from(e: types::Error) -> Self {
                error(e)
            }
        }

        fn money(x: types::Money) -> crate::runtime::model::Money {
            crate::runtime::model::Money {
                amount: x.amount,
                currency: x.currency,
            }
        }

        fn money_out(x: &crate::runtime::model::Money) -> types::Money {
            types::Money {
                amount: x.amount.clone(),
                currency: x.currency.clone(),
            }
        }
    };
}

pub(crate) use money_and_error_conversions;
