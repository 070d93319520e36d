//! A payment's next steps, for the person and for support, chosen from the
//! verdict and what the payment, its token and its card record.

use super::payment::{PaymentCase, actor_name, channel_name};
use super::{Bilingual, VerdictKind};
use crate::error::{DeclineCode, ErrorCode};

/// The person's and support's steps for a payment verdict known only by
/// its code (a binding step that answered a payment's code).
pub(super) fn for_code(
    verdict: VerdictKind,
    code: Option<ErrorCode>,
    bank: &Bilingual,
) -> (Bilingual, Bilingual) {
    let person = code.map_or_else(Bilingual::default, |code| {
        let remedy = code.entry().remedy;
        Bilingual::new(remedy.zh, remedy.en)
    });
    let support = match verdict {
        VerdictKind::Approved => Bilingual::new("无需处理。", "Nothing to do."),
        _ => Bilingual::new(
            format!(
                "这张卡（{}）当前的状态不允许这个操作：请查看 /v1/support/tokens/{{ref}}/events 中的令牌记录。",
                bank.zh
            ),
            format!(
                "The card ({}) is not in a state that allows this: see the token's history at /v1/support/tokens/{{ref}}/events.",
                bank.en
            ),
        ),
    };
    (person, support)
}

fn bank(case: &PaymentCase<'_>) -> Bilingual {
    case.payment.card.bank()
}

/// The suspender of a suspended token, as named in the record.
fn suspender(case: &PaymentCase<'_>) -> Option<String> {
    case.token.and_then(|t| t.suspender(case.payment.at_ms))
}

fn risk_reasons(case: &PaymentCase<'_>) -> Bilingual {
    let reasons = &case.payment.risk_reasons;
    if reasons.is_empty() {
        return Bilingual::new("规则没有记录具体原因", "the rules recorded no reason");
    }
    let zh: Vec<&str> = reasons.iter().map(|r| r.message().zh).collect();
    let en: Vec<String> = reasons
        .iter()
        .map(|r| {
            let text = r.message().en;
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect();
    Bilingual::new(zh.join("；"), en.join("; "))
}

pub(super) fn person_step(case: &PaymentCase<'_>) -> Bilingual {
    let payment = case.payment;
    let bank = bank(case);
    match case.verdict {
        VerdictKind::Approved => Bilingual::new(
            "无需操作：这笔支付已经成功。",
            "Nothing to do: this payment went through.",
        ),
        VerdictKind::PaymentPending => Bilingual::new(
            "这笔支付的结果还没有记录下来：请稍后在账单中查看，确认没有成功之前不要重复付款。",
            "This payment's outcome is not on record yet: check your records in a little while, and don't pay again until you know it failed.",
        ),
        VerdictKind::TokenSuspended => match suspender(case).as_deref() {
            Some("cardholder") => Bilingual::new(
                "这张卡是你自己在钱包里暂停的：在“我的-银行卡”中选中这张卡，点“恢复使用”后即可支付。",
                "You suspended this card in the wallet yourself: open Me > Cards, choose the card and resume it, then pay again.",
            ),
            Some("issuer") => Bilingual::new(
                format!(
                    "{}暂停了这张卡在钱包中的支付：请拨打卡背面的电话联系银行，银行恢复后即可支付；也可以先换一张卡。",
                    bank.zh
                ),
                format!(
                    "{} suspended this card's payments in the wallet: call the bank on the number on the back of the card; once it lifts the suspension you can pay. Or use another card meanwhile.",
                    bank.en
                ),
            ),
            _ => Bilingual::new(
                "为了保护你的资金安全，钱包暂停了这张卡的支付：请联系客服核实身份后恢复；也可以先换一张卡。",
                "To keep your money safe, the wallet suspended this card's payments: contact support to confirm it is you and have it resumed, or use another card meanwhile.",
            ),
        },
        VerdictKind::CardUnbound => Bilingual::new(
            "这张卡已经不在钱包中（已解绑，或银行注销了这张卡）：如果还要用它付款，请重新添加这张卡；银行注销的卡请换一张卡。",
            "This card is no longer in the wallet (it was removed, or the bank closed it): add it again to pay with it, or use another card if the bank closed it.",
        ),
        VerdictKind::TokenExpired => Bilingual::new(
            "这张卡在钱包中的支付凭证已过期：请在钱包中重新发起支付，卡片仍有效的会自动更新；仍不能支付的（卡片到期或已使用很久），请解绑后重新添加这张卡；卡片到期的，请添加银行寄来的新卡。",
            "This card's payment token in the wallet has expired: start the payment again in the wallet, which renews it if the card is still valid. If it still cannot pay (the card expired, or it has been used a very long time), remove it and add it again; if the card expired, add the new one your bank sent.",
        ),
        VerdictKind::CardReissued => {
            let remedy = DeclineCode::CardReissued.remedy();
            Bilingual::new(remedy.zh, remedy.en)
        }
        VerdictKind::CryptogramInvalid => Bilingual::new(
            "这次的支付数据没有通过校验，没有扣款：请在应用中重新发起支付（刷新付款码，碰一碰支付请重新贴近）；如果反复出现，请把应用更新到最新版本，或解绑后重新添加这张卡。",
            "This payment's data failed its check and nothing was charged: start the payment again in the app (refresh the code, or tap again); if it keeps happening, update the app, or remove the card and add it again.",
        ),
        VerdictKind::AtcReplayed => Bilingual::new(
            "这次提交的支付数据之前已经用过（常见于网络卡顿时重复提交）：请先在账单里看看第一笔是否已经成功，避免重复付款；需要再付时请重新发起支付。",
            "The payment data sent had been used before (often a repeat sent on a slow network): first check your records to see whether the first payment went through, so you don't pay twice; to pay again, start a new payment.",
        ),
        VerdictKind::DomainMismatch => match payment.mismatch.as_deref() {
            Some("merchant_id") => Bilingual::new(
                "这次生成的付款凭证只能在生成它的商户使用：请回到当前商户重新发起支付。",
                "The payment data made for this payment can only be used at the merchant it was made for: start the payment again at this merchant.",
            ),
            _ => Bilingual::new(
                format!(
                    "这张卡的支付数据不能用于{}：请按商户提示的方式重新发起支付（例如在线支付在应用内完成，门店用手机碰一碰）。",
                    channel_name(&payment.channel).zh
                ),
                format!(
                    "This card's payment data can't be used for {}: start the payment again the way the merchant offers (online payments in the app, tap to pay in shops).",
                    channel_name(&payment.channel).en
                ),
            ),
        },
        VerdictKind::RiskDeclined => {
            let reasons = risk_reasons(case);
            Bilingual::new(
                format!(
                    "为保护你的资金安全，这笔支付被拦截了：{}。请稍后再试，或换一张卡、减少金额；如果不是你本人在付款，请立即冻结钱包并联系客服。",
                    reasons.zh
                ),
                format!(
                    "To keep your money safe this payment was stopped: {}. Try again later, or with another card or a smaller amount; if you did not make this payment, freeze your wallet and contact support at once.",
                    reasons.en
                ),
            )
        }
        VerdictKind::ConfirmationRequired => Bilingual::new(
            "这笔支付需要你本人确认：金额超出了你的免密支付额度，或需要额外验证。请在应用中用支付密码、短信验证码或手机解锁确认后再付；也可以在“支付设置”中调整免密额度。",
            "This payment needs your confirmation: it is over your no-confirmation limit, or needs an extra check. Confirm it in the app with your payment password, an SMS code or your phone's unlock, then pay; you can change the limit in payment settings.",
        ),
        VerdictKind::AccountFrozen => Bilingual::new(
            "你的钱包已冻结，暂时不能支付：如果是你自己冻结的，请在应用中验证身份后解冻；如果不是，请联系客服。",
            "Your wallet is frozen, so it can't pay: if you froze it, unfreeze it in the app after confirming it is you; if not, contact support.",
        ),
        VerdictKind::DeclinedByIssuer => match payment.decline_code {
            Some(DeclineCode::DoNotHonor) | None => Bilingual::new(
                format!(
                    "{}拒绝了这笔支付，没有说明原因：请拨打卡背面的电话联系银行（卡片可能被冻结、未激活或被银行风控拦截），或换一张卡支付。",
                    bank.zh
                ),
                format!(
                    "{} declined the payment without saying why: call the bank on the number on the back of the card (the card may be frozen, not activated or stopped by its fraud checks), or pay with another card.",
                    bank.en
                ),
            ),
            Some(code) => {
                let remedy = code.remedy();
                Bilingual::new(remedy.zh, remedy.en)
            }
        },
        VerdictKind::NetworkOrIssuer => Bilingual::new(
            format!(
                "这不是你的问题：{}当时没有应答，这笔钱没有扣。请稍后重新支付。",
                bank.zh
            ),
            format!(
                "This is not your fault: {} did not answer, and nothing was charged. Pay again in a little while.",
                bank.en
            ),
        ),
        _ => case.payment.code.map_or_else(Bilingual::default, |code| {
            let remedy = code.entry().remedy;
            Bilingual::new(remedy.zh, remedy.en)
        }),
    }
}

pub(super) fn support_step(case: &PaymentCase<'_>) -> Bilingual {
    let payment = case.payment;
    let bank = bank(case);
    let id = &payment.payment_id;
    match case.verdict {
        VerdictKind::Approved => Bilingual::new(
            "支付已获批准，无需处理。如果用户说支付时提示绑卡无效，请向用户要那次失败的追踪编号。",
            "The payment was approved: nothing to do. If the person says a payment told them the card was invalid, ask for that failure's trace id.",
        ),
        VerdictKind::PaymentPending => Bilingual::new(
            format!(
                "支付 {id} 仍为 pending：ATC 已占用、已询问发卡行，但结果还没有落库。几分钟后再查；若一直是 pending，请用追踪编号 {} 在服务日志中查找。",
                payment.trace_id
            ),
            format!(
                "Payment {id} is still pending: its ATC was claimed and the bank asked, but the outcome is not stored yet. Look again in a few minutes; if it stays pending, look up trace id {} in the service logs.",
                payment.trace_id
            ),
        ),
        VerdictKind::TokenSuspended => match suspender(case).as_deref() {
            Some("cardholder") => Bilingual::new(
                "令牌由持卡人本人暂停，只有本人能在应用中恢复。若用户说自己没有暂停过，请按账户可能被盗处理：冻结钱包并上报。",
                "The cardholder suspended the token; only they can resume it in the app. If the person says they never did, treat the account as possibly taken over: freeze the wallet and report it.",
            ),
            Some("issuer") => Bilingual::new(
                format!(
                    "令牌由{}暂停，钱包不能替银行恢复：请用户联系银行；银行恢复后会通知钱包。",
                    bank.zh
                ),
                format!(
                    "{} suspended the token and the wallet cannot lift a bank's suspension: the person must contact the bank, which tells the wallet when it resumes it.",
                    bank.en
                ),
            ),
            Some(actor) => Bilingual::new(
                format!(
                    "令牌由{}暂停：核实是用户本人、且风险已排除后，按流程恢复令牌。",
                    actor_name(actor).zh
                ),
                format!(
                    "{} suspended the token: once you are sure it is the person and the risk is cleared, resume it as the procedure says.",
                    super::next::capitalised(&actor_name(actor).en)
                ),
            ),
            None => Bilingual::new(
                "令牌处于暂停状态，但记录中没有是谁暂停的：请查看 /v1/support/tokens/{ref}/events。",
                "The token is suspended but the record does not say by whom: see /v1/support/tokens/{ref}/events.",
            ),
        },
        VerdictKind::CardUnbound => {
            let closed = case
                .token
                .and_then(|t| t.card_status.as_deref())
                .is_some_and(|s| s == "closed");
            if closed {
                Bilingual::new(
                    format!(
                        "{}注销了这张卡，令牌已失效：这张卡不能再支付，请用户换一张卡。",
                        bank.zh
                    ),
                    format!(
                        "{} closed the card and its token no longer works: it cannot pay again, the person needs another card.",
                        bank.en
                    ),
                )
            } else {
                Bilingual::new(
                    "这张卡已解绑（令牌已删除），没有故障：用户如需继续使用，请重新添加这张卡。若用户说没有解绑过，请查看令牌记录中是谁删除的。",
                    "The card was removed (its token deleted): nothing is broken; to keep using it the person adds it again. If they say they never removed it, see who deleted it in the token's history.",
                )
            }
        }
        VerdictKind::TokenExpired => Bilingual::new(
            "令牌已过期：没有故障。卡片仍有效的，手机下次获取密钥或付款凭证时令牌会自动续期（新的 PSN 和密钥），用户重新发起支付即可；卡片有效期已到，或令牌已续期 99 次的，用户需要重新绑卡，银行换发了新卡的，绑定新卡。",
            "The token expired: nothing is broken. If the card is still valid, the token is renewed (a new PSN and keys) when the phone next asks for keys or a cryptogram, so the person just pays again; if the card's expiry passed, or the token was renewed 99 times, the person binds the card again, or the new card if the bank sent one.",
        ),
        VerdictKind::CardReissued => Bilingual::new(
            format!(
                "{}已换发新卡，旧卡号不能再支付（卡片已标记 reissued）：请用户绑定新卡，旧卡可以解绑。钱包无法让旧卡恢复支付。",
                bank.zh
            ),
            format!(
                "{} replaced the card and the old number pays no more (the card is marked reissued): the person adds the new card and may remove the old one. The wallet cannot make the old card pay again.",
                bank.en
            ),
        ),
        VerdictKind::CryptogramInvalid => {
            let how = if payment.cryptogram_result == "invalid" {
                Bilingual::new(
                    "ARQC 密文校验失败（cryptogram_result invalid）",
                    "The ARQC failed verification (cryptogram_result invalid)",
                )
            } else {
                Bilingual::new(
                    "支付数据在校验密文之前就不一致（有效期、交易日期、IAD 或 ATC 不对）",
                    "The payment data disagreed before the cryptogram was checked (token expiry, transaction date, IAD or ATC)",
                )
            };
            Bilingual::new(
                format!(
                    "{}，没有扣款。偶尔一次多为终端或应用的数据问题，请用户重新支付；反复出现时，请让用户更新应用或重新添加这张卡（换新的密钥）。若用户说没有发起这笔支付，请按伪造交易上报。",
                    how.zh
                ),
                format!(
                    "{}; nothing was charged. Once is usually a terminal or app data problem: the person pays again. If it keeps happening, have them update the app or add the card again (new keys). If they say they never made this payment, report it as a forged transaction.",
                    how.en
                ),
            )
        }
        VerdictKind::AtcReplayed => {
            let atc = payment
                .atc
                .map_or_else(String::new, |atc| format!(" {atc:04X}"));
            Bilingual::new(
                format!(
                    "ATC{atc} 已用过或落后于窗口：同一份支付数据被提交了第二次（终端重试，或重放）。请查看同一张卡同一 ATC 的第一笔支付的结果，告诉用户第一笔是否成功；若用户说没有发起过，请按可疑重放上报。"
                ),
                format!(
                    "ATC{atc} was already used or is behind the window: the same payment data was sent a second time (a terminal retrying, or a replay). Find the first payment with this card and ATC and tell the person whether it went through; if they say they never made it, report a suspected replay."
                ),
            )
        }
        VerdictKind::DomainMismatch => match payment.mismatch.as_deref() {
            Some("merchant_id") => Bilingual::new(
                format!(
                    "域限制：这份付款凭证是为另一个商户生成的，却在 {} 使用。偶尔一次多为商户集成问题；若反复出现或用户不认识该商户，请按可疑交易上报。",
                    payment.merchant
                ),
                format!(
                    "Domain restriction: the payment data was made for another merchant and used at {}. Once is usually a merchant integration problem; if it repeats or the person does not know the merchant, report it as suspicious.",
                    payment.merchant
                ),
            ),
            _ => Bilingual::new(
                format!(
                    "域限制：这张卡的支付数据不能用于{}（钱包未开放这个渠道，或网上生成的凭证被拿去碰一碰支付）。请确认商户的接入方式；不是用户的问题。",
                    channel_name(&payment.channel).zh
                ),
                format!(
                    "Domain restriction: this card's payment data cannot be used for {} (the wallet does not offer that channel, or data made online was used to tap). Check how the merchant takes payments; it is not the person's fault.",
                    channel_name(&payment.channel).en
                ),
            ),
        },
        VerdictKind::RiskDeclined => {
            let reasons = risk_reasons(case);
            let score = payment
                .risk_score
                .map_or_else(String::new, |s| format!("{s}"));
            Bilingual::new(
                format!(
                    "风控规则拦截了这笔支付（风险分 {score}）：{}。不能应用户要求放行；请与用户核实是否本人操作，若不是本人，请冻结钱包并上报。",
                    reasons.zh
                ),
                format!(
                    "The risk rules stopped this payment (score {score}): {}. Do not let it through on request; check with the person that it was them, and if not, freeze the wallet and report it.",
                    reasons.en
                ),
            )
        }
        VerdictKind::ConfirmationRequired => Bilingual::new(
            "这笔支付超出了用户的免密额度或触发了风控加验，但没有带上本人确认（consent 为空），没有扣款：请用户在应用中确认后重新支付。这是安全规则，不是故障。",
            "The payment was over the person's no-confirmation limit or the risk rules asked for a check, and it carried no confirmation (no consent): nothing was charged. Ask the person to confirm in the app and pay again. This is a safety rule, not a fault.",
        ),
        VerdictKind::AccountFrozen => Bilingual::new(
            "用户的钱包处于冻结状态，所有支付都会被拒绝：核实是本人后，由用户在应用中解冻；若冻结是因为账户被盗，请先处理安全问题。",
            "The person's wallet is frozen and every payment is refused: once you are sure it is them, they unfreeze it in the app; if it was frozen because the account was taken over, deal with that first.",
        ),
        VerdictKind::DeclinedByIssuer => {
            let code = payment.decline_code.unwrap_or(DeclineCode::DoNotHonor);
            let why = match code {
                DeclineCode::InsufficientFunds => Bilingual::new(
                    "余额或可用额度不足，不是钱包的问题：请用户存钱、还款或换卡",
                    "not enough money or credit, not a wallet problem: the person tops up, repays or uses another card",
                ),
                DeclineCode::ExceedsLimit | DeclineCode::QuickPayLimitExceeded => Bilingual::new(
                    "超出了银行给这张卡设的限额：请用户减少金额、分笔支付，或在银行调高限额",
                    "over the bank's limit for this card: the person pays less, in parts, or has the bank raise the limit",
                ),
                DeclineCode::OnlinePaymentDisabled => Bilingual::new(
                    "这张卡没有开通网上（快捷）支付：请用户在银行开通",
                    "online (quick) payments are off on this card: the person turns them on at the bank",
                ),
                DeclineCode::LostCard | DeclineCode::StolenCard => Bilingual::new(
                    "这张卡已挂失或被报告被盗：不要协助用户继续使用这张卡，如用户说卡在自己手里，请其联系银行",
                    "the card is reported lost or stolen: do not help keep using it; if the person says they have the card, they must call the bank",
                ),
                DeclineCode::CardReissued => Bilingual::new(
                    "银行已换发新卡：请用户绑定新卡",
                    "the bank replaced the card: the person adds the new card",
                ),
                DeclineCode::DoNotHonor => Bilingual::new(
                    "银行没有说明原因，只有银行能解释：请用户拨打卡背面的电话",
                    "the bank gave no reason and only it can explain: the person calls the number on the back of the card",
                ),
            };
            Bilingual::new(
                format!(
                    "{}拒绝了这笔支付（decline_code {}）：{}。钱包无法代为解除。",
                    bank.zh,
                    code.as_str(),
                    why.zh
                ),
                format!(
                    "{} declined the payment (decline_code {}): {}. The wallet cannot lift it.",
                    bank.en,
                    code.as_str(),
                    why.en
                ),
            )
        }
        VerdictKind::NetworkOrIssuer => Bilingual::new(
            format!(
                "{}没有应答这笔授权（状态 failed），没有扣款，ATC 已退回，同一份支付数据可以再试。请查看 /v1/support/incidents 和 /v1/support/health/binding 中这家银行的情况；不是用户的问题。",
                bank.zh
            ),
            format!(
                "{} did not answer the authorisation (status failed): nothing was charged and the ATC was given back, so the same payment data can be retried. Check the bank in /v1/support/incidents and /v1/support/health/binding; it is not the person's fault.",
                bank.en
            ),
        ),
        _ => Bilingual::new(
            format!(
                "支付 {id} 失败（{}）：请用追踪编号 {} 在服务日志中查找原因。",
                payment.code.map_or("-", |c| c.as_str()),
                payment.trace_id
            ),
            format!(
                "Payment {id} failed ({}): look up trace id {} in the service logs.",
                payment.code.map_or("-", |c| c.as_str()),
                payment.trace_id
            ),
        ),
    }
}
