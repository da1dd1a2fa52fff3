//! Polish account numbers: the 26-digit NRB, its `PL` IBAN form and the
//! ISO 13616 mod-97 check (the same check for both), and the 8-digit bank
//! sort code inside it (digits 3–10 of the NRB). They come from
//! `h2h-sim-kit`, shared with the other Polish bank simulator.

pub use h2h_sim_kit::iban::{
    is_valid_nrb, is_valid_pl_iban, normalise_account, nrb_sort_code, pl_iban,
};
