//! The 1.0 host interfaces, served by the capabilities' 2.0 implementations:
//! each call converts its arguments up and its answer down. The two
//! versions' import interfaces say the same things apart from the bank
//! session 2.0 adds to `config.invocation`, so nothing is lost either way.

use crate::capabilities::{
    config::ConfigCtx, http::HttpCtx, log::LogCtx, signing::SigningCtx, storage::StorageCtx,
};
use crate::wit::{v1, v2};

impl v1::http::Host for HttpCtx {
    async fn send(
        &mut self,
        request: v1::http::Request,
    ) -> wasmtime::Result<Result<v1::http::Response, v1::http::HttpError>> {
        use v1::http::Method as M1;
        use v2::http::Method as M2;
        let method = match request.method {
            M1::Get => M2::Get,
            M1::Head => M2::Head,
            M1::Post => M2::Post,
            M1::Put => M2::Put,
            M1::Patch => M2::Patch,
            M1::Delete => M2::Delete,
            M1::Options => M2::Options,
        };
        let request = v2::http::Request {
            method,
            url: request.url,
            headers: request.headers,
            body: request.body,
            timeout_ms: request.timeout_ms,
            client_certificate: request.client_certificate,
        };
        let answer = v2::http::Host::send(self, request).await?;
        Ok(answer
            .map(|r| v1::http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| {
                use v1::http::HttpError as E1;
                use v2::http::HttpError as E2;
                match e {
                    E2::Denied(m) => E1::Denied(m),
                    E2::Timeout => E1::Timeout,
                    // 1.0 has one word for both.
                    E2::NotSent(m) | E2::Connection(m) => E1::Connection(m),
                    E2::TooLarge(n) => E1::TooLarge(n),
                    E2::InvalidRequest(m) => E1::InvalidRequest(m),
                    E2::UnknownCertificate(m) => E1::UnknownCertificate(m),
                }
            }))
    }
}

fn storage_error(e: v2::storage::StorageError) -> v1::storage::StorageError {
    use v1::storage::StorageError as E1;
    use v2::storage::StorageError as E2;
    match e {
        E2::QuotaExceeded(n) => E1::QuotaExceeded(n),
        E2::InvalidKey(m) => E1::InvalidKey(m),
        E2::Unavailable(m) => E1::Unavailable(m),
    }
}

type StorageResult<T> = wasmtime::Result<Result<T, v1::storage::StorageError>>;

impl v1::storage::Host for StorageCtx {
    async fn get(&mut self, key: String) -> StorageResult<Option<Vec<u8>>> {
        Ok(v2::storage::Host::get(self, key)
            .await?
            .map_err(storage_error))
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> StorageResult<()> {
        Ok(v2::storage::Host::set(self, key, value)
            .await?
            .map_err(storage_error))
    }

    async fn delete(&mut self, key: String) -> StorageResult<bool> {
        Ok(v2::storage::Host::delete(self, key)
            .await?
            .map_err(storage_error))
    }

    async fn list(&mut self, prefix: String) -> StorageResult<Vec<String>> {
        Ok(v2::storage::Host::list(self, prefix)
            .await?
            .map_err(storage_error))
    }

    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> StorageResult<bool> {
        Ok(
            v2::storage::Host::compare_and_swap(self, key, expected, new)
                .await?
                .map_err(storage_error),
        )
    }
}

impl v1::config::Host for ConfigCtx {
    async fn current(&mut self) -> wasmtime::Result<v1::config::Invocation> {
        // 1.0 knows no bank session in the invocation.
        let now = v2::config::Host::current(self).await?;
        Ok(v1::config::Invocation {
            company_id: now.company_id,
            user: now.user,
            call: now.call,
        })
    }

    async fn setting(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        v2::config::Host::setting(self, name).await
    }

    async fn secret(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        v2::config::Host::secret(self, name).await
    }
}

fn mechanism_up(m: v1::signing::Mechanism) -> v2::signing::Mechanism {
    use v1::signing::Mechanism as M1;
    use v2::signing::Mechanism as M2;
    match m {
        M1::RsaPkcs1Sha256 => M2::RsaPkcs1Sha256,
        M1::RsaPssSha256 => M2::RsaPssSha256,
        M1::EcdsaP256Sha256 => M2::EcdsaP256Sha256,
    }
}

fn mechanism_down(m: v2::signing::Mechanism) -> v1::signing::Mechanism {
    use v1::signing::Mechanism as M1;
    use v2::signing::Mechanism as M2;
    match m {
        M2::RsaPkcs1Sha256 => M1::RsaPkcs1Sha256,
        M2::RsaPssSha256 => M1::RsaPssSha256,
        M2::EcdsaP256Sha256 => M1::EcdsaP256Sha256,
    }
}

fn signing_error(e: v2::signing::SigningError) -> v1::signing::SigningError {
    use v1::signing::SigningError as E1;
    use v2::signing::SigningError as E2;
    match e {
        E2::NotGranted => E1::NotGranted,
        E2::SessionRequired(m) => E1::SessionRequired(m),
        E2::KeyNotFound(m) => E1::KeyNotFound(m),
        E2::UnsupportedMechanism(m) => E1::UnsupportedMechanism(m),
        E2::Token(m) => E1::Token(m),
    }
}

impl v1::signing::Host for SigningCtx {
    async fn list_certificates(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<v1::signing::Certificate>, v1::signing::SigningError>> {
        let answer = v2::signing::Host::list_certificates(self).await?;
        Ok(answer
            .map(|list| {
                list.into_iter()
                    .map(|c| v1::signing::Certificate {
                        key_id: c.key_id,
                        label: c.label,
                        subject: c.subject,
                        issuer: c.issuer,
                        serial: c.serial,
                        not_before: c.not_before,
                        not_after: c.not_after,
                        der: c.der,
                        mechanisms: c.mechanisms.into_iter().map(mechanism_down).collect(),
                    })
                    .collect()
            })
            .map_err(signing_error))
    }

    async fn sign(
        &mut self,
        key_id: String,
        mechanism: v1::signing::Mechanism,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, v1::signing::SigningError>> {
        let answer = v2::signing::Host::sign(self, key_id, mechanism_up(mechanism), data).await?;
        Ok(answer.map_err(signing_error))
    }
}

impl v1::log::Host for LogCtx {
    async fn write(&mut self, level: v1::log::Level, message: String) -> wasmtime::Result<()> {
        use v1::log::Level as L1;
        use v2::log::Level as L2;
        let level = match level {
            L1::Trace => L2::Trace,
            L1::Debug => L2::Debug,
            L1::Info => L2::Info,
            L1::Warn => L2::Warn,
            L1::Error => L2::Error,
        };
        v2::log::Host::write(self, level, message).await
    }

    async fn report_panic(&mut self, message: String) -> wasmtime::Result<()> {
        v2::log::Host::report_panic(self, message).await
    }
}
