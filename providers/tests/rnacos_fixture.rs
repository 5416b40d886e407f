//! The rnacos fixture itself (`support/rnacos.rs`): consecutive starts, each from a copy of the seed
//! data directory on new ports, are each ready (an admin login returns a token) and store and return
//! a config.

mod support;

use std::time::Instant;
use support::rnacos::{seed, Rnacos};

/// Consecutive fixture starts.
const STARTS: u32 = 20;

#[test]
fn twenty_starts_from_copies_of_the_seed_are_ready_and_store_configs() {
    let began = Instant::now();
    let seed = seed();
    println!(
        "rnacos seed: clean on fresh start {} of at most {} ({:?})",
        seed.attempts,
        support::rnacos::SEED_ATTEMPTS,
        began.elapsed()
    );
    let (mut ready, mut first_copy, mut failures) = (0, 0, Vec::new());
    for n in 1..=STARTS {
        let started = Rnacos::try_start(3600).and_then(|server| {
            publish_and_read(&server, n)?;
            Ok(server.attempts)
        });
        match started {
            Ok(attempts) => {
                ready += 1;
                first_copy += u32::from(attempts == 1);
            }
            Err(why) => failures.push(format!("start {n}: {why}")),
        }
    }
    println!(
        "rnacos fixture: {ready} of {STARTS} starts ready ({first_copy} on the first copy) in {:?}",
        began.elapsed()
    );
    assert_eq!(ready, STARTS, "{failures:#?}");
}

/// The server answers an admin login and stores and returns a config with that token.
fn publish_and_read(server: &Rnacos, n: u32) -> Result<(), String> {
    let token = server.admin_token().ok_or("no admin token")?;
    let (data_id, content) = (format!("fixture-{n}.yaml"), format!("start: {n}"));
    let status = server.publish(&token, &data_id, "DEFAULT_GROUP", &content);
    if status != 200 {
        return Err(format!("publish answered {status}"));
    }
    match server.read(Some(&token), &data_id, "DEFAULT_GROUP") {
        (200, body) if body == content => Ok(()),
        other => Err(format!("read answered {other:?}")),
    }
}
