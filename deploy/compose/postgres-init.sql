-- Run once by the postgres image on an empty data volume: one database per service, and the
-- gateway's own (organizations, users, refresh tokens, API keys, audit events).
CREATE DATABASE smallbatch_inventory;
CREATE DATABASE smallbatch_recipes;
CREATE DATABASE smallbatch_batches;
CREATE DATABASE smallbatch_forecasting;
CREATE DATABASE smallbatch_integrations;
CREATE DATABASE smallbatch_gateway;
