//! Which bank answers a card: the issuers configured in `[issuers]` over
//! HTTP (`issuer/http.rs`), every other card the built-in sandbox.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::http::{HttpIssuer, IssuerEndpoint};
use super::{
    AuthorizationAnswer, BindingVerification, Issuer, IssuerAnswer, PaymentAuthorization,
    RefundOrder, TransferAnswer, TransferOrder,
};

#[derive(Debug)]
pub struct RoutedIssuer {
    /// By issuer code, upper case (environment variables arrive in lower).
    banks: BTreeMap<String, HttpIssuer>,
    fallback: Arc<dyn Issuer>,
}

impl RoutedIssuer {
    pub fn new(
        endpoints: &BTreeMap<String, IssuerEndpoint>,
        fallback: Arc<dyn Issuer>,
    ) -> Result<RoutedIssuer, String> {
        let mut banks = BTreeMap::new();
        for (code, endpoint) in endpoints {
            banks.insert(code.to_ascii_uppercase(), HttpIssuer::new(code, endpoint)?);
        }
        Ok(RoutedIssuer { banks, fallback })
    }

    fn bank(&self, issuer_code: Option<&str>) -> Option<&HttpIssuer> {
        self.banks.get(&issuer_code?.to_ascii_uppercase())
    }
}

#[async_trait]
impl Issuer for RoutedIssuer {
    fn name(&self) -> &'static str {
        "routed"
    }

    /// The sandbox's setting: read for every binding, used by its cards.
    fn binding_setting(&self) -> Option<&'static str> {
        self.fallback.binding_setting()
    }

    async fn verify_binding(&self, request: &BindingVerification<'_>) -> IssuerAnswer {
        match self.bank(request.issuer_code) {
            Some(bank) => bank.verify_binding(request).await,
            None => self.fallback.verify_binding(request).await,
        }
    }

    async fn authorize_payment(&self, request: &PaymentAuthorization<'_>) -> AuthorizationAnswer {
        match self.bank(request.issuer_code) {
            Some(bank) => bank.authorize_payment(request).await,
            None => self.fallback.authorize_payment(request).await,
        }
    }

    async fn refund_payment(&self, order: &RefundOrder<'_>) -> TransferAnswer {
        match self.bank(order.issuer_code) {
            Some(bank) => bank.refund_payment(order).await,
            None => self.fallback.refund_payment(order).await,
        }
    }

    async fn transfer(&self, order: &TransferOrder<'_>) -> TransferAnswer {
        match self.bank(order.issuer_code) {
            Some(bank) => bank.transfer(order).await,
            None => self.fallback.transfer(order).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Overrides};

    /// Environment variables arrive with the code in lower case; cards are
    /// routed by the BIN table's upper-case code all the same.
    #[test]
    #[allow(clippy::result_large_err)]
    fn an_issuer_set_in_the_environment_routes_its_cards() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TESSERA_ISSUERS__ABC__BASE_URL", "http://127.0.0.1:9100");
            jail.set_env("TESSERA_ISSUERS__ABC__SIGNING_SECRET", "0123456789abcdef");
            let config = Config::load(None, &Overrides::default()).unwrap();
            let routed = RoutedIssuer::new(&config.issuers, Arc::new(NoBank)).unwrap();
            assert!(routed.bank(Some("ABC")).is_some());
            assert!(routed.bank(Some("abc")).is_some());
            assert!(routed.bank(Some("ICBC")).is_none());
            assert!(routed.bank(None).is_none());
            Ok(())
        });
    }

    #[derive(Debug)]
    struct NoBank;

    #[async_trait]
    impl Issuer for NoBank {
        fn name(&self) -> &'static str {
            "none"
        }
        async fn verify_binding(&self, _: &BindingVerification<'_>) -> IssuerAnswer {
            IssuerAnswer::Unavailable
        }
        async fn authorize_payment(&self, _: &PaymentAuthorization<'_>) -> AuthorizationAnswer {
            AuthorizationAnswer::Unavailable
        }
        async fn refund_payment(&self, _: &RefundOrder<'_>) -> TransferAnswer {
            TransferAnswer::Unavailable
        }
        async fn transfer(&self, _: &TransferOrder<'_>) -> TransferAnswer {
            TransferAnswer::Unavailable
        }
    }
}
