-- Run once, when the PostgreSQL data folder is initialised: one database per service that owns data.
CREATE DATABASE product_db;
CREATE DATABASE recommendation_db;
CREATE DATABASE auth_db;
