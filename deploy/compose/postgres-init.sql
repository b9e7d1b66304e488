-- Run once by the postgres image on an empty data volume: one database per service.
CREATE DATABASE smallbatch_inventory;
CREATE DATABASE smallbatch_recipes;
CREATE DATABASE smallbatch_batches;
CREATE DATABASE smallbatch_forecasting;
CREATE DATABASE smallbatch_integrations;
