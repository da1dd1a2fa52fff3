#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| h2h_fuzz::mt940(data));
