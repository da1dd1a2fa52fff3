//! Throughput of `parse` on a large generated ZBP file: 10 000 lines with
//! `~` subfields wrapped at 65 characters, in Windows-1250 (so detection
//! runs too). Criterion reports transactions per second as `elem/s`.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const LINES: usize = 10_000;

/// A ZBP statement with `LINES` lines, encoded in Windows-1250.
fn generate() -> Vec<u8> {
    let mut text = String::new();
    let mut balance: i64 = 100_000_000; // in grosze
    text.push_str(":20:MT940BENCH\r\n:25:/PL61109010140000071219812874\r\n:28C:1\r\n");
    let _ = write!(
        text,
        ":60F:C261102PLN{},{:02}\r\n",
        balance / 100,
        balance % 100
    );
    for i in 0..LINES {
        let cents = (i as i64 * 7919) % 500_000 + 1;
        let credit = i % 3 != 0;
        balance += if credit { cents } else { -cents };
        let mark = if credit { 'C' } else { 'D' };
        let _ = write!(
            text,
            ":61:2611021102{mark}{},{:02}N152REF{i:08}//BANK{i:010}\r\n",
            cents / 100,
            cents % 100
        );
        let details = format!(
            "152~00PRZELEW ZEWNĘTRZNY PRZYCHODZĄCY~20Zapłata za fakturę FV/2026/~21{i:05} — dziękujemy, pozdr~22awiamy~30102010260~31000040200{i:06}~32Przedsiębiorstwo Handlowo-Us~33ługowe \"Żółw\" Spółka z o.o.~38PL121020102600000402{i:08}"
        );
        let mut line = String::from(":86:");
        for c in details.chars() {
            if line.chars().count() == 65 {
                text.push_str(&line);
                text.push_str("\r\n");
                line.clear();
            }
            line.push(c);
        }
        text.push_str(&line);
        text.push_str("\r\n");
    }
    let _ = write!(
        text,
        ":62F:C261102PLN{},{:02}\r\n-\r\n",
        balance / 100,
        balance % 100
    );
    encoding_rs::WINDOWS_1250.encode(&text).0.into_owned()
}

fn bench(c: &mut Criterion) {
    let file = generate();
    eprintln!("input: {LINES} lines, {} bytes", file.len());
    let parsed = h2h_mt940::parse(&file).expect("generated file parses");
    assert_eq!(parsed[0].transactions.len(), LINES);
    assert_eq!(parsed[0].balance_difference(), Some(0.into()));
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(LINES as u64));
    group.sample_size(20);
    group.bench_function("zbp_cp1250_10k_lines", |b| {
        b.iter(|| h2h_mt940::parse(black_box(&file)).map(|s| s.len()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
