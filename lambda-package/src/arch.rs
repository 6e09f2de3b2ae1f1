//! The two architectures Lambda runs, by their Lambda and OCI names.

use std::fmt;
use std::str::FromStr;

/// A Lambda architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Architecture {
    /// `x86_64` (OCI `amd64`).
    X86_64,
    /// `arm64` (OCI `arm64`, variant `v8` or none).
    Arm64,
}

impl Architecture {
    /// Lambda's name: `x86_64` or `arm64`.
    pub fn as_lambda_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// The OCI (GOARCH) name: `amd64` or `arm64`.
    pub fn oci_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "amd64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// From an OCI platform; `None` for architectures Lambda does not run.
    pub fn from_oci(architecture: &str, variant: Option<&str>) -> Option<Architecture> {
        match (architecture, variant.unwrap_or("")) {
            ("amd64", _) => Some(Architecture::X86_64),
            ("arm64", "" | "v8") => Some(Architecture::Arm64),
            _ => None,
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_lambda_str())
    }
}

impl FromStr for Architecture {
    type Err = String;

    fn from_str(s: &str) -> Result<Architecture, String> {
        match s {
            "x86_64" | "amd64" => Ok(Architecture::X86_64),
            "arm64" | "aarch64" => Ok(Architecture::Arm64),
            other => Err(format!(
                "unknown architecture {other:?} (x86_64/amd64 or arm64/aarch64)"
            )),
        }
    }
}
