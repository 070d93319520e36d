//! The sandbox's demo checkout pays with a merchant key the server makes at
//! start-up: one key, found again by a later start instead of made anew,
//! never listed with its secret, and the checkout closed once an operator
//! revokes it.

use reqwest::StatusCode;
use serde_json::Value;
use tessera_server::web::wallet::checkout::{DEMO_SHOP_LABEL, DEMO_SHOP_MERCHANT, DemoShop};

use crate::{Backend, TestServer};

on_both_backends!(the_demo_shop_key_is_made_once_and_found_again);

fn shop_keys(list: &Value) -> Vec<Value> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["label"] == DEMO_SHOP_LABEL)
        .cloned()
        .collect()
}

async fn the_demo_shop_key_is_made_once_and_found_again(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (status, list) = server.get("/v1/admin/keys", &server.operator_key).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let keys = shop_keys(&list);
    assert_eq!(keys.len(), 1, "{list}");
    assert_eq!(keys[0]["role"], "merchant");
    assert_eq!(keys[0]["scope"], serde_json::json!([DEMO_SHOP_MERCHANT]));

    // A later start on the same store and key ring finds the same key.
    assert!(DemoShop::open(server.state()).await.unwrap().is_some());
    let (_, list) = server.get("/v1/admin/keys", &server.operator_key).await;
    assert_eq!(shop_keys(&list), keys, "no second key");

    let page = server
        .client
        .get(format!("{}/demo/checkout", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    // Revoked by an operator: the shop stays closed at the next start.
    let id = keys[0]["id"].as_str().unwrap();
    let (status, body) = server
        .delete(&format!("/v1/admin/keys/{id}"), &server.operator_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(DemoShop::open(server.state()).await.unwrap().is_none());
}
