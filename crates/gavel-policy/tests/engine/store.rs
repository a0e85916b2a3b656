//! The policy store: atomic swaps, refused reloads keep the last good policy.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gavel_policy::{
    ConnScheme, Policy, PolicyStore, ReloadOutcome, RequestFacts, Surface, Verdict,
};
use http::HeaderMap;

fn policy_allowing(origin: &str) -> String {
    format!(
        "version = 1\n[[allow]]\nname = \"frontend\"\nexact = \"{origin}\"\n[[expect]]\norigin = \"{origin}\"\nverdict = \"allow\"\n"
    )
}

fn verdict(store: &PolicyStore, origin: &str) -> Verdict {
    verdict_of(&store.current(), origin)
}

fn verdict_of(policy: &Policy, origin: &str) -> Verdict {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::ORIGIN, origin.parse().unwrap());
    policy
        .decide(&RequestFacts {
            headers: &headers,
            peer: "203.0.113.1".parse().unwrap(),
            scheme: ConnScheme::Https,
            surface: Surface::Http,
            path: "/",
        })
        .verdict()
}

#[test]
fn reload_activates_changed_content_and_skips_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, policy_allowing("https://a.example")).unwrap();
    let store = PolicyStore::open(&file).unwrap();
    let first = store.status();
    assert!(first.version.starts_with("1-"), "{}", first.version);
    assert_eq!(verdict(&store, "https://a.example"), Verdict::Allow);

    assert_eq!(
        store.reload().unwrap(),
        ReloadOutcome::Unchanged(first.version.clone())
    );
    assert_eq!(store.status().activations, 1);

    std::fs::write(&file, policy_allowing("https://b.example")).unwrap();
    let ReloadOutcome::Activated(version) = store.reload().unwrap() else {
        panic!("expected an activation")
    };
    assert!(version.starts_with("2-"), "{version}");
    assert_ne!(store.status().sha256, first.sha256);
    assert_eq!(verdict(&store, "https://a.example"), Verdict::Deny);
    assert_eq!(verdict(&store, "https://b.example"), Verdict::Allow);
}

#[test]
fn refused_reloads_keep_the_last_good_policy_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, policy_allowing("https://a.example")).unwrap();
    let store = PolicyStore::open(&file).unwrap();
    let good = store.status().version;

    // A syntax error.
    std::fs::write(
        &file,
        "version = 1\n[[allow]]\nexact = \"https://b.example/\"\n",
    )
    .unwrap();
    let err = store.reload().unwrap_err().to_string();
    assert!(
        err.contains("policy.toml:3:9: error: an origin has no path"),
        "{err}"
    );
    let status = store.status();
    assert_eq!(status.version, good);
    assert_eq!(status.failures, 1);
    assert!(
        status
            .last_error
            .unwrap()
            .error
            .to_string()
            .contains(":3:9:")
    );
    assert_eq!(verdict(&store, "https://a.example"), Verdict::Allow);

    // A guard-rail violation: valid TOML whose own expectation fails.
    std::fs::write(
        &file,
        "version = 1\n[[allow]]\nexact = \"https://b.example\"\n[[expect]]\norigin = \"https://a.example\"\nverdict = \"allow\"\n",
    )
    .unwrap();
    let err = store.reload().unwrap_err().to_string();
    assert!(err.contains("guard rail failed"), "{err}");
    assert_eq!(store.status().version, good);
    assert_eq!(store.status().failures, 2);
    assert_eq!(verdict(&store, "https://a.example"), Verdict::Allow);

    // A missing file.
    std::fs::remove_file(&file).unwrap();
    assert!(store.reload().is_err());
    assert_eq!(verdict(&store, "https://a.example"), Verdict::Allow);

    // A good file again clears the error.
    std::fs::write(&file, policy_allowing("https://c.example")).unwrap();
    assert!(matches!(store.reload(), Ok(ReloadOutcome::Activated(_))));
    assert!(store.status().last_error.is_none());
}

#[test]
fn an_invalid_policy_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, "version = 1\n[cors]\nbogus = 1\n").unwrap();
    let err = PolicyStore::open(&file).err().expect("refused").to_string();
    assert!(
        err.contains("policy.toml:3:1: error: unknown field `bogus`"),
        "{err}"
    );
}

/// Readers deciding while 50 reloads swap between two policies only ever see one of the two
/// policies' verdicts, never an error or a half policy.
#[test]
fn readers_see_whole_policies_during_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    let a = policy_allowing("https://a.example");
    let b = policy_allowing("https://b.example");
    std::fs::write(&file, &a).unwrap();
    let store = Arc::new(PolicyStore::open(&file).unwrap());
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (store, done) = (store.clone(), done.clone());
            std::thread::spawn(move || {
                let mut decisions = 0u64;
                while !done.load(Ordering::Relaxed) || decisions == 0 {
                    // One snapshot is one whole policy: it allows exactly one of the two.
                    let policy = store.current();
                    let a = verdict_of(&policy, "https://a.example");
                    let b = verdict_of(&policy, "https://b.example");
                    assert_ne!(a, b, "policy {} allowed both or neither", policy.version());
                    decisions += 1;
                }
                decisions
            })
        })
        .collect();
    for i in 0..50 {
        std::fs::write(&file, if i % 2 == 0 { &b } else { &a }).unwrap();
        assert!(
            matches!(store.reload(), Ok(ReloadOutcome::Activated(_))),
            "reload {i}"
        );
    }
    done.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().expect("reader did not panic") > 0);
    }
    assert_eq!(store.status().activations, 51);
    assert_eq!(store.status().failures, 0);
}

/// Issue 9: a refused file is refused once. Reloading the same content again parses nothing,
/// counts nothing and answers with the first refusal, until the content changes.
#[test]
fn refused_content_is_not_loaded_again_until_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, policy_allowing("https://a.example")).unwrap();
    let store = PolicyStore::open(&file).unwrap();
    let bad = "version = 1\n[[allow]]\nexact = \"https://b.example/\"\n";
    std::fs::write(&file, bad).unwrap();
    let first = store.reload().unwrap_err();
    assert!(!first.repeated);
    assert_eq!(store.status().failures, 1);
    let at = store.status().last_error.unwrap().at;

    // The same bytes, read again and written again: nothing is done or counted.
    for _ in 0..3 {
        let again = store.reload().unwrap_err();
        assert!(again.repeated);
        assert_eq!(again.to_string(), first.to_string());
        std::fs::write(&file, bad).unwrap();
    }
    let status = store.status();
    assert_eq!(status.failures, 1);
    let last = status
        .last_error
        .expect("the admin API still shows the error");
    assert_eq!(last.at, at, "the first refusal, not a new one");
    assert!(
        last.error
            .to_string()
            .contains(":3:9: error: an origin has no path")
    );

    // Other content is judged anew, even if it is refused too.
    std::fs::write(&file, format!("{bad}# edited\n")).unwrap();
    assert!(!store.reload().unwrap_err().repeated);
    assert_eq!(store.status().failures, 2);
    // So is a file that cannot be read, once.
    std::fs::remove_file(&file).unwrap();
    assert!(!store.reload().unwrap_err().repeated);
    assert!(store.reload().unwrap_err().repeated);
    assert_eq!(store.status().failures, 3);

    // Good content activates; the refused content, written back later, is judged again.
    std::fs::write(&file, policy_allowing("https://c.example")).unwrap();
    assert!(matches!(store.reload(), Ok(ReloadOutcome::Activated(_))));
    std::fs::write(&file, bad).unwrap();
    assert!(!store.reload().unwrap_err().repeated);
    assert_eq!(store.status().failures, 4);
    assert_eq!(verdict(&store, "https://c.example"), Verdict::Allow);
}

/// A 50 MB file is refused by its size, without reading it whole, at start-up and on reload.
#[test]
fn files_over_the_size_limit_are_refused_at_open_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    let big = std::fs::File::create(&file).unwrap();
    big.set_len(50_000_000).unwrap();
    let err = PolicyStore::open(&file).err().expect("refused").to_string();
    assert!(
        err.contains("policy.toml: error: the file is 50000000 bytes, over the limit of 1 MiB"),
        "{err}"
    );
    std::fs::write(&file, policy_allowing("https://a.example")).unwrap();
    let store = PolicyStore::open(&file).unwrap();
    std::fs::File::create(&file)
        .unwrap()
        .set_len(50_000_000)
        .unwrap();
    let refused = store.reload().unwrap_err();
    assert!(
        refused.to_string().contains("over the limit of 1 MiB"),
        "{refused}"
    );
    assert!(store.reload().unwrap_err().repeated);
    assert_eq!(verdict(&store, "https://a.example"), Verdict::Allow);
}
