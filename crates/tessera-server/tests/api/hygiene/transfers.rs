//! Card data hygiene of transfers: the destination card number never
//! reaches a response (answers, replays, errors, lists, quotes), a log
//! line, a database value or dump, or a data file, in clear, as hex or
//! base64, spaced in groups of four, or as the hidden middle digits on
//! their own; and no transfer keeps its sealed number once settled.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tessera_server::issuer::sandbox::{self, Outcome};

use super::{Places, scan};
use crate::transfers::{confirm, confirmed, send, set_up, transfer};
use crate::{Backend, TestServer, card, log_buffer};

/// Every form of a card number that must be found nowhere.
fn digit_forms(number: &str) -> Vec<(String, Vec<u8>)> {
    let spaced: Vec<String> = number
        .as_bytes()
        .chunks(4)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect();
    let middle = &number[6..number.len() - 4];
    vec![
        ("number".to_owned(), number.as_bytes().to_vec()),
        ("spaced number".to_owned(), spaced.join(" ").into_bytes()),
        ("hidden digits".to_owned(), middle.as_bytes().to_vec()),
    ]
}

async fn no_destination_number_reaches_a_response_log_or_column(backend: Backend) {
    let mut server = TestServer::start_on(backend, |_| {}).await;
    let (user, card_id) = set_up(&server).await;
    let same_bank = card(Outcome::Approve);
    let cross_bank = sandbox::card_number("621226", 19, Outcome::Approve).unwrap();
    let declined = sandbox::card_number("621226", 19, Outcome::StolenCard).unwrap();
    let away = sandbox::card_number("621226", 19, Outcome::Unavailable).unwrap();
    let luhn_broken = format!(
        "{}{}",
        &same_bank[..18],
        (same_bank.as_bytes()[18] - b'0' + 1) % 10
    );
    let unknown_bin = sandbox::card_number("800000", 19, Outcome::Approve).unwrap();
    let mut answers: Vec<String> = Vec::new();
    let mut ids = Vec::new();
    for (to, status) in [
        (&same_bank, StatusCode::CREATED),
        (&cross_bank, StatusCode::CREATED),
        (&declined, StatusCode::PAYMENT_REQUIRED),
        (&away, StatusCode::SERVICE_UNAVAILABLE),
    ] {
        let (got, headers, body) = confirmed(&server, &user, &card_id, to, 12_300).await;
        assert_eq!(got, status, "{body}");
        ids.push(
            body["id"]
                .as_str()
                .or(body["error"]["transfer_id"].as_str())
                .unwrap()
                .to_owned(),
        );
        answers.push(format!("{headers:?} {body}"));
    }
    // Refused numbers, and a retry answered from the stored response.
    let verification = confirm(&server, &user, &card_id, 12_300).await;
    for (key, to) in [("hyg-luhn", &luhn_broken), ("hyg-bin", &unknown_bin)] {
        let (status, headers, body) = send(
            &server,
            &user,
            Some(&verification),
            Some(key),
            &transfer(&card_id, to, 12_300),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        answers.push(format!("{headers:?} {body}"));
    }
    let body = transfer(&card_id, &cross_bank, 12_300);
    let (status, _, first) = send(&server, &user, Some(&verification), Some("hyg-t"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (_, headers, replayed) = send(&server, &user, None, Some("hyg-t"), &body).await;
    assert_eq!(replayed, first);
    answers.push(format!("{headers:?} {replayed}"));
    let (status, _, listed) = server
        .call(Method::GET, "/v1/transfers", Some(&user.token), None, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["data"].as_array().unwrap().len(), 5);
    answers.push(listed.to_string());
    for id in &ids {
        let (_, shown) = server
            .get(&format!("/v1/transfers/{id}"), &user.token)
            .await;
        answers.push(shown.to_string());
    }
    let (_, quote) = server
        .post(
            "/v1/fees/quote",
            &user.token,
            json!({"source_card_id": card_id, "destination_card_number": cross_bank,
                "amount": 12_300, "currency": "CNY", "channel": "in_app"}),
        )
        .await;
    answers.push(quote.to_string());

    let database = server.database.take();
    let dir = server.stop().await;
    let logs = String::from_utf8(log_buffer().lock().unwrap().clone()).unwrap();
    assert!(logs.contains("transfer"), "the scan must see transfer logs");
    let (places, values) = Places::of(&dir, database.as_ref()).await;
    assert!(
        values
            .iter()
            .any(|v| v.table == "transfers" && v.column == "to_masked"),
        "the scan must see the transfers"
    );
    // Settled, declined or failed: no transfer keeps its sealed number.
    assert!(
        !values
            .iter()
            .any(|v| v.table == "transfers" && v.column == "to_ciphertext"),
        "a settled transfer kept its sealed number"
    );
    let answers = answers.join("\n");
    for number in [
        &same_bank,
        &cross_bank,
        &declined,
        &away,
        &luhn_broken,
        &unknown_bin,
    ] {
        for (what, form) in digit_forms(number) {
            if let Some(found) = scan::found_form(answers.as_bytes(), &form) {
                panic!("a destination's {what} is in a response ({found})");
            }
            if let Some(found) = scan::found_form(logs.as_bytes(), &form) {
                panic!("a destination's {what} reached the logs ({found})");
            }
            places.assert_absent(&format!("destination's {what}"), &form, &[]);
        }
    }
}

on_both_backends!(no_destination_number_reaches_a_response_log_or_column);
