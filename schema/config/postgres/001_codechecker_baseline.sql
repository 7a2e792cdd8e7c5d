-- Version 1: the config schema exactly as CodeChecker creates it on PostgreSQL at alembic
-- revision 635389f535cd (alembic_version included, so CodeChecker can open the database).

CREATE TYPE background_task_statuses AS ENUM (
    'allocated',
    'enqueued',
    'running',
    'completed',
    'failed',
    'cancelled',
    'dropped'
);

CREATE TYPE product_perms AS ENUM (
    'PRODUCT_ADMIN',
    'PRODUCT_STORE',
    'PRODUCT_ACCESS',
    'PRODUCT_VIEW'
);

CREATE TYPE sys_perms AS ENUM (
    'SUPERUSER',
    'PERMISSION_VIEW'
);

CREATE TABLE alembic_version (
    version_num character varying(32) NOT NULL
);

CREATE TABLE auth_sessions (
    id integer NOT NULL,
    user_name character varying,
    token character(32) NOT NULL,
    groups character varying,
    last_access timestamp without time zone NOT NULL,
    description character varying
);

CREATE SEQUENCE auth_sessions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE auth_sessions_id_seq OWNED BY auth_sessions.id;

CREATE TABLE background_tasks (
    machine_id character varying,
    token character(64) NOT NULL,
    kind character varying NOT NULL,
    status background_task_statuses NOT NULL,
    product_id integer,
    summary character varying NOT NULL,
    comments text,
    username character varying,
    enqueued_at timestamp without time zone,
    started_at timestamp without time zone,
    finished_at timestamp without time zone,
    last_seen_at timestamp without time zone,
    consumed boolean DEFAULT false NOT NULL,
    cancel_flag boolean DEFAULT false NOT NULL
);

CREATE TABLE oauth_sessions (
    id integer NOT NULL,
    provider character varying NOT NULL,
    state character varying NOT NULL,
    code_verifier character varying NOT NULL,
    expires_at timestamp without time zone
);

CREATE SEQUENCE oauth_sessions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE oauth_sessions_id_seq OWNED BY oauth_sessions.id;

CREATE TABLE oauth_tokens (
    id integer NOT NULL,
    access_token character varying NOT NULL,
    expires_at timestamp without time zone,
    refresh_token character varying NOT NULL,
    auth_session_id integer NOT NULL
);

CREATE SEQUENCE oauth_tokens_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE oauth_tokens_id_seq OWNED BY oauth_tokens.id;

CREATE TABLE permissions_product (
    id integer NOT NULL,
    permission product_perms,
    product_id integer NOT NULL,
    name character varying NOT NULL,
    is_group boolean NOT NULL
);

CREATE SEQUENCE permissions_product_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE permissions_product_id_seq OWNED BY permissions_product.id;

CREATE TABLE permissions_system (
    id integer NOT NULL,
    permission sys_perms,
    name character varying NOT NULL,
    is_group boolean NOT NULL
);

CREATE SEQUENCE permissions_system_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE permissions_system_id_seq OWNED BY permissions_system.id;

CREATE TABLE personal_access_tokens (
    id integer NOT NULL,
    user_name character varying,
    token_name character varying,
    token character(32) NOT NULL,
    description character varying,
    groups character varying,
    last_access timestamp without time zone NOT NULL,
    expiration timestamp without time zone,
    creation_date timestamp without time zone NOT NULL
);

CREATE SEQUENCE personal_access_tokens_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE personal_access_tokens_id_seq OWNED BY personal_access_tokens.id;

CREATE TABLE products (
    id integer NOT NULL,
    endpoint character varying NOT NULL,
    connection character varying NOT NULL,
    display_name character varying NOT NULL,
    description text,
    run_limit integer,
    is_review_status_change_disabled boolean DEFAULT false,
    latest_storage_date timestamp without time zone,
    num_of_runs integer DEFAULT 0,
    confidentiality character varying,
    report_limit integer DEFAULT 500000 NOT NULL
);

CREATE SEQUENCE products_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE products_id_seq OWNED BY products.id;

CREATE TABLE server_configurations (
    id integer NOT NULL,
    config_key character varying NOT NULL,
    config_value character varying
);

CREATE SEQUENCE server_configurations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE server_configurations_id_seq OWNED BY server_configurations.id;

ALTER TABLE ONLY auth_sessions ALTER COLUMN id SET DEFAULT nextval('auth_sessions_id_seq'::regclass);

ALTER TABLE ONLY oauth_sessions ALTER COLUMN id SET DEFAULT nextval('oauth_sessions_id_seq'::regclass);

ALTER TABLE ONLY oauth_tokens ALTER COLUMN id SET DEFAULT nextval('oauth_tokens_id_seq'::regclass);

ALTER TABLE ONLY permissions_product ALTER COLUMN id SET DEFAULT nextval('permissions_product_id_seq'::regclass);

ALTER TABLE ONLY permissions_system ALTER COLUMN id SET DEFAULT nextval('permissions_system_id_seq'::regclass);

ALTER TABLE ONLY personal_access_tokens ALTER COLUMN id SET DEFAULT nextval('personal_access_tokens_id_seq'::regclass);

ALTER TABLE ONLY products ALTER COLUMN id SET DEFAULT nextval('products_id_seq'::regclass);

ALTER TABLE ONLY server_configurations ALTER COLUMN id SET DEFAULT nextval('server_configurations_id_seq'::regclass);

ALTER TABLE ONLY alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);

ALTER TABLE ONLY auth_sessions
    ADD CONSTRAINT pk_auth_sessions PRIMARY KEY (id);

ALTER TABLE ONLY background_tasks
    ADD CONSTRAINT pk_background_tasks PRIMARY KEY (token);

ALTER TABLE ONLY oauth_sessions
    ADD CONSTRAINT pk_oauth_sessions PRIMARY KEY (id);

ALTER TABLE ONLY oauth_tokens
    ADD CONSTRAINT pk_oauth_tokens PRIMARY KEY (id);

ALTER TABLE ONLY permissions_product
    ADD CONSTRAINT pk_permissions_product PRIMARY KEY (id);

ALTER TABLE ONLY permissions_system
    ADD CONSTRAINT pk_permissions_system PRIMARY KEY (id);

ALTER TABLE ONLY personal_access_tokens
    ADD CONSTRAINT pk_personal_access_tokens PRIMARY KEY (id);

ALTER TABLE ONLY products
    ADD CONSTRAINT pk_products PRIMARY KEY (id);

ALTER TABLE ONLY server_configurations
    ADD CONSTRAINT pk_server_configurations PRIMARY KEY (id);

ALTER TABLE ONLY auth_sessions
    ADD CONSTRAINT uq_auth_sessions_token UNIQUE (token);

ALTER TABLE ONLY personal_access_tokens
    ADD CONSTRAINT uq_personal_access_tokens_token UNIQUE (token);

ALTER TABLE ONLY personal_access_tokens
    ADD CONSTRAINT uq_personal_access_tokens_user_name UNIQUE (user_name, token_name);

ALTER TABLE ONLY products
    ADD CONSTRAINT uq_products_endpoint UNIQUE (endpoint);

CREATE INDEX ix_background_tasks_kind ON background_tasks USING btree (kind);

CREATE INDEX ix_background_tasks_machine_id ON background_tasks USING btree (machine_id);

CREATE INDEX ix_background_tasks_product_id ON background_tasks USING btree (product_id);

CREATE INDEX ix_background_tasks_status ON background_tasks USING btree (status);

CREATE INDEX ix_oauth_tokens_auth_session_id ON oauth_tokens USING btree (auth_session_id);

ALTER TABLE ONLY background_tasks
    ADD CONSTRAINT fk_background_tasks_product_id_products FOREIGN KEY (product_id) REFERENCES products(id) ON DELETE CASCADE;

ALTER TABLE ONLY oauth_tokens
    ADD CONSTRAINT fk_oauth_tokens_auth_session_id_auth_sessions FOREIGN KEY (auth_session_id) REFERENCES auth_sessions(id) ON DELETE CASCADE;

ALTER TABLE ONLY permissions_product
    ADD CONSTRAINT fk_permissions_product_product_id_products FOREIGN KEY (product_id) REFERENCES products(id) ON DELETE CASCADE;

INSERT INTO alembic_version (version_num) VALUES ('635389f535cd');
