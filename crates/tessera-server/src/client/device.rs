//! A phone's side of a Token 2.0 payment: the limited-use keys that
//! `POST /v1/tokens/{ref}/keys` hands it, and the ARQC it makes with the
//! next one over the terminal's data (CDOL1), as the merchant's request.

use std::collections::VecDeque;

use chrono::NaiveDate;
use serde_json::{Value, json};
use tessera_core::crypto::CryptoError;
use tessera_core::emv::{Arqc, Atc, Cdol1, DeviceCvm, EmvError, SessionKey};
use tessera_core::money::Currency;

/// What a phone holds after `POST /v1/tokens/{ref}/keys`.
#[derive(Debug)]
pub struct Device {
    pub token_ref: String,
    pub token_pan: String,
    pub token_expiry: String,
    pub aip: [u8; 2],
    pub iad: Vec<u8>,
    /// Unused keys, oldest first: (ATC in hex, session key).
    pub keys: VecDeque<(String, SessionKey)>,
}

/// What the terminal asks the device to sign.
#[derive(Debug, Clone, Copy)]
pub struct Purchase<'a> {
    /// In minor units of `currency`.
    pub amount: u64,
    pub currency: Currency,
    pub merchant_id: &'a str,
    pub merchant_name: Option<&'a str>,
    pub channel: &'a str,
    /// None: today in China, the wallet's day.
    pub date: Option<NaiveDate>,
    /// The terminal's; None: a fresh random one.
    pub unpredictable_number: Option<[u8; 4]>,
    /// How the phone verified its holder for this payment (fingerprint,
    /// face, passcode), reported in the IAD the ARQC covers.
    pub device_cvm: DeviceCvm,
}

impl<'a> Purchase<'a> {
    /// `amount` fen at `merchant_id`, over NFC, today.
    pub fn new(amount: u64, merchant_id: &'a str) -> Purchase<'a> {
        Purchase {
            amount,
            currency: Currency::CNY,
            merchant_id,
            merchant_name: None,
            channel: "nfc",
            date: None,
            unpredictable_number: None,
            device_cvm: DeviceCvm::None,
        }
    }

    /// The same purchase, the holder verified on the phone with `cvm`.
    pub fn verified(self, cvm: DeviceCvm) -> Purchase<'a> {
        Purchase {
            device_cvm: cvm,
            ..self
        }
    }

    /// The same purchase at a merchant with this name.
    pub fn named(self, merchant_name: &'a str) -> Purchase<'a> {
        Purchase {
            merchant_name: Some(merchant_name),
            ..self
        }
    }
}

/// One payment as the merchant submits it (`POST /v1/payments`), with the
/// key that signed it and its ARQC, for checking the ARPC.
#[derive(Debug)]
pub struct Signed {
    pub body: Value,
    pub key: SessionKey,
    pub arqc: Arqc,
}

/// Why the device could not sign.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The keys answer lacks or garbles this field.
    #[error("the limited-use keys answer has no readable {0}")]
    Unreadable(&'static str),
    #[error("the device has no limited-use key left")]
    OutOfKeys,
    #[error("no random unpredictable number: {0}")]
    Random(#[from] CryptoError),
    #[error("the CDOL1 data cannot be built: {0}")]
    Emv(#[from] EmvError),
}

impl Device {
    /// The device from the body of `POST /v1/tokens/{ref}/keys`.
    pub fn from_keys(body: &Value) -> Result<Device, DeviceError> {
        let text = |value: &Value, field: &'static str| {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or(DeviceError::Unreadable(field))
        };
        let bytes = |value: &Value, field: &'static str| {
            value
                .as_str()
                .and_then(|h| hex::decode(h).ok())
                .ok_or(DeviceError::Unreadable(field))
        };
        let mut keys = VecDeque::new();
        let entries = body["keys"]
            .as_array()
            .ok_or(DeviceError::Unreadable("keys"))?;
        for entry in entries {
            // The clear key bytes are wiped once the key holds them.
            let key = zeroize::Zeroizing::new(bytes(&entry["session_key"], "session_key")?);
            let key =
                SessionKey::from_bytes(&key).map_err(|_| DeviceError::Unreadable("session_key"))?;
            keys.push_back((text(&entry["atc"], "atc")?, key));
        }
        Ok(Device {
            token_ref: text(&body["ref"], "ref")?,
            token_pan: text(&body["token_pan"], "token_pan")?,
            token_expiry: text(&body["token_expiry"], "token_expiry")?,
            aip: bytes(&body["profile"]["aip"], "aip")?
                .try_into()
                .map_err(|_| DeviceError::Unreadable("aip"))?,
            iad: bytes(&body["profile"]["iad"], "iad")?,
            keys,
        })
    }

    /// Signs `purchase` with the next limited-use key, as the phone does.
    pub fn sign(&mut self, purchase: &Purchase<'_>) -> Result<Signed, DeviceError> {
        let (atc, key) = self.keys.pop_front().ok_or(DeviceError::OutOfKeys)?;
        self.sign_with(&atc, key, purchase)
    }

    /// Signs `purchase` with this ATC and key (kept, spent or forged).
    pub fn sign_with(
        &self,
        atc: &str,
        key: SessionKey,
        purchase: &Purchase<'_>,
    ) -> Result<Signed, DeviceError> {
        let unpredictable_number = match purchase.unpredictable_number {
            Some(number) => number,
            None => tessera_core::crypto::random_array()?,
        };
        // The phone's own clock, on the wallet's day: a device is not on
        // the server's clock.
        let date = purchase.date.unwrap_or_else(|| {
            chrono::Utc::now()
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .date_naive()
        });
        // The profile's IAD with how the holder was verified in its fifth
        // byte (`TokenProfile::iad_with`); sent only when they were.
        let mut iad = self.iad.clone();
        if purchase.device_cvm != DeviceCvm::None
            && let Some(byte) = iad.get_mut(4)
        {
            *byte = purchase.device_cvm.byte();
        }
        let data = Cdol1 {
            amount: purchase.amount,
            other_amount: 0,
            terminal_country: 156,
            tvr: [0; 5],
            currency: purchase.currency.numeric(),
            date,
            transaction_type: 0,
            unpredictable_number,
            aip: self.aip,
            atc: Atc::new(
                u16::from_str_radix(atc, 16).map_err(|_| DeviceError::Unreadable("atc"))?,
            ),
            iad: Some(iad.clone()),
        }
        .to_bytes()?;
        let arqc = Arqc::generate(&key, &data);
        let mut body = json!({
            "token_pan": self.token_pan,
            "token_expiry": self.token_expiry,
            "amount": purchase.amount,
            "currency": purchase.currency.alpha(),
            "transaction_date": date.to_string(),
            "merchant_id": purchase.merchant_id,
            "channel": purchase.channel,
            "atc": atc,
            "unpredictable_number": hex::encode_upper(unpredictable_number),
            "cryptogram": arqc.to_string(),
        });
        if let Some(name) = purchase.merchant_name {
            body["merchant_name"] = Value::from(name);
        }
        if purchase.device_cvm != DeviceCvm::None {
            body["iad"] = Value::from(hex::encode_upper(&iad));
        }
        Ok(Signed { body, key, arqc })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn keys_answer() -> Value {
        json!({"ref": "tok_1", "token_pan": "6299900000000000017", "token_expiry": "12/30",
            "profile": {"aip": "1880", "iad": "0110A00003220000"},
            "keys": [{"atc": "0001", "session_key": "00112233445566778899AABBCCDDEEFF"}]})
    }

    #[test]
    fn the_arqc_covers_the_purchase_under_the_next_key() {
        let mut device = Device::from_keys(&keys_answer()).unwrap();
        let date = NaiveDate::from_ymd_opt(2030, 1, 2).unwrap();
        let purchase = Purchase {
            date: Some(date),
            unpredictable_number: Some([1, 2, 3, 4]),
            ..Purchase::new(1234, "M1").named("便利店")
        };
        let signed = device.sign(&purchase).unwrap();
        let data = Cdol1 {
            amount: 1234,
            other_amount: 0,
            terminal_country: 156,
            tvr: [0; 5],
            currency: 156,
            date,
            transaction_type: 0,
            unpredictable_number: [1, 2, 3, 4],
            aip: [0x18, 0x80],
            atc: Atc::new(1),
            iad: Some(hex::decode("0110A00003220000").unwrap()),
        }
        .to_bytes()
        .unwrap();
        signed.arqc.verify(&signed.key, &data).unwrap();
        assert_eq!(signed.body["cryptogram"], signed.arqc.to_string());
        assert_eq!(signed.body["atc"], "0001");
        assert_eq!(signed.body["transaction_date"], "2030-01-02");
        assert_eq!(signed.body["unpredictable_number"], "01020304");
        assert_eq!(signed.body["merchant_name"], "便利店");
        assert!(matches!(
            device.sign(&purchase),
            Err(DeviceError::OutOfKeys)
        ));
    }

    #[test]
    fn a_garbled_keys_answer_names_its_field() {
        let mut answer = keys_answer();
        answer["profile"]["aip"] = json!("18");
        assert!(matches!(
            Device::from_keys(&answer),
            Err(DeviceError::Unreadable("aip"))
        ));
    }
}
