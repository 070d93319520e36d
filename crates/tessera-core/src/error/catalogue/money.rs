//! The catalogue's rows for what guards people's money: the payment
//! password, confirmations, refunds and transfers.

use crate::error::lang::t;
use crate::error::{CatalogEntry, Cause as C, ErrorCode as E, ErrorType as T};

pub(super) const ROWS: [CatalogEntry; 10] = [
    CatalogEntry {
        code: E::PaymentPasswordTooSimple,
        code_str: "payment_password_too_simple",
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t(
            "这个支付密码太容易被猜到",
            "That payment password is too easy to guess",
        ),
        remedy: t(
            "请换一组只有你自己知道的6位数字，不要用生日、手机号后六位、连续或重复的数字。",
            "Choose 6 digits that only you know: not your birthday, the end of your phone number, or digits in a row or repeated.",
        ),
        why: t(
            "支付密码只有6位数字。别人最先会试的就是生日、手机号后六位，以及123456、111111、123123这样的组合，所以钱包不接受这些密码。",
            "A payment password is only 6 digits, and the first ones anyone tries are birthdays, the end of a phone number and choices like 123456, 111111 or 123123, so the wallet does not accept them.",
        ),
    },
    CatalogEntry {
        code: E::PaymentPasswordNotSet,
        code_str: "payment_password_not_set",
        error_type: T::InvalidRequestError,
        cause: C::Security,
        http_status: 409,
        retryable: false,
        message: t(
            "你还没有设置支付密码",
            "You have not set a payment password yet",
        ),
        remedy: t(
            "请先在“支付安全”中设置6位数字的支付密码。",
            "Set a 6-digit payment password under Payment security first.",
        ),
        why: t(
            "这一步需要用支付密码确认，但这个账户还没有设置支付密码。",
            "This step is confirmed with the payment password, and this account has none yet.",
        ),
    },
    CatalogEntry {
        code: E::IdNumberIncorrect,
        code_str: "id_number_incorrect",
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 403,
        retryable: false,
        message: t(
            "身份证号码与账户不一致",
            "The ID number does not match this account",
        ),
        remedy: t(
            "请核对开户时使用的身份证号码，重新获取验证码后再试。",
            "Check the ID number you opened the account with, request a new code, and try again.",
        ),
        why: t(
            "重设支付密码需要验证码和开户时的完整身份证号码。输入的号码与账户登记的不同，这次的验证码已作废，防止别人反复猜测。",
            "Resetting the payment password takes a code and the full ID number the account was opened with. The number entered is not the one on file, so this code no longer works, which stops anyone from guessing.",
        ),
    },
    CatalogEntry {
        code: E::VerificationRequired,
        code_str: "verification_required",
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 403,
        retryable: false,
        message: t(
            "这一步需要先确认是你本人",
            "This step needs you to confirm it is you",
        ),
        remedy: t(
            "请输入支付密码确认；还没有设置支付密码的话，用发到你手机上的短信验证码确认。",
            "Confirm with your payment password, or, if you have not set one, with the code texted to your phone.",
        ),
        why: t(
            "解绑银行卡这样的操作只有本人才能做，所以钱包会先请你确认，以防手机落到别人手里时卡被解绑。",
            "Steps such as removing a card are for you alone, so the wallet asks you to confirm first, in case your phone is in someone else's hands.",
        ),
    },
    CatalogEntry {
        code: E::VerificationInvalid,
        code_str: "verification_invalid",
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 403,
        retryable: false,
        message: t("这次确认已失效", "This confirmation no longer works"),
        remedy: t(
            "请重新确认一次，然后马上继续操作。",
            "Confirm again, then go on straight away.",
        ),
        why: t(
            "每次确认只能用一次，几分钟后就会过期，而且只对确认时的那一项操作有效。",
            "Each confirmation works once, expires after a few minutes, and is good only for the step it was made for.",
        ),
    },
    CatalogEntry {
        code: E::RefundExceedsPayment,
        code_str: "refund_exceeds_payment",
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t(
            "退款金额超过了这笔支付还能退的金额",
            "The refund is more than what is left to refund on this payment",
        ),
        remedy: t(
            "请先查看这笔支付已经退了多少，再按剩余的金额退款。",
            "Check how much of the payment was already refunded, then refund at most what is left.",
        ),
        why: t(
            "一笔支付的所有退款加起来不能超过支付的金额。还在处理中的退款也算在内，因为这些钱可能已经在退回卡上的路上。",
            "All the refunds of a payment together may not exceed what was paid. Refunds still being processed count too, since that money may already be on its way back to the card.",
        ),
    },
    CatalogEntry {
        code: E::PaymentNotRefundable,
        code_str: "payment_not_refundable",
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 409,
        retryable: false,
        message: t("这笔支付不能退款", "This payment cannot be refunded"),
        remedy: t(
            "只有支付成功的订单才能退款；没有成功的支付没有扣钱，不需要退。",
            "Only approved payments can be refunded; a payment that did not go through took no money, so there is nothing to give back.",
        ),
        why: t(
            "这笔支付没有成功：银行拒绝了它，或者银行没有答复，卡上没有扣款。",
            "This payment did not go through: the bank declined it or never answered, so no money left the card.",
        ),
    },
    CatalogEntry {
        code: E::RefundDeclined,
        code_str: "refund_declined",
        error_type: T::CardError,
        cause: C::CardNotSupported,
        http_status: 402,
        retryable: false,
        message: t(
            "发卡行拒绝了这笔退款",
            "The card's bank declined this refund",
        ),
        remedy: t(
            "钱没有退回。请稍后再试；如果一直被拒绝，请联系发卡行，或用其他方式把钱退给顾客。",
            "No money was returned. Try again later; if the bank keeps declining, contact it or refund the customer another way.",
        ),
        why: t(
            "退款要由发卡行把钱退回卡上。卡已销户或挂失，或者银行自己的风控不同意时，银行会拒绝这笔退款。",
            "A refund is carried out by the card's bank, which refuses it when the card was closed or reported lost, or when its own risk checks do not agree.",
        ),
    },
    CatalogEntry {
        code: E::CardWalletLimitReached,
        code_str: "card_wallet_limit_reached",
        error_type: T::CardError,
        cause: C::Account,
        http_status: 422,
        retryable: false,
        message: t(
            "这张卡已绑定在允许的最多个钱包中，不能再绑定到新的钱包",
            "This card is already in as many wallets as it may be, so it can't be added to another",
        ),
        remedy: t(
            "请先在已绑定这张卡的某个钱包中解绑它，再来绑定；或者换一张卡",
            "Remove the card from one of the wallets it is in, then add it here; or use another card",
        ),
        why: t(
            "为保护持卡人，同一张银行卡最多只能同时绑定在几个钱包账户中（正在绑定或等待短信验证的也计算在内）；解绑后名额就会空出来",
            "To protect cardholders, one bank card may be in only a few wallet accounts at once (cards being added or waiting for their SMS code count too); removing it from one frees its place",
        ),
    },
    CatalogEntry {
        code: E::TransferDeclined,
        code_str: "transfer_declined",
        error_type: T::CardError,
        cause: C::CardNotSupported,
        http_status: 402,
        retryable: false,
        message: t("银行拒绝了这笔转账", "The bank declined this transfer"),
        remedy: t(
            "钱没有转出，也没有收取手续费。请核对收款卡号和户名；如果一直被拒绝，请联系收款卡的发卡行，或换一张卡收款。",
            "No money left your card and no fee was charged. Check the recipient's card number and name; if the bank keeps declining, the recipient should contact their bank or use another card.",
        ),
        why: t(
            "转账要由收款卡的发卡行把钱入账。收款卡已销户、挂失，或者银行自己的风控不同意时，银行会拒绝这笔转账。",
            "A transfer is credited by the recipient card's bank, which refuses it when the card was closed or reported lost, or when its own risk checks do not agree.",
        ),
    },
];
