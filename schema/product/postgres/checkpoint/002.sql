-- Checkpoint of version 002: the schema the chain 001 + 002 leaves, made in one step
-- for a new (empty) database. Not a file of the chain: the supervisor applies it in one
-- transaction and records every version it covers (migrate.Checkpoint). The test
-- TestCheckpointEqualsChain keeps it equal to the chain; a new version gets a new
-- checkpoint named after it (checkpoint/NNN.sql) and this one is removed.

CREATE TYPE detection_status AS ENUM (
    'new',
    'unresolved',
    'resolved',
    'reopened',
    'off',
    'unavailable'
);

CREATE TYPE extended_data_type AS ENUM (
    'note',
    'macro',
    'fixit'
);

CREATE TYPE review_status AS ENUM (
    'unreviewed',
    'confirmed',
    'false_positive',
    'intentional'
);

CREATE TABLE alembic_version (
    version_num character varying(32) NOT NULL
);

CREATE TABLE analysis_info (
    id integer NOT NULL,
    analyzer_command bytea,
    checker_set_id integer
);

CREATE SEQUENCE analysis_info_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE analysis_info_id_seq OWNED BY analysis_info.id;

CREATE TABLE analyzer_statistics (
    id integer NOT NULL,
    run_history_id integer,
    analyzer_type character varying,
    version bytea,
    successful integer,
    failed integer,
    failed_files bytea
);

CREATE SEQUENCE analyzer_statistics_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE analyzer_statistics_id_seq OWNED BY analyzer_statistics.id;

CREATE TABLE bug_path_events (
    line_begin integer,
    col_begin integer,
    line_end integer,
    col_end integer,
    "order" integer NOT NULL,
    msg character varying,
    file_id integer,
    report_id bigint NOT NULL
);

CREATE TABLE bug_report_points (
    line_begin integer,
    col_begin integer,
    line_end integer,
    col_end integer,
    "order" integer NOT NULL,
    file_id integer,
    report_id bigint NOT NULL
);

CREATE TABLE checker_set (
    id integer NOT NULL,
    hash_digest character varying NOT NULL
);

CREATE SEQUENCE checker_set_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE checker_set_id_seq OWNED BY checker_set.id;

CREATE TABLE checker_set_items (
    checker_set_id integer NOT NULL,
    checker_id integer NOT NULL,
    enabled boolean NOT NULL
);

CREATE TABLE checkers (
    id integer NOT NULL,
    analyzer_name character varying,
    checker_name character varying,
    severity integer
);

CREATE SEQUENCE checkers_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE checkers_id_seq OWNED BY checkers.id;

CREATE TABLE cleanup_plan_report_hashes (
    cleanup_plan_id integer,
    bug_hash character varying NOT NULL
);

CREATE TABLE cleanup_plans (
    id integer NOT NULL,
    name character varying NOT NULL,
    due_date timestamp without time zone,
    description character varying,
    closed_at timestamp without time zone
);

CREATE SEQUENCE cleanup_plans_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE cleanup_plans_id_seq OWNED BY cleanup_plans.id;

CREATE TABLE comments (
    id integer NOT NULL,
    bug_hash character varying NOT NULL,
    author character varying NOT NULL,
    message bytea NOT NULL,
    created_at timestamp without time zone NOT NULL,
    kind integer DEFAULT 0 NOT NULL
);

CREATE SEQUENCE comments_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE comments_id_seq OWNED BY comments.id;

CREATE TABLE extended_report_data (
    id integer NOT NULL,
    report_id bigint NOT NULL,
    file_id integer,
    type extended_data_type,
    line_begin integer,
    col_begin integer,
    line_end integer,
    col_end integer,
    message character varying
);

CREATE SEQUENCE extended_report_data_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE extended_report_data_id_seq OWNED BY extended_report_data.id;

CREATE TABLE file_contents (
    content_hash character varying NOT NULL,
    content bytea,
    blame_info bytea
);

CREATE TABLE files (
    id integer NOT NULL,
    filepath character varying NOT NULL,
    filename character varying NOT NULL,
    content_hash character varying,
    remote_url character varying,
    tracking_branch character varying
);

CREATE SEQUENCE files_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE files_id_seq OWNED BY files.id;

CREATE TABLE filter_presets (
    id integer NOT NULL,
    preset_name character varying(100) NOT NULL,
    report_filter json NOT NULL
);

CREATE SEQUENCE filter_presets_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE filter_presets_id_seq OWNED BY filter_presets.id;

CREATE TABLE report_analysis_info (
    report_id bigint NOT NULL,
    analysis_info_id integer NOT NULL
);

CREATE TABLE report_annotations (
    report_id bigint NOT NULL,
    key character varying NOT NULL,
    value character varying NOT NULL
);

CREATE TABLE reports (
    id bigint NOT NULL,
    file_id integer,
    run_id integer,
    bug_id character varying,
    line integer,
    "column" integer,
    checker_message character varying,
    detection_status detection_status,
    detected_at timestamp without time zone NOT NULL,
    fixed_at timestamp without time zone,
    path_length integer,
    review_status review_status DEFAULT 'unreviewed'::review_status,
    review_status_author character varying,
    review_status_date timestamp without time zone,
    review_status_is_in_source boolean DEFAULT false,
    review_status_message bytea,
    checker_id integer NOT NULL
);

CREATE SEQUENCE reports_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE reports_id_seq OWNED BY reports.id;

CREATE TABLE review_statuses (
    bug_hash character varying NOT NULL,
    status review_status NOT NULL,
    author character varying NOT NULL,
    message bytea NOT NULL,
    date timestamp without time zone NOT NULL
);

CREATE TABLE run_histories (
    id integer NOT NULL,
    run_id integer,
    version_tag character varying,
    "user" character varying NOT NULL,
    "time" timestamp without time zone NOT NULL,
    cc_version character varying,
    description character varying
);

CREATE SEQUENCE run_histories_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE run_histories_id_seq OWNED BY run_histories.id;

CREATE TABLE run_history_analysis_info (
    run_history_id integer NOT NULL,
    analysis_info_id integer NOT NULL
);

CREATE TABLE run_locks (
    name character varying NOT NULL,
    locked_at timestamp without time zone NOT NULL,
    username character varying
);

CREATE TABLE runs (
    id integer NOT NULL,
    date timestamp without time zone,
    duration integer,
    name character varying,
    version character varying,
    can_delete boolean DEFAULT true NOT NULL
);

CREATE SEQUENCE runs_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE runs_id_seq OWNED BY runs.id;

CREATE TABLE source_component_files (
    source_component_name character varying NOT NULL,
    file_id integer NOT NULL
);

CREATE TABLE source_components (
    name character varying NOT NULL,
    value bytea NOT NULL,
    description text,
    username character varying
);

ALTER TABLE ONLY analysis_info ALTER COLUMN id SET DEFAULT nextval('analysis_info_id_seq'::regclass);

ALTER TABLE ONLY analyzer_statistics ALTER COLUMN id SET DEFAULT nextval('analyzer_statistics_id_seq'::regclass);

ALTER TABLE ONLY checker_set ALTER COLUMN id SET DEFAULT nextval('checker_set_id_seq'::regclass);

ALTER TABLE ONLY checkers ALTER COLUMN id SET DEFAULT nextval('checkers_id_seq'::regclass);

ALTER TABLE ONLY cleanup_plans ALTER COLUMN id SET DEFAULT nextval('cleanup_plans_id_seq'::regclass);

ALTER TABLE ONLY comments ALTER COLUMN id SET DEFAULT nextval('comments_id_seq'::regclass);

ALTER TABLE ONLY extended_report_data ALTER COLUMN id SET DEFAULT nextval('extended_report_data_id_seq'::regclass);

ALTER TABLE ONLY files ALTER COLUMN id SET DEFAULT nextval('files_id_seq'::regclass);

ALTER TABLE ONLY filter_presets ALTER COLUMN id SET DEFAULT nextval('filter_presets_id_seq'::regclass);

ALTER TABLE ONLY reports ALTER COLUMN id SET DEFAULT nextval('reports_id_seq'::regclass);

ALTER TABLE ONLY run_histories ALTER COLUMN id SET DEFAULT nextval('run_histories_id_seq'::regclass);

ALTER TABLE ONLY runs ALTER COLUMN id SET DEFAULT nextval('runs_id_seq'::regclass);

ALTER TABLE ONLY alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);

ALTER TABLE ONLY analysis_info
    ADD CONSTRAINT pk_analysis_info PRIMARY KEY (id);

ALTER TABLE ONLY analyzer_statistics
    ADD CONSTRAINT pk_analyzer_statistics PRIMARY KEY (id);

ALTER TABLE ONLY bug_path_events
    ADD CONSTRAINT pk_bug_path_events PRIMARY KEY ("order", report_id);

ALTER TABLE ONLY bug_report_points
    ADD CONSTRAINT pk_bug_report_points PRIMARY KEY ("order", report_id);

ALTER TABLE ONLY checker_set
    ADD CONSTRAINT pk_checker_set PRIMARY KEY (id);

ALTER TABLE ONLY checker_set_items
    ADD CONSTRAINT pk_checker_set_items PRIMARY KEY (checker_set_id, checker_id);

ALTER TABLE ONLY checkers
    ADD CONSTRAINT pk_checkers PRIMARY KEY (id);

ALTER TABLE ONLY cleanup_plan_report_hashes
    ADD CONSTRAINT pk_cleanup_plan_report_hashes PRIMARY KEY (bug_hash);

ALTER TABLE ONLY cleanup_plans
    ADD CONSTRAINT pk_cleanup_plans PRIMARY KEY (id);

ALTER TABLE ONLY comments
    ADD CONSTRAINT pk_comments PRIMARY KEY (id);

ALTER TABLE ONLY extended_report_data
    ADD CONSTRAINT pk_extended_report_data PRIMARY KEY (id);

ALTER TABLE ONLY file_contents
    ADD CONSTRAINT pk_file_contents PRIMARY KEY (content_hash);

ALTER TABLE ONLY files
    ADD CONSTRAINT pk_files PRIMARY KEY (id);

ALTER TABLE ONLY filter_presets
    ADD CONSTRAINT pk_filter_presets PRIMARY KEY (id);

ALTER TABLE ONLY report_analysis_info
    ADD CONSTRAINT pk_report_analysis_info PRIMARY KEY (report_id, analysis_info_id);

ALTER TABLE ONLY report_annotations
    ADD CONSTRAINT pk_report_annotations PRIMARY KEY (report_id, key);

ALTER TABLE ONLY reports
    ADD CONSTRAINT pk_reports PRIMARY KEY (id);

ALTER TABLE ONLY review_statuses
    ADD CONSTRAINT pk_review_statuses PRIMARY KEY (bug_hash);

ALTER TABLE ONLY run_histories
    ADD CONSTRAINT pk_run_histories PRIMARY KEY (id);

ALTER TABLE ONLY run_history_analysis_info
    ADD CONSTRAINT pk_run_history_analysis_info PRIMARY KEY (run_history_id, analysis_info_id);

ALTER TABLE ONLY run_locks
    ADD CONSTRAINT pk_run_locks PRIMARY KEY (name);

ALTER TABLE ONLY runs
    ADD CONSTRAINT pk_runs PRIMARY KEY (id);

ALTER TABLE ONLY source_component_files
    ADD CONSTRAINT pk_source_component_files PRIMARY KEY (source_component_name, file_id);

ALTER TABLE ONLY source_components
    ADD CONSTRAINT pk_source_components PRIMARY KEY (name);

ALTER TABLE ONLY checker_set
    ADD CONSTRAINT uq_checker_set_hash_digest UNIQUE (hash_digest);

ALTER TABLE ONLY checkers
    ADD CONSTRAINT uq_checkers_analyzer_name UNIQUE (analyzer_name, checker_name);

ALTER TABLE ONLY cleanup_plans
    ADD CONSTRAINT uq_cleanup_plans_name UNIQUE (name);

ALTER TABLE ONLY files
    ADD CONSTRAINT uq_files_filepath UNIQUE (filepath, content_hash);

ALTER TABLE ONLY filter_presets
    ADD CONSTRAINT uq_filter_presets_preset_name UNIQUE (preset_name);

ALTER TABLE ONLY run_histories
    ADD CONSTRAINT uq_run_histories_run_id UNIQUE (run_id, version_tag);

ALTER TABLE ONLY runs
    ADD CONSTRAINT uq_runs_name UNIQUE (name);

CREATE INDEX ix_analyzer_statistics_run_history_id ON analyzer_statistics USING btree (run_history_id);

CREATE INDEX ix_bug_path_events_file_id ON bug_path_events USING btree (file_id);

CREATE INDEX ix_bug_path_events_report_id ON bug_path_events USING btree (report_id);

CREATE INDEX ix_bug_report_points_file_id ON bug_report_points USING btree (file_id);

CREATE INDEX ix_bug_report_points_report_id ON bug_report_points USING btree (report_id);

CREATE INDEX ix_checkers_severity ON checkers USING btree (severity);

CREATE INDEX ix_cleanup_plan_report_hashes_cleanup_plan_id ON cleanup_plan_report_hashes USING btree (cleanup_plan_id);

CREATE INDEX ix_comments_bug_hash ON comments USING btree (bug_hash);

CREATE INDEX ix_extended_report_data_file_id ON extended_report_data USING btree (file_id);

CREATE INDEX ix_extended_report_data_report_id ON extended_report_data USING btree (report_id);

CREATE INDEX ix_files_content_hash ON files USING btree (content_hash);

CREATE INDEX ix_report_analysis_info_report_id ON report_analysis_info USING btree (report_id);

CREATE INDEX ix_report_annotations_report_id ON report_annotations USING btree (report_id);

CREATE INDEX ix_reports_bug_id ON reports USING btree (bug_id);

CREATE INDEX ix_reports_checker_id ON reports USING btree (checker_id);

CREATE INDEX ix_reports_file_id ON reports USING btree (file_id);

CREATE INDEX ix_reports_run_id ON reports USING btree (run_id);

CREATE INDEX ix_run_histories_run_id ON run_histories USING btree (run_id);

CREATE INDEX ix_run_history_analysis_info_run_history_id ON run_history_analysis_info USING btree (run_history_id);

ALTER TABLE ONLY analysis_info
    ADD CONSTRAINT fk_analysis_info_checker_set_id_checker_set FOREIGN KEY (checker_set_id) REFERENCES checker_set(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY analyzer_statistics
    ADD CONSTRAINT fk_analyzer_statistics_run_history_id_run_histories FOREIGN KEY (run_history_id) REFERENCES run_histories(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY bug_path_events
    ADD CONSTRAINT fk_bug_path_events_file_id_files FOREIGN KEY (file_id) REFERENCES files(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY bug_path_events
    ADD CONSTRAINT fk_bug_path_events_report_id_reports FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY bug_report_points
    ADD CONSTRAINT fk_bug_report_points_file_id_files FOREIGN KEY (file_id) REFERENCES files(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY bug_report_points
    ADD CONSTRAINT fk_bug_report_points_report_id_reports FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY checker_set_items
    ADD CONSTRAINT fk_checker_set_items_checker_id_checkers FOREIGN KEY (checker_id) REFERENCES checkers(id) ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY checker_set_items
    ADD CONSTRAINT fk_checker_set_items_checker_set_id_checker_set FOREIGN KEY (checker_set_id) REFERENCES checker_set(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY cleanup_plan_report_hashes
    ADD CONSTRAINT fk_cleanup_plan_report_hashes_cleanup_plan_id_cleanup_plans FOREIGN KEY (cleanup_plan_id) REFERENCES cleanup_plans(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY extended_report_data
    ADD CONSTRAINT fk_extended_report_data_file_id_files FOREIGN KEY (file_id) REFERENCES files(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY extended_report_data
    ADD CONSTRAINT fk_extended_report_data_report_id_reports FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY files
    ADD CONSTRAINT fk_files_content_hash_file_contents FOREIGN KEY (content_hash) REFERENCES file_contents(content_hash) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY report_analysis_info
    ADD CONSTRAINT fk_report_analysis_info_analysis_info_id_analysis_info FOREIGN KEY (analysis_info_id) REFERENCES analysis_info(id);

ALTER TABLE ONLY report_analysis_info
    ADD CONSTRAINT fk_report_analysis_info_report_id_reports FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY report_annotations
    ADD CONSTRAINT fk_report_annotations_report_id_reports FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE;

ALTER TABLE ONLY reports
    ADD CONSTRAINT fk_reports_checker_id_checkers FOREIGN KEY (checker_id) REFERENCES checkers(id) ON DELETE RESTRICT;

ALTER TABLE ONLY reports
    ADD CONSTRAINT fk_reports_file_id_files FOREIGN KEY (file_id) REFERENCES files(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY reports
    ADD CONSTRAINT fk_reports_run_id_runs FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY run_histories
    ADD CONSTRAINT fk_run_histories_run_id_runs FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY run_history_analysis_info
    ADD CONSTRAINT fk_run_history_analysis_info_analysis_info_id_analysis_info FOREIGN KEY (analysis_info_id) REFERENCES analysis_info(id);

ALTER TABLE ONLY run_history_analysis_info
    ADD CONSTRAINT fk_run_history_analysis_info_run_history_id_run_histories FOREIGN KEY (run_history_id) REFERENCES run_histories(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY source_component_files
    ADD CONSTRAINT fk_source_component_files_file_id_files FOREIGN KEY (file_id) REFERENCES files(id) ON DELETE CASCADE;

ALTER TABLE ONLY source_component_files
    ADD CONSTRAINT fk_source_component_files_source_component_name_source__e30b FOREIGN KEY (source_component_name) REFERENCES source_components(name) ON DELETE CASCADE;

INSERT INTO alembic_version (version_num) VALUES ('b1be74589382');

INSERT INTO checkers (id, analyzer_name, checker_name, severity) VALUES (1, '__FAKE__', '__FAKE__', 0);

INSERT INTO checkers (id, analyzer_name, checker_name, severity) VALUES (2, 'UNKNOWN', 'NOT FOUND', 0);

SELECT setval('checkers_id_seq', 2, true);

CREATE INDEX supervisor_ix_report_analysis_info_analysis_info_id ON report_analysis_info (analysis_info_id);
CREATE INDEX supervisor_ix_run_history_analysis_info_analysis_info_id ON run_history_analysis_info (analysis_info_id);
CREATE INDEX supervisor_ix_analysis_info_checker_set_id ON analysis_info (checker_set_id);
CREATE INDEX supervisor_ix_source_component_files_file_id ON source_component_files (file_id);
