"""On PostgreSQL the audit log cannot be emptied by TRUNCATE either (row triggers do not fire
for TRUNCATE, so ``manage.py flush`` or a stray TRUNCATE would silently erase it).

Only a session that has set ``partyedu.audit_maintenance = 'on'`` may truncate it: the test suite
sets it on its own throwaway database, because Django empties tables between transactional tests
with TRUNCATE. A production database never has it set."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION core_auditlog_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('partyedu.audit_maintenance', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit log cannot be truncated';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditlog_no_truncate BEFORE TRUNCATE ON core_auditlog
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditlog_no_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS core_auditlog_no_truncate ON core_auditlog;
DROP FUNCTION IF EXISTS core_auditlog_no_truncate();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_action_two_factor")]
    operations = [migrations.RunPython(forwards, backwards)]
