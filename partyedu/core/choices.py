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
