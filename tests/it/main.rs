//! adminsh's integration tests: each one builds an app in a temp dir and runs the real binary
//! in it, as a user would.

// Table-driven tests read best whole, however many rows they have.
#![allow(clippy::too_many_lines)]

mod support;

mod architecture;
mod attack_files;
mod batches;
mod cli;
mod closed_pipes;
mod commands;
mod config;
mod console;
mod db;
mod detach;
mod errors;
mod files;
mod formats;
mod full_disk;
mod fuzz;
mod http;
mod interrupt;
mod jobs;
mod limits;
mod lines;
mod links;
mod maintenance;
mod params;
mod pause;
mod readme;
mod release;
mod remote;
mod repo;
mod scripts;
mod secrets;
mod shards;
mod ship;
mod shop;
mod special_files;
mod stdlib;
mod tables;
mod text;
mod tidy;
mod time;
mod ui;
mod values;
mod waiting;
