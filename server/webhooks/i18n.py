"""Console texts of the webhook delivery log (zh-CN and English)."""

MESSAGES = {
    "en": {
        "nav.webhooks": "Webhooks", "wh.title": "Webhook deliveries to the external CRM",
        "wh.intro": "Every touchpoint of a known customer and every lead change is sent, signed, to the external "
                    "CRM. Failures are retried with back-off; after 6 attempts (or a refusal) a delivery is dead. "
                    "Resend queues it again with the same idempotency key, so the receiver cannot take it twice.",
        "wh.no_endpoint": "No external CRM endpoint is configured (webhook_url): nothing is sent.",
        "wh.status": "Status", "wh.all": "all", "wh.show": "Show", "wh.when": "Queued", "wh.event": "Event",
        "wh.key": "Idempotency key", "wh.attempts": "Attempts", "wh.last": "Last answer", "wh.next": "Next attempt",
        "wh.delivered_at": "Delivered", "wh.resend": "Resend", "wh.resent": "resent {n}×", "wh.none": "No deliveries.",
        "wh.st.pending": "pending", "wh.st.delivered": "delivered", "wh.st.dead": "dead",
        "wh.count.pending": "{n} pending", "wh.count.delivered": "{n} delivered", "wh.count.dead": "{n} dead",
    },
    "zh-CN": {
        "nav.webhooks": "外部推送", "wh.title": "推送至外部 CRM 的记录",
        "wh.intro": "已识别客户的每次接触和每次商机变更都会签名推送至外部 CRM。失败会退避重试；6 次后（或被拒收）"
                    "标记为失败。重新发送使用同一幂等键，接收方不会重复处理。",
        "wh.no_endpoint": "未配置外部 CRM 地址（webhook_url），不会推送。",
        "wh.status": "状态", "wh.all": "全部", "wh.show": "显示", "wh.when": "入队时间", "wh.event": "事件",
        "wh.key": "幂等键", "wh.attempts": "尝试次数", "wh.last": "最近响应", "wh.next": "下次尝试",
        "wh.delivered_at": "送达时间", "wh.resend": "重新发送", "wh.resent": "已重发 {n} 次", "wh.none": "暂无记录。",
        "wh.st.pending": "待发送", "wh.st.delivered": "已送达", "wh.st.dead": "失败",
        "wh.count.pending": "待发送 {n}", "wh.count.delivered": "已送达 {n}", "wh.count.dead": "失败 {n}",
    },
}
