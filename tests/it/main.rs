//! adminsh's integration tests: each one builds an app in a temp dir and runs the real binary
//! in it, as a user would.

mod support;

mod cli;
mod commands;
mod config;
mod console;
mod db;
mod errors;
mod fuzz;
mod interrupt;
mod limits;
mod maintenance;
mod params;
mod release;
mod remote;
mod scripts;
mod shop;
