//! What the newcomer reads once everything runs: where things are and the
//! few commands to try, with the real key and paths filled in.

use std::net::SocketAddr;
use std::path::Path;

use crate::bank::INVOICES;
use crate::setup::{ACCOUNT, COMPANY, PLUGIN};

/// Where the demo's pieces are.
pub struct Summary<'a> {
    /// The host's address.
    pub host: SocketAddr,
    /// The simulated bank's base URL.
    pub bank_url: &'a str,
    /// The host's data directory, as given.
    pub data_dir: &'a Path,
    /// The ERP key's secret.
    pub erp_secret: &'a str,
    /// The ERP user the ERP acts for.
    pub erp_user: &'a str,
    /// The bank's business day, `dd.MM.yyyy`.
    pub bank_day: String,
    /// The simulated PKO BP's base URL, when the PKO part ran.
    pub pko_url: Option<String>,
}

/// Quotes `text` for a POSIX shell when it needs it.
fn sh(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain && !text.is_empty() {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Prints the summary and the commands.
pub fn print(s: &Summary<'_>) {
    let base = format!("http://{}", s.host);
    let data_dir = sh(&s.data_dir.display().to_string());
    let erp = format!(
        "curl -H 'Authorization: Bearer {}' -H 'X-H2H-User: {}'",
        s.erp_secret, s.erp_user
    );
    let h2h = "cargo run -q --release -p h2h-host --";
    let partial = INVOICES
        .iter()
        .find(|i| i.amount != i.paid)
        .map_or("FV/DEMO/0043", |i| i.number);

    println!();
    println!(
        "h2h is serving on {base} (SQLite in {data_dir}); the simulated PrivatBank on {}.",
        s.bank_url
    );
    println!();
    println!("The admin console: {base}/console");
    println!("  sign in with the development admin key kept in {data_dir}/demo/admin-key");
    println!();
    println!("The host:");
    println!("  curl {base}/health");
    println!("  curl {base}/openapi.json");
    println!();
    println!("The ERP API (a local demo ERP key; it is kept in {data_dir}/demo/erp-key):");
    println!("  {erp} '{base}/erp/v1/accounts/{ACCOUNT}/transactions?after=0&limit=20'");
    println!("  {erp} '{base}/erp/v1/events?after=0&company={COMPANY}'");
    println!("  {erp} '{base}/erp/v1/receivables?company={COMPANY}'");
    println!("  {erp} -X POST {base}/erp/v1/accounts/{ACCOUNT}/sync");
    if let Some(pko_url) = &s.pko_url {
        let pko = crate::pko::ACCOUNT;
        println!();
        println!("PKO BP (the simulated Integra service at {pko_url}, mutual TLS):");
        println!("  {erp} '{base}/erp/v1/accounts/{pko}/transactions?after=0&limit=20'");
        println!("  {erp} '{base}/erp/v1/accounts/{pko}/documents'    # the MT940 files as sent");
        println!(
            "  {erp} '{base}/erp/v1/bank-sessions?company={COMPANY}'  # kept alive by the bot"
        );
    }
    println!();
    println!(
        "The bank (no auth: a loopback test tool). Book one more payment, then sync as above:"
    );
    println!("  curl {}/__control/transactions", s.bank_url);
    println!(
        "  curl -X POST {}/__control/transactions -d '{{\"direction\":\"C\",\"amount\":\"300.00\",\"date\":\"{}\",\"purpose\":\"Доплата {partial}\"}}'",
        s.bank_url, s.bank_day
    );
    println!();
    println!("The admin CLI on the same data (another terminal, while this runs):");
    println!("  {h2h} task history {PLUGIN}/sync-statements --data-dir {data_dir}");
    println!("  {h2h} task list --data-dir {data_dir}");
    println!("  {h2h} plugin list --data-dir {data_dir}");
    println!("  {h2h} audit --data-dir {data_dir}");
    println!();
    println!("Ctrl-C stops the host and the banks. Running h2h-demo again reuses {data_dir}.");
}
