//! The size and characters of every field people send. Each request body
//! is checked here, against `[limits]` (`config::LimitsConfig`), before any work
//! runs: a value too long is `field_too_long` (with `param` and
//! `max_length`), a value with characters its field does not take is
//! `invalid_characters`; neither writes anything, not even an attempt or
//! an idempotency record. Card numbers, CVCs, codes, phones and ID numbers
//! have their own strict parsers and are not listed here.
//!
//! Identifiers (device ids, event ids, trace ids, merchant ids) are kept as
//! sent; free text (device details, reasons, messages, merchant names,
//! notices, refund reasons) has its card numbers masked before it is stored
//! (`tessera_core::text::mask_card_numbers`).

use tessera_core::error::DomainError;
use tessera_core::text::{Shape, check_field, mask_card_numbers};

use crate::config::LimitsConfig;
use crate::http::views::{
    BindCardRequest, CloseAccountRequest, CreateKeyRequest, CreateUserRequest, Device,
    IssuerEventRequest, KeysRequest, MaintenanceWindow, PasskeyRequest, PaymentReportRequest,
    PaymentRequest, RefundRequest, SupportReplyRequest, TicketReplyRequest, TicketRequest,
    TokenChangeRequest, TransferRequest,
};

/// A request whose fields can be checked against the limits.
pub trait Fields {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError>;
}

/// Names the request bodies checked here, for the OpenAPI document: an
/// operation taking one of them may answer 422 (`http/openapi.rs`). Each
/// name must implement [`Fields`], or this does not compile.
macro_rules! checked_requests {
    ($($request:ident),* $(,)?) => {
        pub const CHECKED_REQUESTS: &[&str] = &[$(stringify!($request)),*];
        const _: fn() = || {
            fn implements_fields<T: Fields>() {}
            $(implements_fields::<$request>();)*
        };
    };
}

checked_requests!(
    BindCardRequest,
    CreateUserRequest,
    TokenChangeRequest,
    IssuerEventRequest,
    KeysRequest,
    PaymentRequest,
    RefundRequest,
    TransferRequest,
    TicketRequest,
    PasskeyRequest,
    PaymentReportRequest,
    MaintenanceWindow,
    TicketReplyRequest,
    SupportReplyRequest,
    CreateKeyRequest,
    CloseAccountRequest,
);

fn optional(
    value: Option<&str>,
    param: &'static str,
    max_chars: usize,
    shape: Shape,
) -> Result<(), DomainError> {
    value.map_or(Ok(()), |value| check_field(value, param, max_chars, shape))
}

/// A reason for a lifecycle change, in a body or a query.
pub fn check_reason(reason: Option<&str>, limits: &LimitsConfig) -> Result<(), DomainError> {
    optional(reason, "reason", limits.reason_chars, Shape::Line)
}

/// A device's details as an app (or the wallet's pages) describes them.
fn check_device(device: &Device, limits: &LimitsConfig) -> Result<(), DomainError> {
    let field = limits.device_field_chars;
    optional(
        device.id.as_deref(),
        "device.id",
        limits.device_id_chars,
        Shape::Identifier,
    )?;
    optional(device.model.as_deref(), "device.model", field, Shape::Line)?;
    optional(device.os.as_deref(), "device.os", field, Shape::Line)?;
    optional(
        device.app_version.as_deref(),
        "device.app_version",
        field,
        Shape::Line,
    )?;
    optional(
        device.network_type.as_deref(),
        "device.network_type",
        field,
        Shape::Line,
    )?;
    optional(
        device.locale.as_deref(),
        "device.locale",
        field,
        Shape::Line,
    )?;
    Ok(())
}

impl Fields for BindCardRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        check_field(
            &self.holder_name,
            "holder_name",
            limits.name_chars,
            Shape::Name,
        )?;
        if let Some(device) = &self.device {
            check_device(device, limits)?;
        }
        Ok(())
    }
}

impl Fields for CreateUserRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        check_field(&self.real_name, "real_name", limits.name_chars, Shape::Name)
    }
}

impl Fields for TokenChangeRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        check_reason(self.reason.as_deref(), limits)
    }
}

impl Fields for IssuerEventRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        check_field(&self.id, "id", limits.identifier_chars, Shape::Identifier)?;
        check_reason(self.reason.as_deref(), limits)
    }
}

impl Fields for KeysRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        optional(
            self.device_id.as_deref(),
            "device_id",
            limits.device_id_chars,
            Shape::Identifier,
        )
    }
}

impl Fields for PaymentRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        optional(
            self.merchant_name.as_deref(),
            "merchant_name",
            limits.merchant_name_chars,
            Shape::Line,
        )
    }
}

impl Fields for RefundRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        check_reason(self.reason.as_deref(), limits)
    }
}

impl Fields for TransferRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        check_field(
            &self.to_holder_name,
            "to_holder_name",
            limits.name_chars,
            Shape::Name,
        )
    }
}

impl Fields for TicketRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        for (value, param) in [
            (&self.trace_id, "trace_id"),
            (&self.payment_id, "payment_id"),
            (&self.transfer_id, "transfer_id"),
        ] {
            optional(
                value.as_deref(),
                param,
                limits.identifier_chars,
                Shape::Identifier,
            )?;
        }
        check_field(&self.message, "message", limits.message_chars, Shape::Lines)?;
        optional(
            self.error_text.as_deref(),
            "error_text",
            limits.message_chars,
            Shape::Lines,
        )?;
        if let Some(device) = &self.device {
            check_device(device, limits)?;
        }
        Ok(())
    }
}

impl Fields for TicketReplyRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        check_field(&self.message, "message", limits.message_chars, Shape::Lines)
    }
}

/// A ticket's status is one of three words, checked where it is read.
fn check_status(status: Option<&str>, limits: &LimitsConfig) -> Result<(), DomainError> {
    optional(status, "status", limits.identifier_chars, Shape::Identifier)
}

impl Fields for SupportReplyRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        optional(
            self.message.as_deref(),
            "message",
            limits.message_chars,
            Shape::Lines,
        )?;
        check_status(self.status.as_deref(), limits)?;
        optional(
            self.internal_note.as_deref(),
            "internal_note",
            limits.message_chars,
            Shape::Lines,
        )
    }
}

impl Fields for PasskeyRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        check_field(
            &self.challenge_id,
            "challenge_id",
            limits.identifier_chars,
            Shape::Identifier,
        )?;
        optional(
            self.name.as_deref(),
            "name",
            limits.reason_chars,
            Shape::Line,
        )
    }
}

impl Fields for PaymentReportRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        match &self.message {
            Some(message) => check_field(message, "message", limits.message_chars, Shape::Lines),
            None => Ok(()),
        }
    }
}

impl Fields for MaintenanceWindow {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        check_field(
            &self.message_zh,
            "message_zh",
            limits.notice_chars,
            Shape::Lines,
        )?;
        check_field(
            &self.message_en,
            "message_en",
            limits.notice_chars,
            Shape::Lines,
        )
    }
}

impl Fields for CloseAccountRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        check_field(&self.reason, "reason", limits.reason_chars, Shape::Line)
    }
}

impl Fields for CreateKeyRequest {
    fn check_fields(&self, limits: &LimitsConfig) -> Result<(), DomainError> {
        check_field(&self.holder, "holder", limits.name_chars, Shape::Line)?;
        check_field(&self.label, "label", limits.reason_chars, Shape::Line)?;
        for owner in self.issuers.iter().chain(&self.merchants) {
            let param = if self.issuers.contains(owner) {
                "issuers"
            } else {
                "merchants"
            };
            check_field(owner, param, limits.identifier_chars, Shape::Identifier)?;
        }
        Ok(())
    }
}

/// Free text as it is stored: trimmed, card numbers masked.
pub fn stored_text(text: &str) -> String {
    mask_card_numbers(text.trim()).into_owned()
}

/// A binding's device as it is stored: its id as sent, every detail with
/// card numbers masked.
pub fn stored_device(device: &Device) -> Device {
    let masked = |value: &Option<String>| {
        value
            .as_deref()
            .map(|text| mask_card_numbers(text).into_owned())
    };
    Device {
        id: device.id.clone(),
        model: masked(&device.model),
        os: masked(&device.os),
        app_version: masked(&device.app_version),
        network_type: masked(&device.network_type),
        locale: masked(&device.locale),
    }
}
