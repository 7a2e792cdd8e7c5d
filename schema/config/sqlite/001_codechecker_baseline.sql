-- Version 1: the config schema exactly as CodeChecker creates it on SQLite at alembic
-- revision 635389f535cd (alembic_version included, so CodeChecker can open the database).

CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

CREATE TABLE auth_sessions (
	id INTEGER NOT NULL, 
	user_name VARCHAR, 
	token CHAR(32) NOT NULL, 
	groups VARCHAR, 
	last_access DATETIME NOT NULL, 
	description VARCHAR, 
	"can_expire_UNUSED" BOOLEAN DEFAULT (1), 
	CONSTRAINT pk_auth_sessions PRIMARY KEY (id), 
	CONSTRAINT uq_auth_sessions_token UNIQUE (token)
);

CREATE TABLE "products" (
	id INTEGER NOT NULL, 
	endpoint VARCHAR NOT NULL, 
	connection VARCHAR NOT NULL, 
	display_name VARCHAR NOT NULL, 
	description TEXT, 
	run_limit INTEGER, 
	is_review_status_change_disabled BOOLEAN DEFAULT (0), latest_storage_date DATETIME, num_of_runs INTEGER DEFAULT '0', confidentiality VARCHAR, report_limit INTEGER DEFAULT '500000' NOT NULL, 
	CONSTRAINT pk_products PRIMARY KEY (id), 
	CONSTRAINT uq_products_endpoint UNIQUE (endpoint)
);

CREATE TABLE server_configurations (
	id INTEGER NOT NULL, 
	config_key VARCHAR NOT NULL, 
	config_value VARCHAR, 
	CONSTRAINT pk_server_configurations PRIMARY KEY (id)
);

CREATE TABLE "permissions_product" (
	id INTEGER NOT NULL, 
	permission VARCHAR(14), 
	product_id INTEGER NOT NULL, 
	name VARCHAR NOT NULL, 
	is_group BOOLEAN NOT NULL, 
	CONSTRAINT pk_permissions_product PRIMARY KEY (id), 
	CONSTRAINT fk_permissions_product_product_id_products FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE CASCADE NOT DEFERRABLE INITIALLY IMMEDIATE
);

CREATE TABLE "permissions_system" (
	id INTEGER NOT NULL, 
	permission VARCHAR(15), 
	name VARCHAR NOT NULL, 
	is_group BOOLEAN NOT NULL, 
	CONSTRAINT pk_permissions_system PRIMARY KEY (id)
);

CREATE TABLE oauth_sessions (
	id INTEGER NOT NULL, 
	provider VARCHAR NOT NULL, 
	state VARCHAR NOT NULL, 
	code_verifier VARCHAR NOT NULL, 
	expires_at DATETIME, 
	CONSTRAINT pk_oauth_sessions PRIMARY KEY (id)
);

CREATE TABLE oauth_tokens (
	id INTEGER NOT NULL, 
	access_token VARCHAR NOT NULL, 
	expires_at DATETIME, 
	refresh_token VARCHAR NOT NULL, 
	auth_session_id INTEGER NOT NULL, 
	CONSTRAINT pk_oauth_tokens PRIMARY KEY (id), 
	CONSTRAINT fk_oauth_tokens_auth_session_id_auth_sessions FOREIGN KEY(auth_session_id) REFERENCES auth_sessions (id) ON DELETE CASCADE
);

CREATE TABLE background_tasks (
	machine_id VARCHAR, 
	token CHAR(64) NOT NULL, 
	kind VARCHAR NOT NULL, 
	status VARCHAR(9) NOT NULL, 
	product_id INTEGER, 
	summary VARCHAR NOT NULL, 
	comments TEXT, 
	username VARCHAR, 
	enqueued_at DATETIME, 
	started_at DATETIME, 
	finished_at DATETIME, 
	last_seen_at DATETIME, 
	consumed BOOLEAN DEFAULT (0) NOT NULL, 
	cancel_flag BOOLEAN DEFAULT (0) NOT NULL, 
	CONSTRAINT pk_background_tasks PRIMARY KEY (token), 
	CONSTRAINT fk_background_tasks_product_id_products FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE CASCADE NOT DEFERRABLE INITIALLY IMMEDIATE
);

CREATE INDEX ix_background_tasks_kind ON background_tasks (kind);

CREATE INDEX ix_background_tasks_machine_id ON background_tasks (machine_id);

CREATE INDEX ix_background_tasks_product_id ON background_tasks (product_id);

CREATE INDEX ix_background_tasks_status ON background_tasks (status);

CREATE TABLE "personal_access_tokens" (
	id INTEGER NOT NULL, 
	user_name VARCHAR, 
	token_name VARCHAR, 
	token CHAR(32) NOT NULL, 
	description VARCHAR, 
	groups VARCHAR, 
	last_access DATETIME NOT NULL, 
	expiration DATETIME, 
	creation_date DATETIME NOT NULL, 
	CONSTRAINT pk_personal_access_tokens PRIMARY KEY (id), 
	CONSTRAINT uq_personal_access_tokens_user_name UNIQUE (user_name, token_name), 
	CONSTRAINT uq_personal_access_tokens_token UNIQUE (token)
);

CREATE INDEX ix_oauth_tokens_auth_session_id ON oauth_tokens (auth_session_id);

INSERT INTO alembic_version (version_num) VALUES ('635389f535cd');
