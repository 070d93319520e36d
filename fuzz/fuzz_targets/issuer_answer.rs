//! What a bank answers over the issuer protocol (`issuer/protocol.rs`, read
//! by the HTTP connector in `issuer/http.rs`): any bytes as a binding answer,
//! an authorisation answer and a refund answer. Nothing may panic; an answer
//! that parses means the same after travelling again (`of`, then `answer`),
//! an approved authorisation always carries a code and an accepted refund
//! its reference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_server::issuer::protocol::{AuthorizationResponse, BindingResponse, TransferResponse};
use tessera_server::issuer::{AuthorizationAnswer, TransferAnswer};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(response) = serde_json::from_slice::<BindingResponse>(bytes) {
        let answer = response.answer();
        let again = BindingResponse::of(&answer).answer();
        assert_eq!(again.label(), answer.label());
    }
    if let Ok(response) = serde_json::from_slice::<AuthorizationResponse>(bytes) {
        let answer = response.answer();
        if let AuthorizationAnswer::Approved { authorization_code } = &answer {
            assert!(!authorization_code.is_empty());
        }
        assert_eq!(AuthorizationResponse::of(&answer).answer(), answer);
    }
    if let Ok(response) = serde_json::from_slice::<TransferResponse>(bytes) {
        let answer = response.answer();
        if let TransferAnswer::Accepted { reference } = &answer {
            assert!(!reference.is_empty() && reference.len() <= 64);
        }
        assert_eq!(TransferResponse::of(&answer).answer(), answer);
    }
});
