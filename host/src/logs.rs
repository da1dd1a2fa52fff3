//! How the host writes its log: text for people, or one JSON object a line
//! for log collectors. Either way the request span's `request_id` rides on
//! every line a request causes.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The log's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `2026-12-02T10:00:00Z  INFO request{request_id=…}: h2h::http: …`
    #[default]
    Text,
    /// `{"timestamp":…,"level":"INFO","fields":{…},"target":…,"span":{…},"spans":[…]}`
    Json,
}

/// A format name that is neither `text` nor `json`.
#[derive(Debug, thiserror::Error)]
#[error("unknown log format `{0}` (text or json)")]
pub struct UnknownFormat(String);

impl std::str::FromStr for LogFormat {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(UnknownFormat(other.to_owned())),
        }
    }
}

/// A subscriber writing `format` lines that pass `filter` to `writer`.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().finish()),
    }
}
