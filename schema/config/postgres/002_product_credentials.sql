-- Version 2: where a product's PostgreSQL password comes from. We never store a
-- password: only the name of the environment variable that holds it. A table of its
-- own (rather than a column of products) keeps CodeChecker's products table as its
-- models expect; a row goes with its product (ON DELETE CASCADE).

CREATE TABLE supervisor_product_credentials (
    product_id integer NOT NULL,
    password_env character varying NOT NULL,
    CONSTRAINT pk_supervisor_product_credentials PRIMARY KEY (product_id),
    CONSTRAINT fk_supervisor_product_credentials_product_id_products FOREIGN KEY (product_id) REFERENCES products(id) ON DELETE CASCADE
);
