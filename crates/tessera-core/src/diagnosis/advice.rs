//! The advice: the next step for the person and for support, chosen from the
//! verdict and the particulars of the decisive attempt.

use super::facts::refused_subject;
use super::facts::{ISSUER_TIMEOUT, PHONE_OF_ACCOUNT, PHONE_TYPED};
use super::payment_advice;
use super::story::seconds;
use super::{AttemptFacts, Audience, Bilingual, Circumstances, VerdictKind, no_attempts};
use crate::error::{DeclineCode, ErrorCode, NotSupportedReason};

/// The next steps, chosen from the verdict and the particulars of the
/// decisive attempt.
pub(super) struct Advice<'a> {
    pub(super) focused: &'a AttemptFacts,
    pub(super) verdict: VerdictKind,
    pub(super) failures: usize,
    pub(super) audience: Audience,
    pub(super) circumstances: &'a Circumstances,
}

impl Advice<'_> {
    fn bank(&self) -> Bilingual {
        self.focused.card.bank()
    }

    fn in_incident(&self) -> bool {
        self.focused.held_back()
            || self
                .focused
                .card
                .issuer_code
                .as_deref()
                .is_some_and(|code| {
                    self.circumstances
                        .issuers_in_incident
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(code))
                })
    }

    fn retry_when(&self) -> Bilingual {
        match &self.circumstances.retry_at_local {
            Some(at) => {
                Bilingual::new(format!("请在{at}之后重试"), format!("Try again after {at}"))
            }
            None => Bilingual::new("请过几分钟再试", "Try again in a few minutes"),
        }
    }

    pub(super) fn for_person(&self) -> Bilingual {
        let mut advice = self.person_step();
        let repeated = self.failures >= 3
            && !matches!(
                self.verdict,
                VerdictKind::SecurityLock
                    | VerdictKind::NetworkOrIssuer
                    | VerdictKind::SystemOrMaintenance
                    | VerdictKind::Bound
                    | VerdictKind::Duplicate
                    | VerdictKind::CardLimit
            );
        if repeated {
            advice = advice.then(&Bilingual::new(
                "已经连续失败多次：如果仍不成功，请先停一停，不要反复尝试。每张卡在任意24小时内联系银行绑卡的次数有限，用完后要等到最早的一次满24小时才能再试。",
                "There have been several failures in a row: if it still fails, stop for a while rather than keep trying. Each card may ask the bank to bind only so many times in any 24 hours; once they are used up, the next try waits until the earliest is 24 hours old.",
            ));
        }
        advice
    }

    fn person_step(&self) -> Bilingual {
        use ErrorCode as E;
        let code = self.focused.code();
        let bank = self.bank();
        match self.verdict {
            VerdictKind::NoAttempts => no_attempts(self.audience).next_step_person,
            VerdictKind::Bound => Bilingual::new(
                "无需操作：这张卡已在钱包中，可以使用。",
                "Nothing to do: the card is in the wallet and ready to use.",
            ),
            VerdictKind::AwaitingSmsCode => Bilingual::new(
                "请输入银行发送到预留手机号的6位验证码，在短信写明的有效期内输入；信号不好时短信可能晚到，稍等片刻仍没收到，可以点“重新获取”。如果一直收不到，银行预留的可能是另一个号码，请致电银行确认。",
                "Enter the 6-digit code your bank sent to the phone number it has on file, within the time its text message states. On a weak signal the text may come late: if it has not come after a little while, ask for a new one. If none ever arrives, the bank may have another number on file: call the bank to check.",
            ),
            VerdictKind::InputMistake => self.input_step(code),
            VerdictKind::CardNotSupported => self.not_supported_step(),
            VerdictKind::DeclinedByIssuer => {
                let decline = self.focused.reason.as_deref().and_then(DeclineCode::parse);
                match decline {
                    Some(DeclineCode::LostCard | DeclineCode::StolenCard) => Bilingual::new(
                        format!(
                            "{}登记这张卡已挂失或被盗：请联系银行补办新卡，然后绑定新卡。",
                            bank.zh
                        ),
                        format!(
                            "{} has this card down as lost or stolen: ask the bank for a replacement card, then add the new one.",
                            bank.en
                        ),
                    ),
                    // Each other code has its own advice (funds, limits,
                    // online payments off, a replaced card).
                    Some(other) if other != DeclineCode::DoNotHonor => {
                        Bilingual::from_text(other.remedy())
                    }
                    _ => Bilingual::new(
                        format!(
                            "请拨打卡背面的电话联系{}：卡片可能被冻结、尚未激活（首张网申信用卡可能还需面签）、额度已用完，或被银行风控拦截。也可以换一张卡。",
                            bank.zh
                        ),
                        format!(
                            "Call {} on the number on the back of the card: the card may be frozen, not yet activated (a first credit card applied for online may need signing for in person), out of credit, or stopped by the bank's fraud checks. Or use another card.",
                            bank.en
                        ),
                    ),
                }
            }
            VerdictKind::PhoneOnFile => Bilingual::new(
                "请填写开户时在银行预留的手机号。如果不确定或已经换号，请致电银行或到柜台查询并更正预留手机号；新号码通常约一天后才会在银行系统生效，请第二天再试。单位统一办理的工资卡常登记了同一个号码，也需要到银行修改。",
                "Enter the phone number you gave the bank when you opened the account. If you are not sure, or it has changed, call the bank or visit a branch to check and correct the number on file; a new number usually takes about a day to reach the bank's systems, so try again the next day. Payroll cards opened by an employer often carry one shared number, which the bank must change too.",
            ),
            VerdictKind::RealName => Bilingual::new(
                "只能绑定本人名下的卡：请检查持卡人姓名是否有错别字（信用卡还会核对姓名拼音），或使用本人的卡。",
                "Only cards in your own name can be added: check the cardholder name for typos (credit cards also check the pinyin of the name), or use a card in your own name.",
            ),
            VerdictKind::CardLimit => Bilingual::new(
                "请先在“我的-银行卡”中解绑一张不常用的卡（等待验证的卡也计入数量），再绑定新卡。",
                "Remove a card you no longer use (Me > Cards > Remove; cards waiting for a code count too), then add the new one.",
            ),
            VerdictKind::Duplicate => Bilingual::new(
                "无需重复绑定：这张卡已经在你的银行卡列表中。",
                "Nothing to do: the card is already in your list of cards.",
            ),
            VerdictKind::SecurityLock => Bilingual::new(
                "为保护资金安全，尝试已暂停：如果是验证码输错次数过多，请重新添加这张卡以获取新的验证码；如果是绑卡或短信次数达到上限，请在回复给出的时间之后再试。请不要把短信验证码告诉任何人。",
                "For your safety, attempts are paused: if the code was entered wrongly too many times, add the card again to get a new code; if a limit on binding attempts or text messages was reached, try again after the time the answer gave. Never share SMS codes with anyone.",
            ),
            VerdictKind::NetworkOrIssuer => {
                if code == Some(E::RequestInProgress) {
                    return Bilingual::new(
                        "第一次提交还在处理中：请等待结果，不要重复提交。",
                        "The first submission is still being processed: wait for its answer instead of submitting again.",
                    );
                }
                let when = self.retry_when();
                if self.in_incident() {
                    Bilingual::new(
                        format!(
                            "这不是你的问题：{}目前对所有用户都没有应答。{}；重试不会重复绑卡。",
                            bank.zh, when.zh
                        ),
                        format!(
                            "This is not your fault: {} is not answering anyone right now. {}; retrying never adds the card twice.",
                            bank.en, when.en
                        ),
                    )
                } else if self.focused.device.weak_network()
                    && self.focused.issuer_response.is_none()
                {
                    // Only when no answer of the bank is on record: one that
                    // answered (or timed out) was reached, whatever the
                    // phone's signal.
                    Bilingual::new(
                        format!(
                            "你的手机当时使用{}网络：请换到信号更好的Wi-Fi或移动网络后重试；重试不会重复绑卡。",
                            self.focused.device.network_type.as_deref().unwrap_or("")
                        ),
                        format!(
                            "Your phone was on {}: move to a stronger Wi-Fi or mobile signal and try again; retrying never adds the card twice.",
                            self.focused
                                .device
                                .network_type
                                .as_deref()
                                .unwrap_or("a weak network")
                        ),
                    )
                } else {
                    Bilingual::new(
                        format!(
                            "这不是你的问题：{}暂时没有应答。{}，如网络不稳定请先切换网络；重试不会重复绑卡。",
                            bank.zh, when.zh
                        ),
                        format!(
                            "This is not your fault: {} did not answer. {}, on a steady network if you can; retrying never adds the card twice.",
                            bank.en, when.en
                        ),
                    )
                }
            }
            VerdictKind::SystemOrMaintenance => {
                if code == Some(E::Maintenance) {
                    let when = self.retry_when();
                    Bilingual::new(
                        format!("绑卡功能正在维护：{}；已绑定的卡不受影响。", when.zh),
                        format!(
                            "Adding cards is paused for maintenance. {}; cards already added are not affected.",
                            when.en
                        ),
                    )
                } else {
                    Bilingual::new(
                        "这是钱包自身的问题，不是你的错：请稍后重试。客服可以凭错误提示下方的编号查到这次失败。",
                        "This was a problem on our side, not yours: try again later. Support can find this failure by the reference shown with the error.",
                    )
                }
            }
            VerdictKind::AccountState => code.map_or_else(Bilingual::default, |code| {
                Bilingual::from_text(code.entry().remedy)
            }),
            // A payment's verdicts, when a binding step answers one of their
            // codes: the payment's own advice, without a payment's record.
            VerdictKind::Approved
            | VerdictKind::PaymentPending
            | VerdictKind::TokenSuspended
            | VerdictKind::CardUnbound
            | VerdictKind::TokenExpired
            | VerdictKind::CardReissued
            | VerdictKind::CryptogramInvalid
            | VerdictKind::AtcReplayed
            | VerdictKind::DomainMismatch
            | VerdictKind::RiskDeclined
            | VerdictKind::ConfirmationRequired
            | VerdictKind::AccountFrozen => payment_advice::for_code(self.verdict, code, &bank).0,
        }
    }

    fn input_step(&self, code: Option<ErrorCode>) -> Bilingual {
        use ErrorCode as E;
        let field = self.focused.param.as_deref().unwrap_or("");
        match (code, field) {
            (Some(E::InvalidNumber | E::IncorrectNumber), _) | (_, "number") => Bilingual::new(
                "请对照银行卡正面逐位核对卡号后重新输入，注意不要漏输、多输或颠倒相邻数字。",
                "Check the card number digit by digit against the front of the card and type it again; watch for a missing, extra or swapped digit.",
            ),
            (Some(E::InvalidExpiryMonth | E::InvalidExpiryYear | E::ExpiredCard), _) => {
                Bilingual::new(
                    "请核对卡面上的有效期（月/年）；如果卡确已过期，请向银行申领新卡并绑定新卡。",
                    "Check the expiry date (month/year) printed on the card; if the card really has expired, ask the bank for the new card and add that one.",
                )
            }
            (Some(E::InvalidCvc | E::IncorrectCvc), _) => Bilingual::new(
                "请核对卡背面签名栏旁的3位安全码；多次输错可能导致银行暂时锁定这张卡。",
                "Check the 3-digit security code next to the signature on the back of the card; repeated mistakes can make the bank lock the card for a while.",
            ),
            (Some(E::InvalidHolderName), _) => Bilingual::new(
                "请填写与银行预留一致的姓名：中文姓名，或卡面上的拼音/英文姓名。",
                "Enter the name your bank has on file: your Chinese name, or the Latin name printed on the card.",
            ),
            (Some(E::OtpIncorrect), _) => {
                let left = self.focused.otp_attempts_left();
                let (left_zh, left_en) = match left {
                    Some(n) => (
                        format!("这张卡的验证码还能再输{n}次，"),
                        format!(" This code can be tried {n} more times;"),
                    ),
                    None => (
                        "验证码能输错的次数有限，".to_owned(),
                        " A code can be tried only a few times;".to_owned(),
                    ),
                };
                Bilingual::new(
                    format!(
                        "短信验证码不对：请查看银行发来的最新一条短信，输入其中的6位验证码（点过“重新获取”后，旧短信里的验证码就失效了）。{left_zh}次数用完后需要重新添加这张卡。收不到短信时可以点“重新获取”。"
                    ),
                    format!(
                        "The SMS code was wrong: enter the 6-digit code from the bank's newest text message (asking for a new code makes the older ones void).{left_en} once they are used up, the card has to be added again. If no text comes, ask for a new code."
                    ),
                )
            }
            (Some(E::OtpExpired), _) | (_, "otp") => Bilingual::new(
                "请输入银行最新一条短信中的6位验证码，在短信写明的有效期内输入；验证码过期时，请点“重新获取”，如果这张卡已不在钱包里，请重新添加。",
                "Enter the 6-digit code from the bank's newest text message within the time it states; if it has expired, ask for a new code, or add the card again if it has left the wallet.",
            ),
            (Some(code), _) => Bilingual::from_text(code.entry().remedy),
            (None, _) => Bilingual::default(),
        }
    }

    fn not_supported_step(&self) -> Bilingual {
        let reason = self
            .focused
            .reason
            .as_deref()
            .and_then(NotSupportedReason::parse)
            .unwrap_or(NotSupportedReason::UnknownBin);
        let subject = refused_subject(reason, &self.focused.card);
        match reason {
            NotSupportedReason::UnknownBin => Bilingual::new(
                "无法从卡号前几位识别发卡行：请先核对卡号；如果卡号无误，请换一张主流银行发行的借记卡或信用卡。",
                "The bank could not be recognised from the first digits: check the number first; if it is right, use a debit or credit card from a major bank.",
            ),
            NotSupportedReason::CardType => Bilingual::new(
                format!(
                    "{}暂不支持绑定：请换一张本人名下的借记卡或信用卡。",
                    subject.zh
                ),
                format!(
                    "{} can't be added: use a debit or credit card in your own name.",
                    subject.en
                ),
            ),
            NotSupportedReason::Brand => Bilingual::new(
                format!(
                    "{}暂不支持绑定：请换一张其他卡组织（如银联）的卡。",
                    subject.zh
                ),
                format!(
                    "{} can't be added: use a card of another brand, such as UnionPay.",
                    subject.en
                ),
            ),
            NotSupportedReason::Country => Bilingual::new(
                format!(
                    "暂不支持{}发行的卡：请换一张中国大陆银行发行的卡。",
                    subject.zh
                ),
                format!(
                    "Cards issued in {} can't be added: use a card from a bank in mainland China.",
                    subject.en
                ),
            ),
            NotSupportedReason::Issuer => Bilingual::new(
                format!(
                    "{}的这张卡暂不能绑定：许多银行只允许一类账户绑定第三方支付，二类、三类账户会被拒绝。请向银行确认账户类别，或换一张一类账户的借记卡。",
                    subject.zh
                ),
                format!(
                    "This card from {} can't be added. Many banks let only Class I accounts bind to third-party payment and refuse Class II and III accounts: ask the bank which class this account is, or use a Class I debit card.",
                    subject.en
                ),
            ),
            NotSupportedReason::AccountClass => Bilingual::new(
                format!(
                    "发卡行说这张卡属于{}：只有一类账户的卡可以绑定。请换一张一类账户的借记卡，或请银行把这个账户升级为一类账户。",
                    subject.zh
                ),
                format!(
                    "The bank says this card belongs to a {}: only Class I accounts can be added. Use a Class I debit card, or ask the bank to upgrade the account to Class I.",
                    subject.en
                ),
            ),
        }
    }

    pub(super) fn for_support(&self) -> Bilingual {
        use ErrorCode as E;
        let code = self.focused.code();
        let bank = self.bank();
        let card = self.focused.card.masked_pan.clone().unwrap_or_default();
        let bin: String = card.chars().take(6).collect();
        let bin = if bin.is_empty() {
            Bilingual::new("未记录", "not recorded")
        } else {
            Bilingual::new(bin.clone(), bin)
        };
        let trace = &self.focused.trace_id;
        match self.verdict {
            VerdictKind::NoAttempts => no_attempts(self.audience).next_step_support,
            VerdictKind::Bound => Bilingual::new(
                "最终已绑定成功；之前的失败见上文，无需处理。",
                "The card was bound in the end; the earlier failures are told above and need nothing.",
            ),
            VerdictKind::AwaitingSmsCode => Bilingual::new(
                "银行要求短信验证，验证码已发送到银行预留的手机号。若用户说没有收到，多半是银行预留了另一个号码：请用户联系银行核实。",
                "The bank stepped up to an SMS code, sent to the phone it has on file. If the person says none arrived, the bank most likely has another number on file: ask them to check with the bank.",
            ),
            VerdictKind::InputMistake => self.input_support(code, &card),
            VerdictKind::CardNotSupported => Bilingual::new(
                format!(
                    "支持规则按“{}”拒绝了这张卡（卡号段 {}：卡组织、卡种、地区、发卡行见证据）。如果钱包应当接受这类卡，请调整支持规则或BIN表；否则无需处理。",
                    self.focused.reason.as_deref().unwrap_or("unknown_bin"),
                    bin.zh
                ),
                format!(
                    "The support policy refused the card by {} (BIN {}: see the brand, type, country and issuer in the evidence). If the wallet should accept such cards, change the policy or the BIN table; otherwise nothing to do.",
                    self.focused.reason.as_deref().unwrap_or("unknown_bin"),
                    bin.en
                ),
            ),
            VerdictKind::DeclinedByIssuer => Bilingual::new(
                format!(
                    "{}拒绝了这张卡（decline_code {}）。只有银行能说明具体原因，钱包无法代为解除：请用户拨打卡背面的银行电话。若为挂失或被盗，请勿协助绑定。",
                    bank.zh,
                    self.focused.reason.as_deref().unwrap_or("do_not_honor")
                ),
                format!(
                    "{} declined the card (decline_code {}). Only the bank can say why and the wallet cannot lift it: ask the person to call the number on the back of the card. If it is reported lost or stolen, do not help bind it.",
                    bank.en,
                    self.focused.reason.as_deref().unwrap_or("do_not_honor")
                ),
            ),
            VerdictKind::PhoneOnFile => {
                let which = match self.focused.reason.as_deref() {
                    Some(PHONE_TYPED) => Bilingual::new(
                        "比对的是用户在绑卡时自己填写的银行预留手机号",
                        "The number compared was the bank phone the person typed when adding the card",
                    ),
                    Some(PHONE_OF_ACCOUNT) => Bilingual::new(
                        "用户没有填写银行预留手机号，比对的是钱包账户的手机号；银行预留的多半是另一个号码，请用户填写开户时留给银行的号码再试",
                        "The person typed no bank phone, so the wallet account's phone was compared; the bank most likely has another number on file: ask them to enter the number they gave the bank",
                    ),
                    _ => Bilingual::new(
                        "记录中没有说明比对的是用户填写的号码还是账户手机号",
                        "The record does not say whether a typed number or the account's phone was compared",
                    ),
                };
                Bilingual::new(
                    format!(
                        "{}的四要素核验在手机号上未通过。{}。钱包无法修改银行的记录：如果号码确实已变，需要用户致电银行或到柜台更正预留手机号，换号后约需一天生效。",
                        bank.zh, which.zh
                    ),
                    format!(
                        "{}'s four-element check failed on the phone number. {}. The wallet cannot change the bank's record: if the number really changed, the person must correct it by calling the bank or at a branch; a changed number takes about a day to reach the bank.",
                        bank.en, which.en
                    ),
                )
            }
            VerdictKind::RealName if self.focused.issuer_response.is_none() => Bilingual::new(
                "钱包自己的实名核对没有通过，银行还没有被询问：填写的持卡人姓名与钱包登记的实名不一致。请确认用户填的是本人姓名（常见为错别字，或填了家人的卡）；钱包只允许绑定本人的卡。若用户的实名信息本身有误（例如改过名），请按实名变更流程处理。",
                "The wallet's own real-name check failed before the bank was asked: the cardholder name typed differs from the real name verified in the wallet. Check that the person typed their own name (usually a typo, or a family member's card); only the owner's cards may be added. If the verified real name itself is wrong (a changed name, say), follow the real-name change procedure.",
            ),
            VerdictKind::RealName => Bilingual::new(
                "发卡行核对持卡人身份时不一致，钱包只允许绑定本人的卡。若用户确认姓名无误而银行仍拒绝，可能是银行仍登记着旧的15位身份证号码，需要到银行柜台更新。",
                "The bank's check of the cardholder's identity failed, and only the owner's cards may be added. If the person is sure the name is right and the bank still refuses, the bank may still hold an old 15-digit ID number, which is updated at a bank counter.",
            ),
            VerdictKind::CardLimit => Bilingual::new(
                "用户已达到绑卡数量上限（等待验证的卡也计入），这是钱包规则而非故障；解绑一张卡后即可添加。",
                "The person holds the most cards the wallet allows (pending ones count). This is a wallet rule, not a fault: removing a card frees a place.",
            ),
            VerdictKind::Duplicate => Bilingual::new(
                "同一张卡（按卡号指纹）已在用户钱包中或正在等待验证；无需处理，或请用户完成短信验证。",
                "The same card (by its number's fingerprint) is already in the wallet or waiting for its SMS code: nothing to do, or ask the person to finish the code.",
            ),
            VerdictKind::SecurityLock => Bilingual::new(
                "多次失败后触发了安全锁定，请不要应用户要求提前解除。若用户表示这些尝试并非本人所为，请冻结账户并按异常上报处理。",
                "A security lock after repeated failures: do not lift it on request. If the person says the attempts were not theirs, freeze the account and report it as an anomaly.",
            ),
            VerdictKind::NetworkOrIssuer => {
                if code == Some(E::RequestInProgress) {
                    Bilingual::new(
                        "同一请求被重复提交（常见于网络不稳定时应用自动重试），第一次的结果以幂等记录为准，不会重复绑卡。",
                        "The same request was submitted twice (often an app retrying on an unstable network); the first one's answer stands and nothing is bound twice.",
                    )
                } else if self.in_incident() {
                    Bilingual::new(
                        format!(
                            "{}正处于故障事件中（见 /v1/support/incidents）：问题在银行一侧，影响所有用户，无需逐个处理；熔断恢复后用户重试即可。",
                            bank.zh
                        ),
                        format!(
                            "{} is in an open incident (see /v1/support/incidents): the failure is on the bank's side and hits everyone, so nothing needs doing per person; once the breaker closes the person can retry.",
                            bank.en
                        ),
                    )
                } else {
                    self.unanswered_support(&bank)
                }
            }
            VerdictKind::SystemOrMaintenance => {
                if code == Some(E::Maintenance) {
                    Bilingual::new(
                        "绑卡处于维护窗口中，无需处理；维护结束后用户即可重试。",
                        "Binding was in a maintenance window: nothing to do, the person can retry when it ends.",
                    )
                } else {
                    Bilingual::new(
                        format!(
                            "钱包内部错误：请用追踪编号 {trace} 在服务日志中查找原因；错误应答本身不含任何内部细节。"
                        ),
                        format!(
                            "An internal failure: look up trace id {trace} in the service logs; the error answer itself carries no internal detail."
                        ),
                    )
                }
            }
            VerdictKind::AccountState => Bilingual::new(
                "卡片或账户状态不允许此操作，详见卡片生命周期记录。",
                "The card's or account's state does not allow this; see the card's lifecycle.",
            ),
            VerdictKind::Approved
            | VerdictKind::PaymentPending
            | VerdictKind::TokenSuspended
            | VerdictKind::CardUnbound
            | VerdictKind::TokenExpired
            | VerdictKind::CardReissued
            | VerdictKind::CryptogramInvalid
            | VerdictKind::AtcReplayed
            | VerdictKind::DomainMismatch
            | VerdictKind::RiskDeclined
            | VerdictKind::ConfirmationRequired
            | VerdictKind::AccountFrozen => payment_advice::for_code(self.verdict, code, &bank).1,
        }
    }

    /// Support's next step for an input mistake, by the field at fault.
    fn input_support(&self, code: Option<ErrorCode>, card: &str) -> Bilingual {
        use ErrorCode as E;
        let field = self.focused.param.as_deref();
        let nothing_failed = Bilingual::new(
            format!(
                "钱包和银行都没有故障：用户输入的{}有误。",
                field_name_zh(field)
            ),
            format!(
                "Nothing failed on our side or the bank's: the {} was wrong.",
                field_name_en(field)
            ),
        );
        let check = match (code, field) {
            (Some(E::OtpIncorrect | E::OtpExpired), _) | (_, Some("otp")) => {
                let left = match self.focused.otp_attempts_left() {
                    Some(n) => (
                        format!("这个验证码还能再输{n}次；"),
                        format!(" {n} tries are left;"),
                    ),
                    None => (String::new(), String::new()),
                };
                Bilingual::new(
                    format!(
                        "请用户输入银行最新一条短信里的验证码（重新获取后旧验证码作废，过期的也不能用），收不到可以点“重新获取”。{}次数用完后需要重新添加这张卡。请不要向用户索要验证码。",
                        left.0
                    ),
                    format!(
                        "Ask the person to enter the code from the bank's newest text (asking again voids the older codes, and an expired one no longer works), or to ask for a new code if none came.{} once the tries are used up the card must be added again. Never ask the person for the code.",
                        left.1
                    ),
                )
            }
            (Some(E::InvalidNumber | E::IncorrectNumber), _) | (_, Some("number"))
                if !card.is_empty() =>
            {
                Bilingual::new(
                    format!(
                        "卡号在询问银行之前就被拦下。若用户坚持输入无误，请核对卡号前6位和后4位（{card}）与实体卡是否一致。"
                    ),
                    format!(
                        "It was stopped before the bank was asked. If the person insists it was right, compare the first 6 and last 4 digits ({card}) with the card."
                    ),
                )
            }
            (Some(E::InvalidNumber | E::IncorrectNumber), _) | (_, Some("number")) => {
                Bilingual::new(
                    "卡号在询问银行之前就被拦下；输入的位数太少，没有留下可核对的卡号片段：请让用户对照卡面逐位重新输入。",
                    "It was stopped before the bank was asked; too few digits were typed to keep any for checking: ask the person to type the number again digit by digit from the card.",
                )
            }
            (Some(E::IncorrectCvc), _) => Bilingual::new(
                format!(
                    "{}说安全码不对：请用户核对卡背面的3位安全码；银行新换的卡安全码会变。多次输错可能被银行锁卡。",
                    self.bank().zh
                ),
                format!(
                    "{} said the security code was wrong: ask the person to check the 3 digits on the back; a replaced card has a new code. Repeated mistakes can make the bank lock the card.",
                    self.bank().en
                ),
            ),
            (Some(E::InvalidExpiryMonth | E::InvalidExpiryYear | E::ExpiredCard), _) => {
                Bilingual::new(
                    "有效期在询问银行之前就被拦下：请用户核对卡面上的有效期；卡已过期时需要绑定银行寄来的新卡。",
                    "The expiry date was stopped before the bank was asked: ask the person to check the date on the card; an expired card is replaced by the new one the bank sent.",
                )
            }
            _ => Bilingual::new(
                "它在询问银行之前就被拦下：请用户按错误提示更正后重试。",
                "It was stopped before the bank was asked: ask the person to correct it as the answer says and try again.",
            ),
        };
        nothing_failed.then(&check)
    }

    /// Support's next step when the bank did not answer a binding, told by
    /// what the attempt records about the issuer call. The person's request
    /// reached the wallet, so their own network is not the cause.
    fn unanswered_support(&self, bank: &Bilingual) -> Bilingual {
        let waited = seconds(self.focused.latency_ms);
        let what = match self.focused.issuer_response.as_deref() {
            Some(ISSUER_TIMEOUT) => Bilingual::new(
                format!(
                    "钱包已把请求发给{}，等了{waited}秒仍没有收到应答（超时）：银行可能已经收到请求，只是没有及时回复。",
                    bank.zh
                ),
                format!(
                    "The wallet sent the request to {} and had no answer after waiting {waited} s (a timeout): the bank may have received it and not replied in time.",
                    bank.en
                ),
            ),
            Some(_) => Bilingual::new(
                format!(
                    "{}在{waited}秒后答复暂时无法处理，或拒绝了连接：问题在银行一侧。",
                    bank.zh
                ),
                format!(
                    "{} answered after {waited} s that it could not serve, or refused the connection: the failure is on the bank's side.",
                    bank.en
                ),
            ),
            None => Bilingual::new(
                format!("记录中没有{}的应答（耗时 {waited} 秒）。", bank.zh),
                format!("No answer from {} is on record ({waited} s).", bank.en),
            ),
        };
        what.then(&Bilingual::new(
            format!(
                "用户的请求已经到达钱包，这不是用户的网络问题。{}目前没有故障事件（No incident is open）：请在 /v1/support/health/binding 查看该银行的失败率和耗时；用户稍后重试即可，不会重复绑卡。",
                bank.zh
            ),
            format!(
                "The person's request reached the wallet, so this is not their network. No incident is open for {}: check its failure rate and latency in /v1/support/health/binding; the person can retry later, and nothing is bound twice.",
                bank.en
            ),
        ))
    }
}

fn field_name_zh(param: Option<&str>) -> &'static str {
    match param {
        Some("number") => "卡号",
        Some("expiry_month" | "expiry_year") => "有效期",
        Some("cvc") => "安全码",
        Some("holder_name") => "持卡人姓名",
        Some("otp") => "短信验证码",
        Some("bank_phone") => "手机号",
        _ => "信息",
    }
}

fn field_name_en(param: Option<&str>) -> &'static str {
    match param {
        Some("number") => "card number",
        Some("expiry_month" | "expiry_year") => "expiry date",
        Some("cvc") => "security code",
        Some("holder_name") => "cardholder name",
        Some("otp") => "SMS code",
        Some("bank_phone") => "phone number",
        _ => "input",
    }
}
