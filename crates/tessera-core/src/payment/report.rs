//! What a person is told after reporting a payment as not theirs, or
//! freezing their wallet: what the wallet did, and what happens next.

use crate::error::Text;
use crate::error::lang::t;

/// After "this payment was not me".
pub fn reported() -> Text {
    t(
        "已收到您的举报：这张卡已暂停支付，客服会看到这笔举报和对应的支付记录。如果确实被盗刷，请同时致电发卡行挂失，并视情况报警。核实后，您可以在钱包里恢复这张卡。",
        "Report received: this card is paused, and support can see your report with the payment attached. If someone really used your card, also call your bank to block it, and report it to the police if needed. Once it is sorted out, you can resume the card in the wallet.",
    )
}

/// After freezing the wallet.
pub fn frozen() -> Text {
    t(
        "钱包已冻结：所有卡都已暂停支付，客服可以看到这次冻结。确认安全后，您可以用支付密码或短信验证码解冻。",
        "Your wallet is frozen: every card in it is paused, and support can see the freeze. Once you are sure it is safe, unfreeze it with your payment password or a text-message code.",
    )
}

/// After unfreezing the wallet.
pub fn unfrozen() -> Text {
    t(
        "钱包已解冻，卡已恢复支付。您举报过的卡仍保持暂停，需要时请单独恢复。",
        "Your wallet is unfrozen and its cards can pay again. A card you reported stays paused; resume it on its own when you are ready.",
    )
}
