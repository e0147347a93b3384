-- The audit log and the kept file versions are history: the database itself refuses to change or delete them,
-- whatever a future route (or a hand-typed `wrangler d1 execute`) tries.
CREATE TRIGGER audit_log_is_append_only_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_is_append_only_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER submission_versions_are_kept_update BEFORE UPDATE ON submission_versions
BEGIN
  SELECT RAISE(ABORT, 'submission_versions is append-only');
END;
CREATE TRIGGER submission_versions_are_kept_delete BEFORE DELETE ON submission_versions
BEGIN
  SELECT RAISE(ABORT, 'submission_versions is append-only');
END;
