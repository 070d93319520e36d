//! EMV data from outside: the payment fields a merchant sends (token PAN,
//! expiry, amounts, TVR, date, ATC, unpredictable number, ARQC) through the
//! core's checks, then the CDOL1 data and the cryptogram check they feed;
//! and the raw key, PSN, ATC and ARQC parsers. Nothing may panic, and a
//! cryptogram made from the checked data must verify.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tessera_core::emv::{
    Arpc, ArpcResponseCode, Arqc, Atc, CardStatusUpdate, IccMasterKey, IssuerMasterKey, Psn,
    SessionKey, TokenProfile,
};
use tessera_core::payment::check::{PaymentFields, check_payment};

#[derive(Debug, Arbitrary)]
struct Input {
    token_pan: String,
    token_expiry: String,
    amount: u64,
    other_amount: u64,
    currency: String,
    terminal_country: u16,
    tvr: String,
    transaction_date: String,
    transaction_type: Option<String>,
    merchant_id: String,
    merchant_name: Option<String>,
    channel: String,
    atc: String,
    unpredictable_number: String,
    cryptogram: String,
    iad: Option<String>,
    psn: String,
    dki: u8,
    imk: Vec<u8>,
    raw: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let fields = PaymentFields {
        token_pan: &input.token_pan,
        token_expiry: &input.token_expiry,
        amount: input.amount,
        other_amount: input.other_amount,
        currency: &input.currency,
        terminal_country: input.terminal_country,
        tvr: &input.tvr,
        transaction_date: &input.transaction_date,
        transaction_type: input.transaction_type.as_deref(),
        merchant_id: &input.merchant_id,
        merchant_name: input.merchant_name.as_deref(),
        channel: &input.channel,
        atc: &input.atc,
        unpredictable_number: &input.unpredictable_number,
        cryptogram: &input.cryptogram,
        iad: input.iad.as_deref(),
    };
    let psn = Psn::parse(&input.psn).unwrap_or_default();
    let imk = IssuerMasterKey::from_bytes(&input.imk).ok();
    if let Ok(checked) = check_payment(&fields) {
        let profile = TokenProfile { dki: input.dki };
        // An IAD the device sent is the profile's with a known method, or
        // none at all; either way it encodes.
        let iad = match checked.iad {
            Some(iad) => match profile.cvm_of(&iad) {
                Some(cvm) => profile.iad_with(cvm),
                None => profile.iad(),
            },
            None => profile.iad(),
        };
        let cdol1 = profile.cdol1_with_iad(&checked.transaction, checked.atc, iad);
        // The checks bound every field the CDOL1 data encodes.
        let data = cdol1.to_bytes().expect("checked fields encode");
        if let Some(imk) = &imk {
            let token_pan = checked.token_pan.expose_digits();
            let key = TokenProfile::session_key(imk, token_pan, psn, checked.atc)
                .expect("a checked token PAN derives a key");
            let genuine = Arqc::generate(&key, &data);
            assert_eq!(genuine.verify(&key, &data), Ok(()));
            assert_eq!(
                checked.arqc.verify(&key, &data).is_ok(),
                checked.arqc == genuine
            );
            let _ = Arpc::method1(&key, &genuine, ArpcResponseCode(*b"00"));
            if let Ok(csu) = CardStatusUpdate::from_bytes(&input.raw[..input.raw.len().min(4)]) {
                let _ = Arpc::method2(&key, &genuine, csu, &input.raw);
            }
        }
    }
    // The fixed-size fields from raw bytes.
    let raw = &input.raw;
    let _ = Arqc::from_bytes(raw);
    let _ = Atc::from_bytes(raw);
    let _ = SessionKey::from_bytes(raw);
    let _ = IccMasterKey::from_bytes(raw);
    let _ = ArpcResponseCode::from_bytes(raw);
    let _ = CardStatusUpdate::from_bytes(raw);
    if let (Some(imk), Ok(pan)) = (&imk, std::str::from_utf8(raw)) {
        for option in [
            tessera_core::emv::DerivationOption::A,
            tessera_core::emv::DerivationOption::B,
        ] {
            if let Ok(icc) = IccMasterKey::derive(imk, pan, psn, option) {
                let _ = icc.session_key(Atc::new(input.dki.into()));
            }
        }
    }
});
