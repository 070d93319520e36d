//! The audit chain over HTTP: security events (sign-ins, lockouts, keys
//! made and revoked, maintenance, freezes) become entries of the node's
//! chain; `verify` passes on an untouched store and names the place of
//! each kind of tampering done here with raw SQL; two nodes on one
//! PostgreSQL database keep a chain each.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use tessera_core::audit::Finding;
use tessera_server::flows::audit_chain::{self, Verification};
use tessera_server::test_support::request;

use crate::{Backend, TestServer};

const CHAIN: &str = "node:main";

/// Runs `sql` on the server's own database, as someone with its files or
/// its credentials could.
async fn tamper(server: &TestServer, sql: &str) {
    match &server.database {
        None => {
            let conn = rusqlite::Connection::open(server.data_dir().join("tessera.db")).unwrap();
            let changed = conn.execute(sql, []).unwrap();
            assert!(changed > 0, "{sql} changed nothing");
        }
        Some(database) => {
            let mut conn = sqlx::PgConnection::connect(database.url()).await.unwrap();
            let changed = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut conn)
                .await
                .unwrap()
                .rows_affected();
            assert!(changed > 0, "{sql} changed nothing");
        }
    }
}

async fn verify(server: &TestServer) -> Verification {
    let state = server.state();
    audit_chain::verify(state.store.as_ref(), &state.keys)
        .await
        .unwrap()
}

/// The audit as operators list it, oldest first.
async fn listed(server: &TestServer) -> Vec<Value> {
    let (status, body) = server
        .get("/v1/admin/audit-events?limit=200", &server.operator_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut rows = body["data"].as_array().unwrap().clone();
    rows.reverse();
    rows
}

/// A server whose chain holds a sign-up's sign-in, a lockout, a key made
/// and revoked, a maintenance window set and ended, and a freeze.
async fn server_with_events(backend: Backend) -> TestServer {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    for _ in 0..5 {
        let (status, _, _) = server
            .call(
                Method::POST,
                "/v1/sessions",
                None,
                Some(&json!({"phone": user.phone, "password": "not-the-password-1"})),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, made) = server
        .post(
            "/v1/admin/keys",
            &server.operator_key,
            json!({"role": "support", "holder": "客服 王芳"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let key_id = made["id"].as_str().unwrap().to_owned();
    let (status, body) = server
        .delete(&format!("/v1/admin/keys/{key_id}"), &server.operator_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let until = (server.now() + chrono::TimeDelta::hours(1)).to_rfc3339();
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/admin/maintenance",
            Some(&server.operator_key),
            Some(&json!({"until": until, "message_zh": "维护", "message_en": "Maintenance"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server
        .delete("/v1/admin/maintenance", &server.operator_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.post("/v1/me/freeze", &user.token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server
}

async fn security_events_are_chained_and_verify(backend: Backend) {
    let server = server_with_events(backend).await;
    let rows = listed(&server).await;
    let actions: Vec<&str> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            // The operator and support keys every test server starts with.
            "api_key.created",
            "api_key.created",
            "session.signed_in",
            "session.locked",
            "api_key.created",
            "api_key.revoked",
            "maintenance.started",
            "maintenance.ended",
            "wallet.frozen",
        ]
    );
    // One chain, its places in order with no gap.
    for (place, row) in rows.iter().enumerate() {
        assert_eq!(row["chain_id"], CHAIN, "{row}");
        assert_eq!(row["seq"], json!(place + 1), "{row}");
    }
    // Who acted: the command line, the person, an operator's key.
    assert_eq!(rows[0]["role"], "service");
    assert_eq!(rows[2]["role"], "user");
    assert_eq!(rows[2]["user_id"], rows[8]["user_id"]);
    assert!(rows[2]["subject"].as_str().unwrap().starts_with("session:"));
    assert_eq!(rows[4]["role"], "operator");
    assert!(rows[4]["key_id"].as_str().unwrap().starts_with("key_"));
    assert_eq!(rows[4]["subject"], rows[5]["subject"]);
    // Ids and actions only: no phone, no name in what is chained.
    let text = serde_json::to_string(&rows).unwrap();
    assert!(!text.contains("维护"), "{text}");

    let report = verify(&server).await;
    assert_eq!(report.findings, vec![], "an untouched store");
    assert_eq!(report.chains.get(CHAIN), Some(&9));

    // A restarted node continues its chain from the stored head.
    let state = server.state().clone();
    let restarted = tessera_server::flows::audit_chain::AuditChain::for_node("main");
    let event = tessera_store::AuditEvent {
        id: "aud_after_restart".to_owned(),
        created_at: server.now(),
        key_id: String::new(),
        key_holder: String::new(),
        role: "service".to_owned(),
        action: "key_ring.restored".to_owned(),
        user_id: None,
        subject: None,
        trace_id: "t".to_owned(),
        link: None,
    };
    restarted
        .append(state.store.as_ref(), &state.keys, event)
        .await
        .unwrap();
    // The running node's next entry goes after it, not beside it.
    let (status, body) = server
        .delete("/v1/admin/maintenance", &server.operator_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = listed(&server).await;
    assert_eq!(rows[9]["id"], "aud_after_restart");
    assert_eq!(rows[9]["seq"], 10);
    assert_eq!(rows[10]["seq"], 11);
    assert_eq!(verify(&server).await.findings, vec![]);
}

async fn a_changed_entry_is_named(backend: Backend) {
    let server = server_with_events(backend).await;
    let rows = listed(&server).await;
    tamper(
        &server,
        "UPDATE audit_events SET action = 'session.signed_in' \
         WHERE chain_id = 'node:main' AND seq = 4",
    )
    .await;
    assert_eq!(
        verify(&server).await.findings,
        vec![Finding::Changed {
            chain_id: CHAIN.to_owned(),
            seq: 4,
            id: rows[3]["id"].as_str().unwrap().to_owned(),
        }]
    );
}

async fn an_entry_deleted_from_the_middle_is_named(backend: Backend) {
    let server = server_with_events(backend).await;
    tamper(
        &server,
        "DELETE FROM audit_events WHERE chain_id = 'node:main' AND seq = 5",
    )
    .await;
    assert_eq!(
        verify(&server).await.findings,
        vec![Finding::Removed {
            chain_id: CHAIN.to_owned(),
            from: 5,
            to: 5
        }]
    );
}

async fn an_inserted_entry_is_named(backend: Backend) {
    let server = server_with_events(backend).await;
    let forged = format!(
        "INSERT INTO audit_events (id, created_at, key_id, key_holder, role, action, user_id, \
         trace_id, subject, chain_id, seq, prev_hash, entry_hash) VALUES ('aud_forged', 0, \
         'key_x', '', 'operator', 'api_key.created', NULL, 'trace', 'api_key:key_x', \
         'node:main', 3, '{}', '{}')",
        "7".repeat(64),
        "9".repeat(64)
    );
    tamper(&server, &forged).await;
    let report = verify(&server).await;
    assert_eq!(
        report.findings,
        vec![Finding::Inserted {
            chain_id: CHAIN.to_owned(),
            seq: 3,
            id: "aud_forged".to_owned(),
        }]
    );
    assert!(
        report.findings[0]
            .to_string()
            .contains("seq 3 (aud_forged): inserted")
    );
}

async fn two_swapped_entries_are_named(backend: Backend) {
    let server = server_with_events(backend).await;
    let rows = listed(&server).await;
    tamper(
        &server,
        "UPDATE audit_events SET seq = CASE seq WHEN 3 THEN 6 ELSE 3 END \
         WHERE chain_id = 'node:main' AND seq IN (3, 6)",
    )
    .await;
    let id = |place: usize| rows[place - 1]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        verify(&server).await.findings,
        vec![
            Finding::Moved {
                chain_id: CHAIN.to_owned(),
                id: id(6),
                written_at: 6,
                found_at: 3
            },
            Finding::Moved {
                chain_id: CHAIN.to_owned(),
                id: id(3),
                written_at: 3,
                found_at: 6
            },
        ]
    );
}

async fn entries_cut_from_the_end_after_a_checkpoint_are_named(backend: Backend) {
    let server = server_with_events(backend).await;
    let state = server.state();
    let signed = state
        .audit
        .checkpoint(state.store.as_ref(), &state.keys, server.now())
        .await
        .unwrap();
    assert_eq!(signed, Some(9));
    assert_eq!(verify(&server).await.findings, vec![]);
    tamper(
        &server,
        "DELETE FROM audit_events WHERE chain_id = 'node:main' AND seq > 6",
    )
    .await;
    let findings = verify(&server).await.findings;
    assert!(
        matches!(
            &findings[..],
            [Finding::Truncated { chain_id, head: 6, checkpoint_seq: 9, .. }] if chain_id == CHAIN
        ),
        "{findings:?}"
    );
    assert!(
        findings[0]
            .to_string()
            .contains("entries 7 to 9 were removed from the end")
    );
    // A checkpoint forged to hide it is found too.
    tamper(
        &server,
        "UPDATE audit_checkpoints SET seq = 6 WHERE chain_id = 'node:main' AND seq = 9",
    )
    .await;
    assert_eq!(
        verify(&server).await.findings,
        vec![Finding::ForgedCheckpoint {
            chain_id: CHAIN.to_owned(),
            seq: 6
        }]
    );
}

on_both_backends!(
    security_events_are_chained_and_verify,
    a_changed_entry_is_named,
    an_entry_deleted_from_the_middle_is_named,
    an_inserted_entry_is_named,
    two_swapped_entries_are_named,
    entries_cut_from_the_end_after_a_checkpoint_are_named,
);

/// Two nodes on one PostgreSQL database: each writes its own chain, and
/// both chains verify.
#[tokio::test]
async fn two_nodes_keep_a_chain_each() {
    if crate::postgres_available().await.is_none() {
        return;
    }
    let server = TestServer::start_on(Backend::Postgres, |_| {}).await;
    let database = server.database.as_ref().unwrap();
    let mut config = tessera_server::Config::new_for_test(server.data_dir());
    config.database_url = Some(database.url().to_owned());
    config.node_id = "b".to_owned();
    let opened = tessera_server::open(config).await.unwrap();
    let node_b = tessera_server::start(opened.state).await.unwrap();
    let at_b = format!("http://{}/v1/admin/maintenance", node_b.addr);
    // Both nodes at once, a few times over.
    for _ in 0..3 {
        let at_a = server.delete("/v1/admin/maintenance", &server.operator_key);
        let at_b = request(
            &server.client,
            Method::DELETE,
            &at_b,
            Some(&server.operator_key),
            None,
            &[],
        );
        let ((status_a, _), (status_b, _, _)) = tokio::join!(at_a, at_b);
        assert_eq!((status_a, status_b), (StatusCode::OK, StatusCode::OK));
    }
    let report = verify(&server).await;
    assert_eq!(report.findings, vec![]);
    // The two keys the test server made, and three ends of maintenance.
    assert_eq!(report.chains.get("node:main"), Some(&5));
    assert_eq!(report.chains.get("node:b"), Some(&3));
    node_b.stop().await.unwrap();
}
