"""Every text the kiosk shows or speaks, in zh-CN and English."""

from __future__ import annotations

from enum import StrEnum


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"

    @property
    def other(self) -> Lang:
        return Lang.EN if self is Lang.ZH else Lang.ZH


TEXTS: dict[str, tuple[str, str]] = {
    # chrome
    "lang_switch": ("English", "中文"),
    "elder_on": ("大字模式", "Large text"),
    "elder_off": ("标准字体", "Normal text"),
    "back": ("返回", "Back"),
    "home": ("首页", "Home"),
    "cancel": ("取消", "Cancel"),
    "ok": ("确定", "OK"),
    "clear": ("清除", "Clear"),
    "delete": ("删除", "Delete"),
    # attract
    "welcome": ("欢迎光临 {branch}", "Welcome to {branch}"),
    "touch_to_start": ("请触摸屏幕开始取号", "Touch the screen to take a ticket"),
    "take_ticket": ("取号", "Take a ticket"),
    "appointment": ("预约签到", "Appointment check-in"),
    "recognise_me": ("刷脸识别我", "Recognise me"),
    "rate_service": ("评价服务", "Rate our service"),
    "offline_badge": ("离线服务中：号码将稍后同步", "Offline: your ticket is synced later"),
    # business
    "choose_business": ("请选择您要办理的业务", "What would you like to do today?"),
    "suggested": ("您常办：{business}", "You usually do: {business}"),
    # identify
    "identify_title": ("请出示银行卡或身份证（可跳过）",
                       "Insert your bank card or place your ID card (optional)"),
    "identify_card": ("请插入银行卡", "Insert your bank card"),
    "identify_id": ("请将身份证放在感应区", "Place your ID card on the reader"),
    "identify_skip": ("跳过，直接取号", "Skip, just give me a ticket"),
    "identify_why": ("识别后柜员可更快为您服务；卡号不会被保存。",
                     "Staff can serve you faster; your card number is never stored."),
    "card_unavailable": ("读卡器暂不可用，请使用身份证或直接跳过",
                         "The card reader is not available: use your ID card or skip"),
    "id_unavailable": ("身份证阅读器暂不可用", "The ID reader is not available"),
    "identified": ("已识别：{masked}", "Identified: {masked}"),
    "card_unreadable": ("无法读取此卡，请重试或跳过", "This card cannot be read: try again or skip"),
    "take_card": ("读卡器里还有一张卡：请先取走，再插入您的卡",
                  "A card is still in the reader: take it out, then insert yours"),
    "take_id_card": ("感应区上还有一张身份证：请先取走，再放您的证件",
                     "An ID card is still on the reader: take it off, then place yours"),
    # consent
    "consent_title": ("刷脸识别 · 自愿授权", "Face recognition · your choice"),
    "consent_what": ("我们收集：您面部的数字特征（不是照片）。",
                     "What: a numeric template of your face (never a photo)."),
    "consent_why": ("用途：下次来时认出您，推荐您常办的业务。仅作服务提示，不用于任何交易授权。",
                    "Why: to greet you and suggest your usual business. "
                    "Never used to authorise a transaction."),
    "consent_how_long": ("保存：最长 12 个月，未再到访即删除。",
                         "How long: at most 12 months after your last visit."),
    "consent_withdraw_how": ("撤回：插卡识别后在取号完成页撤回，或到任一柜台，撤回后立即删除。",
                             "Withdraw: after inserting your card, on the ticket screen, or at any counter; "
                             "deleted at once."),
    "consent_check": ("我已阅读并同意", "I have read this and agree"),
    "consent_yes": ("同意并开始", "Agree and start"),
    "consent_no": ("不用了，谢谢", "No thanks"),
    # recognise
    "look_at_camera": ("请看向摄像头，保持不动", "Please look at the camera and hold still"),
    "recognising": ("正在识别…", "Recognising…"),
    "not_recognised": ("暂时未能识别，您可以直接取号",
                       "We could not recognise you this time: take a ticket as usual"),
    "camera_unavailable": ("摄像头暂不可用", "The camera is not available"),
    "greeting": ("{name}，欢迎回来！", "{name}, welcome back!"),
    "greeting_question": ("可能是 {name}：请问是您本人吗？", "Possibly {name}: is this you?"),
    "greeting_yes": ("是我", "Yes, it's me"),
    "greeting_no": ("不是我", "No, it's not me"),
    "greeting_hint": ("仅用于问候和推荐业务，不用于身份验证。",
                      "Only to greet you and suggest your usual business; never to verify who you are."),
    # face opt-in
    "enrol_offer": ("下次刷脸识别我（可选）", "Recognise me next time (optional)"),
    "withdraw_face": ("撤回刷脸识别授权", "Withdraw face recognition"),
    "enrol_title": ("下次来时，刷脸识别您？", "Recognise you on your next visit?"),
    "enrol_version": ("授权书版本：{version}", "Consent text version: {version}"),
    "enrol_same_ticket": ("无论是否同意，您的号码和服务都不变。", "Your ticket and service are the same either way."),
    "enrol_yes": ("同意", "Yes, I agree"),
    "enrol_no": ("不用了，谢谢", "No thanks"),
    "enrol_age_title": ("请确认您的年龄", "Please confirm your age"),
    "enrol_age_yes": ("我已年满14周岁", "I am 14 or older"),
    "enrol_age_no": ("我未满14周岁", "I am under 14"),
    "enrol_start_title": ("请正对摄像头，准备好后按“开始”", "Face the camera and press Start when ready"),
    "enrol_start_note": ("只采集面部数字特征，不保存照片。", "Only a numeric template is taken; no photo is kept."),
    "enrol_start": ("开始", "Start"),
    "enrol_capturing": ("正在采集，请保持不动…", "Capturing, please hold still…"),
    "enrolled": ("已开通：下次来时我们会问候您。撤回方法已打印在小票上。",
                 "Done: we will greet you next time. How to withdraw is printed on your slip."),
    "enrol_refused": ("未能开通，未保存任何信息：{reason}", "Not enrolled, nothing was stored: {reason}"),
    "enrol_under_14": ("未满14周岁需由监护人到柜台同意，今天不会采集。",
                       "Under 14: a parent or guardian consents at a counter; nothing is taken today."),
    "enrol_no_face": ("未采集到清晰的面部，未保存任何信息。", "No clear face was captured; nothing was stored."),
    "withdrawing": ("正在撤回…", "Withdrawing…"),
    "withdrawn": ("已撤回：您的面部特征已删除。", "Withdrawn: your face template has been deleted."),
    "withdraw_refused": ("未能撤回：{reason}", "Could not withdraw: {reason}"),
    "face_no_answer": ("暂未收到答复：网络恢复后会自动完成；您可随时到柜台撤回。",
                       "No answer yet: it completes when the connection returns; you can withdraw at any counter."),
    "slip_title": ("刷脸识别授权", "Face recognition consent"),
    "slip_what": ("仅保存面部数字特征，不保存照片。", "Only a numeric face template is kept, never a photo."),
    "slip_withdraw": ("撤回：在自助机插卡后点“撤回刷脸识别授权”，或到任一柜台。",
                      "Withdraw: insert your card at a kiosk, tap 'Withdraw face recognition', or ask at a counter."),
    "slip_how_long": ("保存：最长12个月，未再到访即删除。", "Kept at most 12 months after your last visit."),
    "slip_hint": ("仅作问候提示，不用于身份验证或交易。", "A greeting hint only, never a verification."),
    # appointment
    "appt_title": ("预约签到", "Appointment check-in"),
    "appt_scan": ("请将预约二维码对准摄像头", "Hold your appointment QR code up to the camera"),
    "appt_or_type": ("或输入预约码；没有预约码，请输入手机号后4位，再插入本人银行卡",
                     "or type the appointment code; without one, type your phone's last 4 digits, "
                     "then insert your bank card"),
    "appt_phone": ("手机号后4位", "Phone, last 4 digits"),
    "appt_code": ("预约码", "Appointment code"),
    "appt_submit": ("签到", "Check in"),
    "appt_invalid": ("请输入4-12位预约码，或手机号后4位", "Enter a 4-12 character code, or your phone's last 4 digits"),
    "appt_card_title": ("预约签到：请出示本人银行卡或身份证", "Check-in: your bank card or ID card"),
    "appt_use_code": ("改为输入预约码", "Type the appointment code instead"),
    "appt_insert_card": ("请插入本人银行卡，以核对您的预约", "Insert your bank card so we can find your appointment"),
    "appt_card_unavailable": ("读卡器暂不可用：请输入预约码", "The card reader is not available: type your code"),
    "appt_unknown": ("未找到该预约，请核对后重新输入，或直接取号",
                     "No appointment found: check and try again, or take a regular ticket"),
    "appt_early": ("还未到签到时间：请在预约时段开始前 {early} 分钟内签到",
                   "Too early: check in within {early} minutes before your appointment"),
    "appt_expired": ("该预约已过签到时间或已取消，请直接取号",
                     "This appointment's check-in time has passed (or it was cancelled): please take a ticket"),
    "appt_used": ("该预约已签到，请留意叫号", "This appointment is already checked in: please wait to be called"),
    # closed
    "closed_title": ("本网点现在不办理取号", "We are closed for tickets now"),
    "closed_last_ticket": ("今日取号已结束", "Today's last ticket has been issued"),
    "closed_holiday": ("{name}休息", "Closed for {name}"),
    "closed_opens_at": ("我们将于 {when} 开始取号", "We open at {when}"),
    "closed_tomorrow": ("明天 {time}", "{time} tomorrow"),
    "closed_reopen_unknown": ("请留意网点公告", "Please see the notice at the entrance"),
    "closed_sorry": ("给您带来不便，敬请谅解。", "Sorry for the inconvenience."),
    # issuing and ticket
    "issuing": ("正在为您取号，请稍候…", "Getting your ticket, one moment…"),
    "your_number": ("您的号码", "Your number"),
    "people_ahead": ("前面还有 {n} 人", "{n} people ahead of you"),
    "people_ahead_0": ("前面没有人，请留意叫号", "Nobody ahead of you: listen for your number"),
    "people_ahead_1": ("前面还有 1 人", "1 person ahead of you"),
    "wait_about": ("预计等待约 {m} 分钟", "About {m} minutes"),
    "wait_range": ("预计等待 {low}–{high} 分钟", "About {low}–{high} minutes"),
    "wait_unknown": ("请留意叫号", "Please listen for your number"),
    "printing": ("正在打印小票…", "Printing your ticket…"),
    "printed": ("请取走小票，留意叫号", "Please take your ticket and wait to be called"),
    "print_failed": ("打印机暂不可用：请用手机扫码保存号码，或拍照记下",
                     "The printer is not available: scan the code with your phone or take a photo"),
    "provisional": ("本机临时号码，已为您保留", "Issued by this kiosk; your place is kept"),
    "priority_appointment": ("预约优先", "Priority: appointment"),
    "priority_elderly": ("敬老优先", "Priority: senior customer"),
    "priority_vip": ("贵宾优先", "Priority: VIP"),
    "priority_other": ("优先服务", "Priority"),
    "elderly_priority": ("敬老服务", "Senior service"),
    "done": ("完成", "Done"),
    "request_refused": ("暂时无法取号：{reason}", "No ticket right now: {reason}"),
    # survey
    "survey_title": ("请为今天的服务打分", "How was our service today?"),
    "survey_tags": ("可选：哪些方面需要改进？", "Optional: what could be better?"),
    "tag_wait": ("等待时间", "Waiting time"),
    "tag_staff": ("员工态度", "Staff"),
    "tag_machine": ("机器好用", "Machine ease"),
    "tag_environment": ("环境", "Environment"),
    "tag_speed": ("办理速度", "Speed"),
    "survey_submit": ("提交", "Submit"),
    "survey_served": ("可选：哪个号码是您的？", "Optional: which ticket was yours?"),
    "survey_served_call": ("{ticket} → {counter} 号窗口", "{ticket} → counter {counter}"),
    "nps_title": ("您有多大可能向亲友推荐我们？", "How likely are you to recommend us to a friend?"),
    "nps_low": ("0 = 完全不可能", "0 = not at all likely"),
    "nps_high": ("10 = 非常可能", "10 = extremely likely"),
    "nps_skip": ("跳过", "Skip"),
    "thanks": ("谢谢您的评价！", "Thank you for your feedback!"),
    # out of service
    "out_of_service": ("本机暂停服务", "This kiosk is out of service"),
    "sorry": ("给您带来不便，敬请谅解。", "Sorry for the inconvenience."),
}

TAGS = ("wait", "staff", "machine", "environment", "speed")


def tr(key: str, lang: Lang | str, **values: object) -> str:
    """The text for key in lang, with {placeholders} filled; an unknown key shows itself (never crashes).
    A count `n` picks `key_<n>` where one exists (English plurals: "1 person", not "1 people")."""
    pair = TEXTS.get(f"{key}_{values['n']}") if "n" in values else None
    pair = pair or TEXTS.get(key)
    if pair is None:
        return key
    text = pair[0] if Lang(lang) is Lang.ZH else pair[1]
    return text.format(**values) if values else text
