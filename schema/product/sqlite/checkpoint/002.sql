-- Checkpoint of version 002: the schema the chain 001 + 002 leaves, made in one step
-- for a new (empty) database. Not a file of the chain: the supervisor applies it in one
-- transaction and records every version it covers (migrate.Checkpoint). The test
-- TestCheckpointEqualsChain keeps it equal to the chain; a new version gets a new
-- checkpoint named after it (checkpoint/NNN.sql) and this one is removed.

CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

CREATE TABLE comments (
	id INTEGER NOT NULL, 
	bug_hash VARCHAR NOT NULL, 
	author VARCHAR NOT NULL, 
	message BLOB NOT NULL, 
	created_at DATETIME NOT NULL, kind INTEGER DEFAULT '0' NOT NULL, 
	CONSTRAINT pk_comments PRIMARY KEY (id)
);

CREATE INDEX ix_comments_bug_hash ON comments (bug_hash);

CREATE TABLE file_contents (
	content_hash VARCHAR NOT NULL, 
	content BLOB, blame_info BLOB, 
	CONSTRAINT pk_file_contents PRIMARY KEY (content_hash)
);

CREATE TABLE review_statuses (
	bug_hash VARCHAR NOT NULL, 
	status VARCHAR(14) NOT NULL, 
	author VARCHAR NOT NULL, 
	message BLOB NOT NULL, 
	date DATETIME NOT NULL, 
	CONSTRAINT pk_review_statuses PRIMARY KEY (bug_hash)
);

CREATE TABLE runs (
	id INTEGER NOT NULL, 
	date DATETIME, 
	duration INTEGER, 
	name VARCHAR, 
	version VARCHAR, 
	can_delete BOOLEAN DEFAULT (1) NOT NULL, 
	CONSTRAINT pk_runs PRIMARY KEY (id), 
	CONSTRAINT uq_runs_name UNIQUE (name)
);

CREATE TABLE files (
	id INTEGER NOT NULL, 
	filepath VARCHAR NOT NULL, 
	filename VARCHAR NOT NULL, 
	content_hash VARCHAR, remote_url VARCHAR, tracking_branch VARCHAR, 
	CONSTRAINT pk_files PRIMARY KEY (id), 
	CONSTRAINT fk_files_content_hash_file_contents FOREIGN KEY(content_hash) REFERENCES file_contents (content_hash) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, 
	CONSTRAINT uq_files_filepath UNIQUE (filepath, content_hash)
);

CREATE TABLE run_histories (
	id INTEGER NOT NULL, 
	run_id INTEGER, 
	version_tag VARCHAR, 
	user VARCHAR NOT NULL, 
	time DATETIME NOT NULL, cc_version VARCHAR, description VARCHAR, 
	CONSTRAINT pk_run_histories PRIMARY KEY (id), 
	CONSTRAINT fk_run_histories_run_id_runs FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, 
	CONSTRAINT uq_run_histories_run_id UNIQUE (run_id, version_tag)
);

CREATE INDEX ix_run_histories_run_id ON run_histories (run_id);

CREATE TABLE bug_path_events (
	line_begin INTEGER, 
	col_begin INTEGER, 
	line_end INTEGER, 
	col_end INTEGER, 
	"order" INTEGER NOT NULL, 
	msg VARCHAR, 
	file_id INTEGER, 
	report_id INTEGER NOT NULL, 
	CONSTRAINT pk_bug_path_events PRIMARY KEY ("order", report_id), 
	CONSTRAINT fk_bug_path_events_file_id_files FOREIGN KEY(file_id) REFERENCES files (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, 
	CONSTRAINT fk_bug_path_events_report_id_reports FOREIGN KEY(report_id) REFERENCES reports (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_bug_path_events_file_id ON bug_path_events (file_id);

CREATE TABLE bug_report_points (
	line_begin INTEGER, 
	col_begin INTEGER, 
	line_end INTEGER, 
	col_end INTEGER, 
	"order" INTEGER NOT NULL, 
	file_id INTEGER, 
	report_id INTEGER NOT NULL, 
	CONSTRAINT pk_bug_report_points PRIMARY KEY ("order", report_id), 
	CONSTRAINT fk_bug_report_points_file_id_files FOREIGN KEY(file_id) REFERENCES files (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, 
	CONSTRAINT fk_bug_report_points_report_id_reports FOREIGN KEY(report_id) REFERENCES reports (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_bug_report_points_file_id ON bug_report_points (file_id);

CREATE TABLE run_locks (
	name VARCHAR NOT NULL, 
	locked_at DATETIME NOT NULL, 
	username VARCHAR, 
	CONSTRAINT pk_run_locks PRIMARY KEY (name)
);

CREATE INDEX ix_bug_path_events_report_id ON bug_path_events (report_id);

CREATE INDEX ix_bug_report_points_report_id ON bug_report_points (report_id);

CREATE TABLE source_components (
	name VARCHAR NOT NULL, 
	value BLOB NOT NULL, 
	description TEXT, 
	username VARCHAR, 
	CONSTRAINT pk_source_components PRIMARY KEY (name)
);

CREATE TABLE analyzer_statistics (
	id INTEGER NOT NULL, 
	run_history_id INTEGER, 
	analyzer_type VARCHAR, 
	version BLOB, 
	successful INTEGER, 
	failed INTEGER, 
	failed_files BLOB, 
	CONSTRAINT pk_analyzer_statistics PRIMARY KEY (id), 
	CONSTRAINT fk_analyzer_statistics_run_history_id_run_histories FOREIGN KEY(run_history_id) REFERENCES run_histories (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_analyzer_statistics_run_history_id ON analyzer_statistics (run_history_id);

CREATE TABLE extended_report_data (
	id INTEGER NOT NULL, 
	report_id INTEGER NOT NULL, 
	file_id INTEGER, 
	type VARCHAR(5), 
	line_begin INTEGER, 
	col_begin INTEGER, 
	line_end INTEGER, 
	col_end INTEGER, 
	message VARCHAR, 
	CONSTRAINT pk_extended_report_data PRIMARY KEY (id), 
	CONSTRAINT fk_extended_report_data_file_id_files FOREIGN KEY(file_id) REFERENCES files (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, 
	CONSTRAINT fk_extended_report_data_report_id_reports FOREIGN KEY(report_id) REFERENCES reports (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_extended_report_data_file_id ON extended_report_data (file_id);

CREATE INDEX ix_extended_report_data_report_id ON extended_report_data (report_id);

CREATE INDEX ix_files_content_hash ON files (content_hash);

CREATE TABLE analysis_info (
	id INTEGER NOT NULL, 
	analyzer_command BLOB, checker_set_id INTEGER, 
	CONSTRAINT pk_analysis_info PRIMARY KEY (id)
);

CREATE TABLE cleanup_plans (
	id INTEGER NOT NULL, 
	name VARCHAR NOT NULL, 
	due_date DATETIME, 
	description VARCHAR, 
	closed_at DATETIME, 
	CONSTRAINT pk_cleanup_plans PRIMARY KEY (id), 
	CONSTRAINT uq_cleanup_plans_name UNIQUE (name)
);

CREATE TABLE cleanup_plan_report_hashes (
	cleanup_plan_id INTEGER, 
	bug_hash VARCHAR NOT NULL, 
	CONSTRAINT pk_cleanup_plan_report_hashes PRIMARY KEY (bug_hash), 
	CONSTRAINT fk_cleanup_plan_report_hashes_cleanup_plan_id_cleanup_plans FOREIGN KEY(cleanup_plan_id) REFERENCES cleanup_plans (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_cleanup_plan_report_hashes_cleanup_plan_id ON cleanup_plan_report_hashes (cleanup_plan_id);

CREATE TABLE reports (
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

CREATE INDEX ix_reports_bug_id ON reports (bug_id);

CREATE INDEX ix_reports_file_id ON reports (file_id);

CREATE INDEX ix_reports_run_id ON reports (run_id);

CREATE TABLE report_annotations (
	report_id INTEGER NOT NULL, 
	"key" VARCHAR NOT NULL, 
	value VARCHAR NOT NULL, 
	CONSTRAINT pk_report_annotations PRIMARY KEY (report_id, "key"), 
	CONSTRAINT fk_report_annotations_report_id_reports FOREIGN KEY(report_id) REFERENCES reports (id) ON DELETE CASCADE
);

CREATE INDEX ix_report_annotations_report_id ON report_annotations (report_id);

CREATE TABLE checkers (
	id INTEGER NOT NULL, 
	analyzer_name VARCHAR, 
	checker_name VARCHAR, 
	severity INTEGER, 
	CONSTRAINT pk_checkers PRIMARY KEY (id), 
	CONSTRAINT uq_checkers_analyzer_name UNIQUE (analyzer_name, checker_name)
);

CREATE INDEX ix_checkers_severity ON checkers (severity);

CREATE INDEX ix_reports_checker_id ON reports (checker_id);

CREATE TABLE source_component_files (
	source_component_name VARCHAR NOT NULL, 
	file_id INTEGER NOT NULL, 
	CONSTRAINT pk_source_component_files PRIMARY KEY (source_component_name, file_id), 
	CONSTRAINT fk_source_component_files_file_id_files FOREIGN KEY(file_id) REFERENCES files (id) ON DELETE CASCADE, 
	CONSTRAINT fk_source_component_files_source_component_name_source_components FOREIGN KEY(source_component_name) REFERENCES source_components (name) ON DELETE CASCADE
);

CREATE TABLE filter_presets (
	id INTEGER NOT NULL, 
	preset_name VARCHAR(100) NOT NULL, 
	report_filter JSON NOT NULL, 
	CONSTRAINT pk_filter_presets PRIMARY KEY (id), 
	CONSTRAINT uq_filter_presets_preset_name UNIQUE (preset_name)
);

CREATE TABLE "report_analysis_info" (
	report_id INTEGER NOT NULL, 
	analysis_info_id INTEGER NOT NULL, 
	CONSTRAINT pk_report_analysis_info PRIMARY KEY (report_id, analysis_info_id), 
	CONSTRAINT fk_report_analysis_info_analysis_info_id_analysis_info FOREIGN KEY(analysis_info_id) REFERENCES analysis_info (id), 
	CONSTRAINT fk_report_analysis_info_report_id_reports FOREIGN KEY(report_id) REFERENCES reports (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_report_analysis_info_report_id ON report_analysis_info (report_id);

CREATE TABLE "run_history_analysis_info" (
	run_history_id INTEGER NOT NULL, 
	analysis_info_id INTEGER NOT NULL, 
	CONSTRAINT pk_run_history_analysis_info PRIMARY KEY (run_history_id, analysis_info_id), 
	CONSTRAINT fk_run_history_analysis_info_run_history_id_run_histories FOREIGN KEY(run_history_id) REFERENCES run_histories (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, 
	CONSTRAINT fk_run_history_analysis_info_analysis_info_id_analysis_info FOREIGN KEY(analysis_info_id) REFERENCES analysis_info (id)
);

CREATE INDEX ix_run_history_analysis_info_run_history_id ON run_history_analysis_info (run_history_id);

CREATE TABLE checker_set (
	id INTEGER NOT NULL, 
	hash_digest VARCHAR NOT NULL, 
	CONSTRAINT pk_checker_set PRIMARY KEY (id), 
	CONSTRAINT uq_checker_set_hash_digest UNIQUE (hash_digest)
);

CREATE TABLE checker_set_items (
	checker_set_id INTEGER NOT NULL, 
	checker_id INTEGER NOT NULL, 
	enabled BOOLEAN NOT NULL, 
	CONSTRAINT pk_checker_set_items PRIMARY KEY (checker_set_id, checker_id), 
	CONSTRAINT fk_checker_set_items_checker_id_checkers FOREIGN KEY(checker_id) REFERENCES checkers (id) ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED, 
	CONSTRAINT fk_checker_set_items_checker_set_id_checker_set FOREIGN KEY(checker_set_id) REFERENCES checker_set (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

INSERT INTO alembic_version (version_num) VALUES ('b1be74589382');

INSERT INTO checkers (id, analyzer_name, checker_name, severity) VALUES (1, '__FAKE__', '__FAKE__', 0);

INSERT INTO checkers (id, analyzer_name, checker_name, severity) VALUES (2, 'UNKNOWN', 'NOT FOUND', 0);

CREATE INDEX supervisor_ix_report_analysis_info_analysis_info_id ON report_analysis_info (analysis_info_id);
CREATE INDEX supervisor_ix_run_history_analysis_info_analysis_info_id ON run_history_analysis_info (analysis_info_id);
CREATE INDEX supervisor_ix_analysis_info_checker_set_id ON analysis_info (checker_set_id);
CREATE INDEX supervisor_ix_source_component_files_file_id ON source_component_files (file_id);
