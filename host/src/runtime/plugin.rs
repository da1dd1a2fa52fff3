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

use super::error::CallError;
use super::limits::CapLimiter;
use super::model::{ConnectorError, bank, pos};
use super::output::fits_within;
use super::state::{CallContext, Capabilities, HostState};
use super::{ContractVersion, Shared, v1, v2};
use crate::capabilities::log::{LogBudget, LogCtx};
use crate::capabilities::{Grants, config::ConfigCtx, http::HttpCtx};
use crate::capabilities::{signing::SigningCtx, storage::StorageCtx};
use crate::kv::Scope;
use crate::wit;

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
    V1Bank(wit::v1::bank::BankConnectorPre<HostState>),
    V1Pos(wit::v1::pos::PosConnectorPre<HostState>),
    V2Bank(wit::v2::bank::BankConnectorPre<HostState>),
    V2Pos(wit::v2::pos::PosConnectorPre<HostState>),
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
    log_budget: Arc<LogBudget>,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.inner.id)
            .field("world", &self.world())
            .field("contract", &self.contract())
            .field("digest", &self.inner.digest)
            .finish_non_exhaustive()
    }
}

/// Runs `$body` with a fresh instance of `$pre` bound to `$b`.
macro_rules! on_instance {
    ($self:ident, $ctx:expr, $call:expr, $pre:expr, |$b:ident, $store:ident| $body:expr) => {
        $self
            .invoke($ctx, $call, |mut $store| async move {
                let result = async {
                    let $b = $pre.instantiate_async(&mut $store).await?;
                    $body.await
                }
                .await;
                ($store, result)
            })
            .await
    };
}

/// The exports every world has (lifecycle, tasks), on whichever world and
/// version the plugin is.
macro_rules! shared_export {
    ($self:ident, $ctx:expr, $call:literal, |$b:ident, $store:ident| $body:expr) => {
        match &$self.inner.pre {
            Pre::V1Bank(pre) => on_instance!($self, $ctx, $call, pre, |$b, $store| $body),
            Pre::V1Pos(pre) => on_instance!($self, $ctx, $call, pre, |$b, $store| $body),
            Pre::V2Bank(pre) => on_instance!($self, $ctx, $call, pre, |$b, $store| $body),
            Pre::V2Pos(pre) => on_instance!($self, $ctx, $call, pre, |$b, $store| $body),
        }
    };
}

/// A request an older contract cannot carry, refused before any instance.
fn refused(plugin: &Plugin, call: &'static str, error: ConnectorError) -> CallError {
    CallError::Connector {
        plugin: plugin.id().to_owned(),
        call,
        error,
    }
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
                log_budget: Arc::new(LogBudget::new(shared.limits.max_log_lines_per_second)),
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
            Pre::V1Bank(_) | Pre::V2Bank(_) => World::BankConnector,
            Pre::V1Pos(_) | Pre::V2Pos(_) => World::PosConnector,
        }
    }

    /// The contract version the component was built for.
    pub fn contract(&self) -> ContractVersion {
        match self.inner.pre {
            Pre::V1Bank(_) | Pre::V1Pos(_) => ContractVersion::V1,
            Pre::V2Bank(_) | Pre::V2Pos(_) => ContractVersion::V2,
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
        shared_export!(self, ctx, "lifecycle.install", |b, store| b
            .h2h_connector_lifecycle()
            .call_install(&mut store))
    }

    /// `lifecycle.migrate` from `previous`.
    pub async fn migrate(&self, ctx: CallContext, previous: &str) -> Result<(), CallError> {
        shared_export!(self, ctx, "lifecycle.migrate", |b, store| b
            .h2h_connector_lifecycle()
            .call_migrate(&mut store, previous))
    }

    /// `tasks.run` for the task `name`.
    pub async fn run_task(&self, ctx: CallContext, name: &str) -> Result<(), CallError> {
        shared_export!(self, ctx, "tasks.run", |b, store| b
            .h2h_connector_tasks()
            .call_run(&mut store, name))
    }

    /// `bank.open-session`.
    pub async fn open_session(
        &self,
        ctx: CallContext,
        request: &bank::SessionRequest,
    ) -> Result<bank::Session, CallError> {
        const CALL: &str = "bank.open-session";
        match &self.inner.pre {
            Pre::V1Bank(pre) => {
                let r =
                    v1::exports::session_request(request).map_err(|e| refused(self, CALL, e))?;
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_bank()
                    .call_open_session(&mut store, &r))
                .map(v1::exports::session)
            }
            Pre::V2Bank(pre) => {
                let r = v2::exports::session_request(request);
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_bank()
                    .call_open_session(&mut store, &r))
                .map(v2::exports::session)
            }
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `bank.complete-session` (2.0 and later).
    pub async fn complete_session(
        &self,
        ctx: CallContext,
        session_id: &str,
        signature: &bank::ChallengeSignature,
    ) -> Result<bank::Session, CallError> {
        const CALL: &str = "bank.complete-session";
        match &self.inner.pre {
            Pre::V1Bank(_) => Err(refused(
                self,
                CALL,
                v1::exports::cannot_say("a challenge signature"),
            )),
            Pre::V2Bank(pre) => {
                let s = v2::exports::challenge_signature(signature);
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_bank()
                    .call_complete_session(&mut store, session_id, &s))
                .map(v2::exports::session)
            }
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `bank.refresh-session`.
    pub async fn refresh_session(
        &self,
        ctx: CallContext,
        session_id: &str,
    ) -> Result<bank::Session, CallError> {
        const CALL: &str = "bank.refresh-session";
        match &self.inner.pre {
            Pre::V1Bank(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_bank()
                .call_refresh_session(&mut store, session_id))
            .map(v1::exports::session),
            Pre::V2Bank(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_bank()
                .call_refresh_session(&mut store, session_id))
            .map(v2::exports::session),
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `bank.close-session`.
    pub async fn close_session(&self, ctx: CallContext, session_id: &str) -> Result<(), CallError> {
        const CALL: &str = "bank.close-session";
        match &self.inner.pre {
            Pre::V1Bank(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_bank()
                .call_close_session(&mut store, session_id)),
            Pre::V2Bank(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_bank()
                .call_close_session(&mut store, session_id)),
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `bank.fetch-statement`.
    pub async fn fetch_statement(
        &self,
        ctx: CallContext,
        query: &bank::StatementQuery,
    ) -> Result<bank::Statement, CallError> {
        const CALL: &str = "bank.fetch-statement";
        match &self.inner.pre {
            Pre::V1Bank(pre) => {
                let q = v1::exports::statement_query(query);
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_bank()
                    .call_fetch_statement(&mut store, &q))
                .map(v1::exports::statement)
            }
            Pre::V2Bank(pre) => {
                let q = v2::exports::statement_query(query);
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_bank()
                    .call_fetch_statement(&mut store, &q))
                .map(v2::exports::statement)
            }
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `bank.get-balance`.
    pub async fn get_balance(
        &self,
        ctx: CallContext,
        account: &str,
    ) -> Result<bank::Balance, CallError> {
        const CALL: &str = "bank.get-balance";
        match &self.inner.pre {
            Pre::V1Bank(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_bank()
                .call_get_balance(&mut store, account))
            .map(v1::exports::balance),
            Pre::V2Bank(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_bank()
                .call_get_balance(&mut store, account))
            .map(v2::exports::balance),
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `bank.submit-batch`.
    pub async fn submit_batch(
        &self,
        ctx: CallContext,
        batch: &bank::TransferBatch,
    ) -> Result<bank::BatchStatus, CallError> {
        const CALL: &str = "bank.submit-batch";
        match &self.inner.pre {
            Pre::V1Bank(pre) => {
                let x = v1::exports::batch(batch).map_err(|e| refused(self, CALL, e))?;
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_bank()
                    .call_submit_batch(&mut store, &x))
                .map(v1::exports::batch_status)
            }
            Pre::V2Bank(pre) => {
                let x = v2::exports::batch(batch);
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_bank()
                    .call_submit_batch(&mut store, &x))
                .map(v2::exports::batch_status)
            }
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `bank.get-batch-status`.
    pub async fn get_batch_status(
        &self,
        ctx: CallContext,
        batch_id: &str,
    ) -> Result<bank::BatchStatus, CallError> {
        const CALL: &str = "bank.get-batch-status";
        match &self.inner.pre {
            Pre::V1Bank(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_bank()
                .call_get_batch_status(&mut store, batch_id))
            .map(v1::exports::batch_status),
            Pre::V2Bank(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_bank()
                .call_get_batch_status(&mut store, batch_id))
            .map(v2::exports::batch_status),
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `bank.withdraw-batch` (2.0 and later).
    pub async fn withdraw_batch(
        &self,
        ctx: CallContext,
        batch_id: &str,
    ) -> Result<bank::BatchStatus, CallError> {
        const CALL: &str = "bank.withdraw-batch";
        match &self.inner.pre {
            Pre::V1Bank(_) => Err(refused(
                self,
                CALL,
                v1::exports::cannot_say("a batch withdrawal"),
            )),
            Pre::V2Bank(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_bank()
                .call_withdraw_batch(&mut store, batch_id))
            .map(v2::exports::batch_status),
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `pos.redeem-pairing-code`.
    pub async fn redeem_pairing_code(
        &self,
        ctx: CallContext,
        code: &str,
    ) -> Result<pos::Pairing, CallError> {
        const CALL: &str = "pos.redeem-pairing-code";
        match &self.inner.pre {
            Pre::V1Pos(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_pos()
                .call_redeem_pairing_code(&mut store, code))
            .map(v1::exports::pairing),
            Pre::V2Pos(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_pos()
                .call_redeem_pairing_code(&mut store, code))
            .map(v2::exports::pairing),
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `pos.list-terminals` with a device's API key (1.0 connectors read
    /// theirs from the company secret `api-key` instead).
    pub async fn list_terminals(
        &self,
        ctx: CallContext,
        api_key: &str,
    ) -> Result<Vec<pos::Terminal>, CallError> {
        const CALL: &str = "pos.list-terminals";
        match &self.inner.pre {
            Pre::V1Pos(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_pos()
                .call_list_terminals(&mut store))
            .map(|list| list.into_iter().map(v1::exports::terminal).collect()),
            Pre::V2Pos(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_pos()
                .call_list_terminals(&mut store, api_key))
            .map(|list| list.into_iter().map(v2::exports::terminal).collect()),
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `pos.start-intent`.
    pub async fn start_intent(
        &self,
        ctx: CallContext,
        api_key: &str,
        request: &pos::IntentRequest,
    ) -> Result<pos::PaymentIntent, CallError> {
        const CALL: &str = "pos.start-intent";
        match &self.inner.pre {
            Pre::V1Pos(pre) => {
                let r = v1::exports::intent_request(request).map_err(|e| refused(self, CALL, e))?;
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_pos()
                    .call_start_intent(&mut store, &r))
                .map(v1::exports::intent)
            }
            Pre::V2Pos(pre) => {
                let r = v2::exports::intent_request(request);
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_pos()
                    .call_start_intent(&mut store, api_key, &r))
                .map(v2::exports::intent)
            }
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `pos.get-intent`.
    pub async fn get_intent(
        &self,
        ctx: CallContext,
        api_key: &str,
        intent_id: &str,
    ) -> Result<pos::PaymentIntent, CallError> {
        const CALL: &str = "pos.get-intent";
        match &self.inner.pre {
            Pre::V1Pos(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_pos()
                .call_get_intent(&mut store, intent_id))
            .map(v1::exports::intent),
            Pre::V2Pos(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_pos()
                .call_get_intent(&mut store, api_key, intent_id))
            .map(v2::exports::intent),
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `pos.find-intent` by the ERP's reference (2.0 and later).
    pub async fn find_intent(
        &self,
        ctx: CallContext,
        api_key: &str,
        reference: &str,
    ) -> Result<Option<pos::PaymentIntent>, CallError> {
        const CALL: &str = "pos.find-intent";
        match &self.inner.pre {
            Pre::V1Pos(_) => Err(refused(
                self,
                CALL,
                v1::exports::cannot_say("a lookup by reference"),
            )),
            Pre::V2Pos(pre) => on_instance!(self, ctx, CALL, pre, |b, store| b
                .h2h_connector_pos()
                .call_find_intent(&mut store, api_key, reference))
            .map(|found| found.map(v2::exports::intent)),
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `pos.list-intents`.
    pub async fn list_intents(
        &self,
        ctx: CallContext,
        api_key: &str,
        query: &pos::IntentQuery,
    ) -> Result<Vec<pos::PaymentIntent>, CallError> {
        const CALL: &str = "pos.list-intents";
        match &self.inner.pre {
            Pre::V1Pos(pre) => {
                if query.status.is_some() || query.terminal.is_some() {
                    return Err(refused(
                        self,
                        CALL,
                        v1::exports::cannot_say("a filter by status or terminal"),
                    ));
                }
                let (from, to) = (query.from.clone(), query.to.clone());
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_pos()
                    .call_list_intents(&mut store, &from, &to))
                .map(|list| list.into_iter().map(v1::exports::intent).collect())
            }
            Pre::V2Pos(pre) => {
                let q = v2::exports::intent_query(query);
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_pos()
                    .call_list_intents(&mut store, api_key, &q))
                .map(|list| list.into_iter().map(v2::exports::intent).collect())
            }
            _ => Err(self.wrong_world(CALL)),
        }
    }

    /// `pos.void-intent`.
    pub async fn void_intent(
        &self,
        ctx: CallContext,
        api_key: &str,
        target: &pos::VoidTarget,
    ) -> Result<pos::PaymentIntent, CallError> {
        const CALL: &str = "pos.void-intent";
        match &self.inner.pre {
            Pre::V1Pos(pre) => {
                let pos::VoidTarget::Intent(intent_id) = target else {
                    return Err(refused(
                        self,
                        CALL,
                        v1::exports::cannot_say("a void by the payment's RRN"),
                    ));
                };
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_pos()
                    .call_void_intent(&mut store, intent_id))
                .map(v1::exports::intent)
            }
            Pre::V2Pos(pre) => {
                let t = v2::exports::void_target(target);
                on_instance!(self, ctx, CALL, pre, |b, store| b
                    .h2h_connector_pos()
                    .call_void_intent(&mut store, api_key, &t))
                .map(v2::exports::intent)
            }
            _ => Err(self.wrong_world(CALL)),
        }
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
                shared.metrics.clone(),
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
                self.inner.log_budget.clone(),
            ),
            config: ConfigCtx::new(
                wit::v2::config::Invocation {
                    company_id: ctx.company_id,
                    user: ctx.user,
                    call: call.to_owned(),
                    session: ctx.session.map(|s| wit::v2::config::SessionContext {
                        id: s.id,
                        bank_user_id: s.bank_user_id,
                        company_ids: s.company_ids,
                        secret: s
                            .secret
                            .map(|x| secrecy::ExposeSecret::expose_secret(&x).to_owned()),
                    }),
                },
                ctx.settings,
                ctx.secrets,
            ),
        };
        let state = HostState::new(caps, CapLimiter::new(limits.memory_bytes), deadline);
        let mut store = Store::new(&shared.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_hostcall_fuel(limits.max_transfer_bytes);
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
    /// [`CallError`] naming the plugin and the call; counted in the
    /// runtime's metrics.
    async fn invoke<T, E, Fut>(
        &self,
        ctx: CallContext,
        call: &'static str,
        run: impl FnOnce(Store<HostState>) -> Fut,
    ) -> Result<T, CallError>
    where
        T: Serialize,
        E: Into<ConnectorError>,
        Fut: Future<Output = (Store<HostState>, wasmtime::Result<Result<T, E>>)>,
    {
        let started = Instant::now();
        let metrics = &self.inner.shared.metrics;
        let _instance = metrics.instance();
        let result = async {
            let limits = &self.inner.shared.limits;
            let plugin = || self.id().to_owned();
            let store = self.new_store(ctx, call);
            // The epoch callback stops guest code; this also bounds time spent
            // waiting in host calls. A little slack lets the precise error win.
            let Ok((store, outcome)) =
                tokio::time::timeout(limits.deadline + super::engine::EPOCH_TICK * 5, run(store))
                    .await
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
                    error: error.into(),
                }),
                Err(trap) => Err(classify_trap(trap, store.data(), self.id(), call, limits)),
            }
        }
        .await;
        let outcome = result.as_ref().err().map_or("ok", CallError::outcome);
        metrics.record_call(self.id(), call, outcome, started.elapsed());
        result
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
    if is_transfer_cap(&error) {
        return CallError::TransferTooLarge {
            plugin,
            call,
            limit_bytes: limits.max_transfer_bytes,
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
    V1Bank(wit::v1::bank::BankConnector),
    V1Pos(wit::v1::pos::PosConnector),
    V2Bank(wit::v2::bank::BankConnector),
    V2Pos(wit::v2::pos::PosConnector),
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
            Pre::V1Bank(pre) => Bound::V1Bank(pre.instantiate_async(&mut store).await?),
            Pre::V1Pos(pre) => Bound::V1Pos(pre.instantiate_async(&mut store).await?),
            Pre::V2Bank(pre) => Bound::V2Bank(pre.instantiate_async(&mut store).await?),
            Pre::V2Pos(pre) => Bound::V2Pos(pre.instantiate_async(&mut store).await?),
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
        let store = &mut self.store;
        Ok(match &self.bound {
            Bound::V1Bank(b) => b
                .h2h_connector_tasks()
                .call_run(store, name)
                .await?
                .map_err(Into::into),
            Bound::V1Pos(b) => b
                .h2h_connector_tasks()
                .call_run(store, name)
                .await?
                .map_err(Into::into),
            Bound::V2Bank(b) => b
                .h2h_connector_tasks()
                .call_run(store, name)
                .await?
                .map_err(Into::into),
            Bound::V2Pos(b) => b
                .h2h_connector_tasks()
                .call_run(store, name)
                .await?
                .map_err(Into::into),
        })
    }
}

/// wasmtime's hostcall fuel ran out while copying out of the sandbox. Its
/// error type is private, so this reads the message; the sandbox tests fail
/// if a wasmtime upgrade rewords it.
fn is_transfer_cap(error: &wasmtime::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.to_string().contains("fuel allocated for hostcalls"))
}
