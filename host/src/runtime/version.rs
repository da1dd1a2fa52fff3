//! The contract versions this host serves: the one place that lists them.

use std::fmt;

use semver::{Version, VersionReq};
use serde::Serialize;

/// A version of the `h2h:connector` contract a plugin can be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ContractVersion {
    /// `h2h:connector@1.0.0`, frozen.
    #[serde(rename = "1.0.0")]
    V1,
    /// `h2h:connector@2.0.0`, frozen.
    #[serde(rename = "2.0.0")]
    V2,
}

impl ContractVersion {
    /// Every version served, oldest first.
    pub const ALL: [ContractVersion; 2] = [ContractVersion::V1, ContractVersion::V2];
    /// The version the SDK builds for.
    pub const NEWEST: ContractVersion = ContractVersion::V2;

    /// The version as the WIT package writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractVersion::V1 => "1.0.0",
            ContractVersion::V2 => "2.0.0",
        }
    }

    /// The semver version.
    pub fn version(self) -> Version {
        Version::parse(self.as_str()).unwrap_or_else(|_| unreachable!("a valid literal"))
    }

    /// The WIT package name, `h2h:connector@<version>`.
    pub fn package(self) -> String {
        format!("h2h:connector@{}", self.as_str())
    }

    /// The served version a manifest's `contract.version` range names: the
    /// newest one it matches.
    pub fn for_range(range: &VersionReq) -> Option<ContractVersion> {
        Self::ALL
            .into_iter()
            .rev()
            .find(|v| range.matches(&v.version()))
    }

    /// The served version of an interface name's `@<version>` part. Within a
    /// major version, every minor and patch is the same version to the host.
    pub fn of_interface_version(version: &str) -> Option<ContractVersion> {
        let version = Version::parse(version).ok()?;
        Self::ALL.into_iter().find(|v| {
            let served = v.version();
            served.major == version.major && served.pre == version.pre
        })
    }

    /// Every served version, for messages: `1.0.0, 2.0.0`.
    pub fn list() -> String {
        Self::ALL.map(ContractVersion::as_str).join(", ")
    }
}

impl fmt::Display for ContractVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_pick_the_newest_matching_version() {
        let v = |r: &str| ContractVersion::for_range(&VersionReq::parse(r).expect("range"));
        assert_eq!(v("^1.0"), Some(ContractVersion::V1));
        assert_eq!(v("^2.0"), Some(ContractVersion::V2));
        assert_eq!(v("^2.1"), None, "a newer minor than served");
        assert_eq!(v("^3.0"), None);
        assert_eq!(
            v("^2.0.0-draft"),
            Some(ContractVersion::V2),
            "semver: a pre-release range admits the release"
        );
    }

    #[test]
    fn interface_versions_match_by_major_and_pre_release() {
        let v = ContractVersion::of_interface_version;
        assert_eq!(v("1.0.0"), Some(ContractVersion::V1));
        assert_eq!(v("1.2.0"), Some(ContractVersion::V1));
        assert_eq!(v("2.0.0"), Some(ContractVersion::V2));
        assert_eq!(v("2.3.1"), Some(ContractVersion::V2));
        assert_eq!(v("2.0.0-draft"), None, "the draft is no longer served");
        assert_eq!(v("3.0.0"), None);
        assert_eq!(v("x"), None);
    }
}
