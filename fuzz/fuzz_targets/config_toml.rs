//! Configuration: a TOML document over the built-in defaults, extracted and
//! validated as `tessera serve --config` does (`Config::from_toml`). Nothing
//! may panic; a configuration that loads must also give its time zone.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_server::Config;

fuzz_target!(|text: &str| {
    if let Ok(config) = Config::from_toml(text) {
        config
            .time_zone()
            .expect("a loaded configuration has a time zone");
        let _ = config.policy.validate();
    }
});
