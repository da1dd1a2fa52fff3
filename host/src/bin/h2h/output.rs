//! How commands print: a human line or two, or with `--json` one JSON
//! document on stdout (errors too: `{"error": {"code", "message"}}`).

use serde::Serialize;

/// Output mode for the whole command.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON, or `human(value)` for people.
    pub fn show<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            let text = human(value);
            if !text.is_empty() {
                println!("{text}");
            }
        }
        Ok(())
    }

    /// Prints a failure; the caller exits non-zero.
    pub fn error(&self, code: &str, message: &str) {
        if self.json {
            let body = serde_json::json!({ "error": { "code": code, "message": message } });
            println!("{body:#}");
        } else {
            eprintln!("error: {message}");
        }
    }
}

/// Rows as aligned columns.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    if rows.is_empty() {
        return "(none)".to_owned();
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![line(header.iter().map(|h| (*h).to_owned()).collect())];
    out.extend(rows.into_iter().map(line));
    out.join("\n")
}
