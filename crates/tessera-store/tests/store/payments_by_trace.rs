//! A payment found by the trace id its terminal was answered with, as
//! support's diagnosis looks it up.

use crate::payments::payment;
use crate::*;

async fn a_payment_is_found_by_its_trace_id(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    let mut declined = payment("pay-1", "tok-a", user_id.as_str(), 1, 2_000);
    declined.status = PaymentStatus::Declined;
    declined.error_code = Some("card_declined".to_owned());
    declined.decline_code = Some("insufficient_funds".to_owned());
    store.record_payment(&declined).await.unwrap();
    let mut approved = payment("pay-2", "tok-a", user_id.as_str(), 2, 3_000);
    approved.status = PaymentStatus::Approved;
    store.record_payment(&approved).await.unwrap();

    let found = store.payment_by_trace("req-pay-1").await.unwrap().unwrap();
    assert_eq!(found, declined);
    let found = store.payment_by_trace("req-pay-2").await.unwrap().unwrap();
    assert_eq!(found.id, approved.id);
    assert_eq!(store.payment_by_trace("req-nothing").await.unwrap(), None);
    assert_eq!(store.payment_by_trace("").await.unwrap(), None);
}

on_both_backends!(a_payment_is_found_by_its_trace_id);
