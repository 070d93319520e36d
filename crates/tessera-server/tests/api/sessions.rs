//! A person's sessions: listed without their tokens, ended one (sign-out)
//! or all, at once on the node that ends them even when it has just read
//! them (its session cache).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Backend, TestServer, User, assert_error};

/// Signs `user` in again, sending `user_agent`; the new token.
async fn sign_in_as(server: &TestServer, user: &User, user_agent: Option<&str>) -> String {
    let headers: Vec<(&str, &str)> = user_agent
        .map(|ua| ("user-agent", ua))
        .into_iter()
        .collect();
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": user.phone, "password": user.password})),
            &headers,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

async fn me(server: &TestServer, token: &str) -> StatusCode {
    server.get("/v1/me", token).await.0
}

async fn sessions_are_listed_without_tokens_and_the_current_one_marked(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let other = server.user().await;
    let phone = sign_in_as(&server, &user, Some("Wallet/2.1 (iPhone; iOS 18.1)")).await;
    let (status, body) = server.get("/v1/sessions", &phone).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{body}");
    // Newest first: the phone's, marked current, with its User-Agent.
    assert_eq!(data[0]["current"], true);
    assert_eq!(data[0]["user_agent"], "Wallet/2.1 (iPhone; iOS 18.1)");
    assert_eq!(data[1]["current"], false);
    assert_eq!(data[1]["user_agent"], Value::Null);
    for session in data {
        assert!(session["id"].as_str().unwrap().starts_with("ses_"));
        assert!(session["created_at"].is_string() && session["expires_at"].is_string());
    }
    assert_ne!(data[0]["id"], data[1]["id"]);
    // No token, nor its stored hash, in the answer.
    let shown = body.to_string();
    let state = server.state();
    for token in [&phone, &user.token] {
        let hash = tessera_server::http::auth::hash_bearer(
            &state.keys,
            tessera_core::vault::LookupPurpose::SessionToken,
            token,
        );
        assert!(!shown.contains(token.as_str()) && !shown.contains(&hash));
    }
    // The first sign-in sees the same two, itself current; another
    // person sees only theirs.
    let (_, first) = server.get("/v1/sessions", &user.token).await;
    assert_eq!(first["data"][1]["current"], true);
    assert_eq!(first["data"][1]["id"], data[1]["id"]);
    let (_, theirs) = server.get("/v1/sessions", &other.token).await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 1);
    // Keys are not people.
    let (status, body) = server.get("/v1/sessions", &server.support_key).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

async fn signing_out_ends_this_session_at_once_and_no_other(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let laptop = sign_in_as(&server, &user, None).await;
    // Both read just now: the node holds both in its cache.
    assert_eq!(me(&server, &user.token).await, StatusCode::OK);
    assert_eq!(me(&server, &laptop).await, StatusCode::OK);
    let (status, _, body) = server
        .call(
            Method::DELETE,
            "/v1/sessions/current",
            Some(&laptop),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = server.get("/v1/me", &laptop).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = server.delete("/v1/sessions/current", &laptop).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(me(&server, &user.token).await, StatusCode::OK);
    let (_, listed) = server.get("/v1/sessions", &user.token).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
    // An API key has no session to end.
    let (status, body) = server
        .delete("/v1/sessions/current", &server.operator_key)
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

async fn ending_every_session_ends_them_all_at_once(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let other = server.user().await;
    let tokens = [
        user.token.clone(),
        sign_in_as(&server, &user, None).await,
        sign_in_as(&server, &user, None).await,
    ];
    for token in &tokens {
        assert_eq!(me(&server, token).await, StatusCode::OK);
    }
    let (status, _, body) = server
        .call(Method::DELETE, "/v1/sessions", Some(&tokens[1]), None, &[])
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for token in &tokens {
        let (status, body) = server.get("/v1/me", token).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    // Another person's session is untouched, and the password still
    // signs in.
    assert_eq!(me(&server, &other.token).await, StatusCode::OK);
    let again = sign_in_as(&server, &user, None).await;
    let (_, listed) = server.get("/v1/sessions", &again).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
}

on_both_backends!(
    sessions_are_listed_without_tokens_and_the_current_one_marked,
    signing_out_ends_this_session_at_once_and_no_other,
    ending_every_session_ends_them_all_at_once,
);
