//! Prints every flow of a capture, one line each (a debugging aid).
use egresswatch::capture::merge::Merge;
use egresswatch::engine::{Engine, EngineConfig};
use egresswatch::flow::{EndReason, Flow, FlowSink};

struct Print;
impl FlowSink for Print {
    fn flow_ended(&mut self, f: &Flow, why: EndReason) {
        println!(
            "{:?} {}:{} -> {}:{} proto {} pkts {:?} first {:?} {:?}",
            why,
            f.client_ip(),
            f.client.port,
            f.server_ip(),
            f.server.port,
            f.proto(),
            f.packets,
            f.first_frame,
            f.tcp
        );
    }
}

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let mut merge = Merge::open(&paths).expect("open");
    let mut cfg = EngineConfig::default();
    if std::env::var_os("NO_TIMEOUTS").is_some() {
        cfg.flow.tcp_idle = i64::MAX / 4;
        cfg.flow.udp_idle = i64::MAX / 4;
        cfg.flow.other_idle = i64::MAX / 4;
    }
    let mut engine = Engine::new(cfg);
    while let Some(frame) = merge.next_frame() {
        engine.process(&frame);
    }
    engine.flows.drain(&mut Print);
}
