-- Version 2: PostgreSQL never kept CodeChecker's leftover columns (SQLite's version 2
-- rebuilds tables to drop them), so here only the indexes garbage collection needs are
-- added: without them, finding and deleting unused analysis_info, checker_set and files rows
-- scans the link tables once per row (and so does every foreign-key check on delete).
-- Additive only: CodeChecker at its head reads the database unchanged.

CREATE INDEX supervisor_ix_report_analysis_info_analysis_info_id ON report_analysis_info (analysis_info_id);
CREATE INDEX supervisor_ix_run_history_analysis_info_analysis_info_id ON run_history_analysis_info (analysis_info_id);
CREATE INDEX supervisor_ix_analysis_info_checker_set_id ON analysis_info (checker_set_id);
CREATE INDEX supervisor_ix_source_component_files_file_id ON source_component_files (file_id);
