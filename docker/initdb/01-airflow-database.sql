-- Airflow's metadata lives next to the warehouse, in its own database.
create database airflow;
