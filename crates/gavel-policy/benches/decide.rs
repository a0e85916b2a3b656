//! `decide` with policies of 10, 1,000 and 10,000 rules (mixed exact, glob, regex), beside the
//! naive baseline that tries the same rules one by one, in the same run.
//!
//!     cargo bench -p gavel-policy --bench decide

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gavel_policy::{ConnScheme, Policy, RequestFacts, Surface, Verdict};
use http::HeaderMap;

/// A policy of `n` rules: 40 % exact origins, 30 % globs, 30 % regexes.
fn policy_source(n: usize) -> String {
    let mut s = String::from("version = 1\n");
    for i in 0..n {
        let rule = match i % 10 {
            0..=3 => format!("exact = \"https://app{i}.tenant{i}.example.com\""),
            4..=6 => format!("glob = \"https://*.t{i}.example.net\""),
            _ => format!("regex = '^https://pr-[0-9]+\\.r{i}\\.example\\.org$'"),
        };
        s.push_str(&format!("[[allow]]\nname = \"r{i}\"\n{rule}\n"));
    }
    s
}

/// Origins allowed by the *last* rule of each kind (the worst case for a scan) and one denied.
fn probes(n: usize) -> Vec<(HeaderMap, Verdict)> {
    let last = |kinds: std::ops::RangeInclusive<usize>| {
        (0..n).rev().find(|i| kinds.contains(&(i % 10))).unwrap()
    };
    let origins = [
        (
            format!("https://app{0}.tenant{0}.example.com", last(0..=3)),
            Verdict::Allow,
        ),
        (
            format!("https://x.t{}.example.net", last(4..=6)),
            Verdict::Allow,
        ),
        (
            format!("https://pr-42.r{}.example.org", last(7..=9)),
            Verdict::Allow,
        ),
        ("https://nobody.example.io".to_owned(), Verdict::Deny),
    ];
    origins
        .into_iter()
        .map(|(o, v)| {
            let mut h = HeaderMap::new();
            h.insert(http::header::ORIGIN, o.parse().unwrap());
            h.insert(http::header::HOST, "api.example.io".parse().unwrap());
            (h, v)
        })
        .collect()
}

fn facts(headers: &HeaderMap) -> RequestFacts<'_> {
    RequestFacts {
        headers,
        peer: "203.0.113.5".parse::<IpAddr>().unwrap(),
        scheme: ConnScheme::Https,
        surface: Surface::Http,
        path: "/",
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("decide");
    for n in [10usize, 1_000, 10_000] {
        let policy = Policy::from_source("bench.toml", &policy_source(n)).unwrap();
        let scan = policy.scanning();
        let probes = probes(n);
        for (h, want) in &probes {
            assert_eq!(policy.decide(&facts(h)).verdict(), *want);
            assert_eq!(scan.decide(&facts(h)).verdict(), *want);
        }
        group.throughput(Throughput::Elements(probes.len() as u64));
        group.bench_with_input(BenchmarkId::new("compiled", n), &n, |b, _| {
            b.iter(|| {
                for (h, _) in &probes {
                    black_box(policy.decide_uncached(&facts(black_box(h))));
                }
            })
        });
        // As served: repeated allowed origins come from the policy's decision cache.
        group.bench_with_input(BenchmarkId::new("cached", n), &n, |b, _| {
            b.iter(|| {
                for (h, _) in &probes {
                    black_box(policy.decide(&facts(black_box(h))));
                }
            })
        });
        if n == 10_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("scan", n), &n, |b, _| {
            b.iter(|| {
                for (h, _) in &probes {
                    black_box(scan.decide(&facts(black_box(h))));
                }
            })
        });
    }
    group.finish();

    let mut load = c.benchmark_group("load");
    load.sample_size(10);
    for n in [10usize, 1_000, 10_000] {
        let source = policy_source(n);
        load.bench_with_input(BenchmarkId::new("policy", n), &source, |b, s| {
            b.iter(|| Policy::from_source("bench.toml", black_box(s)).unwrap())
        });
    }
    load.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
