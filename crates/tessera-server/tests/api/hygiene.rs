//! Card data hygiene: no PAN, CVC, password, ID number or key reaches a log
//! line or the data directory's files in clear, nor any OTP outside the
//! sandbox phone. These scans read the real log output and every file of
//! the data directory, the WAL included.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::json;
use sqlx::{Connection, Row};
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::{TestServer, card, log_buffer};

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

#[tokio::test]
async fn no_secret_reaches_the_logs_or_the_database_files() {
    let server = TestServer::start().await;
    let user = server.user().await;
    let debit = card(Outcome::Approve);
    let otp_card = card(Outcome::Otp);
    let declined = card(Outcome::LostCard);
    // A credit card with its CVC, and bad inputs that carry card numbers.
    let credit = sandbox::card_number("622575", 16, Outcome::Approve).unwrap();
    let cvc = "739";
    let luhn_broken = format!("{}{}", &debit[..18], (debit.as_bytes()[18] - b'0' + 1) % 10);
    let (status, debit_card) = server.bind(&user, &debit).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": credit, "holder_name": "张三", "expiry_month": "08", "expiry_year": "31", "cvc": cvc}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, refused) = server.bind(&user, &declined).await;
    server.bind(&user, &luhn_broken).await;
    server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": debit, "holder_name": "张三", "cvc": "12"}),
        )
        .await;
    let (status, pending) = server.bind(&user, &otp_card).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let otp = server.latest_otp(&user).await;
    let id = pending["id"].as_str().unwrap().to_owned();
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": wrong}),
        )
        .await;
    let (status, _) = server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": otp}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A ticket whose message carries a card number keeps it masked, and
    // what support and the person read shows masked numbers only.
    let (status, _) = server
        .post(
            "/v1/tickets",
            &user.token,
            json!({"trace_id": refused["error"]["trace_id"], "message": format!("卡号 {declined} 被拒")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut shown = Vec::new();
    for (path, bearer) in [
        (
            format!("/v1/support/diagnose?user_id={}", user.id),
            &server.support_key,
        ),
        ("/v1/support/tickets".to_owned(), &server.support_key),
        ("/v1/support/health/binding".to_owned(), &server.support_key),
        ("/v1/cards/attempts?all=true".to_owned(), &user.token),
    ] {
        let (status, body) = server.get(&path, bearer).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        shown.push((path, body.to_string()));
    }
    let metrics = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    shown.push(("/metrics".to_owned(), metrics));
    for (path, body) in &shown {
        for number in [&debit, &otp_card, &declined, &credit, &luhn_broken] {
            assert!(!body.contains(number.as_str()), "a PAN is shown by {path}");
        }
    }
    // Unbinding erases the PAN ciphertext.
    let debit_id = debit_card["id"].as_str().unwrap().to_owned();
    server
        .delete(&format!("/v1/cards/{debit_id}"), &user.token)
        .await;
    let data_dir = server.data_dir();
    let key_file = std::fs::read_to_string(data_dir.join("tessera.keys")).unwrap();
    let dir = server.stop().await;

    let logs = String::from_utf8(log_buffer().lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("card binding"),
        "the scan must see the binding logs"
    );
    let secrets = [
        ("PAN", debit.as_str()),
        ("PAN", otp_card.as_str()),
        ("PAN", declined.as_str()),
        ("PAN", credit.as_str()),
        ("PAN", luhn_broken.as_str()),
        ("password", user.password.as_str()),
        ("ID number", user.id_number.as_str()),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(secret), "a {what} reached the log");
        let hits = files_containing(&dir.path().join("data"), secret.as_bytes());
        assert!(hits.is_empty(), "a {what} is in clear in {hits:?}");
    }
    assert!(!logs.contains(&format!("\"{cvc}\"")) && !logs.contains(&format!("cvc={cvc}")));
    assert!(!logs.contains(&otp), "an OTP reached the log");
    // Key material: the key file's secrets never leave it.
    for line in key_file.lines().filter(|l| l.len() > 40) {
        for token in line.split(|c: char| !c.is_ascii_alphanumeric() && c != '+' && c != '/') {
            if token.len() >= 32 {
                assert!(!logs.contains(token), "key material reached the log");
            }
        }
    }

    // The OTP may sit only in the sandbox phone's table; the CVC nowhere.
    let url = format!("sqlite://{}", dir.path().join("data/tessera.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for table in tables {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        for row in rows {
            for index in 0..row.len() {
                let text: Option<String> = row.try_get(index).ok().flatten();
                let Some(text) = text else { continue };
                if table != "sandbox_sms" {
                    assert!(!text.contains(&otp), "the OTP is in {table}");
                }
                assert!(!text.contains(&format!("cvc{cvc}")), "a CVC is in {table}");
            }
        }
    }
    let ciphertext: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT pan_ciphertext FROM cards WHERE id = ?")
            .bind(&debit_id)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(ciphertext.is_none(), "an unbound card keeps no ciphertext");
}
