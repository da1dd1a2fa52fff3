//! The deterministic data generator: a few days of a Ukrainian business
//! account's movements, with invoice numbers (`FV/2026/11/0042`) in some
//! incoming titles so an ERP has something to match.

use chrono::{Datelike, Days, NaiveDate, NaiveTime, Weekday};

use crate::model::{
    Counterparty, Direction, Merchant, Money, PRIVATBANK_EDRPOU, PRIVATBANK_MFO, PRIVATBANK_NAME,
    Transaction, TxStatus,
};

/// SplitMix64: tiny, fast, and the same on every platform, so a seed always
/// gives the same statement.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items` (non-empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// `len` characters from `A-Z0-9`.
    pub fn alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..len)
            .map(|_| *self.pick(CHARS) as char)
            .collect::<String>()
    }
}

/// A Ukrainian IBAN from a bank code and a 19-digit account, with correct
/// check digits (ISO 13616, mod 97).
pub fn ua_iban(mfo: &str, account: &str) -> String {
    let bban = format!("{mfo:0>6}{account:0>19}");
    // "UA00" moved to the end, letters as numbers: U=30, A=10.
    let digits = format!("{bban}301000");
    let rem = digits
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    format!("UA{:02}{bban}", 98 - rem)
}

/// True for a well-formed Ukrainian IBAN: `UA`, 27 digits, check digits
/// that hold.
pub fn ua_iban_is_valid(iban: &str) -> bool {
    let Some(rest) = iban.strip_prefix("UA") else {
        return false;
    };
    if rest.len() != 27 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (check, bban) = rest.split_at(2);
    let digits = format!("{bban}3010{check}");
    digits
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97)
        == 1
}

/// The bank code inside a Ukrainian IBAN (characters 5–10).
pub(crate) fn mfo_of(iban: &str) -> String {
    iban.get(4..10).unwrap_or_default().to_string()
}

struct Bank {
    mfo: &'static str,
    name: &'static str,
}

const PRIVAT: Bank = Bank {
    mfo: PRIVATBANK_MFO,
    name: PRIVATBANK_NAME,
};
const OSCHAD: Bank = Bank {
    mfo: "300465",
    name: "АТ \"ОЩАДБАНК\"",
};
const UNIVERSAL: Bank = Bank {
    mfo: "322001",
    name: "АТ \"УНІВЕРСАЛ БАНК\"",
};
const PUMB: Bank = Bank {
    mfo: "334851",
    name: "АТ \"ПУМБ\"",
};
const RAIFFEISEN: Bank = Bank {
    mfo: "380805",
    name: "АТ \"Райффайзен Банк\"",
};
const UKRSIB: Bank = Bank {
    mfo: "351005",
    name: "АТ \"УКРСИББАНК\"",
};
const ABANK: Bank = Bank {
    mfo: "307770",
    name: "АТ \"А - БАНК\"",
};
const UKRGAZ: Bank = Bank {
    mfo: "320478",
    name: "АБ \"УКРГАЗБАНК\"",
};
const TREASURY: Bank = Bank {
    mfo: "899998",
    name: "Казначейство України (ЕАП)",
};

/// Bank name for a bank code, for counterparties a client names only by
/// IBAN.
pub(crate) fn bank_name(mfo: &str) -> &'static str {
    [
        PRIVAT, OSCHAD, UNIVERSAL, PUMB, RAIFFEISEN, UKRSIB, ABANK, UKRGAZ, TREASURY,
    ]
    .iter()
    .find(|b| b.mfo == mfo)
    .map_or("Банк одержувача", |b| b.name)
}

/// A fictional company or sole trader; every name and code is made up.
struct Party {
    name: &'static str,
    edrpou: &'static str,
    bank: Bank,
}

impl Party {
    fn counterparty(&self) -> Counterparty {
        // The account number comes from the code, so a company keeps its
        // IBAN across runs and seeds.
        let account = format!("2600{:0>10}{:0>5}", self.edrpou, self.edrpou.len() * 7);
        Counterparty {
            name: self.name.into(),
            edrpou: self.edrpou.into(),
            account: ua_iban(self.bank.mfo, &account),
            mfo: self.bank.mfo.into(),
            bank_name: self.bank.name.into(),
        }
    }
}

/// Customers: they pay the merchant.
const CUSTOMERS: [Party; 8] = [
    Party {
        name: "ТОВ \"АГРОТЕХ-ПОСТАЧ\"",
        edrpou: "41234567",
        bank: PRIVAT,
    },
    Party {
        name: "ТОВ \"КИЇВБУДМАТЕРІАЛИ-ДЕМО\"",
        edrpou: "39876512",
        bank: OSCHAD,
    },
    Party {
        name: "ФОП Коваленко Олена Петрівна",
        edrpou: "3124509876",
        bank: UNIVERSAL,
    },
    Party {
        name: "ТОВ \"ЛЬВІВСЬКА КАВОВА МАНУФАКТУРА-ТЕСТ\"",
        edrpou: "40567123",
        bank: PUMB,
    },
    Party {
        name: "ПП \"ДНІПРО-ЛОГІСТИК\"",
        edrpou: "35678901",
        bank: RAIFFEISEN,
    },
    Party {
        name: "ТОВ \"ОДЕСА ФУД СЕРВІС\"",
        edrpou: "43210987",
        bank: UKRSIB,
    },
    Party {
        name: "ФОП Шевченко Андрій Миколайович",
        edrpou: "2987654310",
        bank: ABANK,
    },
    Party {
        name: "ТОВ \"ХАРКІВ ЕЛЕКТРОКОМПЛЕКТ\"",
        edrpou: "38456712",
        bank: PRIVAT,
    },
];

const LANDLORD: Party = Party {
    name: "ТОВ \"БІЗНЕС-ЦЕНТР ПОДІЛ-ДЕМО\"",
    edrpou: "37123456",
    bank: UKRGAZ,
};
const ENERGY: Party = Party {
    name: "ТОВ \"ЕНЕРГОЗБУТ-ДЕМО\"",
    edrpou: "42345678",
    bank: OSCHAD,
};
const TELECOM: Party = Party {
    name: "ТОВ \"ТЕЛЕКОМ ПЛЮС-ДЕМО\"",
    edrpou: "36789012",
    bank: PRIVAT,
};
const SUPPLIERS: [Party; 2] = [
    Party {
        name: "ТОВ \"ПАКУВАЛЬНІ РІШЕННЯ\"",
        edrpou: "44112233",
        bank: PUMB,
    },
    Party {
        name: "ТОВ \"СХІДНИЙ ДИСТРИБ'ЮТОР\"",
        edrpou: "40998877",
        bank: RAIFFEISEN,
    },
];
const TAX_OFFICE: Party = Party {
    name: "ГУК у м.Києві/м.Київ/18050400 (демо)",
    edrpou: "37990000",
    bank: TREASURY,
};

fn bank_itself() -> Counterparty {
    Counterparty {
        name: PRIVATBANK_NAME.into(),
        edrpou: PRIVATBANK_EDRPOU.into(),
        account: ua_iban(PRIVATBANK_MFO, "0000065108000000001"),
        mfo: PRIVATBANK_MFO.into(),
        bank_name: PRIVATBANK_NAME.into(),
    }
}

fn salary_transit() -> Counterparty {
    Counterparty {
        name: "Транзитний рахунок для зарахування заробітної плати".into(),
        ..bank_itself()
    }
}

/// The counterparty for a line a test adds without naming one: a customer
/// for credits, a supplier for debits, picked by `n` so it is stable.
pub(crate) fn default_counterparty(direction: Direction, n: u64) -> Counterparty {
    match direction {
        Direction::Credit => CUSTOMERS[(n % CUSTOMERS.len() as u64) as usize].counterparty(),
        Direction::Debit => SUPPLIERS[(n % SUPPLIERS.len() as u64) as usize].counterparty(),
    }
}

/// Month names as titles use them ("за листопад 2026 р.").
const MONTHS: [&str; 12] = [
    "січень",
    "лютий",
    "березень",
    "квітень",
    "травень",
    "червень",
    "липень",
    "серпень",
    "вересень",
    "жовтень",
    "листопад",
    "грудень",
];

fn month_name(d: NaiveDate) -> &'static str {
    MONTHS[d.month0() as usize]
}

fn fmt_date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// VAT included in a gross amount at 20%: gross / 6, rounded.
fn vat_of(gross: Money) -> Money {
    Money::from_minor((gross.minor() + 3) / 6)
}

/// A sum in whole hryvnias between `lo` and `hi`, with random kopiykas.
fn amount(rng: &mut Rng, lo: u64, hi: u64) -> Money {
    let units = rng.range(lo, hi) as i64;
    let cents = rng.range(0, 99) as i64;
    Money::new(units, cents)
}

/// A bank reference like the ones statements show.
pub(crate) fn bank_reference(rng: &mut Rng) -> String {
    format!("DN{}", rng.alnum(11))
}

/// Hands out transaction ids: increasing, with gaps, as the bank's are.
#[derive(Debug, Clone)]
pub(crate) struct IdSource {
    next: u64,
}

impl IdSource {
    pub(crate) fn new(seed: u64) -> Self {
        IdSource {
            next: 2_318_000_000 + (seed % 1000) * 1000,
        }
    }

    pub(crate) fn take(&mut self, rng: &mut Rng) -> u64 {
        let id = self.next;
        self.next += rng.range(1, 37);
        id
    }
}

/// Per-merchant invoice counter: `FV/<year>/<month>/<seq>`.
struct Invoices {
    seq: u64,
}

impl Invoices {
    fn next(&mut self, date: NaiveDate) -> String {
        self.seq += 1;
        format!("FV/{}/{:02}/{:04}", date.year(), date.month(), self.seq)
    }
}

/// What the generator makes for one line, before ids and times.
struct Draft {
    direction: Direction,
    amount: Money,
    purpose: String,
    counterparty: Counterparty,
    doc_type: &'static str,
}

fn credit(rng: &mut Rng, day: NaiveDate, invoices: &mut Invoices) -> Draft {
    let customer = rng.pick(&CUSTOMERS).counterparty();
    let sum = amount(rng, 800, 95_000);
    let vat = vat_of(sum).with_comma();
    let issued = day - Days::new(rng.range(1, 14));
    let purpose = match rng.range(0, 9) {
        0..=5 => {
            let invoice = invoices.next(issued);
            let phrase = rng.pick(&[
                "Оплата згідно рахунку №",
                "Оплата за рахунком",
                "Сплата рах.",
                "Оплата рахунку",
            ]);
            format!(
                "{phrase} {invoice} від {}, у т.ч. ПДВ 20% - {vat} грн.",
                fmt_date(issued)
            )
        }
        6 | 7 => format!(
            "Оплата за товар згідно договору № {}/{} від {}, у т.ч. ПДВ 20% - {vat} грн.",
            rng.range(1, 120),
            issued.format("%y"),
            fmt_date(issued - Days::new(60))
        ),
        8 => format!(
            "Передоплата за послуги згідно рахунку-фактури № СФ-{} від {}, у т.ч. ПДВ 20% - {vat} грн.",
            rng.range(100, 999),
            fmt_date(issued)
        ),
        _ => format!(
            "Повернення помилково перерахованих коштів згідно листа № {} від {}, без ПДВ",
            rng.range(10, 99),
            fmt_date(issued)
        ),
    };
    Draft {
        direction: Direction::Credit,
        amount: sum,
        purpose,
        counterparty: customer,
        doc_type: "p",
    }
}

fn debit(rng: &mut Rng, day: NaiveDate, merchant: &Merchant) -> Draft {
    let month = month_name(day);
    let year = day.year();
    let (sum, purpose, counterparty, doc_type) = match rng.range(0, 9) {
        0 | 1 => {
            let sum = amount(rng, 18_000, 45_000);
            let purpose = format!(
                "Оплата оренди нежитлового приміщення за {month} {year} р. згідно договору № {}-О, у т.ч. ПДВ 20% - {} грн.",
                rng.range(10, 90),
                vat_of(sum).with_comma()
            );
            (sum, purpose, LANDLORD.counterparty(), "p")
        }
        2 => {
            let sum = amount(rng, 2_000, 9_000);
            let purpose = format!(
                "Оплата за електроенергію згідно рахунку № {} від {}, у т.ч. ПДВ 20% - {} грн.",
                rng.range(10_000, 99_999),
                fmt_date(day - Days::new(3)),
                vat_of(sum).with_comma()
            );
            (sum, purpose, ENERGY.counterparty(), "p")
        }
        3 => {
            let sum = amount(rng, 300, 1_500);
            let purpose = format!(
                "Оплата послуг зв'язку за {month} {year} р., особовий рахунок {}, у т.ч. ПДВ 20% - {} грн.",
                rng.range(100_000, 999_999),
                vat_of(sum).with_comma()
            );
            (sum, purpose, TELECOM.counterparty(), "p")
        }
        4 | 5 => {
            let sum = amount(rng, 5_000, 70_000);
            let purpose = format!(
                "Оплата за товар згідно рахунку № {} від {}, у т.ч. ПДВ 20% - {} грн.",
                rng.range(100, 9_999),
                fmt_date(day - Days::new(rng.range(1, 10))),
                vat_of(sum).with_comma()
            );
            (sum, purpose, rng.pick(&SUPPLIERS).counterparty(), "p")
        }
        6 => {
            let sum = amount(rng, 3_000, 25_000);
            // The treasury's structured title: *;code;payer's EDRPOU;text;;;
            let purpose = format!(
                "*;101;{};Єдиний податок з юридичних осіб за {month} {year} р.;;;",
                merchant.edrpou
            );
            (sum, purpose, TAX_OFFICE.counterparty(), "p")
        }
        7 => {
            let sum = amount(rng, 40_000, 150_000);
            let half = if day.day() <= 15 {
                "першу половину"
            } else {
                "другу половину"
            };
            let purpose = format!(
                "Перерахування заробітної плати за {half} {month} {year} р. згідно відомості № {}, без ПДВ",
                rng.range(1, 40)
            );
            (sum, purpose, salary_transit(), "p")
        }
        _ => {
            let sum = amount(rng, 20, 450);
            let purpose = format!(
                "Комісія за розрахунково-касове обслуговування за {month} {year} р., без ПДВ"
            );
            (sum, purpose, bank_itself(), "m")
        }
    };
    Draft {
        direction: Direction::Debit,
        amount: sum,
        purpose,
        counterparty,
        doc_type,
    }
}

/// `days` days of movements ending on `today` (inclusive), in statement
/// order. The same `seed` always gives the same lines.
pub(crate) fn generate(
    merchant: &Merchant,
    seed: u64,
    today: NaiveDate,
    days: u32,
    ids: &mut IdSource,
) -> Vec<Transaction> {
    let mut rng = Rng::new(seed);
    let mut invoices = Invoices {
        seq: rng.range(30, 40),
    };
    let mut out = Vec::new();
    for back in (0..days).rev() {
        let day = today - Days::new(u64::from(back));
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        let count = if weekend {
            rng.range(0, 2)
        } else {
            rng.range(4, 9)
        };
        let mut times: Vec<NaiveTime> = (0..count)
            .map(|_| {
                let minute = rng.range(8 * 60 + 30, 18 * 60 + 45) as u32;
                let second = rng.range(0, 59) as u32;
                NaiveTime::from_hms_opt(minute / 60, minute % 60, second).unwrap_or_default()
            })
            .collect();
        times.sort();
        for time in times {
            let draft = if rng.chance(60) {
                credit(&mut rng, day, &mut invoices)
            } else {
                debit(&mut rng, day, merchant)
            };
            let id = ids.take(&mut rng);
            out.push(Transaction {
                id,
                direction: draft.direction,
                amount: draft.amount,
                currency: merchant.currency.clone(),
                date: day,
                time,
                doc_date: day,
                purpose: draft.purpose,
                doc_number: rng.range(1, 9_999).to_string(),
                doc_type: draft.doc_type.into(),
                counterparty: draft.counterparty,
                status: TxStatus::Done,
                real: true,
                reference: bank_reference(&mut rng),
                dlr: match draft.direction {
                    Direction::Debit => format!("J63P{}", rng.range(100_000_000, 999_999_999)),
                    Direction::Credit => String::new(),
                },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
    }

    #[test]
    fn iban_check_digits_are_valid() {
        // The example account from the bank's docs.
        assert_eq!(
            ua_iban("322313", "0000026007233566001"),
            "UA213223130000026007233566001"
        );
        assert!(ua_iban_is_valid("UA213223130000026007233566001"));
        assert!(!ua_iban_is_valid("UA223223130000026007233566001"));
        assert!(!ua_iban_is_valid("UA21322313000002600723356600"));
        assert!(!ua_iban_is_valid("DE213223130000026007233566001"));
        for party in CUSTOMERS.iter() {
            let iban = party.counterparty().account;
            assert!(ua_iban_is_valid(&iban), "{iban}");
            assert_eq!(mfo_of(&iban), party.bank.mfo);
        }
    }

    #[test]
    fn same_seed_same_statement() {
        let m = Merchant::demo();
        let a = generate(&m, 7, today(), 5, &mut IdSource::new(7));
        let b = generate(&m, 7, today(), 5, &mut IdSource::new(7));
        let c = generate(&m, 8, today(), 5, &mut IdSource::new(8));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(!a.is_empty());
    }

    #[test]
    fn generated_lines_are_ordered_and_in_range() {
        let m = Merchant::demo();
        let txs = generate(&m, 42, today(), 10, &mut IdSource::new(42));
        let first = today() - Days::new(9);
        assert!(txs.iter().all(|t| t.date >= first && t.date <= today()));
        assert!(txs.windows(2).all(|w| w[0].sort_key() < w[1].sort_key()));
        assert!(txs.iter().all(|t| t.amount.is_positive()));
        let invoices = txs
            .iter()
            .filter(|t| t.direction == Direction::Credit && t.purpose.contains("FV/2026/"))
            .count();
        assert!(invoices > 0, "some credits carry invoice numbers");
        assert!(txs.iter().any(|t| t.direction == Direction::Debit));
    }
}
