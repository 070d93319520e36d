//! `[listener]`: how long a connection may take to say what it wants, how
//! long it may sit idle, how many may be open at once, and the HTTPS
//! certificate. These bound what a crowd of slow or silent clients can hold
//! of the server (`crate::listener`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ListenerConfig {
    /// Seconds a connection has to send a request's complete headers (and,
    /// with TLS, to finish the handshake first); then it is closed. For
    /// HTTP/1.1 the clock also runs while a kept-alive connection waits for
    /// its next request.
    pub header_read_timeout_secs: u64,
    /// Seconds a kept-alive connection with no request in flight stays
    /// open.
    pub idle_timeout_secs: u64,
    /// Connections open at once; past it a new connection is answered `503
    /// overloaded` and closed without its request being read. 0 sizes it
    /// from the open-file limit (`crate::listener::connection_cap`); a
    /// number above what the limit allows is lowered to it.
    pub max_connections: u32,
    /// A PEM certificate chain: with `tls_key`, the service speaks HTTPS
    /// (HTTP/1.1 and HTTP/2).
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 0,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl ListenerConfig {
    /// The most `max_connections` may say: far above any one machine's
    /// open files, low enough to stay a plain number.
    pub const MOST_CONNECTIONS: u32 = 1_000_000;

    /// `tessera serve --load-test`: as many connections as the open-file
    /// limit allows, without the default's ceiling.
    pub fn raise_for_load_test(&mut self) {
        self.max_connections = Self::MOST_CONNECTIONS;
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        if self.header_read_timeout_secs == 0 || self.header_read_timeout_secs > 300 {
            return Err("listener.header_read_timeout_secs must be 1 to 300".to_owned());
        }
        if self.idle_timeout_secs == 0 || self.idle_timeout_secs > 3600 {
            return Err("listener.idle_timeout_secs must be 1 to 3600".to_owned());
        }
        if self.max_connections > Self::MOST_CONNECTIONS {
            return Err(format!(
                "listener.max_connections must be at most {} (0: from the open-file limit)",
                Self::MOST_CONNECTIONS
            ));
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(
                "listener.tls_cert and listener.tls_key go together: give both for HTTPS, or \
                 neither"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Overrides};

    fn load(text: &str) -> Result<Config, String> {
        Config::from_toml(text)
    }

    #[test]
    fn defaults_are_valid_and_bounded() {
        let config = load("").unwrap();
        assert_eq!(config.listener, ListenerConfig::default());
        assert_eq!(config.listener.header_read_timeout_secs, 10);
        assert_eq!(config.listener.idle_timeout_secs, 60);
        assert_eq!(config.listener.max_connections, 0);
        let config =
            load("[listener]\nheader_read_timeout_secs = 2\nidle_timeout_secs = 5\nmax_connections = 100\n")
                .unwrap();
        assert_eq!(
            (
                config.listener.header_read_timeout_secs,
                config.listener.idle_timeout_secs,
                config.listener.max_connections
            ),
            (2, 5, 100)
        );
    }

    #[test]
    fn out_of_range_values_are_named() {
        for (text, named) in [
            (
                "[listener]\nheader_read_timeout_secs = 0\n",
                "header_read_timeout_secs",
            ),
            (
                "[listener]\nheader_read_timeout_secs = 301\n",
                "header_read_timeout_secs",
            ),
            ("[listener]\nidle_timeout_secs = 0\n", "idle_timeout_secs"),
            ("[listener]\nmax_connections = 1000001\n", "max_connections"),
            ("[listener]\ntls_cert = \"cert.pem\"\n", "tls_key"),
            ("[listener]\ntls_key = \"key.pem\"\n", "tls_cert"),
            ("[listener]\nmax_conections = 5\n", "max_conections"),
        ] {
            let error = load(text).unwrap_err();
            assert!(error.contains(named), "{text}: {error}");
        }
        let both = load("[listener]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n").unwrap();
        assert_eq!(both.listener.tls_cert, Some(PathBuf::from("c.pem")));
    }

    #[test]
    fn flags_set_the_certificate_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tessera.toml");
        std::fs::write(&file, "[listener]\nidle_timeout_secs = 7\n").unwrap();
        let flags = Overrides {
            tls_cert: Some(PathBuf::from("/etc/tessera/cert.pem")),
            tls_key: Some(PathBuf::from("/etc/tessera/key.pem")),
            ..Overrides::default()
        };
        let config = Config::load(Some(&file), &flags).unwrap();
        assert_eq!(config.listener.idle_timeout_secs, 7);
        assert_eq!(
            config.listener.tls_key,
            Some(PathBuf::from("/etc/tessera/key.pem"))
        );
        // A key without its certificate is refused whichever layer gave it.
        let flags = Overrides {
            tls_key: Some(PathBuf::from("/etc/tessera/key.pem")),
            ..Overrides::default()
        };
        assert!(Config::load(Some(&file), &flags).is_err());
    }

    #[test]
    fn load_test_lifts_the_ceiling() {
        let mut listener = ListenerConfig::default();
        listener.raise_for_load_test();
        assert_eq!(listener.max_connections, ListenerConfig::MOST_CONNECTIONS);
        assert!(listener.validate().is_ok());
    }
}
