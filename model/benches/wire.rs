//! Parse throughput on real packets: our codec against etherparse and pnet_packet, measured
//! in the same run, then our speed as a ratio to each.
//!
//! Every codec does the same work per packet: find IP and TCP, read every header field, walk
//! every option and take the payload slice. Ours is measured three ways: the zero-copy view
//! without checksum verification (the work the other two do), the view with both checksums
//! verified (what the harness uses), and the owned `Repr`.
//!
//! Run: `cargo bench -p tcpcheck-model --bench wire`.

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput};
use tcpcheck_model::wire::{ChecksumPolicy, IpHeader, Segment, SegmentRepr, TcpOption};

/// The real packets of the seed corpus: captured from the kernel or injected into it.
fn packets() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/fuzz/segment");
    let mut names: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("corpus/fuzz/segment")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("kernel-") || name.starts_with("injected-")
        })
        .collect();
    names.sort();
    names.iter().map(|p| fs::read(p).unwrap()).collect()
}

fn ours(data: &[u8], policy: ChecksumPolicy) -> u64 {
    let Ok(seg) = Segment::parse(data, policy) else {
        return 0;
    };
    let ip = match seg.ip() {
        IpHeader::V4(ip) => u64::from(ip.ttl()) + u64::from(u32::from(ip.src_addr())),
        IpHeader::V6 { packet, .. } => {
            u64::from(packet.hop_limit()) + packet.src_addr().octets()[15] as u64
        }
    };
    let tcp = seg.tcp();
    let mut acc = ip
        + u64::from(tcp.src_port())
        + u64::from(tcp.dst_port())
        + u64::from(tcp.seq_number().0)
        + u64::from(tcp.ack_number().0)
        + u64::from(tcp.flags().bits())
        + u64::from(tcp.window())
        + u64::from(tcp.checksum())
        + u64::from(tcp.urgent_pointer())
        + tcp.payload().len() as u64;
    for option in tcp.options().flatten() {
        acc += match option {
            TcpOption::Mss(v) => u64::from(v),
            TcpOption::WindowScale(v) => u64::from(v),
            TcpOption::Timestamps { val, ecr } => u64::from(val ^ ecr),
            TcpOption::Sack(b) => u64::from(b.as_slice()[0].left.0),
            _ => 1,
        };
    }
    acc
}

fn ours_repr(data: &[u8]) -> u64 {
    SegmentRepr::parse(data).map_or(0, |r| {
        r.tcp.payload.len() as u64 + r.tcp.options.len() as u64
    })
}

fn etherparse(data: &[u8]) -> u64 {
    use etherparse::{NetSlice, SlicedPacket, TcpOptionElement as E, TransportSlice};
    let Ok(sliced) = SlicedPacket::from_ip(data) else {
        return 0;
    };
    let ip = match &sliced.net {
        Some(NetSlice::Ipv4(ip)) => {
            u64::from(ip.header().ttl()) + u64::from(u32::from(ip.header().source_addr()))
        }
        Some(NetSlice::Ipv6(ip)) => {
            u64::from(ip.header().hop_limit()) + ip.header().source_addr().octets()[15] as u64
        }
        _ => return 0,
    };
    let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
        return 0;
    };
    let flags = [
        tcp.fin(),
        tcp.syn(),
        tcp.rst(),
        tcp.psh(),
        tcp.ack(),
        tcp.urg(),
        tcp.ece(),
        tcp.cwr(),
    ]
    .iter()
    .fold(0u64, |a, &f| a * 2 + u64::from(f));
    let mut acc = ip
        + u64::from(tcp.source_port())
        + u64::from(tcp.destination_port())
        + u64::from(tcp.sequence_number())
        + u64::from(tcp.acknowledgment_number())
        + flags
        + u64::from(tcp.window_size())
        + u64::from(tcp.checksum())
        + u64::from(tcp.urgent_pointer())
        + tcp.payload().len() as u64;
    for option in tcp.options_iterator().flatten() {
        acc += match option {
            E::MaximumSegmentSize(v) => u64::from(v),
            E::WindowScale(v) => u64::from(v),
            E::Timestamp(val, ecr) => u64::from(val ^ ecr),
            E::SelectiveAcknowledgement(first, _) => u64::from(first.0),
            _ => 1,
        };
    }
    acc
}

fn pnet(data: &[u8]) -> u64 {
    use pnet_packet::ip::IpNextHeaderProtocols;
    use pnet_packet::ipv4::Ipv4Packet;
    use pnet_packet::ipv6::Ipv6Packet;
    use pnet_packet::Packet;
    match data.first().map(|b| b >> 4) {
        Some(4) => {
            let Some(ip) = Ipv4Packet::new(data) else {
                return 0;
            };
            if ip.get_next_level_protocol() != IpNextHeaderProtocols::Tcp {
                return 0;
            }
            let fields = u64::from(ip.get_ttl()) + u64::from(u32::from(ip.get_source()));
            pnet_tcp(ip.payload()).map_or(0, |tcp| tcp + fields)
        }
        Some(6) => {
            let Some(ip) = Ipv6Packet::new(data) else {
                return 0;
            };
            if ip.get_next_header() != IpNextHeaderProtocols::Tcp {
                return 0;
            }
            let fields = u64::from(ip.get_hop_limit()) + ip.get_source().octets()[15] as u64;
            pnet_tcp(ip.payload()).map_or(0, |tcp| tcp + fields)
        }
        _ => 0,
    }
}

fn pnet_tcp(payload: &[u8]) -> Option<u64> {
    use pnet_packet::tcp::{TcpOptionNumbers, TcpPacket};
    use pnet_packet::Packet;
    let tcp = TcpPacket::new(payload)?;
    let mut acc = u64::from(tcp.get_source())
        + u64::from(tcp.get_destination())
        + u64::from(tcp.get_sequence())
        + u64::from(tcp.get_acknowledgement())
        + u64::from(tcp.get_flags())
        + u64::from(tcp.get_window())
        + u64::from(tcp.get_checksum())
        + u64::from(tcp.get_urgent_ptr())
        + tcp.payload().len() as u64;
    for option in tcp.get_options_iter() {
        let number = option.get_number();
        if number == TcpOptionNumbers::EOL {
            break;
        }
        acc += option.payload().iter().map(|&b| u64::from(b)).sum::<u64>() + u64::from(number.0);
    }
    Some(acc)
}

const CODECS: [&str; 5] = [
    "ours-view",
    "ours-view-checksums",
    "ours-repr",
    "etherparse",
    "pnet_packet",
];

fn run(c: &mut Criterion, packets: &[Vec<u8>]) {
    let bytes: usize = packets.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(packets.len() as u64));
    let each = |f: fn(&[u8]) -> u64| move || packets.iter().map(|p| f(black_box(p))).sum::<u64>();
    group.bench_function(CODECS[0], |b| {
        b.iter(each(|p| ours(p, ChecksumPolicy::Accept)))
    });
    group.bench_function(CODECS[1], |b| {
        b.iter(each(|p| ours(p, ChecksumPolicy::Verify)))
    });
    group.bench_function(CODECS[2], |b| b.iter(each(ours_repr)));
    group.bench_function(CODECS[3], |b| b.iter(each(etherparse)));
    group.bench_function(CODECS[4], |b| b.iter(each(pnet)));
    group.finish();
    eprintln!("mix: {} packets, {} bytes", packets.len(), bytes);
}

/// Criterion's mean estimate for one benchmark of this run, in nanoseconds per iteration.
fn mean_ns(dir: &Path, name: &str) -> Option<f64> {
    let json = fs::read_to_string(dir.join("parse").join(name).join("new/estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&json).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn main() {
    let packets = packets();
    assert!(
        packets.len() >= 20,
        "the seed corpus holds the real packets this bench parses"
    );
    // Sanity: every codec finds TCP in every packet, so none wins by bailing out early.
    for p in &packets {
        assert!(ours(p, ChecksumPolicy::Verify) > 0 && etherparse(p) > 0 && pnet(p) > 0);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("criterion");
    let mut c = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();
    run(&mut c, &packets);
    c.final_summary();

    let means: Vec<Option<f64>> = CODECS.iter().map(|n| mean_ns(&dir, n)).collect();
    let n = packets.len() as f64;
    println!("\nper packet (mean of {} real packets):", packets.len());
    for (name, mean) in CODECS.iter().zip(&means) {
        if let Some(m) = mean {
            println!("  {name:<22} {:>8.1} ns", m / n);
        }
    }
    println!("speed ratio, theirs / ours (above 1.00: ours is faster):");
    for ours_idx in 0..3 {
        for theirs_idx in 3..5 {
            if let (Some(o), Some(t)) = (means[ours_idx], means[theirs_idx]) {
                println!(
                    "  {:<22} vs {:<12} {:>5.2}x",
                    CODECS[ours_idx],
                    CODECS[theirs_idx],
                    t / o
                );
            }
        }
    }
}
