//! `h2h plugin new`: a connector crate that builds at once, with its
//! manifest, for either world. Every call answers `unsupported` until it is
//! written.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use h2h_host::packages::manifest::Manifest;
use serde::Serialize;

use crate::output::Output;

const CARGO_TOML: &str = include_str!("../templates/Cargo.toml.tmpl");
const BANK_LIB: &str = include_str!("../templates/bank.rs.tmpl");
const POS_LIB: &str = include_str!("../templates/pos.rs.tmpl");

/// The SDK this binary was built beside, when it is still on disk.
const SDK_SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk");
const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Which world the connector implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum World {
    /// A bank: statements, balances, sessions, transfer batches.
    Bank,
    /// Card terminals: pairing, payment intents, voids.
    Pos,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The plugin id (lowercase letters, digits, inner dashes); also the
    /// crate's directory name.
    id: String,
    /// The contract world.
    #[arg(long, value_enum)]
    world: World,
    /// Where to make the crate (default: ./<id>).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// A company setting the connector reads (repeatable), e.g. `base-url`.
    #[arg(long = "setting", value_name = "NAME")]
    settings: Vec<String>,
    /// A secret company setting (repeatable), e.g. `token`.
    #[arg(long = "secret", value_name = "NAME")]
    secrets: Vec<String>,
    /// An origin the connector may call (repeatable), e.g.
    /// `https://api.bank.example`.
    #[arg(long = "origin", value_name = "ORIGIN")]
    origins: Vec<String>,
    /// Depend on the SDK at this path (default: the SDK this h2h was built
    /// from, when present; else the registry's version).
    #[arg(long, conflicts_with = "sdk_git")]
    sdk_path: Option<PathBuf>,
    /// Depend on the SDK from this git repository.
    #[arg(long)]
    sdk_git: Option<String>,
}

#[derive(Serialize)]
struct Created {
    id: String,
    world: &'static str,
    dir: PathBuf,
    files: Vec<String>,
}

pub fn new(args: &NewArgs, out: Output) -> anyhow::Result<()> {
    if !h2h_license::is_slug(&args.id) {
        bail!(
            "plugin id `{}`: lowercase letters, digits and inner dashes, at most 64",
            args.id
        );
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(&args.id));
    if dir.exists()
        && dir
            .read_dir()
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} exists and is not empty; nothing was written",
            dir.display()
        );
    }
    let manifest = manifest(args)?;
    Manifest::parse(&manifest).context("the manifest made from these options")?;
    let (world, lib) = match args.world {
        World::Bank => ("bank", BANK_LIB),
        World::Pos => ("pos", POS_LIB),
    };
    let name = display_name(&args.id);
    let files = [
        (
            "Cargo.toml",
            fill(CARGO_TOML, &args.id, &name, &sdk(args, world)?),
        ),
        ("h2h.toml", manifest),
        ("src/lib.rs", fill(lib, &args.id, &name, "")),
        (".gitignore", "/target\n".to_owned()),
    ];
    for (path, text) in &files {
        write(&dir.join(path), text)?;
    }
    let created = Created {
        id: args.id.clone(),
        world,
        dir: dir.clone(),
        files: files.iter().map(|(p, _)| (*p).to_owned()).collect(),
    };
    out.show(&created, |c| {
        format!(
            "created {} ({} connector) in {}\nnext: fill in src/lib.rs, then `h2h plugin pack {} --sign-key <key>`",
            c.id,
            c.world,
            c.dir.display(),
            c.dir.display()
        )
    })
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn fill(template: &str, id: &str, name: &str, sdk: &str) -> String {
    template
        .replace("{{crate}}", id)
        .replace("{{name}}", name)
        .replace("{{sdk}}", sdk)
}

/// `acme-bank` → `Acme Bank`.
fn display_name(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The SDK dependency line, with the world's feature.
fn sdk(args: &NewArgs, world: &str) -> anyhow::Result<String> {
    let features = format!("features = [\"{world}\"]");
    let source = if let Some(git) = &args.sdk_git {
        format!("git = {}", toml_string(git))
    } else {
        let path = match &args.sdk_path {
            Some(path) => Some(path.clone()),
            None => Path::new(SDK_SOURCE)
                .join("Cargo.toml")
                .exists()
                .then(|| PathBuf::from(SDK_SOURCE)),
        };
        match path {
            Some(path) => {
                let path = std::fs::canonicalize(&path)
                    .with_context(|| format!("the SDK at {}", path.display()))?;
                format!("path = {}", toml_string(&path.to_string_lossy()))
            }
            None => format!("version = \"{SDK_VERSION}\""),
        }
    };
    Ok(format!("h2h-sdk = {{ {source}, {features} }}"))
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn manifest(args: &NewArgs) -> anyhow::Result<String> {
    let world = match args.world {
        World::Bank => "bank-connector",
        World::Pos => "pos-connector",
    };
    let mut text = format!(
        "# {name}, made by `h2h plugin new`; see host/docs/manifest.md.\n\
         id = \"{id}\"\n\
         name = \"{name}\"\n\
         version = \"0.1.0\"\n\
         publisher = \"change-me\"\n\
         description = \"{name} connector.\"\n\n\
         [contract]\n\
         world = \"{world}\"\n\
         version = \"^2.0\"\n",
        id = args.id,
        name = display_name(&args.id),
    );
    if args.world == World::Bank {
        text.push_str("\n[requires]\nsettlements = \"^1\"\n");
    }
    let origins: Vec<String> = args.origins.iter().map(|o| toml_string(o)).collect();
    text.push_str(&format!(
        "\n[capabilities]\nhttp = [{}]\nsigning = false\n",
        origins.join(", ")
    ));
    for (names, kind) in [(&args.settings, "string"), (&args.secrets, "secret")] {
        for name in names {
            if !h2h_license::is_slug(name) {
                bail!("setting `{name}`: lowercase letters, digits and inner dashes");
            }
            text.push_str(&format!(
                "\n[[settings]]\nname = \"{name}\"\ntype = \"{kind}\"\n\
                 description = \"{}\"\nrequired = true\n",
                if kind == "secret" {
                    "A secret the company sets (sealed in the host's vault)."
                } else {
                    "A value the company sets."
                }
            ));
        }
    }
    Ok(text)
}
