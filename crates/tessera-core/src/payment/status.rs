//! Where a payment stands, as its record keeps it.

/// A payment's status. A payment is `Pending` from the moment its ATC is
/// claimed until the issuer's answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PaymentStatus {
    #[default]
    Pending,
    Approved,
    /// Refused: by the wallet's checks or by the issuer.
    Declined,
    /// The issuer never answered; nothing was charged.
    Failed,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 4] = [
        PaymentStatus::Pending,
        PaymentStatus::Approved,
        PaymentStatus::Declined,
        PaymentStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Approved => "approved",
            PaymentStatus::Declined => "declined",
            PaymentStatus::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a refund stands. Only `pending` and `accepted` refunds count
/// against what a payment may still give back: a declined or failed one
/// leaves its amount refundable again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefundStatus {
    /// Recorded before the issuer is asked, so that a crash between leaves
    /// a record rather than money without one.
    #[default]
    Pending,
    /// The issuer carried it out.
    Accepted,
    /// The issuer refused it.
    Declined,
    /// The issuer could not be reached, or did not answer in time.
    Failed,
}

impl RefundStatus {
    pub const ALL: [RefundStatus; 4] = [
        RefundStatus::Pending,
        RefundStatus::Accepted,
        RefundStatus::Declined,
        RefundStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Accepted => "accepted",
            RefundStatus::Declined => "declined",
            RefundStatus::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<RefundStatus> {
        RefundStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether its amount is spent from the payment (or may yet be).
    pub fn holds_amount(self) -> bool {
        matches!(self, RefundStatus::Pending | RefundStatus::Accepted)
    }
}

impl std::fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a transfer stands. Recorded `pending` before the bank is asked,
/// so that a crash between leaves a record rather than money without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransferStatus {
    #[default]
    Pending,
    /// The bank moved the money.
    Settled,
    /// The bank refused it: nothing moved.
    Declined,
    /// The bank could not be reached, or did not answer in time: nothing
    /// moved.
    Failed,
}

impl TransferStatus {
    pub const ALL: [TransferStatus; 4] = [
        TransferStatus::Pending,
        TransferStatus::Settled,
        TransferStatus::Declined,
        TransferStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Pending => "pending",
            TransferStatus::Settled => "settled",
            TransferStatus::Declined => "declined",
            TransferStatus::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<TransferStatus> {
        TransferStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for TransferStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_name() {
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(PaymentStatus::parse("refunded"), None);
        for status in RefundStatus::ALL {
            assert_eq!(RefundStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(RefundStatus::parse("approved"), None);
        for status in TransferStatus::ALL {
            assert_eq!(TransferStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(TransferStatus::parse("accepted"), None);
    }
}
