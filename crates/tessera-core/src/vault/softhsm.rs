//! Test support: a SoftHSM2 token of its own for each test, so tests run in
//! parallel. SoftHSM2 reads its configuration (where its tokens live) from
//! `SOFTHSM2_CONF` when a process first loads it, so a test hands the
//! returned [`SoftHsm::env`] to the process that opens the token.
//!
//! Without SoftHSM2 installed a test skips, unless `TESSERA_REQUIRE_SOFTHSM`
//! is set (as `.ci/run` does): then it fails, saying what to install.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::hsm::HsmLocation;

/// Debian's SoftHSM2 module (package softhsm2).
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The user PIN of every test token.
pub const TEST_PIN: &str = "1234";
/// The token label of every test token.
pub const TEST_TOKEN: &str = "tessera-test";

/// One initialized token in a directory of its own.
#[derive(Debug, Clone)]
pub struct SoftHsm {
    pub conf: PathBuf,
    pub location: HsmLocation,
}

impl SoftHsm {
    /// Creates `dir/softhsm2.conf` and `dir/tokens/` and initializes a token
    /// there. `Ok(None)`: SoftHSM2 is absent and not required, skip.
    pub fn new(dir: &Path) -> Result<Option<SoftHsm>, String> {
        let installed = Path::new(SOFTHSM_MODULE).exists()
            && Command::new("softhsm2-util")
                .arg("--version")
                .output()
                .is_ok_and(|out| out.status.success());
        if !installed {
            if std::env::var_os("TESSERA_REQUIRE_SOFTHSM").is_some() {
                return Err(format!(
                    "TESSERA_REQUIRE_SOFTHSM is set but SoftHSM2 is not installed ({SOFTHSM_MODULE} \
                     and softhsm2-util): `apt-get install softhsm2`"
                ));
            }
            return Ok(None);
        }
        let tokens = dir.join("tokens");
        fs::create_dir_all(&tokens).map_err(|e| format!("{}: {e}", tokens.display()))?;
        let conf = dir.join("softhsm2.conf");
        fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .map_err(|e| format!("{}: {e}", conf.display()))?;
        let init = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args(["--init-token", "--free", "--label", TEST_TOKEN])
            .args(["--pin", TEST_PIN, "--so-pin", "5678"])
            .output()
            .map_err(|e| format!("softhsm2-util: {e}"))?;
        if !init.status.success() {
            return Err(format!(
                "softhsm2-util --init-token failed: {}",
                String::from_utf8_lossy(&init.stderr)
            ));
        }
        Ok(Some(SoftHsm {
            conf,
            location: HsmLocation {
                module: PathBuf::from(SOFTHSM_MODULE),
                token: TEST_TOKEN.to_owned(),
            },
        }))
    }

    /// What a process that opens this token needs in its environment.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SOFTHSM2_CONF", self.conf.display().to_string()),
            (super::ENV_HSM_PIN, TEST_PIN.to_owned()),
        ]
    }
}
