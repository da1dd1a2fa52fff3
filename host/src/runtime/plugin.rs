//! A loaded plugin: its pre-linked component, and the calls into it.
//!
//! Every call gets a fresh instance from the cached `InstancePre`, so no
//! state leaks between calls, companies or users, and a trapped instance is
//! simply dropped.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use wasmtime::{Store, Trap, UpdateDeadline};

use super::Shared;
use super::bindings::bank::exports::h2h::connector::bank;
use super::bindings::pos::exports::h2h::connector::pos;
use super::bindings::types::Error as ConnectorError;
use super::bindings::{bank::BankConnectorPre, config::Invocation, pos::PosConnectorPre};
use super::error::CallError;
use super::limits::CapLimiter;
use super::output::fits_within;
use super::state::{CallContext, Capabilities, HostState};
use crate::capabilities::{Grants, config::ConfigCtx, http::HttpCtx, log::LogCtx};
use crate::capabilities::{signing::SigningCtx, storage::StorageCtx};
use crate::kv::Scope;

/// Which connector world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// `h2h:connector/bank-connector`.
    BankConnector,
    /// `h2h:connector/pos-connector`.
    PosConnector,
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            World::BankConnector => "bank-connector",
            World::PosConnector => "pos-connector",
        })
    }
}

pub(crate) enum Pre {
    Bank(BankConnectorPre<HostState>),
    Pos(PosConnectorPre<HostState>),
}

/// A plugin ready to be called. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Inner>,
}

struct Inner {
    id: Arc<str>,
    digest: String,
    pre: Pre,
    grants: Grants,
    shared: Arc<Shared>,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.inner.id)
            .field("world", &self.world())
            .field("digest", &self.inner.digest)
            .finish_non_exhaustive()
    }
}

/// Runs `$body` with a fresh instance of the right world bound to `$b`.
macro_rules! call_export {
    ($self:ident, $ctx:expr, $call:literal, $world:ident, |$b:ident, $store:ident| $body:expr) => {{
        let Pre::$world(pre) = &$self.inner.pre else {
            return Err($self.wrong_world($call));
        };
        $self
            .invoke($ctx, $call, |mut $store| async move {
                let result = async {
                    let $b = pre.instantiate_async(&mut $store).await?;
                    $body.await
                }
                .await;
                ($store, result)
            })
            .await
    }};
}

/// Same, for the exports both worlds share (lifecycle, tasks).
macro_rules! call_shared_export {
    ($self:ident, $ctx:expr, $call:literal, |$b:ident, $store:ident| $body:expr) => {{
        match &$self.inner.pre {
            Pre::Bank(pre) => {
                $self
                    .invoke($ctx, $call, |mut $store| async move {
                        let result = async {
                            let $b = pre.instantiate_async(&mut $store).await?;
                            $body.await
                        }
                        .await;
                        ($store, result)
                    })
                    .await
            }
            Pre::Pos(pre) => {
                $self
                    .invoke($ctx, $call, |mut $store| async move {
                        let result = async {
                            let $b = pre.instantiate_async(&mut $store).await?;
                            $body.await
                        }
                        .await;
                        ($store, result)
                    })
                    .await
            }
        }
    }};
}

impl Plugin {
    pub(crate) fn new(
        id: &str,
        digest: String,
        pre: Pre,
        grants: Grants,
        shared: Arc<Shared>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                id: id.into(),
                digest,
                pre,
                grants,
                shared,
            }),
        }
    }

    /// The plugin id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// SHA-256 of the component, hex.
    pub fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// The connector world the component implements.
    pub fn world(&self) -> World {
        match self.inner.pre {
            Pre::Bank(_) => World::BankConnector,
            Pre::Pos(_) => World::PosConnector,
        }
    }

    fn wrong_world(&self, call: &'static str) -> CallError {
        CallError::WrongWorld {
            plugin: self.id().to_owned(),
            call,
            world: self.world(),
        }
    }

    /// `lifecycle.install`.
    pub async fn install(&self, ctx: CallContext) -> Result<(), CallError> {
        call_shared_export!(self, ctx, "lifecycle.install", |b, store| b
            .h2h_connector_lifecycle()
            .call_install(&mut store))
    }

    /// `lifecycle.migrate` from `previous`.
    pub async fn migrate(&self, ctx: CallContext, previous: &str) -> Result<(), CallError> {
        call_shared_export!(self, ctx, "lifecycle.migrate", |b, store| b
            .h2h_connector_lifecycle()
            .call_migrate(&mut store, previous))
    }

    /// `tasks.run` for the task `name`.
    pub async fn run_task(&self, ctx: CallContext, name: &str) -> Result<(), CallError> {
        call_shared_export!(self, ctx, "tasks.run", |b, store| b
            .h2h_connector_tasks()
            .call_run(&mut store, name))
    }

    /// `bank.open-session`.
    pub async fn open_session(
        &self,
        ctx: CallContext,
        request: &bank::SessionRequest,
    ) -> Result<bank::Session, CallError> {
        call_export!(self, ctx, "bank.open-session", Bank, |b, store| b
            .h2h_connector_bank()
            .call_open_session(&mut store, request))
    }

    /// `bank.refresh-session`.
    pub async fn refresh_session(
        &self,
        ctx: CallContext,
        session_id: &str,
    ) -> Result<bank::Session, CallError> {
        call_export!(self, ctx, "bank.refresh-session", Bank, |b, store| b
            .h2h_connector_bank()
            .call_refresh_session(&mut store, session_id))
    }

    /// `bank.close-session`.
    pub async fn close_session(&self, ctx: CallContext, session_id: &str) -> Result<(), CallError> {
        call_export!(self, ctx, "bank.close-session", Bank, |b, store| b
            .h2h_connector_bank()
            .call_close_session(&mut store, session_id))
    }

    /// `bank.fetch-statement`.
    pub async fn fetch_statement(
        &self,
        ctx: CallContext,
        query: &bank::StatementQuery,
    ) -> Result<bank::Statement, CallError> {
        call_export!(self, ctx, "bank.fetch-statement", Bank, |b, store| b
            .h2h_connector_bank()
            .call_fetch_statement(&mut store, query))
    }

    /// `bank.get-balance`.
    pub async fn get_balance(
        &self,
        ctx: CallContext,
        account: &str,
    ) -> Result<bank::Balance, CallError> {
        call_export!(self, ctx, "bank.get-balance", Bank, |b, store| b
            .h2h_connector_bank()
            .call_get_balance(&mut store, account))
    }

    /// `bank.submit-batch`.
    pub async fn submit_batch(
        &self,
        ctx: CallContext,
        batch: &bank::TransferBatch,
    ) -> Result<bank::BatchStatus, CallError> {
        call_export!(self, ctx, "bank.submit-batch", Bank, |b, store| b
            .h2h_connector_bank()
            .call_submit_batch(&mut store, batch))
    }

    /// `bank.get-batch-status`.
    pub async fn get_batch_status(
        &self,
        ctx: CallContext,
        batch_id: &str,
    ) -> Result<bank::BatchStatus, CallError> {
        call_export!(self, ctx, "bank.get-batch-status", Bank, |b, store| b
            .h2h_connector_bank()
            .call_get_batch_status(&mut store, batch_id))
    }

    /// `pos.redeem-pairing-code`.
    pub async fn redeem_pairing_code(
        &self,
        ctx: CallContext,
        code: &str,
    ) -> Result<pos::Pairing, CallError> {
        call_export!(self, ctx, "pos.redeem-pairing-code", Pos, |b, store| b
            .h2h_connector_pos()
            .call_redeem_pairing_code(&mut store, code))
    }

    /// `pos.list-terminals`.
    pub async fn list_terminals(&self, ctx: CallContext) -> Result<Vec<pos::Terminal>, CallError> {
        call_export!(self, ctx, "pos.list-terminals", Pos, |b, store| b
            .h2h_connector_pos()
            .call_list_terminals(&mut store))
    }

    /// `pos.start-intent`.
    pub async fn start_intent(
        &self,
        ctx: CallContext,
        request: &pos::IntentRequest,
    ) -> Result<pos::PaymentIntent, CallError> {
        call_export!(self, ctx, "pos.start-intent", Pos, |b, store| b
            .h2h_connector_pos()
            .call_start_intent(&mut store, request))
    }

    /// `pos.get-intent`.
    pub async fn get_intent(
        &self,
        ctx: CallContext,
        intent_id: &str,
    ) -> Result<pos::PaymentIntent, CallError> {
        call_export!(self, ctx, "pos.get-intent", Pos, |b, store| b
            .h2h_connector_pos()
            .call_get_intent(&mut store, intent_id))
    }

    /// `pos.list-intents` created in `[from, to)`.
    pub async fn list_intents(
        &self,
        ctx: CallContext,
        from: &str,
        to: &str,
    ) -> Result<Vec<pos::PaymentIntent>, CallError> {
        let (from, to) = (from.to_owned(), to.to_owned());
        call_export!(self, ctx, "pos.list-intents", Pos, |b, store| b
            .h2h_connector_pos()
            .call_list_intents(&mut store, &from, &to))
    }

    /// `pos.void-intent`.
    pub async fn void_intent(
        &self,
        ctx: CallContext,
        intent_id: &str,
    ) -> Result<pos::PaymentIntent, CallError> {
        call_export!(self, ctx, "pos.void-intent", Pos, |b, store| b
            .h2h_connector_pos()
            .call_void_intent(&mut store, intent_id))
    }

    fn new_store(&self, ctx: CallContext, call: &'static str) -> Store<HostState> {
        let shared = &self.inner.shared;
        let limits = &shared.limits;
        let plugin = self.inner.id.clone();
        let grants = &self.inner.grants;
        let deadline = Instant::now() + limits.deadline;
        let caps = Capabilities {
            http: HttpCtx::new(
                plugin.clone(),
                grants.http.clone(),
                ctx.tls_identities,
                deadline,
            ),
            storage: StorageCtx::new(
                Scope {
                    plugin: plugin.clone(),
                    company: ctx.company_id.clone(),
                },
                grants.storage.clone(),
                shared.kv.clone(),
            ),
            signing: SigningCtx::new(
                plugin.clone(),
                grants.signing.clone(),
                ctx.company_id.clone(),
            ),
            log: LogCtx::new(
                plugin,
                ctx.company_id.clone(),
                call,
                limits.max_log_line_bytes,
            ),
            config: ConfigCtx::new(
                Invocation {
                    company_id: ctx.company_id,
                    user: ctx.user,
                    call: call.to_owned(),
                },
                ctx.settings,
                ctx.secrets,
            ),
        };
        let state = HostState::new(caps, CapLimiter::new(limits.memory_bytes), deadline);
        let mut store = Store::new(&shared.engine, state);
        store.limiter(|state| &mut state.limiter);
        // Check every tick: past the deadline, stop; before it, yield so a
        // spinning guest cannot starve the executor.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            if Instant::now() >= state.deadline {
                state.deadline_hit = true;
                return Err(Trap::Interrupt.into());
            }
            Ok(UpdateDeadline::Yield(1))
        });
        store
    }

    /// Runs one call in a fresh store and turns every way it can fail into a
    /// [`CallError`] naming the plugin and the call.
    async fn invoke<T, Fut>(
        &self,
        ctx: CallContext,
        call: &'static str,
        run: impl FnOnce(Store<HostState>) -> Fut,
    ) -> Result<T, CallError>
    where
        T: Serialize,
        Fut: Future<
            Output = (
                Store<HostState>,
                wasmtime::Result<Result<T, ConnectorError>>,
            ),
        >,
    {
        let limits = &self.inner.shared.limits;
        let plugin = || self.id().to_owned();
        let store = self.new_store(ctx, call);
        // The epoch callback stops guest code; this also bounds time spent
        // waiting in host calls. A little slack lets the precise error win.
        let Ok((store, outcome)) =
            tokio::time::timeout(limits.deadline + super::engine::EPOCH_TICK * 5, run(store)).await
        else {
            return Err(CallError::DeadlineExceeded {
                plugin: plugin(),
                call,
                limit: limits.deadline,
            });
        };
        match outcome {
            Ok(Ok(value)) if fits_within(&value, limits.max_output_bytes) => Ok(value),
            Ok(Ok(_)) => Err(CallError::OutputTooLarge {
                plugin: plugin(),
                call,
                limit_bytes: limits.max_output_bytes,
            }),
            Ok(Err(error)) => Err(CallError::Connector {
                plugin: plugin(),
                call,
                error,
            }),
            Err(trap) => Err(classify_trap(trap, store.data(), self.id(), call, limits)),
        }
    }
}

fn classify_trap(
    error: wasmtime::Error,
    state: &HostState,
    plugin: &str,
    call: &'static str,
    limits: &super::Limits,
) -> CallError {
    let plugin = plugin.to_owned();
    // Host-side flags first: they say why the guest ended up trapping.
    if state.deadline_hit {
        return CallError::DeadlineExceeded {
            plugin,
            call,
            limit: limits.deadline,
        };
    }
    if state.limiter.memory_cap_hit {
        return CallError::MemoryLimit {
            plugin,
            call,
            limit_bytes: limits.memory_bytes,
        };
    }
    if let Some(message) = &state.log.panic_message {
        return CallError::Panic {
            plugin,
            call,
            message: message.clone(),
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => CallError::StackOverflow { plugin, call },
        Some(Trap::AllocationTooLarge) => CallError::MemoryLimit {
            plugin,
            call,
            limit_bytes: limits.memory_bytes,
        },
        Some(trap) => CallError::Trap {
            plugin,
            call,
            reason: trap.to_string(),
        },
        None if error.is::<wasmtime::PoolConcurrencyLimitError>() => CallError::Busy {
            plugin,
            call,
            reason: format!("{error:#}"),
        },
        None => CallError::Trap {
            plugin,
            call,
            reason: format!("{error:#}"),
        },
    }
}

enum Bound {
    Bank(super::bindings::bank::BankConnector),
    Pos(super::bindings::pos::PosConnector),
}

/// One instance kept across calls, to measure what a fresh instance costs.
///
/// The host never serves calls this way: calls would share memory, and a
/// trap would poison the instance for every later call.
#[doc(hidden)]
pub struct ReusedInstance {
    store: Store<HostState>,
    bound: Bound,
    plugin: Plugin,
}

impl Plugin {
    #[doc(hidden)]
    pub async fn reused_instance(&self, ctx: CallContext) -> wasmtime::Result<ReusedInstance> {
        let mut store = self.new_store(ctx, "tasks.run");
        let bound = match &self.inner.pre {
            Pre::Bank(pre) => Bound::Bank(pre.instantiate_async(&mut store).await?),
            Pre::Pos(pre) => Bound::Pos(pre.instantiate_async(&mut store).await?),
        };
        Ok(ReusedInstance {
            store,
            bound,
            plugin: self.clone(),
        })
    }
}

impl ReusedInstance {
    /// `tasks.run` on the kept instance.
    pub async fn run_task(&mut self, name: &str) -> wasmtime::Result<Result<(), ConnectorError>> {
        self.store.data_mut().deadline = Instant::now() + self.plugin.inner.shared.limits.deadline;
        match &self.bound {
            Bound::Bank(b) => {
                b.h2h_connector_tasks()
                    .call_run(&mut self.store, name)
                    .await
            }
            Bound::Pos(b) => {
                b.h2h_connector_tasks()
                    .call_run(&mut self.store, name)
                    .await
            }
        }
    }
}
