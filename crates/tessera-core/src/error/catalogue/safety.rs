//! Catalogue rows for what protects a person's money: a payment that needs
//! their confirmation, a wallet they froze, and an account that was closed.

use crate::error::lang::t;
use crate::error::{CatalogEntry, Cause as C, ErrorCode as E, ErrorType as T};

pub(super) const ROWS: [CatalogEntry; 4] = [
    CatalogEntry {
        code: E::AuthenticationRequired,
        code_str: "authentication_required",
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: true,
        message: t(
            "这笔支付需要你确认后才能完成",
            "This payment needs your confirmation",
        ),
        remedy: t(
            "请按提示验证支付密码（没有设置支付密码的，验证短信验证码），或在手机上验证指纹、面容或锁屏密码，然后重新支付。这次没有扣款。",
            "Confirm it as asked (your payment password, or a text-message code if you have none; or your fingerprint, face or passcode on the phone), then pay again. Nothing was charged this time.",
        ),
        why: t(
            "金额超过了你设置的免密支付额度（单笔或当日累计），或者这笔支付看起来与平时不同，钱包需要确认是你本人在付款。免密额度可以在“支付安全”里调整。",
            "The amount is above the no-confirmation limit you set (per payment or for the day), or the payment looks unlike your usual ones, so the wallet checks that it is really you. You can change the limits under Payment security.",
        ),
    },
    CatalogEntry {
        code: E::AccountFrozen,
        code_str: "account_frozen",
        error_type: T::CardError,
        cause: C::Account,
        http_status: 403,
        retryable: false,
        message: t(
            "你的钱包已冻结，暂时不能支付",
            "Your wallet is frozen, so it cannot pay",
        ),
        remedy: t(
            "如果是你本人冻结的，确认安全后可以在钱包里解冻（需要验证支付密码或短信验证码）；如有疑问请联系客服。",
            "If you froze it, unfreeze it in the wallet once you are sure it is safe (you confirm with your payment password or a text-message code); contact support if in doubt.",
        ),
        why: t(
            "钱包被冻结后，其中所有卡都暂停支付，防止手机丢失或账户被盗时被人盗刷。冻结会一直保持，直到你本人解冻。",
            "A frozen wallet pauses every card in it, so that nobody can pay with them if the phone is lost or the account is taken over. It stays frozen until you unfreeze it.",
        ),
    },
    CatalogEntry {
        code: E::AccountClosed,
        code_str: "account_closed",
        error_type: T::AuthenticationError,
        cause: C::Account,
        http_status: 403,
        retryable: false,
        message: t(
            "这个账户已经注销，不能再登录",
            "This account was closed and can no longer sign in",
        ),
        remedy: t(
            "注销后不能恢复。如果不是你本人注销的，或对注销有疑问，请联系客服，并提供提示下方的编号。",
            "A closure cannot be undone. If you did not close it yourself, or have questions about it, contact support and give them the reference shown with this message.",
        ),
        why: t(
            "账户注销后，其中的卡和支付凭证都已删除，卡号已抹去，所有登录都已结束。钱包只按规定保留打了掩码的交易记录一段时间，到期后一并删除。",
            "When an account is closed, its cards and payment tokens are deleted, its card numbers erased and every sign-in ended. The wallet keeps only masked transaction records for the period the rules require, and deletes them after it.",
        ),
    },
    CatalogEntry {
        code: E::KeyVersionStale,
        code_str: "key_version_stale",
        error_type: T::ApiError,
        cause: C::System,
        http_status: 503,
        retryable: true,
        message: t(
            "服务正在更换加密密钥，这次没有保存",
            "The service is changing its encryption keys, so this was not saved",
        ),
        remedy: t(
            "这不是你的问题，请稍等一秒再试一次，不用重新填写。",
            "This is not your fault: wait a second and try again; there is nothing to re-enter.",
        ),
        why: t(
            "钱包刚刚换用了新的加密密钥，处理这次请求的服务器还没拿到新密钥。为了不用旧密钥保存卡号，它没有保存，并且已经取来新密钥，重试就会成功。",
            "The wallet has just moved to a new encryption key, and the server that handled this request did not hold it yet. Rather than save a card number under the old key, it saved nothing, and it has fetched the new key, so a retry succeeds.",
        ),
    },
];
