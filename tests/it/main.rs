//! The integration tests: one binary, a module per area.

mod cli;
mod common;
mod fixtures_sync;
mod floods;
mod fuzz_smoke;
mod hostile;
mod learn;
mod live;
mod pipeline;
mod profiles;
mod protocols;
mod real_captures;
mod sites;
mod tui;
