//! PKCS#11 modules (shared libraries such as SoftHSM2's `libsofthsm2.so` or
//! Certum's `libcrypto3PKCS.so`), loaded and initialized once per process
//! and path: `C_Initialize` is process-wide, so a second context for the
//! same library would only be told it is already initialized.
//!
//! Loading a module runs its code inside the host; only admins name them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::slot::Slot;
use serde::Serialize;

use super::TokenError;

/// A loaded, initialized module.
pub struct Module {
    path: PathBuf,
    pub(super) pkcs11: Pkcs11,
    /// Which session (company, token name) is logged in to each slot, and
    /// the claim's number. PKCS#11 keeps one login state per application
    /// and token, so two sessions cannot each have their PIN checked on the
    /// same token.
    logins: Mutex<HashMap<u64, Holder>>,
}

/// A login claim: (company, token name), and the claim's number.
type Holder = ((String, String), u64);

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module").field("path", &self.path).finish()
    }
}

fn modules() -> &'static Mutex<HashMap<PathBuf, Arc<Module>>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Arc<Module>>>> = OnceLock::new();
    MODULES.get_or_init(Mutex::default)
}

/// The module at `path`, loaded on first use. Blocking (dlopen, the
/// module's own start-up): call from `spawn_blocking`.
pub(crate) fn load(path: &str) -> Result<Arc<Module>, TokenError> {
    let failed = |reason: String| TokenError::ModuleLoad {
        path: path.to_owned(),
        reason,
    };
    if !Path::new(path).is_absolute() {
        return Err(failed("give the module's absolute path".to_owned()));
    }
    // Symlinks to one library share its one initialization.
    let canonical = std::fs::canonicalize(path).map_err(|e| failed(e.to_string()))?;
    let mut loaded = modules().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(module) = loaded.get(&canonical) {
        return Ok(module.clone());
    }
    let pkcs11 = Pkcs11::new(&canonical).map_err(|e| failed(describe(&e)))?;
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(failed(format!("C_Initialize: {}", describe(&e)))),
    }
    let module = Arc::new(Module {
        path: canonical.clone(),
        pkcs11,
        logins: Mutex::new(HashMap::new()),
    });
    loaded.insert(canonical, module.clone());
    Ok(module)
}

/// A cryptoki error as one line.
pub(super) fn describe(error: &CkError) -> String {
    match error {
        CkError::LibraryLoading(e) => e.to_string(),
        CkError::Pkcs11(rv, function) => format!("{function:?}: {rv}"),
        other => other.to_string(),
    }
}

/// One slot of a module, as admins see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SlotView {
    /// The slot id.
    pub slot: u64,
    /// The slot's description.
    pub description: String,
    /// The token's label, if a token is present.
    pub token_label: Option<String>,
    /// The token's serial number, if a token is present.
    pub token_serial: Option<String>,
    /// Whether the token is initialized (has keys and a PIN).
    pub initialized: bool,
    /// Whether the token reports its user PIN locked.
    pub pin_locked: bool,
}

impl Module {
    /// Every slot, with its token. Blocking.
    pub(crate) fn slots(&self) -> Result<Vec<SlotView>, CkError> {
        Ok(self
            .slots_with_handles()?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    fn slots_with_handles(&self) -> Result<Vec<(Slot, SlotView)>, CkError> {
        let mut views = Vec::new();
        for slot in self.pkcs11.get_all_slots()? {
            let info = self.pkcs11.get_slot_info(slot)?;
            let token = if info.token_present() {
                Some(self.pkcs11.get_token_info(slot)?)
            } else {
                None
            };
            let view = SlotView {
                slot: slot.id(),
                description: info.slot_description().trim().to_owned(),
                token_label: token.as_ref().map(|t| t.label().trim().to_owned()),
                token_serial: token.as_ref().map(|t| t.serial_number().trim().to_owned()),
                initialized: token.as_ref().is_some_and(|t| t.token_initialized()),
                pin_locked: token.as_ref().is_some_and(|t| t.user_pin_locked()),
            };
            views.push((slot, view));
        }
        Ok(views)
    }

    /// The slot a registration names: by label (stable across SoftHSM
    /// restarts, whose slot ids are derived from serials) or by id.
    /// Blocking.
    pub(crate) fn find_slot(
        &self,
        token: &str,
        selector: &SlotSelector,
    ) -> Result<(Slot, SlotView), TokenError> {
        let slots = self.slots_with_handles().map_err(|e| TokenError::Pkcs11 {
            token: token.to_owned(),
            operation: "listing slots",
            reason: describe(&e),
        })?;
        let found = slots.iter().find(|(_, v)| match selector {
            SlotSelector::Label(label) => {
                v.initialized && v.token_label.as_deref() == Some(label.as_str())
            }
            SlotSelector::Id(id) => v.slot == *id,
        });
        let Some((slot, view)) = found else {
            let views: Vec<SlotView> = slots.into_iter().map(|(_, v)| v).collect();
            return Err(TokenError::SlotNotFound {
                token: token.to_owned(),
                wanted: selector.to_string(),
                module: self.path.display().to_string(),
                available: available(&views),
            });
        };
        if view.token_label.is_none() {
            return Err(TokenError::TokenNotPresent {
                token: token.to_owned(),
                slot: view.slot,
            });
        }
        Ok((*slot, view.clone()))
    }

    /// Records `company`'s session of `token` as logged in to `slot`;
    /// refuses if another session is. The claim ends when the guard drops.
    pub(super) fn claim(
        self: &Arc<Self>,
        slot: u64,
        token: &str,
        company: &str,
    ) -> Result<LoginClaim, TokenError> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let mut logins = self.logins.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((holder, _)) = logins.get(&slot)
            && (holder.0 != company || holder.1 != token)
        {
            return Err(TokenError::TokenBusy {
                token: token.to_owned(),
                company: holder.0.clone(),
            });
        }
        let number = NEXT.fetch_add(1, Ordering::Relaxed);
        logins.insert(slot, ((company.to_owned(), token.to_owned()), number));
        Ok(LoginClaim {
            module: self.clone(),
            slot,
            number,
        })
    }
}

/// Holds a slot's login for one company until dropped.
#[derive(Debug)]
pub(super) struct LoginClaim {
    module: Arc<Module>,
    slot: u64,
    number: u64,
}

impl Drop for LoginClaim {
    fn drop(&mut self) {
        let mut logins = self.module.logins.lock().unwrap_or_else(|p| p.into_inner());
        // A newer claim of the same company (a reopened session) stays.
        if logins
            .get(&self.slot)
            .is_some_and(|(_, n)| *n == self.number)
        {
            logins.remove(&self.slot);
        }
    }
}

/// Which token of a module a registration means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotSelector {
    /// The token with this label, in whatever slot.
    Label(String),
    /// Whatever token is in this slot.
    Id(u64),
}

impl std::fmt::Display for SlotSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SlotSelector::Label(label) => write!(f, "token label `{label}`"),
            SlotSelector::Id(id) => write!(f, "slot {id}"),
        }
    }
}

/// What a module offers, for an error message.
fn available(views: &[SlotView]) -> String {
    let tokens: Vec<String> = views
        .iter()
        .filter_map(|v| {
            let label = v.token_label.as_ref()?;
            v.initialized
                .then(|| format!("`{label}` in slot {}", v.slot))
        })
        .collect();
    if tokens.is_empty() {
        "it holds no initialized token".to_owned()
    } else {
        format!("it holds {}", tokens.join(", "))
    }
}
