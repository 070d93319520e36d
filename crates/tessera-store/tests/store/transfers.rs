//! Transfers and the person's records: a transfer recorded pending with
//! its sealed destination, read only by its person, settled once with the
//! sealed number erased; payments, refunds and transfers listed by card,
//! status, days and cursor, newest first.

use tessera_store::{RecordFilter, TransferOutcome, TransferRecord, TransferStatus};

use crate::payments::{payment, refund};
use crate::*;

fn transfer(id: &str, user_id: &UserId, card_id: &str, time: i64) -> TransferRecord {
    TransferRecord {
        id: id.to_owned().into(),
        user_id: user_id.clone(),
        card_id: card_id.to_owned().into(),
        to_masked: "621226*********4566".to_owned(),
        to_fingerprint: format!("fp-{id}"),
        to_issuer_code: Some("ICBC".to_owned()),
        to_holder_name: "李四".to_owned(),
        to_key_version: Some(1),
        to_ciphertext: Some(vec![0xC3; 40]),
        amount: 10_000,
        fee: 100,
        currency: "CNY".to_owned(),
        fee_operation: "transfer_cross_bank".to_owned(),
        channel: "in_app".to_owned(),
        status: TransferStatus::Pending,
        decline_code: None,
        reference: None,
        trace_id: format!("req-{id}"),
        created_at: at(time),
        updated_at: at(time),
    }
}

fn outcome(id: &str, status: TransferStatus, time: i64) -> TransferOutcome {
    TransferOutcome {
        id: id.to_owned().into(),
        status,
        decline_code: (status == TransferStatus::Declined).then(|| "lost_card".to_owned()),
        reference: (status == TransferStatus::Settled).then(|| "crd_bank".to_owned()),
        updated_at: at(time),
    }
}

async fn a_transfer_is_settled_once_and_its_sealed_number_erased(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, user_id.as_str(), "a", "fa", 1_000).await;
    let sent = transfer("trf-1", &user_id, "a", 2_000);
    store.record_transfer(&sent).await.unwrap();
    let id = "trf-1".to_owned().into();
    assert_eq!(
        store.transfer(&user_id, &id).await.unwrap(),
        Some(sent.clone())
    );
    let other = user(&*store, "2").await;
    assert_eq!(store.transfer(&other, &id).await.unwrap(), None);

    store
        .finish_transfer(&outcome("trf-1", TransferStatus::Declined, 3_000))
        .await
        .unwrap();
    // Settled once: a later outcome changes nothing.
    store
        .finish_transfer(&outcome("trf-1", TransferStatus::Settled, 4_000))
        .await
        .unwrap();
    let read = store.transfer(&user_id, &id).await.unwrap().unwrap();
    assert_eq!(read.status, TransferStatus::Declined);
    assert_eq!(read.decline_code.as_deref(), Some("lost_card"));
    assert_eq!((read.to_key_version, read.to_ciphertext), (None, None));
    assert_eq!(read.updated_at, at(3_000));
    assert_eq!(
        (read.to_masked, read.to_fingerprint, read.fee),
        (sent.to_masked, sent.to_fingerprint, sent.fee)
    );
}

async fn records_are_listed_by_card_status_days_and_cursor(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, user_id.as_str(), "a", "fa", 1_000).await;
    bind(&*store, user_id.as_str(), "b", "fb", 1_000).await;
    for (id, card, time) in [
        ("trf-1", "a", 2_000),
        ("trf-2", "b", 3_000),
        ("trf-3", "a", 4_000),
    ] {
        store
            .record_transfer(&transfer(id, &user_id, card, time))
            .await
            .unwrap();
    }
    store
        .finish_transfer(&outcome("trf-3", TransferStatus::Declined, 4_100))
        .await
        .unwrap();
    let mut paid = payment("pay-1", "tok-a", user_id.as_str(), 1, 2_500);
    paid.status = PaymentStatus::Approved;
    store.record_payment(&paid).await.unwrap();
    assert_eq!(
        store
            .begin_refund(&refund("rfd-1", "pay-1", 500, 3_500))
            .await
            .unwrap(),
        RefundClaim::Recorded
    );

    let all = RecordFilter {
        user_id: user_id.clone(),
        limit: 10,
        ..RecordFilter::default()
    };
    let ids = |listed: Vec<TransferRecord>| -> Vec<String> {
        listed.into_iter().map(|t| t.id.to_string()).collect()
    };
    let listed = |filter: RecordFilter| {
        let store = store.clone();
        async move { ids(store.transfers(&filter).await.unwrap()) }
    };
    assert_eq!(listed(all.clone()).await, ["trf-3", "trf-2", "trf-1"]);
    let by_card = RecordFilter {
        card_id: Some("a".to_owned().into()),
        ..all.clone()
    };
    assert_eq!(listed(by_card.clone()).await, ["trf-3", "trf-1"]);
    let declined = RecordFilter {
        statuses: vec!["declined".to_owned()],
        ..all.clone()
    };
    assert_eq!(listed(declined.clone()).await, ["trf-3"]);
    let pending_or_settled = RecordFilter {
        statuses: vec!["pending".to_owned(), "settled".to_owned()],
        ..all.clone()
    };
    assert_eq!(listed(pending_or_settled).await, ["trf-2", "trf-1"]);
    let days = RecordFilter {
        since: Some(at(3_000)),
        until: Some(at(4_000)),
        ..all.clone()
    };
    assert_eq!(listed(days.clone()).await, ["trf-2"]);
    let after = RecordFilter {
        before: Some((at(3_000), "trf-2".to_owned())),
        ..all.clone()
    };
    assert_eq!(listed(after).await, ["trf-1"]);
    let one = RecordFilter {
        limit: 1,
        ..all.clone()
    };
    assert_eq!(listed(one).await, ["trf-3"]);

    let payments = store.payment_records(&by_card).await.unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].id, paid.id);
    assert!(store.payment_records(&declined).await.unwrap().is_empty());
    let refunds = store.refund_records(&days).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].refund.id.as_str(), "rfd-1");
    assert_eq!(refunds[0].card_id.as_str(), "a");
    assert_eq!(refunds[0].merchant_name.as_deref(), Some("便利店"));
    let other = RecordFilter {
        user_id: user(&*store, "2").await,
        ..all.clone()
    };
    assert!(store.refund_records(&other).await.unwrap().is_empty());
    assert!(store.transfers(&other).await.unwrap().is_empty());
}

on_both_backends!(
    a_transfer_is_settled_once_and_its_sealed_number_erased,
    records_are_listed_by_card_status_days_and_cursor,
);
