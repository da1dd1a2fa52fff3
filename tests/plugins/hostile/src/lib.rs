//! A hostile test connector: each task attacks the sandbox in one way. The
//! host must contain every attack with a specific error and keep serving.
//! The `escape-*` tasks succeed only if the sandbox holds.

use std::hint::black_box;

use h2h_sdk::bank::{Direction, Statement, StatementQuery, Transaction};
use h2h_sdk::{BankConnector, Error, Lifecycle, Money, Result, Tasks};

struct Hostile;

impl Lifecycle for Hostile {}

/// Recursion on scalars only: frames live on the wasm stack, not in linear
/// memory. Rotating the result is no accumulator LLVM could turn into a loop.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        return 0;
    }
    recurse(depth + 1).rotate_left(7) ^ depth
}

/// One 1 MiB string named by 4096 headers: 4 GiB if the host copied every
/// header out of the sandbox, for a guest that holds 1 MiB. The aliases
/// are never dropped (that would free one buffer 4096 times).
fn alias_headers() -> Result<()> {
    use h2h_sdk::__private::world::h2h::connector::http;
    let value = std::mem::ManuallyDrop::new("v".repeat(1 << 20));
    let alias = || {
        // SAFETY: never dropped, never written; only read by the host's copy.
        unsafe { String::from_raw_parts(value.as_ptr().cast_mut(), value.len(), value.len()) }
    };
    let request = std::mem::ManuallyDrop::new(http::Request {
        method: http::Method::Get,
        url: "https://bank.example/".to_owned(),
        headers: (0..4096).map(|_| ("X-Flood".to_owned(), alias())).collect(),
        body: None,
        timeout_ms: None,
        client_certificate: None,
    });
    match http::send(&request) {
        Ok(_) => escaped("the host took 4 GiB of headers"),
        Err(_) => escaped("the host copied 4 GiB of headers to refuse them"),
    }
}

fn escaped(what: &str) -> Result<()> {
    Err(Error::rejected(Some("sandbox-escape"), what.to_owned()))
}

impl Tasks for Hostile {
    fn run(name: &str) -> Result<()> {
        match name {
            "spin" => {
                let mut n = 0u64;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            "allocate" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![0xA5; 1 << 20]);
                    black_box(&hoard);
                }
            }
            "panic" => panic!("hostile plugin panicked on purpose"),
            "log-flood" => {
                for i in 0..20_000 {
                    h2h_sdk::info!("flood line {i}");
                }
                Ok(())
            }
            "recurse" => {
                black_box(recurse(0));
                Ok(())
            }
            "alias-headers" => alias_headers(),
            "escape-fs" => match std::fs::read("/etc/passwd") {
                Ok(bytes) => escaped(&format!("read {} bytes of /etc/passwd", bytes.len())),
                Err(_) => match std::fs::read_dir("/") {
                    Ok(_) => escaped("listed /"),
                    Err(_) => Ok(()),
                },
            },
            "escape-env" => {
                let vars = std::env::vars().count();
                let args = std::env::args().count();
                if vars > 0 || args > 0 {
                    escaped(&format!("saw {vars} env vars and {args} args"))
                } else {
                    Ok(())
                }
            }
            "escape-net" => match std::net::TcpStream::connect("127.0.0.1:5432") {
                Ok(_) => escaped("opened a TCP connection"),
                Err(_) => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

impl BankConnector for Hostile {
    /// A result far larger than the host accepts.
    fn fetch_statement(query: StatementQuery) -> Result<Statement> {
        let mut page = Statement::new(query.account, "PLN");
        page.transactions = vec![Transaction::new(
            "huge",
            query.from.clone(),
            Direction::Credit,
            Money::new("1.00", "PLN"),
            "x".repeat(24 << 20),
        )];
        Ok(page)
    }
}

h2h_sdk::export_bank_connector!(Hostile);
