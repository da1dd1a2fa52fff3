//! A stable-toolchain fuzzer for `h2h_mt940::parse` (no nightly, no
//! libFuzzer): mutates the corpus in `fuzz/corpus/` with a seeded RNG and
//! checks that every input gives `Ok` or an `Err` whose line lies in the
//! input, never a panic. Inputs that panic are written to `fuzz/crashes/`.
//!
//! Run with overflow checks, so arithmetic overflow panics too:
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/mt940-fuzz CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true \
//! CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true \
//!   cargo run --release -p h2h-mt940 --example fuzz -- --iterations 3000000 --seed 1
//! ```
//!
//! Options: `--iterations N` (default 100000), `--seed S` (default 1),
//! `--seconds T` (stop after T seconds, default unlimited).

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use h2h_mt940::{ParseOptions, parse_with};

/// SplitMix64: small, fast, reproducible from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that steer mutations towards the grammar's corners.
const TOKENS: &[&[u8]] = &[
    b"\n:20:",
    b"\n:21:",
    b"\n:25:",
    b"\n:28C:",
    b"\n:60F:",
    b"\n:60M:",
    b"\n:61:",
    b"\n:62F:",
    b"\n:62M:",
    b"\n:64:",
    b"\n:65:",
    b"\n:86:",
    b"\n:34F:",
    b"\n:13D:",
    b"\n:90D:",
    b"\n:90C:",
    b"\n:99Z:",
    b"\n-\n",
    b"\n-XXX",
    b"-}",
    b"{1:F01X}{2:O942X}{4:\n",
    b"{2:I940",
    b"{4:",
    b"\x01",
    b"\x03",
    b"\r",
    b"\r\n",
    b"~20",
    b"~3",
    b"?31",
    b"^32",
    b"<38",
    b"; TNR: ",
    b"; TYT.: ",
    b"/VAT/",
    b"/IDC/",
    b"//",
    b"NONREF",
    b"NTRF",
    b"RC",
    b"RD",
    b"C160230",
    b"D261231PLN",
    b"1231",
    b"0,",
    b"99999999999999999999999999999,99",
    b",",
    b"+0100",
    b"\xEF\xBB\xBF",
    b"\xB1\xE6\xEA\xB3",
    b"\xA5\x86\xA9\x88",
    b"\xC4\x85",
];

/// Bytes the grammar cares about.
const INTERESTING: &[u8] = b":\n\r~?^<;/,-{}0123456789CDRNFS \x01\x03\x00\x80\xFF";

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    let len = input.len();
    match rng.below(11) {
        0 if len > 0 => {
            let at = rng.below(len);
            input[at] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let at = rng.below(len);
            input[at] = INTERESTING[rng.below(INTERESTING.len())];
        }
        2 => input.truncate(rng.below(len + 1)),
        3 if len > 0 => {
            let start = rng.below(len);
            let end = (start + 1 + rng.below(64)).min(len);
            input.drain(start..end);
        }
        4 if len > 0 => {
            let start = rng.below(len);
            let end = (start + 1 + rng.below(256)).min(len);
            let copy = input[start..end].to_vec();
            let at = rng.below(len + 1);
            input.splice(at..at, copy);
        }
        5 => {
            let other = &corpus[rng.below(corpus.len())];
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            input.truncate(cut);
            input.extend_from_slice(&other[from..]);
        }
        6 | 7 => {
            let token = TOKENS[rng.below(TOKENS.len())];
            let at = rng.below(len + 1);
            input.splice(at..at, token.iter().copied());
        }
        8 => {
            let at = rng.below(len + 1);
            let byte = (rng.next() & 0xFF) as u8;
            input.insert(at, byte);
        }
        9 => {
            // Swap two lines.
            let breaks: Vec<usize> = (0..len).filter(|&i| input[i] == b'\n').collect();
            if breaks.len() >= 3 {
                let a = rng.below(breaks.len() - 1);
                let b = rng.below(breaks.len() - 1);
                let (a, b) = (a.min(b), a.max(b));
                if a != b {
                    let (s1, e1) = (breaks[a] + 1, breaks[a + 1]);
                    let (s2, e2) = (breaks[b] + 1, breaks[b + 1]);
                    let mut out = input[..s1].to_vec();
                    out.extend_from_slice(&input[s2..e2]);
                    out.extend_from_slice(&input[e1..s2]);
                    out.extend_from_slice(&input[s1..e1]);
                    out.extend_from_slice(&input[e2..]);
                    *input = out;
                }
            }
        }
        _ => {
            // Repeat a line many times (long `:86:`, many statements).
            let start = rng.below(len + 1);
            let end = (start + rng.below(80)).min(len);
            let copy = input[start..end].to_vec();
            for _ in 0..rng.below(50) {
                input.extend_from_slice(&copy);
            }
        }
    }
}

/// Parses with both option sets and checks the error line invariant;
/// panics on a violation so it is caught like a crash. Returns whether the
/// default options parsed the input.
fn check(input: &[u8]) -> bool {
    let mut parsed = false;
    let lines = 1 + input.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
    for options in [
        ParseOptions::default(),
        ParseOptions::default().allow_missing_reference(true),
    ] {
        match parse_with(input, &options) {
            Ok(statements) => {
                parsed |= !options.allow_missing_reference;
                for s in &statements {
                    // Exercise the helpers too.
                    let _ = (
                        s.balance_difference(),
                        s.totals(),
                        s.currency(),
                        s.account_id(),
                    );
                    for t in &s.transactions {
                        let _ = (t.value_date.iso(), t.tnr());
                        if let Some(d) = &t.details {
                            let _ = (d.title(), d.counterparty_name(), d.counterparty_account());
                            let _ = (d.more_text(), d.split_payment(), d.text());
                        }
                    }
                }
            }
            Err(e) => {
                assert!(
                    e.line >= 1 && e.line <= lines,
                    "error line {} outside 1..={lines}: {e}",
                    e.line
                );
                let _ = e.to_string();
            }
        }
    }
    parsed
}

fn load(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn main() {
    let mut iterations: u64 = 100_000;
    let mut seed: u64 = 1;
    let mut seconds: Option<u64> = None;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).and_then(|v| v.parse().ok());
        match (args[i].as_str(), value) {
            ("--iterations", Some(v)) => iterations = v,
            ("--seed", Some(v)) => seed = v,
            ("--seconds", Some(v)) => seconds = Some(v),
            _ => {
                eprintln!("usage: fuzz [--iterations N] [--seed S] [--seconds T]");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = load(&root.join("corpus"));
    assert!(
        !corpus.is_empty(),
        "no corpus in {}",
        root.join("corpus").display()
    );
    let crashes_dir = root.join("crashes");

    // Silence the default hook; report each crash once below.
    panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(seed);
    let start = Instant::now();
    let limit = seconds.map(Duration::from_secs);
    let (mut crashes, mut bytes_total, mut done, mut parsed) = (0u64, 0u64, 0u64, 0u64);
    for n in 0..iterations {
        if limit.is_some_and(|l| start.elapsed() >= l) {
            break;
        }
        let mut input = corpus[rng.below(corpus.len())].clone();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut input, &corpus);
        }
        input.truncate(256 * 1024);
        bytes_total += input.len() as u64;
        match panic::catch_unwind(AssertUnwindSafe(|| check(&input))) {
            Ok(ok) => parsed += u64::from(ok),
            Err(payload) => {
                crashes += 1;
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let _ = std::fs::create_dir_all(&crashes_dir);
                let path = crashes_dir.join(format!("crash-seed{seed}-iter{n}.sta"));
                let _ = std::fs::write(&path, &input);
                eprintln!("crash at iteration {n}: {message} -> {}", path.display());
            }
        }
        done = n + 1;
        if done % 500_000 == 0 {
            eprintln!(
                "{done} iterations, {:.0?}, {crashes} crashes",
                start.elapsed()
            );
        }
    }
    let elapsed = start.elapsed();
    println!(
        "seed {seed}: {done} iterations in {:.1} s ({:.0}/s), {parsed} parsed Ok, {:.1} MB, {crashes} crashes, corpus {} files",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64().max(1e-9),
        bytes_total as f64 / 1e6,
        corpus.len()
    );
    if crashes > 0 {
        std::process::exit(1);
    }
}
