//! Bounds on what a plugin hands back.

use std::io::{self, Write};

use serde::Serialize;

/// True if `value`, as JSON, takes at most `limit` bytes. Stops counting at
/// the limit, so a huge value costs no more than `limit` bytes of work.
pub(crate) fn fits_within<T: Serialize>(value: &T, limit: usize) -> bool {
    let mut counter = Counter { left: limit };
    serde_json::to_writer(&mut counter, value).is_ok()
}

struct Counter {
    left: usize,
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.left = self
            .left
            .checked_sub(buf.len())
            .ok_or_else(|| io::Error::other("limit reached"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::fits_within;

    #[test]
    fn counts_the_json_form() {
        // "abc" is five bytes of JSON.
        assert!(fits_within(&"abc", 5));
        assert!(!fits_within(&"abc", 4));
    }
}
