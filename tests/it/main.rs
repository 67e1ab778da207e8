//! The integration tests: one binary, a module per area.

mod cli;
mod common;
mod fixtures_sync;
mod hostile;
mod live;
mod pipeline;
mod profiles;
mod protocols;
mod real_captures;
mod sites;
