//! The export macros: they connect an author's type to the generated
//! bindings, so authors never implement generated traits themselves.

use std::sync::Once;

/// Runs at the start of every export: installs, once per instance, a panic
/// hook that tells the host why the plugin is about to abort (stderr goes
/// nowhere in the sandbox).
pub fn enter() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic with a non-string payload".to_owned());
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            crate::log::report_panic(&format!("{message}{location}"));
        }));
    });
}

#[cfg(feature = "bank")]
/// Exports `$ty` as an `h2h:connector` bank connector. `$ty` implements
/// [`BankConnector`](crate::BankConnector), [`Lifecycle`](crate::Lifecycle)
/// and [`Tasks`](crate::Tasks). Call once per plugin crate.
#[macro_export]
macro_rules! export_bank_connector {
    ($ty:ident) => {
        $crate::__export_lifecycle_and_tasks!($ty, world);

        impl $crate::__private::world::exports::h2h::connector::bank::Guest for $ty {
            fn open_session(request: $crate::bank::SessionRequest) -> $crate::Result<$crate::bank::Session> {
                $crate::__private::enter();
                <$ty as $crate::BankConnector>::open_session(request)
            }
            fn complete_session(
                session_id: ::std::string::String,
                signature: $crate::bank::ChallengeSignature,
            ) -> $crate::Result<$crate::bank::Session> {
                $crate::__private::enter();
                <$ty as $crate::BankConnector>::complete_session(&session_id, signature)
            }
            fn refresh_session(session_id: ::std::string::String) -> $crate::Result<$crate::bank::Session> {
                $crate::__private::enter();
                <$ty as $crate::BankConnector>::refresh_session(&session_id)
            }
            fn close_session(session_id: ::std::string::String) -> $crate::Result<()> {
                $crate::__private::enter();
                <$ty as $crate::BankConnector>::close_session(&session_id)
            }
            fn fetch_statement(query: $crate::bank::StatementQuery) -> $crate::Result<$crate::bank::Statement> {
                $crate::__private::enter();
                <$ty as $crate::BankConnector>::fetch_statement(query)
            }
            fn get_balance(account: ::std::string::String) -> $crate::Result<$crate::bank::Balance> {
                $crate::__private::enter();
                <$ty as $crate::BankConnector>::get_balance(&account)
            }
            fn submit_batch(batch: $crate::bank::TransferBatch) -> $crate::Result<$crate::bank::BatchStatus> {
                $crate::__private::enter();
                <$ty as $crate::BankConnector>::submit_batch(batch)
            }
            fn get_batch_status(batch_id: ::std::string::String) -> $crate::Result<$crate::bank::BatchStatus> {
                $crate::__private::enter();
                <$ty as $crate::BankConnector>::get_batch_status(&batch_id)
            }
            fn withdraw_batch(batch_id: ::std::string::String) -> $crate::Result<$crate::bank::BatchStatus> {
                $crate::__private::enter();
                <$ty as $crate::BankConnector>::withdraw_batch(&batch_id)
            }
        }

        $crate::__private::world::__export_world!($ty with_types_in $crate::__private::world);
    };
}

#[cfg(feature = "pos")]
/// Exports `$ty` as an `h2h:connector` POS connector. `$ty` implements
/// [`PosConnector`](crate::PosConnector), [`Lifecycle`](crate::Lifecycle)
/// and [`Tasks`](crate::Tasks). Call once per plugin crate.
#[macro_export]
macro_rules! export_pos_connector {
    ($ty:ident) => {
        $crate::__export_lifecycle_and_tasks!($ty, pos_world);

        impl $crate::__private::pos_world::exports::h2h::connector::pos::Guest for $ty {
            fn redeem_pairing_code(
                code: ::std::string::String,
            ) -> $crate::Result<$crate::pos::Pairing> {
                $crate::__private::enter();
                <$ty as $crate::PosConnector>::redeem_pairing_code(&code)
            }
            fn list_terminals(
                api_key: ::std::string::String,
            ) -> $crate::Result<::std::vec::Vec<$crate::pos::Terminal>> {
                $crate::__private::enter();
                <$ty as $crate::PosConnector>::list_terminals(&api_key)
            }
            fn start_intent(
                api_key: ::std::string::String,
                request: $crate::pos::IntentRequest,
            ) -> $crate::Result<$crate::pos::PaymentIntent> {
                $crate::__private::enter();
                <$ty as $crate::PosConnector>::start_intent(&api_key, request)
            }
            fn get_intent(
                api_key: ::std::string::String,
                intent_id: ::std::string::String,
            ) -> $crate::Result<$crate::pos::PaymentIntent> {
                $crate::__private::enter();
                <$ty as $crate::PosConnector>::get_intent(&api_key, &intent_id)
            }
            fn find_intent(
                api_key: ::std::string::String,
                reference: ::std::string::String,
            ) -> $crate::Result<::std::option::Option<$crate::pos::PaymentIntent>> {
                $crate::__private::enter();
                <$ty as $crate::PosConnector>::find_intent(&api_key, &reference)
            }
            fn list_intents(
                api_key: ::std::string::String,
                query: $crate::pos::IntentQuery,
            ) -> $crate::Result<::std::vec::Vec<$crate::pos::PaymentIntent>> {
                $crate::__private::enter();
                <$ty as $crate::PosConnector>::list_intents(&api_key, query)
            }
            fn void_intent(
                api_key: ::std::string::String,
                target: $crate::pos::VoidTarget,
            ) -> $crate::Result<$crate::pos::PaymentIntent> {
                $crate::__private::enter();
                <$ty as $crate::PosConnector>::void_intent(&api_key, target)
            }
        }

        $crate::__export_pos_world_if_alone!($ty);
    };
}

/// The component export of the pos world, in a build of the pos world
/// alone (see `bindings.rs`).
#[cfg(all(feature = "pos", not(feature = "bank")))]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_pos_world_if_alone {
    ($ty:ident) => {
        $crate::__private::pos_world::__export_pos_world!($ty with_types_in $crate::__private::pos_world);
    };
}

/// With both worlds in one build (several plugins built together) nothing
/// is exported for the pos world: such a build never becomes a component.
#[cfg(all(feature = "pos", feature = "bank"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_pos_world_if_alone {
    // Keeps the connector's code reachable, so it is checked and linted as
    // in its own build.
    ($ty:ident) => {
        const _: () = {
            let _ = <$ty as $crate::PosConnector>::start_intent;
            let _ = <$ty as $crate::Lifecycle>::install;
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_lifecycle_and_tasks {
    ($ty:ident, $world:ident) => {
        impl $crate::__private::$world::exports::h2h::connector::lifecycle::Guest for $ty {
            fn install() -> $crate::Result<()> {
                $crate::__private::enter();
                <$ty as $crate::Lifecycle>::install()
            }
            fn migrate(previous: ::std::string::String) -> $crate::Result<()> {
                $crate::__private::enter();
                <$ty as $crate::Lifecycle>::migrate(&previous)
            }
        }

        impl $crate::__private::$world::exports::h2h::connector::tasks::Guest for $ty {
            fn run(name: ::std::string::String) -> $crate::Result<()> {
                $crate::__private::enter();
                <$ty as $crate::Tasks>::run(&name)
            }
        }
    };
}
