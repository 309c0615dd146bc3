from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    MOVE = "move", _("移动")
    TRANSFER = "transfer", _("组织关系转接")
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGOUT = "logout", _("退出")
    LOCKOUT = "lockout", _("账号锁定")
    PASSWORD_CHANGE = "password_change", _("修改密码")
    VIEW_PII = "view_pii", _("查看敏感信息")
    EXPORT = "export", _("导出")
    IMPORT = "import", _("导入")
    GRANT = "grant", _("授权")
    REVOKE = "revoke", _("撤销授权")
    OTP_ENABLE = "otp_enable", _("启用双因素认证")
    OTP_DISABLE = "otp_disable", _("关闭双因素认证")
    OTP_RESET = "otp_reset", _("重置双因素认证")
    OTP_RECOVERY_CODES = "otp_recovery_codes", _("重新生成恢复码")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class NotificationChannel(models.TextChoices):
    """How a notification also leaves the site (the in-app centre always has it)."""

    NONE = "none", _("仅站内")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
