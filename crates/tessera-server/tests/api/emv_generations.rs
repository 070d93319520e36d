//! EMV key generations over HTTP: a node restarted with a new generation's
//! root issues new tokens under it, while tokens of the old generation keep
//! paying; a cryptogram made under the wrong generation is declined.

use reqwest::StatusCode;
use serde_json::Value;
use tessera_core::emv::{Atc, DerivationOption, IccMasterKey, Psn, SessionKey};
use tessera_core::vault::KeyFile;
use tessera_server::Config;
use tessera_server::emv_generations::{LOOKUP_ROOT_GENERATIONS, record_lookup_root_generations};
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::Device;

use crate::{Backend, TestServer, User, assert_error, card, log_buffer, purchase};

/// The risk rules score every payment but stop none (`risk.rs` proves them).
fn unscreened(config: &mut Config) {
    config.risk.step_up_at = u32::MAX;
    config.risk.decline_at = u32::MAX;
}

async fn generation_of(server: &TestServer, token_ref: &str) -> u8 {
    server.stored_token(token_ref).await.imk_generation
}

async fn pays(server: &TestServer, merchant: &str, device: &mut Device) {
    let signed = device.sign(&purchase(500, "M1")).unwrap();
    let (status, body) = server.pay(merchant, &signed.body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "approved");
}

/// The device's next ATC, signed with `generation`'s key instead of its
/// token's: declined as any wrong cryptogram is.
async fn declined_under(server: &TestServer, merchant: &str, device: &mut Device, generation: u8) {
    let (atc, _) = device.keys.pop_front().unwrap();
    let wrong = session_key_under(server, device, generation, &atc).await;
    let forged = device.sign_with(&atc, wrong, &purchase(500, "M1")).unwrap();
    let (status, body) = server.pay(merchant, &forged.body).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "cryptogram_invalid",
    );
}

async fn bound_device(server: &TestServer, user: &User, device_id: &str) -> (Value, Device) {
    let card = server
        .bind_on(user, &card(Outcome::Approve), device_id)
        .await;
    let device = server.device(user, &card, device_id).await;
    (card, device)
}

/// The session key the device would hold for `atc` had its token's keys
/// come from `generation` (the server's key ring derives it).
async fn session_key_under(
    server: &TestServer,
    device: &Device,
    generation: u8,
    atc: &str,
) -> SessionKey {
    let token = server.stored_token(&device.token_ref).await;
    let imk = server
        .state()
        .keys
        .issuer_master_key(&token.imk_range, generation)
        .unwrap();
    let option = DerivationOption::for_pan_len(device.token_pan.len());
    let master = IccMasterKey::derive(
        &imk,
        &device.token_pan,
        Psn::new(token.psn).unwrap(),
        option,
    )
    .unwrap();
    master.session_key(Atc::new(u16::from_str_radix(atc, 16).unwrap()))
}

async fn a_new_generation_issues_new_tokens_while_old_ones_keep_paying(backend: Backend) {
    let mut server = TestServer::start_on(backend, unscreened).await;
    let user = server.user().await;
    let merchant = server.merchant_key(&["M1"]).await;
    let (old_card, mut old_device) = bound_device(&server, &user, "phone-1").await;
    let old_ref = old_card["token"]["ref"].as_str().unwrap().to_owned();
    assert_eq!(generation_of(&server, &old_ref).await, 1);
    assert_eq!(old_device.iad[1], 1, "the IAD's DKI names the generation");
    pays(&server, &merchant, &mut old_device).await;

    // As `tessera keys emv-generation add` does: the database first records
    // which generations are the lookup root's, so that a node still holding
    // the older key file never takes generation 2 for one of them.
    let file = KeyFile::in_dir(&server.data_dir());
    let mut ring = file.load().unwrap();
    let before = ring.clone();
    record_lookup_root_generations(server.state().store.as_ref(), &mut ring, server.now())
        .await
        .unwrap();

    // Issuing under a generation the key ring lacks: the node does not start.
    let error = server
        .restart(|config| {
            unscreened(config);
            config.payments.imk_generation = 2;
        })
        .await
        .unwrap_err();
    assert!(error.0.contains("payments.imk_generation = 2"), "{error}");
    assert!(
        error.0.contains("tessera keys emv-generation add"),
        "{error}"
    );

    // The operator adds generation 2 to the key file and restarts with it.
    assert_eq!(ring.add_emv_generation().unwrap(), 2);
    file.replace(&ring).unwrap();
    server
        .restart(|config| {
            unscreened(config);
            config.payments.imk_generation = 2;
        })
        .await
        .unwrap();

    let (new_card, mut new_device) = bound_device(&server, &user, "phone-2").await;
    let new_ref = new_card["token"]["ref"].as_str().unwrap().to_owned();
    assert_eq!(generation_of(&server, &new_ref).await, 2);
    assert_eq!(generation_of(&server, &old_ref).await, 1);
    assert_eq!(new_device.iad[1], 2);

    // The old token pays with the keys it held before the restart, and
    // with keys handed out after it, both under generation 1.
    pays(&server, &merchant, &mut old_device).await;
    let mut old_again = server.device(&user, &old_card, "phone-1").await;
    assert_eq!(old_again.iad[1], 1);
    pays(&server, &merchant, &mut old_again).await;
    pays(&server, &merchant, &mut new_device).await;

    // The new token's next ATC, signed with generation 1's key: declined;
    // and the old token's, signed with generation 2's.
    declined_under(&server, &merchant, &mut new_device, 1).await;
    declined_under(&server, &merchant, &mut old_again, 2).await;
    pays(&server, &merchant, &mut new_device).await;

    // A node whose key file lacks generation 2 (the file from before) still
    // pays generation 1 and never derives a key for generation 2.
    file.replace(&before).unwrap();
    server.restart(unscreened).await.unwrap();
    assert!(!server.state().keys.has_emv_generation(2));
    pays(&server, &merchant, &mut old_again).await;
    let signed = new_device.sign(&purchase(500, "M1")).unwrap();
    let (status, body) = server.pay(&merchant, &signed.body).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    let logs = String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned();
    assert!(
        logs.contains("EMV key generation 2 is not in this node's key ring: copy the key file"),
        "{logs}"
    );
    let records = server.payments(&user).await;
    let approved = records.iter().filter(|p| p["status"] == "approved").count();
    assert_eq!(approved, 6);
}

/// A generation added to the key file before any node recorded which
/// generations are the lookup root's: the first start records them, so a
/// node with the older key file still never derives generation 2 from the
/// lookup root.
async fn a_generation_added_before_the_first_start_is_recorded_at_start(backend: Backend) {
    let mut server = TestServer::start_on(backend, unscreened).await;
    let store = server.state().store.clone();
    assert!(
        store
            .setting(LOOKUP_ROOT_GENERATIONS)
            .await
            .unwrap()
            .is_none()
    );
    let file = KeyFile::in_dir(&server.data_dir());
    let before = file.load().unwrap();
    let mut ring = before.clone();
    assert_eq!(ring.add_emv_generation().unwrap(), 2);
    file.replace(&ring).unwrap();
    server
        .restart(|config| {
            unscreened(config);
            config.payments.imk_generation = 2;
        })
        .await
        .unwrap();
    let store = server.state().store.clone();
    assert_eq!(
        store
            .setting(LOOKUP_ROOT_GENERATIONS)
            .await
            .unwrap()
            .as_deref(),
        Some("1")
    );
    let user = server.user().await;
    let merchant = server.merchant_key(&["M1"]).await;
    let (card, mut device) = bound_device(&server, &user, "phone-1").await;
    let token_ref = card["token"]["ref"].as_str().unwrap().to_owned();
    assert_eq!(generation_of(&server, &token_ref).await, 2);
    pays(&server, &merchant, &mut device).await;

    file.replace(&before).unwrap();
    server.restart(unscreened).await.unwrap();
    assert!(server.state().keys.has_emv_generation(1));
    assert!(!server.state().keys.has_emv_generation(2));
    let signed = device.sign(&purchase(500, "M1")).unwrap();
    let (status, body) = server.pay(&merchant, &signed.body).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
}

on_both_backends!(
    a_new_generation_issues_new_tokens_while_old_ones_keep_paying,
    a_generation_added_before_the_first_start_is_recorded_at_start,
);
