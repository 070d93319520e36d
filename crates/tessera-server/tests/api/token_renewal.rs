//! Token renewal over HTTP: a token whose ATCs near their end, or whose
//! expiry nears while its card runs on, is renewed in place as its phone
//! asks for keys or a cryptogram: the same token PAN and PAR, the next PSN
//! and so new keys, ATCs from zero; keys from before no longer pay. An
//! operator renews a generation's tokens under the current one.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_core::card::expiry::Expiry;
use tessera_core::vault::KeyFile;
use tessera_server::Config;
use tessera_server::emv_generations::record_lookup_root_generations;
use tessera_server::flows::audit::Actor;
use tessera_server::flows::token_renewal;
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::{Device, sign_in};

use crate::{Backend, TestServer, User, assert_error, card, purchase};

/// The risk rules score every payment but stop none; a token is renewed
/// once 60 ATCs are handed out, six batches of ten.
fn renewing_early(config: &mut Config) {
    config.risk.step_up_at = u32::MAX;
    config.risk.decline_at = u32::MAX;
    config.payments.renew_at_atc = 60;
}

async fn keys(server: &TestServer, user: &User, token_ref: &str) -> Value {
    let (status, body) = server
        .keys(user, token_ref, json!({"device_id": "phone-1"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn pays(server: &TestServer, merchant: &str, device: &mut Device) {
    let signed = device.sign(&purchase(500, "M1")).unwrap();
    let (status, body) = server.pay(merchant, &signed.body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "approved");
}

async fn declined(server: &TestServer, merchant: &str, device: &mut Device) {
    let signed = device.sign(&purchase(500, "M1")).unwrap();
    let (status, body) = server.pay(merchant, &signed.body).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "cryptogram_invalid",
    );
}

async fn renewals(server: &TestServer, token_ref: &str) -> Vec<Option<String>> {
    let events = server
        .state()
        .store
        .token_events(token_ref, 50)
        .await
        .unwrap();
    events
        .into_iter()
        .filter(|event| event.kind == "renewed")
        .map(|event| event.reason)
        .collect()
}

async fn a_token_near_its_last_atc_is_renewed_with_new_keys(backend: Backend) {
    let server = TestServer::start_on(backend, renewing_early).await;
    let user = server.user().await;
    let merchant = server.merchant_key(&["M1"]).await;
    let card = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let token_ref = card["token"]["ref"].as_str().unwrap().to_owned();
    let mut old = server.device(&user, &card, "phone-1").await;
    pays(&server, &merchant, &mut old).await;
    for _ in 0..5 {
        assert_eq!(keys(&server, &user, &token_ref).await["psn"], "00");
    }
    assert_eq!(server.stored_token(&token_ref).await.atc_issued, 60);
    assert!(renewals(&server, &token_ref).await.is_empty());

    // Ten more would pass 60: the token is renewed first.
    let body = keys(&server, &user, &token_ref).await;
    assert_eq!(body["psn"], "01");
    assert_eq!(body["keys"][0]["atc"], "0001");
    assert_eq!(body["token_pan"], old.token_pan.as_str());
    let token = server.stored_token(&token_ref).await;
    assert_eq!(
        (
            token.psn,
            token.atc_issued,
            token.atc_high,
            token.imk_generation
        ),
        (1, 10, 0, 1)
    );
    assert_eq!(
        renewals(&server, &token_ref).await,
        [Some("atc".to_owned())]
    );

    // The keys from before no longer pay; the new ones do, ATC 1 included
    // though ATC 1 paid under the old keys.
    declined(&server, &merchant, &mut old).await;
    let mut renewed = Device::from_keys(&body).unwrap();
    pays(&server, &merchant, &mut renewed).await;
    pays(&server, &merchant, &mut renewed).await;
    // The card is the same card, with the same PAR.
    let (status, after) = server.get("/v1/cards", &user.token).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["data"][0]["par"], card["par"]);
    assert_eq!(after["data"][0]["token"]["ref"], token_ref.as_str());
    let approved = server
        .payments(&user)
        .await
        .iter()
        .filter(|p| p["status"] == "approved")
        .count();
    assert_eq!(approved, 3);
}

/// Twenty phones' requests at the renewal point, sent together: one
/// renewal, and every batch of keys is the renewed token's, none shared.
async fn requests_at_the_renewal_point_renew_once(backend: Backend) {
    // Renewed at 300: the twenty batches of ten fit after one renewal.
    let server = TestServer::start_on(backend, |config| {
        renewing_early(config);
        config.payments.renew_at_atc = 300;
    })
    .await;
    let user = server.user().await;
    let merchant = server.merchant_key(&["M1"]).await;
    let card = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let token_ref = card["token"]["ref"].as_str().unwrap().to_owned();
    for _ in 0..6 {
        let (status, body) = server
            .keys(
                &user,
                &token_ref,
                json!({"device_id": "phone-1", "count": 50}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(server.stored_token(&token_ref).await.atc_issued, 300);
    let requests = (0..20).map(|_| keys(&server, &user, &token_ref));
    let answers = futures_util::future::join_all(requests).await;
    let mut atcs: Vec<String> = Vec::new();
    for answer in &answers {
        assert_eq!(answer["psn"], "01", "{answer}");
        for key in answer["keys"].as_array().unwrap() {
            atcs.push(key["atc"].as_str().unwrap().to_owned());
        }
    }
    let handed_out = atcs.len();
    atcs.sort();
    atcs.dedup();
    assert_eq!(atcs.len(), handed_out, "no ATC handed out twice");
    assert_eq!(handed_out, 200);
    let token = server.stored_token(&token_ref).await;
    assert_eq!((token.psn, token.atc_issued), (1, 200));
    assert_eq!(renewals(&server, &token_ref).await.len(), 1);
    let mut device = Device::from_keys(&answers[7]).unwrap();
    pays(&server, &merchant, &mut device).await;
}

/// Near three years on, the token's expiry is near while its card (bound
/// without one: a debit card) runs on: a cryptogram request renews it.
/// A card that itself ends soon keeps its token's expiry.
async fn a_token_near_its_expiry_is_renewed_while_its_card_runs_on(backend: Backend) {
    let server = TestServer::start_on(backend, renewing_early).await;
    let mut user = server.user().await;
    let merchant = server.merchant_key(&["M1"]).await;
    let card_on = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let running_ref = card_on["token"]["ref"].as_str().unwrap().to_owned();
    let first_expiry = card_on["token"]["expiry"].as_str().unwrap().to_owned();
    // A card ending the month its token does: the token cannot outlive it.
    let (month, year) = first_expiry.split_once('/').unwrap();
    let token_expiry =
        Expiry::new(month.parse().unwrap(), 2000 + year.parse::<u16>().unwrap()).unwrap();
    let (status, card_ending) = server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": card(Outcome::Approve), "holder_name": user.real_name,
                "expiry_month": token_expiry.month(), "expiry_year": token_expiry.year(),
                "device": {"id": "phone-1", "model": "Xiaomi 14"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{card_ending}");
    assert_eq!(card_ending["token"]["expiry"], first_expiry.as_str());
    let ending_ref = card_ending["token"]["ref"].as_str().unwrap().to_owned();

    // Twenty days before the tokens' last day: within the 30 days.
    let days = (token_expiry.last_day() - server.now().date_naive()).num_days() - 20;
    server.advance(Duration::from_secs(u64::try_from(days).unwrap() * 86_400));
    user.token = sign_in(&server.client, &server.base, &user.phone, &user.password).await;
    let (status, made) = server
        .post(
            &format!("/v1/tokens/{running_ref}/cryptograms"),
            &user.token,
            json!({"amount": 500, "currency": "CNY", "merchant_id": "M1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_ne!(made["token_expiry"], first_expiry.as_str());
    assert_eq!(made["atc"], "0001");
    assert_eq!(
        renewals(&server, &running_ref).await,
        [Some("expiry".to_owned())]
    );
    let token = server.stored_token(&running_ref).await;
    assert_eq!(token.psn, 1);
    let mut request = made.clone();
    let object = request.as_object_mut().unwrap();
    object.remove("expires_at");
    object.insert("channel".into(), json!("in_app"));
    let (status, body) = server.pay(&merchant, &request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Renewed once: the next request finds it far from its expiry.
    keys(&server, &user, &running_ref).await;
    assert_eq!(server.stored_token(&running_ref).await.psn, 1);

    // The card that ends: its token ends with it, unrenewed.
    let body = keys(&server, &user, &ending_ref).await;
    assert_eq!(body["psn"], "00");
    assert!(renewals(&server, &ending_ref).await.is_empty());
}

/// An operator renews every live token of generation 1 under generation
/// 2: old keys stop, new keys pay under generation 2, and no live token is
/// left under generation 1, which can then be retired.
async fn an_operator_renews_a_generation_s_tokens_under_the_current_one(backend: Backend) {
    let mut server = TestServer::start_on(backend, renewing_early).await;
    let user = server.user().await;
    let merchant = server.merchant_key(&["M1"]).await;
    let first = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let second = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let mut old = server.device(&user, &first, "phone-1").await;

    let file = KeyFile::in_dir(&server.data_dir());
    let mut ring = file.load().unwrap();
    record_lookup_root_generations(server.state().store.as_ref(), &mut ring, server.now())
        .await
        .unwrap();
    assert_eq!(ring.add_emv_generation().unwrap(), 2);
    file.replace(&ring).unwrap();
    server
        .restart(|config| {
            renewing_early(config);
            config.payments.imk_generation = 2;
        })
        .await
        .unwrap();
    pays(&server, &merchant, &mut old).await;

    let mut seen = Vec::new();
    let moved = token_renewal::move_generation(server.state(), 1, 1, Actor::service("t"), |done| {
        seen.push(done)
    })
    .await
    .unwrap();
    assert_eq!((moved.renewed, moved.left), (2, 0));
    assert_eq!(seen.len(), 2, "one progress call per batch of one");
    // Again: nothing left to move.
    let again = token_renewal::move_generation(server.state(), 1, 10, Actor::service("t"), |_| {})
        .await
        .unwrap();
    assert_eq!((again.renewed, again.left), (0, 0));
    let counts = server.state().store.tokens_by_generation().await.unwrap();
    let live_under = |generation: u8| {
        counts
            .iter()
            .find(|c| c.generation == generation)
            .map_or(0, |c| c.live)
    };
    assert_eq!((live_under(1), live_under(2)), (0, 2));
    for card in [&first, &second] {
        let token_ref = card["token"]["ref"].as_str().unwrap();
        assert_eq!(
            renewals(&server, token_ref).await,
            [Some("generation".to_owned())]
        );
    }

    declined(&server, &merchant, &mut old).await;
    let mut renewed = server.device(&user, &first, "phone-1").await;
    assert_eq!(renewed.iad[1], 2, "the IAD's DKI names generation 2");
    pays(&server, &merchant, &mut renewed).await;
}

on_both_backends!(
    a_token_near_its_last_atc_is_renewed_with_new_keys,
    requests_at_the_renewal_point_renew_once,
    a_token_near_its_expiry_is_renewed_while_its_card_runs_on,
    an_operator_renews_a_generation_s_tokens_under_the_current_one,
);
