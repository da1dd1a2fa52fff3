//! Package refusals, each with its exact message, and packing a real crate.

use std::io::Write as _;

use h2h_host::packages::archive::Files;
use h2h_host::packages::pack::{PackOptions, pack, with_extra_origins, write_package, zip_files};
use h2h_host::packages::{PackageError, PackageLimits, SignaturePolicy, open, signature};
use h2h_license::VendorKeyPair;
use h2h_test_plugins::{MINIMAL, WELL_BEHAVED};

const MANIFEST: &str = r#"id = "minimal"
name = "Minimal"
version = "1.0.0"
publisher = "h2h tests"

[contract]
world = "bank-connector"
version = "^2.0"
"#;

fn wasm(path: &str) -> Vec<u8> {
    std::fs::read(path).expect("test plugin built")
}

struct Setup {
    key: VendorKeyPair,
}

impl Setup {
    fn new() -> Self {
        Self {
            key: VendorKeyPair::generate().expect("key"),
        }
    }

    fn files(&self, manifest: &str, component: &[u8]) -> Files {
        let mut files = Files::new();
        files.insert("h2h.toml".to_owned(), manifest.as_bytes().to_vec());
        files.insert("plugin.wasm".to_owned(), component.to_vec());
        files
    }

    fn signed(&self, mut files: Files) -> Vec<u8> {
        let signature = signature::sign(&files, &self.key);
        files.insert("signature.toml".to_owned(), signature.into_bytes());
        zip_files(&files).expect("zip")
    }

    fn open(&self, zip: &[u8]) -> Result<h2h_host::packages::Package, PackageError> {
        open(
            zip,
            &[self.key.public()],
            SignaturePolicy::RequireTrusted,
            &PackageLimits::default(),
        )
    }

    fn refusal(&self, zip: &[u8]) -> (String, &'static str) {
        let error = self.open(zip).expect_err("refused");
        (error.to_string(), error.kind())
    }
}

/// A zip with entries written exactly as given (names, methods).
fn raw_zip(entries: &[(&str, &[u8], zip::CompressionMethod)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes, method) in entries {
        let options = zip::write::SimpleFileOptions::default().compression_method(*method);
        writer.start_file(*name, options).expect("entry");
        writer.write_all(bytes).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

#[test]
fn a_good_package_opens_with_its_signer_and_digest() {
    let setup = Setup::new();
    let zip = write_package(
        MANIFEST,
        &wasm(MINIMAL),
        Some("# Minimal"),
        None,
        Some(&setup.key),
    )
    .expect("package");
    let package = setup.open(&zip).expect("opens");
    assert_eq!(package.manifest.id, "minimal");
    assert_eq!(package.signer, Some(setup.key.public().key_id()));
    assert_eq!(package.readme.as_deref(), Some("# Minimal"));
    assert_eq!(package.wasm, wasm(MINIMAL));
    // Same inputs, same bytes: packages are reproducible.
    let again = write_package(
        MANIFEST,
        &wasm(MINIMAL),
        Some("# Minimal"),
        None,
        Some(&setup.key),
    )
    .expect("package");
    assert_eq!(zip, again);
}

#[test]
fn archive_refusals() {
    let setup = Setup::new();
    let stored = zip::CompressionMethod::Stored;
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (b"PK\x03\x04 definitely not".to_vec(), "not_a_zip", ""),
        (
            raw_zip(&[("../h2h.toml", b"x", stored)]),
            "unsafe_path",
            "entry `../h2h.toml`: only plain file names at the archive root are allowed (no directories, `..`, absolute paths or backslashes)",
        ),
        (raw_zip(&[("/etc/passwd", b"x", stored)]), "unsafe_path", ""),
        (
            raw_zip(&[("dir/h2h.toml", b"x", stored)]),
            "unsafe_path",
            "",
        ),
        (raw_zip(&[("..\\evil", b"x", stored)]), "unsafe_path", ""),
        (
            raw_zip(&[
                ("h2h.toml", MANIFEST.as_bytes(), stored),
                ("run.sh", b"rm -rf /", stored),
            ]),
            "unexpected_entry",
            "entry `run.sh` is not part of the package format (allowed: h2h.toml, plugin.wasm, README.md, icon.png, signature.toml)",
        ),
        (
            raw_zip(&[("h2h.toml", MANIFEST.as_bytes(), stored)]),
            "missing_entry",
            "the package has no `plugin.wasm`",
        ),
        (
            raw_zip(&[("plugin.wasm", b"\0asm", stored)]),
            "missing_entry",
            "the package has no `h2h.toml`",
        ),
    ];
    for (zip, kind, message) in cases {
        let (got_message, got_kind) = setup.refusal(&zip);
        assert_eq!(got_kind, kind, "{got_message}");
        if !message.is_empty() {
            assert_eq!(got_message, message);
        }
    }
}

#[test]
fn size_limits_hold_on_inflated_bytes() {
    let setup = Setup::new();
    let deflated = zip::CompressionMethod::Deflated;
    // 10 MiB of zeros deflate to ~10 KiB: a bomb, though under the size cap.
    let zeros = vec![0u8; 10 << 20];
    let bomb = raw_zip(&[
        ("h2h.toml", MANIFEST.as_bytes(), deflated),
        ("plugin.wasm", &zeros, deflated),
    ]);
    assert_eq!(
        setup.refusal(&bomb),
        (
            "`plugin.wasm` inflates more than 200:1; refusing a likely compression bomb".to_owned(),
            "compression_bomb"
        )
    );
    let big_readme = vec![b'a'; 300 << 10];
    let zip = raw_zip(&[("README.md", &big_readme, zip::CompressionMethod::Stored)]);
    assert_eq!(
        setup.refusal(&zip),
        (
            "`README.md` inflates to more than 262144 bytes".to_owned(),
            "entry_too_large"
        )
    );
    let many: Vec<(String, Vec<u8>)> = (0..17).map(|i| (format!("f{i}"), vec![])).collect();
    let entries: Vec<(&str, &[u8], zip::CompressionMethod)> = many
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice(), zip::CompressionMethod::Stored))
        .collect();
    assert_eq!(
        setup.refusal(&raw_zip(&entries)),
        (
            "the package has 17 entries; at most 16 are allowed".to_owned(),
            "too_many_entries"
        )
    );
    let tight = PackageLimits {
        archive_bytes: 100,
        ..PackageLimits::default()
    };
    let zip = write_package(MANIFEST, &wasm(MINIMAL), None, None, Some(&setup.key)).expect("zip");
    let error = open(
        &zip,
        &[setup.key.public()],
        SignaturePolicy::RequireTrusted,
        &tight,
    )
    .expect_err("too large");
    assert_eq!(error.kind(), "package_too_large");
}

#[test]
fn signature_refusals() {
    let setup = Setup::new();
    let good = setup.files(MANIFEST, &wasm(MINIMAL));

    let unsigned = zip_files(&good).expect("zip");
    assert_eq!(setup.refusal(&unsigned).1, "unsigned");

    // Changed after signing: the component is swapped.
    let mut files = good.clone();
    files.insert(
        "signature.toml".to_owned(),
        signature::sign(&good, &setup.key).into_bytes(),
    );
    files.insert("plugin.wasm".to_owned(), wasm(WELL_BEHAVED));
    let tampered = zip_files(&files).expect("zip");
    let key_id = setup.key.public().key_id();
    assert_eq!(
        setup.refusal(&tampered),
        (
            format!(
                "the signature by key {key_id} does not match the package contents: a file was changed after signing"
            ),
            "bad_signature"
        )
    );
    // A README added after signing is caught too.
    let mut files = good.clone();
    files.insert(
        "signature.toml".to_owned(),
        signature::sign(&good, &setup.key).into_bytes(),
    );
    files.insert("README.md".to_owned(), b"surprise".to_vec());
    assert_eq!(
        setup.refusal(&zip_files(&files).expect("zip")).1,
        "bad_signature"
    );

    let stranger = VendorKeyPair::generate().expect("key");
    let mut files = good.clone();
    files.insert(
        "signature.toml".to_owned(),
        signature::sign(&good, &stranger).into_bytes(),
    );
    let foreign = zip_files(&files).expect("zip");
    assert_eq!(
        setup.refusal(&foreign),
        (
            format!(
                "signed by key {}, which this host does not trust (`h2h publisher trust <public key file>`)",
                stranger.public().key_id()
            ),
            "unknown_publisher"
        )
    );

    // Development mode: unsigned and unknown publishers pass without a
    // signer; a wrong signature by a trusted key still does not.
    let dev = |zip: &[u8]| {
        open(
            zip,
            &[setup.key.public()],
            SignaturePolicy::AllowUnsigned,
            &PackageLimits::default(),
        )
    };
    assert_eq!(dev(&unsigned).expect("dev accepts").signer, None);
    assert_eq!(dev(&foreign).expect("dev accepts").signer, None);
    assert_eq!(
        dev(&tampered).expect_err("still refused").kind(),
        "bad_signature"
    );
}

#[test]
fn component_refusals() {
    let setup = Setup::new();
    let core_module = b"\0asm\x01\x00\x00\x00".to_vec();
    assert_eq!(
        setup.refusal(&setup.signed(setup.files(MANIFEST, &core_module))),
        (
            "plugin.wasm is not a WebAssembly component: it is a core module; build with the h2h SDK for wasm32-wasip2".to_owned(),
            "not_a_component"
        )
    );
    assert_eq!(
        setup
            .refusal(&setup.signed(setup.files(MANIFEST, b"MZ\x90\x00 an exe")))
            .1,
        "not_a_component"
    );
    let pos = MANIFEST.replace("bank-connector", "pos-connector");
    assert_eq!(
        setup.refusal(&setup.signed(setup.files(&pos, &wasm(MINIMAL)))),
        (
            "plugin.wasm does not match the declared world `pos-connector`: it exports h2h:connector/bank, the other connector world".to_owned(),
            "world_mismatch"
        )
    );
    // well-behaved calls http: its manifest must list an allow-list.
    assert_eq!(
        setup
            .refusal(&setup.signed(setup.files(MANIFEST, &wasm(WELL_BEHAVED))))
            .1,
        "ungranted_import"
    );
    // It signs too: the manifest must ask for signing as well.
    let with_http =
        format!("{MANIFEST}\n[capabilities]\nhttp = [\"https://bank.example\"]\nsigning = true\n");
    setup
        .open(&setup.signed(setup.files(&with_http, &wasm(WELL_BEHAVED))))
        .expect("declared, so accepted");

    // A component of a contract this host does not serve: the same bytes
    // with the version renamed (same length, so the binary stays
    // well-formed).
    let v3 = replace_all(
        &wasm(MINIMAL),
        b"h2h:connector/bank@2.0.0",
        b"h2h:connector/bank@3.0.0",
    );
    assert_eq!(
        setup.refusal(&setup.signed(setup.files(MANIFEST, &v3))),
        (
            "plugin.wasm uses `h2h:connector/bank@3.0.0`; this host serves h2h:connector 1.0.0, 2.0.0".to_owned(),
            "unsupported_contract"
        )
    );
    // A 2.0 component under a manifest that says it was built for 1.0.
    let says_v1 = MANIFEST.replace("^2.0", "^1.0");
    let (message, code) = setup.refusal(&setup.signed(setup.files(&says_v1, &wasm(MINIMAL))));
    assert_eq!(code, "contract_mismatch");
    assert!(
        message.ends_with("@2.0.0` but h2h.toml declares h2h:connector@1.0.0"),
        "{message}"
    );
}

fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = haystack.to_vec();
    let mut i = 0;
    let mut replaced = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            replaced += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert!(replaced > 0, "pattern not found");
    out
}

#[test]
fn manifest_errors_name_line_and_field() {
    let setup = Setup::new();
    let bad = MANIFEST.replace("version = \"1.0.0\"", "version = \"1.0\"");
    assert_eq!(
        setup.refusal(&setup.signed(setup.files(&bad, &wasm(MINIMAL)))),
        (
            "h2h.toml line 3: `version`: not semver: unexpected end of input while parsing minor version number".to_owned(),
            "invalid_manifest"
        )
    );
}

#[test]
fn pack_builds_checks_and_signs_a_real_crate() {
    let setup = Setup::new();
    let out = tempfile::tempdir().expect("dir");
    let crate_dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/plugins/minimal");
    let report = pack(&PackOptions {
        extra_origins: Vec::new(),
        version: None,
        crate_dir,
        sign_key: Some(VendorKeyPair::from_armored(&setup.key.to_armored()).expect("key")),
        output: Some(out.path().join("minimal.zip")),
        // The test plugins' own target dir: already built, so this is quick.
        target_dir: Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm-plugins"),
        ),
    })
    .expect("packs");
    assert_eq!(
        (report.id.as_str(), report.version.as_str()),
        ("minimal", "1.0.0")
    );
    let zip = std::fs::read(&report.path).expect("written");
    assert_eq!(zip.len() as u64, report.zip_bytes);
    let package = setup.open(&zip).expect("opens");
    assert_eq!(package.signer, Some(setup.key.public().key_id()));
    assert_eq!(package.wasm.len() as u64, report.wasm_bytes);
}

#[test]
fn pack_time_origins_join_the_signed_allow_list() {
    let manifest = "# the bank's API only\nid = \"p\"\n\n[capabilities]\nhttp = [\"https://api.bank.example\"]\n";
    let widened =
        with_extra_origins(manifest, &["http://127.0.0.1:8089".to_owned()]).expect("origin");
    assert!(widened.starts_with("# the bank's API only\n"), "{widened}");
    assert!(
        widened.contains(r#"http = ["https://api.bank.example", "http://127.0.0.1:8089"]"#),
        "{widened}"
    );
    // Twice is once; no list yet gets one.
    let again = with_extra_origins(&widened, &["http://127.0.0.1:8089".to_owned()]).expect("again");
    assert_eq!(again, widened);
    let fresh =
        with_extra_origins("id = \"p\"\n", &["https://b.example".to_owned()]).expect("fresh");
    assert!(
        fresh.contains("[capabilities]\nhttp = [\"https://b.example\"]"),
        "{fresh}"
    );

    let bad = with_extra_origins(manifest, &["ftp://127.0.0.1".to_owned()]).expect_err("refused");
    assert_eq!(
        bad.to_string(),
        "--allow-origin: `ftp://127.0.0.1`: scheme `ftp` is not http or https"
    );
}
