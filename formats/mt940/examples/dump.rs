//! Prints what the parser reads from a file:
//! `cargo run -p h2h-mt940 --example dump -- FILE [utf8|cp1250|latin2|cp852]`.

use h2h_mt940::{Encoding, ParseOptions, parse_with};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: dump FILE [utf8|cp1250|latin2|cp852]");
        std::process::exit(2);
    };
    let encoding = match args.next().as_deref() {
        Some("utf8") => Encoding::Utf8,
        Some("cp1250") => Encoding::Windows1250,
        Some("latin2") => Encoding::Iso8859_2,
        Some("cp852") => Encoding::Cp852,
        _ => Encoding::Auto,
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    match parse_with(&bytes, &ParseOptions::default().encoding(encoding)) {
        Ok(statements) => println!("{statements:#?}"),
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    }
}
