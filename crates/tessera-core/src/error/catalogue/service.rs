//! The catalogue's rows for payments, the API and accounts: from
//! `idempotency_conflict` to `weak_password`.

use crate::error::lang::t;
use crate::error::{CatalogEntry, Cause as C, ErrorCode as E, ErrorType as T};

pub(super) const ROWS: [CatalogEntry; 24] = [
    CatalogEntry {
        code: E::IdempotencyConflict,
        code_str: "idempotency_conflict",
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
        why: t(
            "应用重试时使用了相同的幂等键,但请求内容与第一次不同;钱包不会猜测哪一个才是本意",
            "The app reused an Idempotency-Key with a different request body; the wallet refuses rather than guess which one was meant",
        ),
    },
    CatalogEntry {
        code: E::RequestInProgress,
        code_str: "request_in_progress",
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
        why: t(
            "同一请求的第一次提交还在处理中,常见于网络不稳定时应用自动重试,或按钮被连续点击",
            "The first submission of the same request is still being processed, which is common when an app retries on an unstable network or a button is tapped twice",
        ),
    },
    CatalogEntry {
        code: E::PaymentPasswordIncorrect,
        code_str: "payment_password_incorrect",
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 403,
        retryable: false,
        message: t("支付密码不正确", "The payment password is incorrect"),
        remedy: t(
            "请重新输入支付密码;多次输错将暂时锁定",
            "Enter your payment password again; too many mistakes lock it for a while",
        ),
        why: t(
            "输入的支付密码与设置的不一致",
            "The payment password entered does not match the one that was set",
        ),
    },
    CatalogEntry {
        code: E::PaymentPasswordLocked,
        code_str: "payment_password_locked",
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 429,
        retryable: false,
        message: t("支付密码已被锁定", "Your payment password is locked"),
        remedy: t(
            "支付密码输错次数过多,请在锁定解除后再试,或通过身份验证重置支付密码",
            "It was entered wrongly too many times: try again once the lock ends, or reset it after verifying your identity",
        ),
        why: t(
            "支付密码连续输错次数过多,为防止他人猜测已被暂时锁定",
            "The payment password was entered wrongly too many times, so it is locked for a while to stop anyone guessing it",
        ),
    },
    CatalogEntry {
        code: E::TokenSuspended,
        code_str: "token_suspended",
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t("此卡已被暂停使用", "This card is suspended"),
        remedy: t(
            "请查看卡片详情中的暂停原因;由发卡行暂停的请联系发卡行,由你本人暂停的可在钱包中恢复",
            "See the card's details for who suspended it: if your bank did, contact your bank; if you did, resume it in the wallet",
        ),
        why: t(
            "这张卡在钱包中的支付凭证被暂停了,暂停方可能是发卡行(如挂失)、钱包的风控或你本人;所有暂停方都恢复后才能继续支付",
            "The card's payment token is suspended, by your bank (after a loss report, for example), by the wallet's risk checks or by you; it pays again only when every party that suspended it has resumed it",
        ),
    },
    CatalogEntry {
        code: E::CardUnbound,
        code_str: "card_unbound",
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
        why: t(
            "这张卡已从钱包解绑:支付凭证已删除,加密保存的卡号也已销毁",
            "The card was removed from the wallet: its payment token was deleted and its encrypted card number destroyed",
        ),
    },
    CatalogEntry {
        code: E::TokenExpired,
        code_str: "token_expired",
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
        why: t(
            "钱包里的支付凭证有自己的有效期;卡片到期或银行换发新卡后,旧凭证不再可用",
            "A payment token has its own expiry; when the card expires or the bank replaces it, the old token stops working",
        ),
    },
    CatalogEntry {
        code: E::CryptogramInvalid,
        code_str: "cryptogram_invalid",
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t("支付校验未通过", "The payment could not be verified"),
        remedy: t(
            "请重新发起支付;若反复出现,请更新钱包应用后再试",
            "Start the payment again; if it keeps happening, update the wallet app and try again",
        ),
        why: t(
            "每笔支付都带有一次性的动态密码,这次校验没有通过,通常是应用版本过旧或设备上的支付密钥需要更新",
            "Every payment carries a one-time cryptogram and this one did not verify, usually because the app is out of date or the keys on the device need refreshing",
        ),
    },
    CatalogEntry {
        code: E::AtcReplayed,
        code_str: "atc_replayed",
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
        why: t(
            "每笔支付的动态密码只能使用一次;收到了已用过的密码,可能是重复提交,也可能是有人试图重放",
            "Each payment's one-time code can be used once; one that was already used arrived again, either a repeated submission or an attempt to replay it",
        ),
    },
    CatalogEntry {
        code: E::DomainMismatch,
        code_str: "domain_mismatch",
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
        why: t(
            "支付凭证只能在绑定它的设备、应用或商户中使用,这笔支付来自别处",
            "A payment token works only on the device, app or merchant it was issued for, and this payment came from somewhere else",
        ),
    },
    CatalogEntry {
        code: E::RiskDeclined,
        code_str: "risk_declined",
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
        why: t(
            "钱包的风控规则认为这笔支付异常,例如金额、地点或频率与平时差别很大",
            "The wallet's risk rules found this payment unusual, for example in its amount, place or frequency",
        ),
    },
    CatalogEntry {
        code: E::InternalError,
        code_str: "internal_error",
        error_type: T::ApiError,
        cause: C::System,
        http_status: 500,
        retryable: true,
        message: t("系统出现异常", "Something went wrong on our side"),
        remedy: t(
            "请稍后重试;如仍失败,请联系客服并提供追踪编号",
            "Try again later; if it still fails, contact support with the trace id",
        ),
        why: t(
            "钱包自身出现了意外错误,与你输入的信息无关;追踪编号能帮助客服在日志中找到原因",
            "Something unexpected failed inside the wallet, unrelated to what you entered; the trace id lets support find it in the logs",
        ),
    },
    CatalogEntry {
        code: E::InvalidRequest,
        code_str: "invalid_request",
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 400,
        retryable: false,
        message: t("请求格式不正确", "The request is malformed"),
        remedy: t(
            "请检查请求的JSON格式和字段类型(见 param 指出的字段)",
            "Check the request's JSON and field types (see the field named in param)",
        ),
        why: t(
            "请求不是有效的JSON,或某个字段的类型不对,通常是应用或对接代码的问题",
            "The request is not valid JSON or a field has the wrong type, usually a problem in the app or the integration code",
        ),
    },
    CatalogEntry {
        code: E::Unauthenticated,
        code_str: "unauthenticated",
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 401,
        retryable: false,
        message: t("需要登录", "You need to sign in"),
        remedy: t("请重新登录后再试", "Sign in again and retry"),
        why: t(
            "请求没有携带有效的登录凭证,或登录已过期",
            "The request carried no valid sign-in, or the session has expired",
        ),
    },
    CatalogEntry {
        code: E::Forbidden,
        code_str: "forbidden",
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 403,
        retryable: false,
        message: t("没有权限进行此操作", "You are not allowed to do this"),
        remedy: t(
            "请使用具有相应权限的账号或密钥",
            "Use an account or key that has this permission",
        ),
        why: t(
            "当前账号或密钥没有执行这项操作的权限",
            "The account or key in use does not have this permission",
        ),
    },
    CatalogEntry {
        code: E::NotFound,
        code_str: "not_found",
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 404,
        retryable: false,
        message: t("找不到请求的内容", "Nothing was found at this address"),
        remedy: t("请检查地址和编号是否正确", "Check the address and the id"),
        why: t(
            "地址或编号不存在,或者属于其他用户",
            "The address or id does not exist, or belongs to someone else",
        ),
    },
    CatalogEntry {
        code: E::MethodNotAllowed,
        code_str: "method_not_allowed",
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
        why: t(
            "这个地址存在,但不接受这种请求方法",
            "The address exists but does not accept this method",
        ),
    },
    CatalogEntry {
        code: E::PayloadTooLarge,
        code_str: "payload_too_large",
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 413,
        retryable: false,
        message: t("请求内容过大", "The request body is too large"),
        remedy: t(
            "请只发送接口需要的字段",
            "Send only the fields the endpoint needs",
        ),
        why: t(
            "请求内容超过了服务允许的大小",
            "The request body is larger than the service accepts",
        ),
    },
    CatalogEntry {
        code: E::RateLimited,
        code_str: "rate_limited",
        error_type: T::RateLimitError,
        cause: C::Security,
        http_status: 429,
        retryable: true,
        message: t("请求过于频繁", "Too many requests"),
        remedy: t(
            "请在提示的等待时间过后再试",
            "Wait as long as the answer says, then try again",
        ),
        why: t(
            "短时间内请求过多,为保护服务暂时限制",
            "Too many requests arrived in a short time, so they are limited to protect the service",
        ),
    },
    CatalogEntry {
        code: E::DatabaseUnavailable,
        code_str: "database_unavailable",
        error_type: T::ApiError,
        cause: C::System,
        http_status: 503,
        retryable: true,
        message: t("服务暂时不可用", "The service is temporarily unavailable"),
        remedy: t(
            "这不是你的问题,请稍后重试;重试不会重复操作",
            "This is not your fault: try again shortly. Retrying never does anything twice",
        ),
        why: t(
            "钱包的数据库暂时无法访问,通常很快恢复;不会有任何操作被执行两次",
            "The wallet's database is briefly unreachable, usually only for moments; nothing is ever done twice",
        ),
    },
    CatalogEntry {
        code: E::InvalidPhone,
        code_str: "invalid_phone",
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("手机号格式不对", "That phone number isn't valid"),
        remedy: t(
            "请输入11位中国大陆手机号,例如 13800138000",
            "Enter an 11-digit mainland China mobile number, for example 13800138000",
        ),
        why: t(
            "手机号需要是11位中国大陆手机号,非大陆号码暂不支持",
            "A phone number must be an 11-digit mainland China mobile number; other numbers are not supported yet",
        ),
    },
    CatalogEntry {
        code: E::InvalidIdNumber,
        code_str: "invalid_id_number",
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("身份证号码有误", "That ID number isn't valid"),
        remedy: t(
            "请输入18位居民身份证号码,最后一位可能是X;若银行仍登记旧的15位号码,请到银行柜台更新",
            "Enter the 18-character resident ID number (the last may be X); if your bank still has an old 15-digit number, update it at a branch",
        ),
        why: t(
            "身份证号码的位数、出生日期或最后一位校验码不对;目前只支持18位居民身份证",
            "The ID number has the wrong length, birth date or check character; only 18-character resident ID numbers are supported",
        ),
    },
    CatalogEntry {
        code: E::PhoneTaken,
        code_str: "phone_taken",
        error_type: T::InvalidRequestError,
        cause: C::Account,
        http_status: 409,
        retryable: false,
        message: t("该手机号已注册", "This phone number is already registered"),
        remedy: t(
            "请直接登录;如忘记密码,请找回密码",
            "Sign in instead; if you forgot the password, reset it",
        ),
        why: t(
            "每个手机号只能注册一个钱包账号",
            "Each phone number can register one wallet account",
        ),
    },
    CatalogEntry {
        code: E::WeakPassword,
        code_str: "weak_password",
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("密码强度不够", "That password is too weak"),
        remedy: t(
            "请使用至少8位、同时包含字母和数字的密码",
            "Use at least 8 characters with both letters and digits",
        ),
        why: t(
            "过短、只有字母或只有数字的密码容易被猜到",
            "Short passwords, or ones with only letters or only digits, are easy to guess",
        ),
    },
];
