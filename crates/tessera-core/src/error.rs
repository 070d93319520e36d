//! The error catalogue: every error Tessera answers with, defined once.
//! Each code carries its cause (one of the seed's four, or the wallet's own
//! rules), its HTTP status, whether a retry can help, and a message and a
//! remedy in zh-CN and en. The server maps a `DomainError` to HTTP in one place.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::token::lifecycle::suspension_text;

/// The two languages every user-facing text comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    /// Picks the first supported language of an `Accept-Language` header, by
    /// quality; zh-CN when the header is absent or names neither language.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::ZhCn;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::ZhCn
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Lang::ZhCn, |(_, lang)| lang)
    }

    /// Parses `zh`, `zh-CN`, `en`, `en-US` and the like.
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag == "zh" || tag.starts_with("zh-") || tag.starts_with("zh_") {
            Some(Lang::ZhCn)
        } else if tag == "en" || tag.starts_with("en-") || tag.starts_with("en_") {
            Some(Lang::En)
        } else {
            None
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// Why a request failed, in the words of the seed's four causes plus the
/// wallet's own rules. Diagnosis groups failures by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    Input,
    CardNotSupported,
    Network,
    System,
    Account,
    Security,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Input => "input",
            Cause::CardNotSupported => "card_not_supported",
            Cause::Network => "network",
            Cause::System => "system",
            Cause::Account => "account",
            Cause::Security => "security",
        }
    }
}

/// The broad family of an error, as API clients branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    CardError,
    InvalidRequestError,
    AuthenticationError,
    RateLimitError,
    IdempotencyError,
    ApiError,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::CardError => "card_error",
            ErrorType::InvalidRequestError => "invalid_request_error",
            ErrorType::AuthenticationError => "authentication_error",
            ErrorType::RateLimitError => "rate_limit_error",
            ErrorType::IdempotencyError => "idempotency_error",
            ErrorType::ApiError => "api_error",
        }
    }
}

/// A text in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub zh: &'static str,
    pub en: &'static str,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::ZhCn => self.zh,
            Lang::En => self.en,
        }
    }
}

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

/// One row of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct CatalogEntry {
    pub code: ErrorCode,
    pub error_type: ErrorType,
    pub cause: Cause,
    pub http_status: u16,
    pub retryable: bool,
    /// What happened, in one sentence the person can read on a phone.
    pub message: Text,
    /// What the person can do about it.
    pub remedy: Text,
}

/// Every error code Tessera can answer with. The order matches `CATALOGUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    InvalidNumber,
    IncorrectNumber,
    InvalidExpiryMonth,
    InvalidExpiryYear,
    ExpiredCard,
    InvalidCvc,
    IncorrectCvc,
    InvalidHolderName,
    NameMismatch,
    PhoneMismatch,
    CardNotSupported,
    CardDeclined,
    CardAlreadyBound,
    CardLimitReached,
    OtpRequired,
    OtpIncorrect,
    OtpExpired,
    TooManyAttempts,
    IssuerUnavailable,
    Maintenance,
    IdempotencyConflict,
    RequestInProgress,
    PaymentPasswordIncorrect,
    PaymentPasswordLocked,
    TokenSuspended,
    CardUnbound,
    TokenExpired,
    CryptogramInvalid,
    AtcReplayed,
    DomainMismatch,
    RiskDeclined,
    InternalError,
    InvalidRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    RateLimited,
    DatabaseUnavailable,
    InvalidPhone,
    InvalidIdNumber,
    PhoneTaken,
    WeakPassword,
}

use Cause as C;
use ErrorCode as E;
use ErrorType as T;

/// The catalogue itself, one entry per code, in the enum's order.
pub static CATALOGUE: [CatalogEntry; 44] = [
    CatalogEntry {
        code: E::InvalidNumber,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t(
            "卡号格式不对:卡号应为12到19位数字",
            "That card number isn't valid: a card number has 12 to 19 digits",
        ),
        remedy: t(
            "请对照银行卡正面重新输入卡号,只输入数字(可以带空格)",
            "Type the number again from the front of the card, digits only (spaces are fine)",
        ),
    },
    CatalogEntry {
        code: E::IncorrectNumber,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t(
            "卡号有误,请核对后重新输入",
            "The card number is incorrect: one or more digits are wrong",
        ),
        remedy: t(
            "卡号校验未通过,通常是某一位输错或两位顺序颠倒,请逐位核对",
            "The number failed its check digit; usually one digit is mistyped or two are swapped. Check it digit by digit",
        ),
    },
    CatalogEntry {
        code: E::InvalidExpiryMonth,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("有效期的月份不对", "The expiry month isn't valid"),
        remedy: t(
            "请输入卡面上有效期的月份(01到12)",
            "Enter the month printed on the card, 01 to 12",
        ),
    },
    CatalogEntry {
        code: E::InvalidExpiryYear,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("有效期的年份不对", "The expiry year isn't valid"),
        remedy: t(
            "请输入卡面上有效期的年份(两位或四位,例如 28 或 2028)",
            "Enter the year printed on the card, two or four digits (for example 28 or 2028)",
        ),
    },
    CatalogEntry {
        code: E::ExpiredCard,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("这张卡已过有效期", "This card has expired"),
        remedy: t(
            "请核对有效期;若卡确已过期,请联系发卡行换新卡后再绑定",
            "Check the expiry date; if the card really has expired, ask your bank for a new card and add that one",
        ),
    },
    CatalogEntry {
        code: E::InvalidCvc,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("安全码格式不对", "The security code isn't valid"),
        remedy: t(
            "安全码是卡背面签名栏旁的3位数字(美国运通卡为卡正面的4位数字)",
            "The security code is the 3 digits next to the signature on the back (4 digits on the front for American Express)",
        ),
    },
    CatalogEntry {
        code: E::IncorrectCvc,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 402,
        retryable: false,
        message: t(
            "发卡行提示安全码不正确",
            "Your bank says the security code is incorrect",
        ),
        remedy: t(
            "请核对卡背面的安全码后重试;多次输错可能导致银行暂时锁定此卡",
            "Check the security code on the back of the card and try again; repeated mistakes can make the bank lock the card for a while",
        ),
    },
    CatalogEntry {
        code: E::InvalidHolderName,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("持卡人姓名格式不对", "The cardholder name isn't valid"),
        remedy: t(
            "请输入与银行预留一致的姓名:中文姓名或卡面上的拼音/英文姓名,不要包含数字或符号",
            "Enter the name your bank has on file: a Chinese name, or the Latin name printed on the card, without digits or symbols",
        ),
    },
    CatalogEntry {
        code: E::NameMismatch,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 422,
        retryable: false,
        message: t(
            "持卡人姓名与钱包实名信息不一致",
            "The cardholder name doesn't match the real name verified on this wallet",
        ),
        remedy: t(
            "只能绑定本人名下的银行卡;请检查姓名是否有错字,或使用本人的卡",
            "Only cards in your own name can be added: check the name for typos, or use a card in your own name",
        ),
    },
    CatalogEntry {
        code: E::PhoneMismatch,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 402,
        retryable: false,
        message: t(
            "手机号与银行预留手机号不一致",
            "The phone number doesn't match the one your bank has on file",
        ),
        remedy: t(
            "请填写开卡时在银行预留的手机号;若已换号,请致电银行或到柜台更新预留手机号,新号码通常约一天后生效",
            "Enter the phone number you gave the bank when you opened the account; if it has changed, call your bank or visit a branch to update it. A new number usually takes about a day to take effect",
        ),
    },
    CatalogEntry {
        code: E::CardNotSupported,
        error_type: T::CardError,
        cause: C::CardNotSupported,
        http_status: 422,
        retryable: false,
        message: t("暂不支持绑定这张卡", "This card can't be added"),
        remedy: t(
            "请换一张本人名下的借记卡或信用卡(一类账户)再试",
            "Try another debit or credit card in your own name (a Class I account)",
        ),
    },
    CatalogEntry {
        code: E::CardDeclined,
        error_type: T::CardError,
        cause: C::CardNotSupported,
        http_status: 402,
        retryable: false,
        message: t("发卡行拒绝了这张卡", "Your bank declined this card"),
        remedy: t(
            "请联系发卡行了解原因,或换一张卡",
            "Contact your bank to find out why, or use another card",
        ),
    },
    CatalogEntry {
        code: E::CardAlreadyBound,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 409,
        retryable: false,
        message: t(
            "这张卡已经绑定在你的钱包中",
            "This card is already in your wallet",
        ),
        remedy: t(
            "无需重复绑定,可在\"银行卡\"列表中直接使用",
            "There is no need to add it again: it is in your list of cards",
        ),
    },
    CatalogEntry {
        code: E::CardLimitReached,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 422,
        retryable: false,
        message: t(
            "已达到可绑定银行卡的数量上限",
            "You have reached the maximum number of cards",
        ),
        remedy: t(
            "请先在\"我的-银行卡\"中解绑一张不常用的卡,再绑定新卡",
            "Remove a card you no longer use (Me > Cards > Remove), then add the new one",
        ),
    },
    CatalogEntry {
        code: E::OtpRequired,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 409,
        retryable: false,
        message: t(
            "这张卡还需要短信验证",
            "This card still needs to be verified with a text message code",
        ),
        remedy: t(
            "请输入银行发送到预留手机号的6位验证码",
            "Enter the 6-digit code your bank sent to the phone number it has on file",
        ),
    },
    CatalogEntry {
        code: E::OtpIncorrect,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("验证码不正确", "The verification code is incorrect"),
        remedy: t(
            "请核对短信中的6位验证码后重新输入",
            "Check the 6-digit code in the text message and enter it again",
        ),
    },
    CatalogEntry {
        code: E::OtpExpired,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("验证码已过期", "The verification code has expired"),
        remedy: t(
            "验证码5分钟内有效,请重新添加这张卡以获取新的验证码",
            "Codes are valid for 5 minutes: add the card again to get a new code",
        ),
    },
    CatalogEntry {
        code: E::TooManyAttempts,
        error_type: T::RateLimitError,
        cause: C::Security,
        http_status: 429,
        retryable: false,
        message: t(
            "尝试次数过多,已暂时停止验证",
            "Too many attempts: verification has been stopped for now",
        ),
        remedy: t(
            "为保护资金安全,请在24小时后再试,以免触发银行的风控",
            "To keep your money safe, wait 24 hours before trying again so that the bank's fraud checks are not triggered",
        ),
    },
    CatalogEntry {
        code: E::IssuerUnavailable,
        error_type: T::ApiError,
        cause: C::Network,
        http_status: 503,
        retryable: true,
        message: t("暂时无法连接发卡行", "Your bank can't be reached right now"),
        remedy: t(
            "这不是你的问题,银行系统暂时没有响应;请稍后重试,重试不会重复绑卡",
            "This is not your fault: the bank isn't answering. Try again in a little while; retrying never adds the card twice",
        ),
    },
    CatalogEntry {
        code: E::Maintenance,
        error_type: T::ApiError,
        cause: C::System,
        http_status: 503,
        retryable: true,
        message: t(
            "系统维护中,暂停绑卡",
            "Adding cards is paused for maintenance",
        ),
        remedy: t(
            "请在维护结束后重试;已绑定的卡不受影响",
            "Try again after the maintenance window; cards already added are not affected",
        ),
    },
    CatalogEntry {
        code: E::IdempotencyConflict,
        error_type: T::IdempotencyError,
        cause: C::Input,
        http_status: 409,
        retryable: false,
        message: t(
            "同一个幂等键被用于不同的请求",
            "This Idempotency-Key was already used for a different request",
        ),
        remedy: t(
            "每个新请求请使用新的幂等键;重试时请发送完全相同的请求内容",
            "Use a new Idempotency-Key for each new request, and send exactly the same body when retrying",
        ),
    },
    CatalogEntry {
        code: E::RequestInProgress,
        error_type: T::IdempotencyError,
        cause: C::Network,
        http_status: 409,
        retryable: true,
        message: t(
            "同样的请求正在处理中",
            "The same request is still being processed",
        ),
        remedy: t(
            "请稍等片刻再查看结果,不要重复提交",
            "Wait a moment and check the result instead of submitting again",
        ),
    },
    CatalogEntry {
        code: E::PaymentPasswordIncorrect,
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 403,
        retryable: false,
        message: t("支付密码不正确", "The payment password is incorrect"),
        remedy: t(
            "请重新输入支付密码;多次输错将暂时锁定",
            "Enter your payment password again; too many mistakes lock it for a while",
        ),
    },
    CatalogEntry {
        code: E::PaymentPasswordLocked,
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 429,
        retryable: false,
        message: t("支付密码已被锁定", "Your payment password is locked"),
        remedy: t(
            "支付密码输错次数过多,请在锁定解除后再试,或通过身份验证重置支付密码",
            "It was entered wrongly too many times: try again once the lock ends, or reset it after verifying your identity",
        ),
    },
    CatalogEntry {
        code: E::TokenSuspended,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t("此卡已被暂停使用", "This card is suspended"),
        remedy: t(
            "请查看卡片详情中的暂停原因;由发卡行暂停的请联系发卡行,由你本人暂停的可在钱包中恢复",
            "See the card's details for who suspended it: if your bank did, contact your bank; if you did, resume it in the wallet",
        ),
    },
    CatalogEntry {
        code: E::CardUnbound,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 402,
        retryable: false,
        message: t(
            "这张卡已解绑,不能再用于支付",
            "This card was removed from the wallet and can no longer pay",
        ),
        remedy: t(
            "如需继续使用,请重新绑定这张卡",
            "Add the card again if you want to keep using it",
        ),
    },
    CatalogEntry {
        code: E::TokenExpired,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 402,
        retryable: false,
        message: t(
            "这张卡的支付凭证已过期",
            "This card's payment token has expired",
        ),
        remedy: t(
            "请在钱包中重新绑定这张卡;若银行已换发新卡,请绑定新卡",
            "Add the card to the wallet again; if your bank sent you a new card, add the new one",
        ),
    },
    CatalogEntry {
        code: E::CryptogramInvalid,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t("支付校验未通过", "The payment could not be verified"),
        remedy: t(
            "请重新发起支付;若反复出现,请更新钱包应用后再试",
            "Start the payment again; if it keeps happening, update the wallet app and try again",
        ),
    },
    CatalogEntry {
        code: E::AtcReplayed,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t(
            "这笔支付的凭证已被使用过",
            "This payment's one-time code was already used",
        ),
        remedy: t(
            "每笔支付都需要新的凭证,请重新发起支付",
            "Every payment needs a fresh code: start the payment again",
        ),
    },
    CatalogEntry {
        code: E::DomainMismatch,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t(
            "这张卡不能在此渠道或设备上支付",
            "This card can't pay through this channel or on this device",
        ),
        remedy: t(
            "请在绑定这张卡的设备和应用中支付",
            "Pay from the device and app where the card was added",
        ),
    },
    CatalogEntry {
        code: E::RiskDeclined,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t(
            "出于安全考虑,这笔支付未被允许",
            "This payment was stopped for your safety",
        ),
        remedy: t(
            "如确为本人操作,请稍后再试或联系客服核实",
            "If it was you, try again later or contact support to confirm",
        ),
    },
    CatalogEntry {
        code: E::InternalError,
        error_type: T::ApiError,
        cause: C::System,
        http_status: 500,
        retryable: true,
        message: t("系统出现异常", "Something went wrong on our side"),
        remedy: t(
            "请稍后重试;如仍失败,请联系客服并提供追踪编号",
            "Try again later; if it still fails, contact support with the trace id",
        ),
    },
    CatalogEntry {
        code: E::InvalidRequest,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 400,
        retryable: false,
        message: t("请求格式不正确", "The request is malformed"),
        remedy: t(
            "请检查请求的JSON格式和字段类型(见 param 指出的字段)",
            "Check the request's JSON and field types (see the field named in param)",
        ),
    },
    CatalogEntry {
        code: E::Unauthenticated,
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 401,
        retryable: false,
        message: t("需要登录", "You need to sign in"),
        remedy: t("请重新登录后再试", "Sign in again and retry"),
    },
    CatalogEntry {
        code: E::Forbidden,
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 403,
        retryable: false,
        message: t("没有权限进行此操作", "You are not allowed to do this"),
        remedy: t(
            "请使用具有相应权限的账号或密钥",
            "Use an account or key that has this permission",
        ),
    },
    CatalogEntry {
        code: E::NotFound,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 404,
        retryable: false,
        message: t("找不到请求的内容", "Nothing was found at this address"),
        remedy: t("请检查地址和编号是否正确", "Check the address and the id"),
    },
    CatalogEntry {
        code: E::MethodNotAllowed,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 405,
        retryable: false,
        message: t(
            "此地址不支持该请求方法",
            "This address does not accept that method",
        ),
        remedy: t(
            "请查看接口文档 /openapi.json 中允许的方法",
            "See /openapi.json for the methods this address accepts",
        ),
    },
    CatalogEntry {
        code: E::PayloadTooLarge,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 413,
        retryable: false,
        message: t("请求内容过大", "The request body is too large"),
        remedy: t(
            "请只发送接口需要的字段",
            "Send only the fields the endpoint needs",
        ),
    },
    CatalogEntry {
        code: E::RateLimited,
        error_type: T::RateLimitError,
        cause: C::Security,
        http_status: 429,
        retryable: true,
        message: t("请求过于频繁", "Too many requests"),
        remedy: t("请稍等片刻再试", "Wait a moment and try again"),
    },
    CatalogEntry {
        code: E::DatabaseUnavailable,
        error_type: T::ApiError,
        cause: C::System,
        http_status: 503,
        retryable: true,
        message: t("服务暂时不可用", "The service is temporarily unavailable"),
        remedy: t(
            "这不是你的问题,请稍后重试;重试不会重复操作",
            "This is not your fault: try again shortly. Retrying never does anything twice",
        ),
    },
    CatalogEntry {
        code: E::InvalidPhone,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("手机号格式不对", "That phone number isn't valid"),
        remedy: t(
            "请输入11位中国大陆手机号,例如 13800138000",
            "Enter an 11-digit mainland China mobile number, for example 13800138000",
        ),
    },
    CatalogEntry {
        code: E::InvalidIdNumber,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("身份证号码有误", "That ID number isn't valid"),
        remedy: t(
            "请输入18位居民身份证号码,最后一位可能是X;若银行仍登记旧的15位号码,请到银行柜台更新",
            "Enter the 18-character resident ID number (the last may be X); if your bank still has an old 15-digit number, update it at a branch",
        ),
    },
    CatalogEntry {
        code: E::PhoneTaken,
        error_type: T::InvalidRequestError,
        cause: C::Account,
        http_status: 409,
        retryable: false,
        message: t("该手机号已注册", "This phone number is already registered"),
        remedy: t(
            "请直接登录;如忘记密码,请找回密码",
            "Sign in instead; if you forgot the password, reset it",
        ),
    },
    CatalogEntry {
        code: E::WeakPassword,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("密码强度不够", "That password is too weak"),
        remedy: t(
            "请使用至少8位、同时包含字母和数字的密码",
            "Use at least 8 characters with both letters and digits",
        ),
    },
];

impl ErrorCode {
    /// Every code, in catalogue order.
    pub fn all() -> impl Iterator<Item = ErrorCode> {
        CATALOGUE.iter().map(|entry| entry.code)
    }

    pub fn entry(self) -> &'static CatalogEntry {
        // The catalogue is laid out in the enum's order; a unit test holds
        // that true, so indexing by discriminant is exact.
        &CATALOGUE[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        match self {
            E::InvalidNumber => "invalid_number",
            E::IncorrectNumber => "incorrect_number",
            E::InvalidExpiryMonth => "invalid_expiry_month",
            E::InvalidExpiryYear => "invalid_expiry_year",
            E::ExpiredCard => "expired_card",
            E::InvalidCvc => "invalid_cvc",
            E::IncorrectCvc => "incorrect_cvc",
            E::InvalidHolderName => "invalid_holder_name",
            E::NameMismatch => "name_mismatch",
            E::PhoneMismatch => "phone_mismatch",
            E::CardNotSupported => "card_not_supported",
            E::CardDeclined => "card_declined",
            E::CardAlreadyBound => "card_already_bound",
            E::CardLimitReached => "card_limit_reached",
            E::OtpRequired => "otp_required",
            E::OtpIncorrect => "otp_incorrect",
            E::OtpExpired => "otp_expired",
            E::TooManyAttempts => "too_many_attempts",
            E::IssuerUnavailable => "issuer_unavailable",
            E::Maintenance => "maintenance",
            E::IdempotencyConflict => "idempotency_conflict",
            E::RequestInProgress => "request_in_progress",
            E::PaymentPasswordIncorrect => "payment_password_incorrect",
            E::PaymentPasswordLocked => "payment_password_locked",
            E::TokenSuspended => "token_suspended",
            E::CardUnbound => "card_unbound",
            E::TokenExpired => "token_expired",
            E::CryptogramInvalid => "cryptogram_invalid",
            E::AtcReplayed => "atc_replayed",
            E::DomainMismatch => "domain_mismatch",
            E::RiskDeclined => "risk_declined",
            E::InternalError => "internal_error",
            E::InvalidRequest => "invalid_request",
            E::Unauthenticated => "unauthenticated",
            E::Forbidden => "forbidden",
            E::NotFound => "not_found",
            E::MethodNotAllowed => "method_not_allowed",
            E::PayloadTooLarge => "payload_too_large",
            E::RateLimited => "rate_limited",
            E::DatabaseUnavailable => "database_unavailable",
            E::InvalidPhone => "invalid_phone",
            E::InvalidIdNumber => "invalid_id_number",
            E::PhoneTaken => "phone_taken",
            E::WeakPassword => "weak_password",
        }
    }

    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::all().find(|c| c.as_str() == code)
    }

    pub fn cause(self) -> Cause {
        self.entry().cause
    }

    pub fn http_status(self) -> u16 {
        self.entry().http_status
    }

    pub fn retryable(self) -> bool {
        self.entry().retryable
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a card is not supported, machine-readable (`reason` in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotSupportedReason {
    UnknownBin,
    Brand,
    CardType,
    Country,
    Issuer,
}

impl NotSupportedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NotSupportedReason::UnknownBin => "unknown_bin",
            NotSupportedReason::Brand => "brand",
            NotSupportedReason::CardType => "card_type",
            NotSupportedReason::Country => "country",
            NotSupportedReason::Issuer => "issuer",
        }
    }
}

/// A `card_not_supported` refusal: the reason and what it names (a brand, a
/// card type, a country or an issuer), so that the message can say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSupported {
    pub reason: NotSupportedReason,
    /// What was refused, as people say it in Chinese ("预付费卡", "工商银行").
    pub subject_zh: String,
    /// The same in English ("Prepaid cards", "ICBC").
    pub subject_en: String,
}

impl NotSupported {
    fn message(&self, lang: Lang) -> String {
        match (self.reason, lang) {
            (NotSupportedReason::UnknownBin, Lang::ZhCn) => {
                "无法识别这张卡的发卡行,暂不支持绑定".to_owned()
            }
            (NotSupportedReason::UnknownBin, Lang::En) => {
                "We don't recognise the bank that issued this card, so it can't be added".to_owned()
            }
            (NotSupportedReason::CardType | NotSupportedReason::Brand, Lang::ZhCn) => {
                format!("{}暂不支持绑定", self.subject_zh)
            }
            (NotSupportedReason::CardType | NotSupportedReason::Brand, Lang::En) => {
                format!("{} can't be added", self.subject_en)
            }
            (NotSupportedReason::Country, Lang::ZhCn) => {
                format!("暂不支持绑定{}发行的卡", self.subject_zh)
            }
            (NotSupportedReason::Country, Lang::En) => {
                format!("Cards issued in {} can't be added", self.subject_en)
            }
            (NotSupportedReason::Issuer, Lang::ZhCn) => {
                format!("{}的卡暂不支持绑定", self.subject_zh)
            }
            (NotSupportedReason::Issuer, Lang::En) => {
                format!("Cards from {} can't be added yet", self.subject_en)
            }
        }
    }
}

/// Why an issuer declined, machine-readable (`decline_code` in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeclineCode {
    DoNotHonor,
    LostCard,
    StolenCard,
    InsufficientFunds,
    ExceedsLimit,
}

impl DeclineCode {
    pub fn all() -> [DeclineCode; 5] {
        [
            DeclineCode::DoNotHonor,
            DeclineCode::LostCard,
            DeclineCode::StolenCard,
            DeclineCode::InsufficientFunds,
            DeclineCode::ExceedsLimit,
        ]
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeclineCode::DoNotHonor => "do_not_honor",
            DeclineCode::LostCard => "lost_card",
            DeclineCode::StolenCard => "stolen_card",
            DeclineCode::InsufficientFunds => "insufficient_funds",
            DeclineCode::ExceedsLimit => "exceeds_limit",
        }
    }

    pub fn parse(code: &str) -> Option<DeclineCode> {
        DeclineCode::all().into_iter().find(|c| c.as_str() == code)
    }

    pub fn message(self) -> Text {
        match self {
            DeclineCode::DoNotHonor => t(
                "发卡行拒绝了这张卡,未说明原因",
                "Your bank declined this card without giving a reason",
            ),
            DeclineCode::LostCard => t(
                "发卡行提示这张卡已挂失",
                "Your bank says this card was reported lost",
            ),
            DeclineCode::StolenCard => t(
                "发卡行提示这张卡已被报告被盗",
                "Your bank says this card was reported stolen",
            ),
            DeclineCode::InsufficientFunds => t("卡内余额不足", "The card has insufficient funds"),
            DeclineCode::ExceedsLimit => t(
                "超出这张卡的交易限额",
                "This payment exceeds the card's limit",
            ),
        }
    }

    pub fn remedy(self) -> Text {
        match self {
            DeclineCode::DoNotHonor => t(
                "卡片可能被冻结、未激活或被银行风控拦截,请致电发卡行确认卡片状态,或换一张卡",
                "The card may be frozen, not yet activated or blocked by the bank's fraud checks: call your bank to check the card, or use another card",
            ),
            DeclineCode::LostCard | DeclineCode::StolenCard => t(
                "请联系发卡行补办新卡后绑定新卡",
                "Contact your bank for a replacement card and add the new one",
            ),
            DeclineCode::InsufficientFunds => t(
                "请存入足够的资金,或换一张卡支付",
                "Add funds to the account, or pay with another card",
            ),
            DeclineCode::ExceedsLimit => t(
                "请减少金额,或联系发卡行调整限额,或换一张卡",
                "Lower the amount, ask your bank to raise the limit, or use another card",
            ),
        }
    }
}

/// An error from the domain, with the detail the API shows inside the error
/// object. It never holds a PAN, CVC, OTP, password or key: only codes,
/// field names and counters.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainError {
    pub code: ErrorCode,
    /// The request field at fault, when one is.
    pub param: Option<Cow<'static, str>>,
    pub not_supported: Option<Box<NotSupported>>,
    pub decline_code: Option<DeclineCode>,
    pub attempts_left: Option<u32>,
    pub locked_until: Option<DateTime<Utc>>,
    /// Seconds; u32 keeps the error small (clippy's large-error bound).
    pub retry_after_secs: Option<u32>,
    /// Who suspended a token (issuer, wallet, cardholder, risk).
    pub suspended_by: Vec<String>,
    /// A text written by an operator (a maintenance notice), in both languages,
    /// shown in place of the catalogue's message.
    pub notice: Option<Box<(String, String)>>,
    /// The payment a decline was recorded as, so a merchant and support can
    /// find it (`pay_...`).
    pub payment_id: Option<Box<str>>,
}

impl DomainError {
    pub fn new(code: ErrorCode) -> Self {
        DomainError {
            code,
            param: None,
            not_supported: None,
            decline_code: None,
            attempts_left: None,
            locked_until: None,
            retry_after_secs: None,
            suspended_by: Vec::new(),
            notice: None,
            payment_id: None,
        }
    }

    pub fn with_param(mut self, param: impl Into<Cow<'static, str>>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn not_supported(not_supported: NotSupported) -> Self {
        let mut error = DomainError::new(ErrorCode::CardNotSupported).with_param("number");
        error.not_supported = Some(Box::new(not_supported));
        error
    }

    pub fn declined(decline_code: DeclineCode) -> Self {
        let mut error = DomainError::new(ErrorCode::CardDeclined);
        error.decline_code = Some(decline_code);
        error
    }

    pub fn with_attempts_left(mut self, attempts_left: u32) -> Self {
        self.attempts_left = Some(attempts_left);
        self
    }

    pub fn with_locked_until(mut self, locked_until: DateTime<Utc>) -> Self {
        self.locked_until = Some(locked_until);
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(u32::try_from(seconds).unwrap_or(u32::MAX));
        self
    }

    pub fn with_notice(mut self, zh: impl Into<String>, en: impl Into<String>) -> Self {
        self.notice = Some(Box::new((zh.into(), en.into())));
        self
    }

    pub fn with_suspenders(mut self, suspended_by: Vec<String>) -> Self {
        self.suspended_by = suspended_by;
        self
    }

    pub fn with_payment_id(mut self, payment_id: impl Into<String>) -> Self {
        self.payment_id = Some(payment_id.into().into_boxed_str());
        self
    }

    pub fn entry(&self) -> &'static CatalogEntry {
        self.code.entry()
    }

    /// The message for this error, made specific where the detail allows.
    pub fn message(&self, lang: Lang) -> String {
        if let Some(notice) = &self.notice {
            let (zh, en) = notice.as_ref();
            let notice = match lang {
                Lang::ZhCn => zh,
                Lang::En => en,
            };
            if !notice.trim().is_empty() {
                return notice.clone();
            }
        }
        if let Some(not_supported) = &self.not_supported {
            return not_supported.message(lang);
        }
        if let Some(decline) = self.decline_code {
            return decline.message().get(lang).to_owned();
        }
        if let Some((message, _)) = suspension_text(&self.suspended_by, lang) {
            return message.to_owned();
        }
        let base = self.code.entry().message.get(lang);
        match (self.attempts_left, lang) {
            (Some(left), Lang::ZhCn) => format!("{base},还可尝试{left}次"),
            (Some(1), Lang::En) => format!("{base}: 1 attempt left"),
            (Some(left), Lang::En) => format!("{base}: {left} attempts left"),
            (None, _) => base.to_owned(),
        }
    }

    /// What the person can do, made specific where the detail allows.
    pub fn remedy(&self, lang: Lang) -> String {
        if let Some(decline) = self.decline_code {
            return decline.remedy().get(lang).to_owned();
        }
        if let Some((_, remedy)) = suspension_text(&self.suspended_by, lang) {
            return remedy.to_owned();
        }
        self.code.entry().remedy.get(lang).to_owned()
    }
}

impl From<ErrorCode> for DomainError {
    fn from(code: ErrorCode) -> Self {
        DomainError::new(code)
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message(Lang::En))?;
        if let Some(param) = &self.param {
            write!(f, " (param {param})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DomainError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_han(text: &str) -> bool {
        text.chars().any(|c| {
            ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
        })
    }

    #[test]
    fn catalogue_is_in_enum_order_and_complete() {
        for (index, entry) in CATALOGUE.iter().enumerate() {
            assert_eq!(entry.code as usize, index, "{} is out of order", entry.code);
        }
        let mut codes: Vec<&str> = ErrorCode::all().map(ErrorCode::as_str).collect();
        let count = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), count, "two codes share a name");
    }

    #[test]
    fn every_code_has_both_languages_and_a_remedy() {
        for entry in &CATALOGUE {
            for text in [entry.message, entry.remedy] {
                assert!(!text.zh.trim().is_empty(), "{} lacks zh", entry.code);
                assert!(!text.en.trim().is_empty(), "{} lacks en", entry.code);
                assert!(
                    has_han(text.zh),
                    "{} zh text has no Chinese: {}",
                    entry.code,
                    text.zh
                );
                assert!(
                    !has_han(text.en),
                    "{} en text has Chinese: {}",
                    entry.code,
                    text.en
                );
                assert!(
                    !text.en.contains('，') && !text.en.contains('：'),
                    "{} en text has full-width punctuation",
                    entry.code
                );
            }
        }
        for decline in DeclineCode::all() {
            for text in [decline.message(), decline.remedy()] {
                assert!(
                    has_han(text.zh) && !has_han(text.en),
                    "{}",
                    decline.as_str()
                );
            }
        }
    }

    #[test]
    fn codes_round_trip_through_their_names() {
        for code in ErrorCode::all() {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }

    #[test]
    fn statuses_follow_the_design() {
        assert_eq!(ErrorCode::CardDeclined.http_status(), 402);
        assert_eq!(ErrorCode::CardAlreadyBound.http_status(), 409);
        assert_eq!(ErrorCode::InvalidRequest.http_status(), 400);
        assert_eq!(ErrorCode::Maintenance.http_status(), 503);
        assert!(ErrorCode::IssuerUnavailable.retryable());
        assert!(!ErrorCode::IncorrectNumber.retryable());
        for code in ErrorCode::all() {
            let status = code.http_status();
            assert!((400..600).contains(&status), "{code}: {status}");
        }
    }

    #[test]
    fn not_supported_message_names_the_reason() {
        let error = DomainError::not_supported(NotSupported {
            reason: NotSupportedReason::CardType,
            subject_zh: "预付费卡".into(),
            subject_en: "Prepaid cards".into(),
        });
        assert_eq!(error.message(Lang::ZhCn), "预付费卡暂不支持绑定");
        assert_eq!(error.message(Lang::En), "Prepaid cards can't be added");
        assert_eq!(error.param.as_deref(), Some("number"));
    }

    #[test]
    fn attempts_left_is_spoken() {
        let error = DomainError::new(ErrorCode::OtpIncorrect).with_attempts_left(2);
        assert!(error.message(Lang::ZhCn).contains("还可尝试2次"));
        assert!(error.message(Lang::En).ends_with("2 attempts left"));
    }

    #[test]
    fn accept_language_picks_by_quality() {
        assert_eq!(Lang::from_accept_language(None), Lang::ZhCn);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("fr, en;q=0.5, zh-CN;q=0.8")),
            Lang::ZhCn
        );
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::ZhCn);
    }
}
