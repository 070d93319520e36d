//! The PKCS#11 key backend end to end, with SoftHSM2: a wallet started on
//! its key file binds and pays, `tessera keys move-to-hsm` copies the keys
//! into a token (twice: the second run changes nothing), the key file is
//! put away, and the node restarted on the token opens, pays and finds the
//! cards bound before; `tessera keys rotate` then makes a data key inside
//! the token, and `rotate-root` is refused. Each test has its own token
//! directory (SOFTHSM2_CONF), so they run in parallel; without SoftHSM2
//! they skip, unless TESSERA_REQUIRE_SOFTHSM is set.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use serde_json::{Value, json};
use tempfile::TempDir;
use tessera_core::vault::softhsm::SoftHsm;
use tessera_core::vault::{ENV_MASTER_KEY, KEY_FILE_NAME};
use tessera_server::client::device::Device;
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::test_support::{purchase, request, sign_in, sign_up};
use tessera_store::test_support::TestDatabase;

use crate::{ServeProcess, TESSERA};

const NAME: &str = "张三";

/// One wallet: a data directory, its database, and a token.
struct Site {
    dir: TempDir,
    data_dir: PathBuf,
    db_args: Vec<String>,
    softhsm: SoftHsm,
    /// Dropped last: the nodes are killed first.
    _database: Option<TestDatabase>,
}

impl Site {
    async fn new(postgres: bool) -> Option<Site> {
        let dir = tempfile::tempdir().unwrap();
        let softhsm = SoftHsm::new(&dir.path().join("softhsm")).unwrap()?;
        let (database, db_args) = if postgres {
            let database = TestDatabase::create().await?;
            let args = vec!["--database-url".to_owned(), database.url().to_owned()];
            (Some(database), args)
        } else {
            (None, Vec::new())
        };
        Some(Site {
            data_dir: dir.path().join("data"),
            dir,
            db_args,
            softhsm,
            _database: database,
        })
    }

    /// The environment of a process: the token's (SOFTHSM2_CONF and the
    /// PIN) always, and with `hsm` the backend's settings.
    fn env(&self, hsm: bool) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .softhsm
            .env()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        env.push(("TESSERA_VAULT__REFRESH_SECS".to_owned(), "1".to_owned()));
        if hsm {
            let location = &self.softhsm.location;
            env.extend([
                ("TESSERA_VAULT__BACKEND".to_owned(), "pkcs11".to_owned()),
                (
                    "TESSERA_VAULT__PKCS11_MODULE".to_owned(),
                    location.module.display().to_string(),
                ),
                (
                    "TESSERA_VAULT__PKCS11_TOKEN".to_owned(),
                    location.token.clone(),
                ),
            ]);
        }
        env
    }

    fn serve(&self, hsm: bool, log: &str) -> ServeProcess {
        let env = self.env(hsm);
        let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let args: Vec<&str> = self.db_args.iter().map(String::as_str).collect();
        ServeProcess::start_env(&self.data_dir, &self.dir.path().join(log), &args, &env)
    }

    /// `tessera ARGS --data-dir DIR [--database-url URL]`.
    fn tessera(&self, args: &[&str], hsm: bool) -> Output {
        Command::new(TESSERA)
            .args(args)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.db_args)
            .env_remove(ENV_MASTER_KEY)
            .env_remove("TESSERA_DATABASE_URL")
            .envs(self.env(hsm))
            .output()
            .unwrap()
    }

    /// [`Site::tessera`], which must succeed: its stdout.
    fn ok(&self, args: &[&str], hsm: bool) -> String {
        let output = self.tessera(args, hsm);
        assert!(
            output.status.success(),
            "tessera {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn move_to_hsm(&self) -> String {
        let location = &self.softhsm.location;
        let module = location.module.display().to_string();
        self.ok(
            &[
                "keys",
                "move-to-hsm",
                "--module",
                &module,
                "--token",
                &location.token,
            ],
            false,
        )
    }
}

async fn call(
    client: &Client,
    method: Method,
    url: String,
    bearer: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, _, body) = request(client, method, &url, Some(bearer), body.as_ref(), &[]).await;
    (status.as_u16(), body)
}

async fn bind(client: &Client, base: &str, user: &str, number: &str) -> (u16, Value) {
    let body = json!({"number": number, "holder_name": NAME});
    call(
        client,
        Method::POST,
        format!("{base}/v1/cards"),
        user,
        Some(body),
    )
    .await
}

/// A device holding `count` limited-use keys of `token_ref`, from `base`.
async fn device(client: &Client, base: &str, user: &str, token_ref: &str, count: u32) -> Device {
    let url = format!("{base}/v1/tokens/{token_ref}/keys");
    let body = json!({"count": count});
    let (status, keys) = call(client, Method::POST, url, user, Some(body)).await;
    assert_eq!(status, 200, "{keys}");
    Device::from_keys(&keys).unwrap()
}

/// One purchase signed by `device`, submitted by merchant M1: approved.
async fn pays(client: &Client, base: &str, merchant: &str, device: &mut Device, amount: u64) {
    let signed = device.sign(&purchase(amount, "M1")).unwrap();
    let url = format!("{base}/v1/payments");
    let (status, paid) = call(client, Method::POST, url, merchant, Some(signed.body)).await;
    assert_eq!(status, 201, "{paid}");
    assert_eq!(paid["status"], "approved", "{paid}");
}

fn approving_card(length: usize) -> String {
    sandbox::card_number("622848", length, Outcome::Approve).unwrap()
}

async fn moves_binds_pays_and_rotates(postgres: bool) {
    let Some(site) = Site::new(postgres).await else {
        return;
    };
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // On the key file: a card bound, a device's keys, one payment.
    let node = site.serve(false, "file.log");
    let operator = site.ok(&["admin", "create-key", "--role", "operator"], false);
    let merchant = site.ok(
        &[
            "admin",
            "create-key",
            "--role",
            "merchant",
            "--merchant",
            "M1",
        ],
        false,
    );
    let (operator, merchant) = (operator.trim(), merchant.trim());
    let user = sign_up(&client, &node.base, NAME, operator).await;
    let number = approving_card(19);
    let (status, card) = bind(&client, &node.base, &user.token, &number).await;
    assert_eq!(status, 201, "{card}");
    let card_id = card["id"].as_str().unwrap().to_owned();
    let token_ref = card["token"]["ref"].as_str().unwrap().to_owned();
    let mut before = device(&client, &node.base, &user.token, &token_ref, 3).await;
    pays(&client, &node.base, merchant, &mut before, 1000).await;
    node.kill_9();

    // The move, twice: the second finds every key in place.
    let first = site.move_to_hsm();
    assert!(first.contains("backend = \"pkcs11\""), "{first}");
    assert!(!first.contains("(0 imported now"), "{first}");
    let second = site.move_to_hsm();
    assert!(second.contains("(0 imported now"), "{second}");
    // The node on the token must not need the key file.
    let key_file = site.data_dir.join(KEY_FILE_NAME);
    std::fs::rename(&key_file, site.dir.path().join("kept-offline.keys")).unwrap();

    // On the token: the card bound before opens and pays, with the keys
    // handed out before and with new ones.
    let node = site.serve(true, "hsm.log");
    let url = format!("{}/v1/cards/{card_id}", node.base);
    let (status, shown) = call(&client, Method::GET, url, &user.token, None).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["last4"], number[number.len() - 4..], "{shown}");
    pays(&client, &node.base, merchant, &mut before, 1100).await;
    let mut after = device(&client, &node.base, &user.token, &token_ref, 2).await;
    pays(&client, &node.base, merchant, &mut after, 1200).await;
    // Its fingerprint matches the one stored under the key file.
    let (status, again) = bind(&client, &node.base, &user.token, &number).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("card_already_bound"))
    );
    // The sign-in pepper is the key file's.
    sign_in(&client, &node.base, &user.phone, &user.password).await;
    let (status, second_card) = bind(&client, &node.base, &user.token, &approving_card(16)).await;
    assert_eq!(status, 201, "{second_card}");

    // A rotation makes data key version 2 inside the token; the node
    // learns it from the database, and everything is resealed under it.
    let rotated = site.ok(&["keys", "rotate", "--wait"], true);
    assert!(
        rotated.contains("Data key version 2 is active"),
        "{rotated}"
    );
    let status_text = site.ok(&["keys", "status"], true);
    let line = status_text
        .lines()
        .find(|line| line.trim_start().starts_with("2  active"))
        .unwrap_or_else(|| panic!("{status_text}"));
    assert!(line.contains("root 0"), "{status_text}");
    let started = Instant::now();
    let third = loop {
        let (status, body) = bind(&client, &node.base, &user.token, &approving_card(17)).await;
        if status == 201 || started.elapsed() > Duration::from_secs(20) {
            break (status, body);
        }
        assert_eq!(body["error"]["code"], "key_version_stale", "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(third.0, 201, "{}", third.1);
    let mut rotated_device = device(&client, &node.base, &user.token, &token_ref, 1).await;
    pays(&client, &node.base, merchant, &mut rotated_device, 1300).await;
    let old = status_text
        .lines()
        .find(|line| line.trim_start().starts_with("1  retiring"))
        .unwrap_or_else(|| panic!("{status_text}"));
    assert!(old.ends_with(" 0 records"), "{status_text}");

    // Nothing about a root applies to the token.
    let refused = site.tessera(&["keys", "rotate-root"], true);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("no root key to rotate"), "{stderr}");
    drop(node);
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wallet_moves_to_the_hsm_and_keeps_paying() {
        super::moves_binds_pays_and_rotates(false).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wallet_moves_to_the_hsm_and_keeps_paying() {
        super::moves_binds_pays_and_rotates(true).await;
    }
}
