//! Polish IBANs and NRBs: the mod-97 check (ISO 13616) and the parts the
//! `:86:` field names (bank sort code, account). They come from
//! `h2h-sim-kit`, shared with the other Polish bank simulator.

pub use h2h_sim_kit::iban::{
    account_part, is_valid_pl_iban, normalise_account, pl_iban, sort_code,
};
