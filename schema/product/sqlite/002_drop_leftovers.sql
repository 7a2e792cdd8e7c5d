-- Version 2: rebuild the tables that still carry columns CodeChecker moved or stopped
-- using long ago (SQLite never dropped them): reports loses checker_name_MOVED_TO_checkers,
-- checker_cat_UNUSED, bug_type_UNUSED, severity_MOVED_TO_checkers and
-- analyzer_name_MOVED_TO_checkers; runs loses command; run_histories loses check_command.
-- CodeChecker's models map none of them, so it still reads the result.
--
-- This runs inside atlas's sqlite.OpenTx: foreign keys are off while the tables are
-- swapped (so dropping a parent does not cascade into its children) and
-- PRAGMA foreign_key_check must report nothing new before the commit.
--
-- It also adds the indexes garbage collection needs to find unused analysis_info,
-- checker_set and files rows without scanning the link tables once per row.

CREATE TABLE new_runs (
	id INTEGER NOT NULL, 
	date DATETIME, 
	duration INTEGER, 
	name VARCHAR, 
	version VARCHAR, 
	can_delete BOOLEAN DEFAULT (1) NOT NULL, 
	CONSTRAINT pk_runs PRIMARY KEY (id), 
	CONSTRAINT uq_runs_name UNIQUE (name)
);
INSERT INTO new_runs (id, date, duration, name, version, can_delete)
	SELECT id, date, duration, name, version, can_delete FROM runs;
DROP TABLE runs;
ALTER TABLE new_runs RENAME TO runs;

CREATE TABLE new_run_histories (
	id INTEGER NOT NULL, 
	run_id INTEGER, 
	version_tag VARCHAR, 
	user VARCHAR NOT NULL, 
	time DATETIME NOT NULL, cc_version VARCHAR, description VARCHAR, 
	CONSTRAINT pk_run_histories PRIMARY KEY (id), 
	CONSTRAINT fk_run_histories_run_id_runs FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, 
	CONSTRAINT uq_run_histories_run_id UNIQUE (run_id, version_tag)
);
INSERT INTO new_run_histories (id, run_id, version_tag, user, time, cc_version, description)
	SELECT id, run_id, version_tag, user, time, cc_version, description FROM run_histories;
DROP TABLE run_histories;
ALTER TABLE new_run_histories RENAME TO run_histories;
CREATE INDEX ix_run_histories_run_id ON run_histories (run_id);

CREATE TABLE new_reports (
	id INTEGER NOT NULL, 
	file_id INTEGER, 
	run_id INTEGER, 
	bug_id VARCHAR, 
	line INTEGER, 
	"column" INTEGER, 
	checker_message VARCHAR, 
	detection_status VARCHAR(11), 
	detected_at DATETIME NOT NULL, 
	fixed_at DATETIME, 
	path_length INTEGER, 
	review_status VARCHAR(14) DEFAULT 'unreviewed', 
	review_status_author VARCHAR, 
	review_status_date DATETIME, 
	review_status_is_in_source BOOLEAN DEFAULT (0), 
	review_status_message BLOB, checker_id INTEGER DEFAULT '1' NOT NULL, 
	CONSTRAINT pk_reports PRIMARY KEY (id), 
	CONSTRAINT fk_reports_file_id_files FOREIGN KEY(file_id) REFERENCES files (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, 
	CONSTRAINT fk_reports_run_id_runs FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO new_reports (id, file_id, run_id, bug_id, line, "column", checker_message,
		detection_status, detected_at, fixed_at, path_length, review_status,
		review_status_author, review_status_date, review_status_is_in_source,
		review_status_message, checker_id)
	SELECT id, file_id, run_id, bug_id, line, "column", checker_message,
		detection_status, detected_at, fixed_at, path_length, review_status,
		review_status_author, review_status_date, review_status_is_in_source,
		review_status_message, checker_id FROM reports;
DROP TABLE reports;
ALTER TABLE new_reports RENAME TO reports;
CREATE INDEX ix_reports_bug_id ON reports (bug_id);
CREATE INDEX ix_reports_file_id ON reports (file_id);
CREATE INDEX ix_reports_run_id ON reports (run_id);
CREATE INDEX ix_reports_checker_id ON reports (checker_id);

CREATE INDEX supervisor_ix_report_analysis_info_analysis_info_id ON report_analysis_info (analysis_info_id);
CREATE INDEX supervisor_ix_run_history_analysis_info_analysis_info_id ON run_history_analysis_info (analysis_info_id);
CREATE INDEX supervisor_ix_analysis_info_checker_set_id ON analysis_info (checker_set_id);
CREATE INDEX supervisor_ix_source_component_files_file_id ON source_component_files (file_id);
